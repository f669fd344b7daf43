"""Framing Modbus/TCP ADUs out of one direction of a reassembled TCP stream.

TCP does not keep message boundaries: one segment may carry several ADUs, and one ADU may
span segments. The MBAP length field (TCP Implementation Guide V1.0b §3.1.3) is the only
delimiter, so once a header is wrong nothing after it can be trusted until the next segment
starts, where senders in practice begin a new ADU.
"""
from __future__ import annotations

from typing import TypeVar

from protocols.base import Malformed, NeedMore
from protocols.modbus.wire import ModbusMessage, parse_adu

MAX_BUFFER = 8192
"""Most bytes kept waiting for the rest of an ADU. A checked header announces at most 260 bytes,
so this only trips if that invariant breaks; it exists so the bound is named and reported."""

Tag = TypeVar("Tag")  # what identifies a segment to the caller: its frame number, or (frame, ts)


class ModbusStream:
    """Per-direction framing state: feed segments in order, get (frame, message or Malformed) back.

    An ADU is reported with the frame (any tag the caller passes) of the segment that completes it,
    as tshark does. Malformed offsets count the bytes fed to this stream, so they stay meaningful
    across segments.
    """

    __slots__ = ("_fed", "_pending", "is_request", "max_buffer")

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER) -> None:
        self.is_request = is_request
        self.max_buffer = max_buffer
        self._pending = bytearray()  # the start of an ADU whose end has not arrived
        self._fed = 0

    def feed(self, data: bytes, frame: Tag) -> list[tuple[Tag, ModbusMessage | Malformed]]:
        """Frame every complete ADU now available; keep an incomplete tail for the next segment."""
        base = self._fed - len(self._pending)  # stream offset of buf[0]
        self._fed += len(data)
        if self._pending:
            self._pending += data
            buf: bytes | bytearray = self._pending
        else:
            buf = data
        out: list[tuple[Tag, ModbusMessage | Malformed]] = []
        pos = 0
        size = len(buf)
        while pos < size:
            try:
                result = parse_adu(buf, pos, self.is_request)
            except Malformed as bad:
                # Framing is lost: drop everything up to the next segment boundary.
                out.append((frame, Malformed(bad.code, base + pos, bad.detail)))
                self._pending = bytearray()
                return out
            if isinstance(result, NeedMore):
                break
            message, used = result
            out.append((frame, message))
            pos += used
        if size - pos > self.max_buffer:
            overflow = Malformed("modbus_buffer_overflow", base + pos, f"{size - pos} bytes pending")
            out.append((frame, overflow))
            self._pending = bytearray()
        elif buf is self._pending:
            del self._pending[:pos]
        else:
            self._pending = bytearray(buf[pos:])
        return out

    def gap(self) -> None:
        """Bytes were lost (TCP gap): a partial ADU can never complete, so drop it."""
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their ADU."""
        return len(self._pending)
