"""Framing encapsulation messages out of one direction of a reassembled TCP stream (port 44818).

TCP does not keep message boundaries: a segment may carry several encapsulation messages, and one
may span segments. The header's length field (Vol 2 §2-3.1) is the only delimiter and the header has
no marker, so once a header is wrong nothing after it can be trusted until the next segment starts,
where senders in practice begin a new message.
"""
from __future__ import annotations

from typing import TypeVar

from protocols.base import Malformed, Message, NeedMore
from protocols.enip.messages import TCP, encapsulation_messages
from protocols.enip.wire import HEADER_SIZE, MAX_LENGTH, parse_encapsulation

MAX_BUFFER = HEADER_SIZE + MAX_LENGTH
"""Most bytes kept waiting for the rest of one message. A checked header announces at most 65535
bytes, so this only trips if that invariant breaks; it exists so the bound is named and reported."""

Tag = TypeVar("Tag")  # what identifies a segment to the caller: its frame number, or (frame, ts)


class EnipStream:
    """Per-direction framing state: feed segments in order, get (tag, message or Malformed) back.

    A message is reported with the tag of the segment that completes it, as tshark does. Malformed
    offsets count the bytes fed to this stream. After a Malformed the rest of that segment is
    dropped: framing resumes at the next segment (or after ``gap()``).
    """

    __slots__ = ("_fed", "_pending", "is_request", "max_buffer")

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER) -> None:
        self.is_request = is_request
        self.max_buffer = max_buffer
        self._pending = bytearray()  # the start of a message whose end has not arrived
        self._fed = 0

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        """Frame every complete message now available; keep an incomplete tail for the next segment."""
        base = self._fed - len(self._pending)  # stream offset of buf[0]
        self._fed += len(data)
        if self._pending:
            self._pending += data
            buf: bytes | bytearray = self._pending
        else:
            buf = data
        out: list[tuple[Tag, Message | Malformed]] = []
        pos = 0
        size = len(buf)
        while pos < size:
            try:
                result = parse_encapsulation(buf, pos)
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, base + pos, bad.detail)))
                self._pending = bytearray()
                return out
            if isinstance(result, NeedMore):
                break
            encap, used = result
            out.extend((tag, message) for message in encapsulation_messages(encap, self.is_request, TCP))
            pos += used
        if size - pos > self.max_buffer:
            out.append((tag, Malformed("enip_buffer_overflow", base + pos, f"{size - pos} bytes pending")))
            self._pending = bytearray()
        elif buf is self._pending:
            del self._pending[:pos]
        else:
            self._pending = bytearray(buf[pos:])
        return out

    def gap(self) -> None:
        """Bytes were lost (TCP gap): a partial message can never complete, so drop it."""
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their message."""
        return len(self._pending)
