"""DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by a 2-octet length.

The length is the only delimiter: once a length is impossible (below the 12-octet header) nothing after it can be
trusted until the next segment, where senders in practice start a new message. A message is reported with the
tag of the segment that completes it, as tshark does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from protocols.base import Malformed, Message
from protocols.dns.wire import HEADER

MAX_BUFFER = 2 + 0xFFFF  # the largest message a 2-octet length announces, with its prefix
Tag = TypeVar("Tag")


class LengthFramed:
    """Per-direction framing state of a length-prefixed DNS-format stream (DNS and LLMNR over TCP).

    ``parse`` turns one message (without its prefix) into messages, raising ``Malformed`` when it cannot.
    """

    __slots__ = ("_fed", "_pending", "is_request", "parse")

    def __init__(self, is_request: bool, parse: Callable[[bytes], list[Message]]) -> None:
        self.is_request = is_request
        self.parse = parse
        self._pending = bytearray()
        self._fed = 0

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        base = self._fed - len(self._pending)
        self._fed += len(data)
        self._pending += data
        buf = self._pending
        out: list[tuple[Tag, Message | Malformed]] = []
        pos = 0
        while len(buf) - pos >= 2:
            length = int.from_bytes(buf[pos:pos + 2], "big")
            if length < HEADER:
                out.append((tag, Malformed("dns_bad_tcp_length", base + pos, f"length {length}")))
                self._pending = bytearray()
                return out
            if len(buf) - pos - 2 < length:
                break
            try:
                out.extend((tag, message) for message in self.parse(bytes(buf[pos + 2:pos + 2 + length])))
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, base + pos + 2 + bad.offset, bad.detail)))
            pos += 2 + length
        del buf[:pos]
        if len(buf) > MAX_BUFFER:  # cannot happen with a 2-octet length; the bound is named all the same
            out.append((tag, Malformed("dns_buffer_overflow", base + pos, f"{len(buf)} octets pending")))
            self._pending = bytearray()
        return out

    def gap(self) -> None:
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        return len(self._pending)
