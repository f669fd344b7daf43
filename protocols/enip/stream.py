"""Framing encapsulation messages out of one direction of a reassembled TCP stream (port 44818).

TCP does not keep message boundaries: a segment may carry several encapsulation messages, and one
may span segments. The header's length field (Vol 2 §2-3.1) is the only delimiter and the header has
no marker, so once a header is wrong nothing after it can be trusted until the next segment starts,
where senders in practice begin a new message.
"""
from __future__ import annotations

from protocols.base import NeedMore
from protocols.enip.messages import TCP, encapsulation_messages
from protocols.enip.wire import HEADER_SIZE, MAX_LENGTH, Encapsulation, parse_encapsulation
from protocols.framing import LengthFramer, Tag

MAX_BUFFER = HEADER_SIZE + MAX_LENGTH
"""Most bytes kept waiting for the rest of one message. A checked header announces at most 65535
bytes, so this only trips if that invariant breaks; it exists so the bound is named and reported."""


class EnipStream(LengthFramer):
    """Per-direction framing state: feed segments in order, get (tag, message or Malformed) back
    (``protocols.framing``)."""

    __slots__ = ()
    overflow = "enip_buffer_overflow"

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER) -> None:
        super().__init__(is_request, max_buffer)

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[Encapsulation, int] | NeedMore:
        return parse_encapsulation(buf, pos)

    def emit(self, unit: Encapsulation, offset: int, tag: Tag, out: list) -> None:
        out.extend((tag, message) for message in encapsulation_messages(unit, self.is_request, TCP))
