"""Framing Modbus/TCP ADUs out of one direction of a reassembled TCP stream.

TCP does not keep message boundaries: one segment may carry several ADUs, and one ADU may
span segments. The MBAP length field (TCP Implementation Guide V1.0b §3.1.3) is the only
delimiter, so once a header is wrong nothing after it can be trusted until the next segment
starts, where senders in practice begin a new ADU.
"""
from __future__ import annotations

from protocols.base import NeedMore
from protocols.framing import LengthFramer, Tag
from protocols.modbus.wire import ModbusMessage, parse_adu

MAX_BUFFER = 8192
"""Most bytes kept waiting for the rest of an ADU. A checked header announces at most 260 bytes,
so this only trips if that invariant breaks; it exists so the bound is named and reported."""


class ModbusStream(LengthFramer):
    """Per-direction framing state: feed segments in order, get (frame, message or Malformed) back
    (``protocols.framing``: offsets count the bytes fed to this stream; after a Malformed the rest of the
    segment is dropped)."""

    __slots__ = ()
    overflow = "modbus_buffer_overflow"

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER) -> None:
        super().__init__(is_request, max_buffer)

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[ModbusMessage, int] | NeedMore:
        return parse_adu(buf, pos, self.is_request)

    def emit(self, unit: ModbusMessage, offset: int, tag: Tag, out: list) -> None:
        out.append((tag, unit))
