"""What the TCP framers share: the bytes of a message whose end has not arrived, and the loop that frames
length-delimited messages out of one direction of a reassembled stream.

TCP does not keep message boundaries: a segment may carry several messages and one may span segments. A framer
is fed segments in order and returns (tag, outcome) pairs: a message, or ``Malformed`` with its offset counted in
the bytes fed to this stream, so offsets stay meaningful across segments. A message is reported with the tag of
the segment that completes it, as tshark does.
"""
from __future__ import annotations

from typing import Any, TypeVar

from protocols.base import Malformed, NeedMore

Tag = TypeVar("Tag")  # what identifies a segment to the caller: its frame number, or (frame, ts)


class Buffered:
    """One direction's unframed bytes: what a segment left incomplete waits for the next one."""

    __slots__ = ("_fed", "_pending")

    def __init__(self) -> None:
        self._pending = bytearray()  # the start of a message whose end has not arrived
        self._fed = 0

    def _join(self, data: bytes) -> tuple[bytes | bytearray, int]:
        """The bytes to frame now (what waited, then ``data``) and the stream offset of their first byte."""
        base = self._fed - len(self._pending)
        self._fed += len(data)
        if not self._pending:
            return data, base
        self._pending += data
        return self._pending, base

    def _keep(self, buf: bytes | bytearray, pos: int) -> None:
        """What ``_join`` gave, framed up to ``pos``: the rest waits."""
        if buf is self._pending:
            del self._pending[:pos]
        else:
            self._pending = bytearray(buf[pos:])

    def gap(self) -> None:
        """Bytes were lost (TCP gap): a partial message can never complete, so drop it."""
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of their message."""
        return len(self._pending)


class LengthFramer(Buffered):
    """Frames messages whose header says their length, with no marker to resynchronise on: once a header is wrong
    nothing after it in the segment can be trusted, and framing resumes at the next segment, where senders in
    practice begin a new message. Past ``max_buffer`` bytes waiting, ``overflow`` is reported and they go.

    A subclass says how one unit is framed (``frame``: (unit, bytes used), ``NeedMore``, or raises ``Malformed``),
    what a unit yields (``emit``), and what else it drops when framing is lost (``drop``).
    """

    __slots__ = ("is_request", "max_buffer")
    overflow = "buffer_overflow"  # the weird code of too many bytes waiting
    unit_name = "bytes"  # what the protocol's spec calls them ("octets")

    def __init__(self, is_request: bool, max_buffer: int) -> None:
        super().__init__()
        self.is_request = is_request
        self.max_buffer = max_buffer

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[Any, int] | NeedMore:
        raise NotImplementedError

    def emit(self, unit: Any, offset: int, tag: Tag, out: list[tuple[Tag, Any]]) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        """Framing is lost: what waits goes (subclasses drop their partial fragments too)."""
        self._pending = bytearray()

    def gap(self) -> None:
        self.drop()

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Any]]:
        """Frame every complete unit now available; keep an incomplete tail for the next segment."""
        buf, base = self._join(data)
        out: list[tuple[Tag, Any]] = []
        pos, size = 0, len(buf)
        while pos < size:
            try:
                result = self.frame(buf, pos)
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, base + pos, bad.detail)))
                self.drop()
                return out
            if isinstance(result, NeedMore):
                break
            unit, used = result
            self.emit(unit, base + pos, tag, out)
            pos += used
        if size - pos > self.max_buffer:
            out.append((tag, Malformed(self.overflow, base + pos, f"{size - pos} {self.unit_name} pending")))
            self.drop()
        else:
            self._keep(buf, pos)
        return out
