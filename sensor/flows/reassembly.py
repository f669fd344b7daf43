"""One direction of a TCP connection put back in order (RFC 9293 §3.4 sequence space).

In-order bytes are delivered at once; retransmitted bytes are dropped; segments that arrive
early wait in a bounded buffer. When the buffer limit is hit, or the stream ends, the missing
range is reported as a gap so the dissector can resynchronise instead of misreading bytes.
"""
from __future__ import annotations

from typing import Any

MAX_PENDING_SEGMENTS = 64  # out-of-order segments held per direction
MAX_PENDING_BYTES = 256 * 1024
MAX_SEQ_JUMP = 1 << 20  # a segment further than this from the expected byte restarts the stream
SEQ_MOD = 1 << 32


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b in 32-bit sequence space."""
    d = (a - b) % SEQ_MOD
    return d - SEQ_MOD if d >= SEQ_MOD // 2 else d


class TcpStream:
    """Reassembly state; ``deliver`` returns ``(data | gap_length, tag)`` items in stream order.

    The tag says when the bytes became readable: the segment that carried them, or the one that
    filled the hole in front of them.
    """

    __slots__ = ("next_seq", "pending", "pending_bytes", "duplicate_bytes", "gap_bytes")

    def __init__(self) -> None:
        self.next_seq: int | None = None
        self.pending: dict[int, tuple[bytes, int]] = {}
        self.pending_bytes = 0
        self.duplicate_bytes = 0
        self.gap_bytes = 0

    def syn(self, seq: int) -> None:
        if self.next_seq is None:
            self.next_seq = (seq + 1) % SEQ_MOD

    def deliver(self, seq: int, payload: bytes, frame: Any) -> list[tuple[bytes | int, Any]]:
        """``frame`` is an opaque tag handed back with the bytes it carried (frame number, time...)."""
        out: list[tuple[bytes | int, Any]] = []
        if self.next_seq is None:
            self.next_seq = seq  # picked up mid-stream: trust the first segment we see
        ahead = seq_diff(seq, self.next_seq)
        if abs(ahead) > MAX_SEQ_JUMP:
            # Not a plausible window: lost sync (capture drops, a reused port, mangled traffic).
            out += self.flush()
            missing = abs(seq_diff(seq, self.next_seq))
            out.append((missing, frame))
            self.gap_bytes += missing
            self.next_seq, ahead = seq, 0
        if ahead < 0:
            if ahead + len(payload) <= 0:
                self.duplicate_bytes += len(payload)
                return out
            self.duplicate_bytes += -ahead
            payload, seq = payload[-ahead:], self.next_seq
            ahead = 0
        if ahead > 0:
            self._hold(seq, payload, frame)
            if len(self.pending) > MAX_PENDING_SEGMENTS or self.pending_bytes > MAX_PENDING_BYTES:
                self._skip_to_earliest(out, frame)
            return out
        out.append((payload, frame))
        self.next_seq = (seq + len(payload)) % SEQ_MOD
        self._drain(out, frame)
        return out

    def flush(self) -> list[tuple[bytes | int, Any]]:
        """End of stream: whatever waits behind a hole is delivered after a gap, each with its own tag."""
        out: list[tuple[bytes | int, Any]] = []
        while self.pending:
            self._skip_to_earliest(out, None)
        return out

    def _skip_to_earliest(self, out: list[tuple[bytes | int, Any]], now: Any) -> None:
        """Give up on the hole before the earliest waiting segment."""
        assert self.next_seq is not None
        earliest = min(self.pending, key=lambda s: seq_diff(s, self.next_seq))  # type: ignore[arg-type]
        missing = seq_diff(earliest, self.next_seq)
        if missing > 0:
            self.gap_bytes += missing
            out.append((missing, self.pending[earliest][1] if now is None else now))
        self.next_seq = earliest
        self._drain(out, now)

    def _hold(self, seq: int, data: bytes, frame: int) -> None:
        """Keep an early segment; of two starting at the same byte, the longer wins."""
        held = self.pending.get(seq)
        if held is None or len(held[0]) < len(data):
            self.pending_bytes += len(data) - (len(held[0]) if held else 0)
            self.pending[seq] = (data, frame)

    def _drain(self, out: list[tuple[bytes | int, Any]], now: Any) -> None:
        """Deliver waiting segments that now continue the stream. They become readable at ``now`` (the
        segment that filled the hole), so they carry its tag; with ``now`` None, their own."""
        while self.pending:
            hit = self.pending.pop(self.next_seq, None)  # type: ignore[arg-type]
            if hit is None:
                # a pending segment may overlap what was just delivered: trim or drop it
                overlapping = [s for s in self.pending if seq_diff(s, self.next_seq) < 0]  # type: ignore[arg-type]
                if not overlapping:
                    return
                for s in overlapping:
                    data, frame = self.pending.pop(s)
                    self.pending_bytes -= len(data)
                    behind = -seq_diff(s, self.next_seq)  # type: ignore[arg-type]
                    if behind < len(data):
                        self._hold(self.next_seq, data[behind:], frame)  # type: ignore[arg-type]
                    self.duplicate_bytes += min(behind, len(data))
                continue
            data, frame = hit
            self.pending_bytes -= len(data)
            out.append((data, frame if now is None else now))
            self.next_seq = (self.next_seq + len(data)) % SEQ_MOD  # type: ignore[operator]
