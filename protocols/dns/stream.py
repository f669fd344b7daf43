"""DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by a 2-octet length.

The length is the only delimiter: once a length is impossible (below the 12-octet header) nothing after it can be
trusted until the next segment, where senders in practice start a new message. A message is reported with the
tag of the segment that completes it, as tshark does.
"""
from __future__ import annotations

from collections.abc import Callable

from protocols.base import Malformed, Message, NeedMore
from protocols.dns.wire import HEADER
from protocols.framing import LengthFramer, Tag

MAX_BUFFER = 2 + 0xFFFF  # the largest message a 2-octet length announces, with its prefix


class LengthFramed(LengthFramer):
    """Per-direction framing state of a length-prefixed DNS-format stream (DNS and LLMNR over TCP)
    (``protocols.framing``).

    ``parse`` turns one message (without its prefix) into messages, raising ``Malformed`` when it cannot; that
    loses only the message, not the framing.
    """

    __slots__ = ("parse",)
    overflow = "dns_buffer_overflow"
    unit_name = "octets"

    def __init__(self, is_request: bool, parse: Callable[[bytes], list[Message]]) -> None:
        super().__init__(is_request, MAX_BUFFER)
        self.parse = parse

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[bytes, int] | NeedMore:
        if len(buf) - pos < 2:
            return NeedMore(2 - (len(buf) - pos))
        length = int.from_bytes(buf[pos:pos + 2], "big")
        if length < HEADER:
            raise Malformed("dns_bad_tcp_length", 0, f"length {length}")
        if len(buf) - pos - 2 < length:
            return NeedMore(length - (len(buf) - pos - 2))
        return bytes(buf[pos + 2:pos + 2 + length]), 2 + length

    def emit(self, unit: bytes, offset: int, tag: Tag, out: list) -> None:
        try:
            out.extend((tag, message) for message in self.parse(unit))
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, offset + 2 + bad.offset, bad.detail)))
