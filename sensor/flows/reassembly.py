"""One direction of a TCP connection put back in order (RFC 9293 §3.4 sequence space, §3.10.7.4 acceptability).

In-order bytes are delivered at once; segments that arrive early wait in a bounded buffer. When the
buffer limit is hit, when the receiver acknowledges the missing range (it got the bytes, the capture did
not, and acknowledged bytes are never sent again), or when the stream ends, the missing range is reported
as a gap so the dissector can resynchronise instead of misreading bytes.

The stream only delivers what the receiver would have accepted:
- bytes beyond the receiver's window (its last acknowledgment plus its advertised window, scaled as
  the handshake agreed) or far behind what it acknowledged are refused with a ``tcp_out_of_window`` note;
- of two copies of the same bytes the *first to arrive* wins (Linux and Windows for most overlaps,
  Suricata's default). When the copies differ a ``tcp_overlap_conflict`` note names both frames, and
  bytes that were still waiting when a conflicting copy came are delivered as ``Disputed``.

``deliver`` returns ``(item, tag)`` pairs in stream order, where an item is bytes (possibly ``Disputed``),
an int (the length of a gap), or a ``Note``. The tag says when the bytes became readable: the segment
that carried them, or the one that filled the hole in front of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PENDING_SEGMENTS = 64  # out-of-order segments held per direction
MAX_PENDING_BYTES = 256 * 1024
MAX_SEQ_JUMP = 1 << 20  # data further ahead than this, inside the window, is taken as capture loss
MAX_WINDOW = 65_535 << 14  # the largest window TCP can advertise (RFC 7323 §2.3): assumed mid-stream
RETAINED_BYTES = 4096  # delivered bytes kept per direction to compare retransmissions against
SEQ_MOD = 1 << 32
SEQ_MASK = SEQ_MOD - 1  # n & SEQ_MASK is n mod 2**32 for any int64, negative too: arrays take it 16x faster than %

Item = tuple["bytes | int | Note", Any]


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b in 32-bit sequence space."""
    d = (a - b) % SEQ_MOD
    return d - SEQ_MOD if d >= SEQ_MOD // 2 else d


class Disputed(bytes):
    """Bytes that another copy of the same sequence range contradicted (the first copy, kept)."""


@dataclass(frozen=True, slots=True)
class Note:
    """Something the receiver would have noticed: ``code`` is a weird code, ``other`` the first copy's tag."""

    code: str
    detail: str
    other: Any = None


@dataclass(frozen=True, slots=True)
class Window:
    """What the receiver of this direction last said: acknowledged up to ``ack``, accepts up to ``edge``."""

    ack: int
    edge: int


class TcpStream:
    """Reassembly state of one direction."""

    __slots__ = ("next_seq", "pending", "pending_bytes", "duplicate_bytes", "gap_bytes", "retained",
                 "retained_bytes", "wscale", "window", "last_end", "ended")

    def __init__(self) -> None:
        self.next_seq: int | None = None
        self.pending: dict[int, tuple[bytes, Any]] = {}  # seq -> (bytes, tag): never overlapping each other
        self.pending_bytes = 0
        self.duplicate_bytes = 0
        self.gap_bytes = 0
        self.retained: list[tuple[int, bytes, Any]] = []  # the last delivered segments, ending at next_seq
        self.retained_bytes = 0
        self.wscale: int | None = None  # the sender's SYN: None unseen, -1 without the option, else the shift
        self.window: Window | None = None  # the receiver's last word, carried between batches
        # what tells a new connection on the same ports (sensor.flows.connections), carried between batches
        self.last_end: int | None = None  # the end of the sender's latest segment with data or SYN
        self.ended = False  # the sender sent a FIN or RST

    def restart(self) -> list[Item]:
        """A new connection on the same ports: what waited behind holes is delivered (as at the end of the
        stream), then the stream starts over. ``window``, ``last_end`` and ``ended`` are the batch's to set."""
        out = self.flush()
        self.next_seq, self.wscale = None, None
        self.retained, self.retained_bytes = [], 0
        return out

    def syn(self, seq: int, wscale: int = -1) -> None:
        if self.next_seq is None:
            self.next_seq = (seq + 1) % SEQ_MOD
        if self.wscale is None:
            self.wscale = wscale

    def deliver(self, seq: int, payload: bytes, tag: Any, window: Window | None = None) -> list[Item]:
        """Accept one segment; ``window`` is the receiver's state when it arrived (None: not known yet)."""
        out: list[Item] = []
        if not payload:
            return out  # a pure ACK or keep-alive carries no byte to place
        refused = _refusal(seq, len(payload), self.next_seq, window)
        if refused:
            out.append((Note("tcp_out_of_window", refused), tag))
            return out
        if window is not None and seq_diff(seq + len(payload), window.edge) > 0:
            keep = seq_diff(window.edge, seq)
            out.append((Note("tcp_out_of_window", f"{len(payload) - keep} bytes beyond the receiver's window"), tag))
            payload = payload[:keep]
        if self.next_seq is None:
            # Picked up mid-stream: the first acceptable segment starts the stream, unless it lies wholly behind
            # what the receiver acknowledged (a keep-alive's one old octet on an idle connection).
            if starts_nothing(seq, len(payload), window):
                self.duplicate_bytes += len(payload)
                return out
            self.next_seq = seq
        ahead = seq_diff(seq, self.next_seq)
        if ahead > MAX_SEQ_JUMP:
            # Inside the window but far ahead: the capture lost data (drops, a mirror that missed packets).
            out += self.flush()
            missing = seq_diff(seq, self.next_seq)
            if missing > 0:
                out.append((missing, tag))
                self.gap_bytes += missing
                self.next_seq = seq
                self.retained, self.retained_bytes = [], 0
            ahead = seq_diff(seq, self.next_seq)  # type: ignore[arg-type]
        if ahead < 0:
            behind = min(-ahead, len(payload))
            self._compare_retained(seq, payload[:behind], tag, out)
            self.duplicate_bytes += behind
            payload, seq = payload[behind:], (seq + behind) % SEQ_MOD
            if not payload:
                return out
        self._insert(seq, payload, tag, out)
        if len(self.pending) > MAX_PENDING_SEGMENTS or self.pending_bytes > MAX_PENDING_BYTES:
            self._skip_to_earliest(out, tag)
        else:
            self._drain(out, tag)
        if window is not None:
            self._skip_acked(window.ack, out)
        return out

    def acknowledged(self, window: Window | None) -> list[Item]:
        """The receiver's latest word, after the sender's last segment: end the wait for holes it acknowledged."""
        out: list[Item] = []
        if window is not None:
            self._skip_acked(window.ack, out)
        return out

    def advanced(self, segments: list[tuple[int, bytes, Any]]) -> None:
        """Bytes were parsed in place (the caller's fast path): move on and remember the tail for comparisons."""
        for seq, data, tag in segments:
            self._retain(seq, data, tag)
        last_seq, last_data, _ = segments[-1]
        self.next_seq = (last_seq + len(last_data)) % SEQ_MOD

    def flush(self) -> list[Item]:
        """End of stream: whatever waits behind a hole is delivered after a gap, each with its own tag."""
        out: list[Item] = []
        while self.pending:
            self._skip_to_earliest(out, None)
        return out

    # -- internals ---------------------------------------------------------------------------------
    def _compare_retained(self, seq: int, data: bytes, tag: Any, out: list[Item]) -> None:
        """A copy of bytes already delivered: the first copy stood; say so if this one differs."""
        for start, kept, kept_tag in self.retained:
            lo = max(0, seq_diff(start, seq))
            hi = min(len(data), seq_diff(start, seq) + len(kept))
            if lo < hi and data[lo:hi] != kept[lo - seq_diff(start, seq):hi - seq_diff(start, seq)]:
                out.append((Note("tcp_overlap_conflict", _conflict_detail(kept_tag, hi - lo), kept_tag), tag))

    def _insert(self, seq: int, data: bytes, tag: Any, out: list[Item]) -> None:
        """Hold bytes at or ahead of ``next_seq``; where a waiting segment already covers them, it wins."""
        assert self.next_seq is not None
        rel = seq_diff(seq, self.next_seq)
        pieces = [(rel, data)]
        for held_seq in list(self.pending):
            held, held_tag = self.pending[held_seq]
            h0 = seq_diff(held_seq, self.next_seq)
            h1 = h0 + len(held)
            remaining = []
            for p0, piece in pieces:
                p1 = p0 + len(piece)
                lo, hi = max(p0, h0), min(p1, h1)
                if lo >= hi:
                    remaining.append((p0, piece))
                    continue
                if piece[lo - p0:hi - p0] != held[lo - h0:hi - h0]:
                    out.append((Note("tcp_overlap_conflict", _conflict_detail(held_tag, hi - lo), held_tag), tag))
                    self.pending[held_seq] = (Disputed(held), held_tag)
                self.duplicate_bytes += hi - lo
                if p0 < lo:
                    remaining.append((p0, piece[:lo - p0]))
                if hi < p1:
                    remaining.append((hi, piece[hi - p0:]))
            pieces = remaining
        for p0, piece in pieces:
            self.pending[(self.next_seq + p0) % SEQ_MOD] = (piece, tag)
            self.pending_bytes += len(piece)

    def _skip_acked(self, ack: int, out: list[Item]) -> None:
        """A hole the receiver acknowledged reached it but not the capture, and acknowledged bytes are never
        retransmitted: what waits behind it is delivered now, after a gap, each segment with its own tag (the
        moment it arrived, as at the end of the stream). An ACK past every byte seen from the sender acknowledges
        something not yet sent (RFC 9293 §3.10.7.4: the receiver drops it; fuzzed or forged) and ends no wait."""
        if not self.pending or seq_diff(ack, self._seen_end()) > 0:
            return
        while self.pending and seq_diff(ack, self._earliest()) >= 0:
            self._skip_to_earliest(out, None)

    def _earliest(self) -> int:
        return min(self.pending, key=lambda s: seq_diff(s, self.next_seq))  # type: ignore[arg-type]

    def _seen_end(self) -> int:
        """The end of the furthest byte waiting (the sender sent at least this far)."""
        return max(((s + len(d)) % SEQ_MOD for s, (d, _) in self.pending.items()),
                   key=lambda e: seq_diff(e, self.next_seq))  # type: ignore[arg-type]

    def _skip_to_earliest(self, out: list[Item], now: Any) -> None:
        """Give up on the hole before the earliest waiting segment."""
        assert self.next_seq is not None
        earliest = self._earliest()
        missing = seq_diff(earliest, self.next_seq)
        if missing > 0:
            self.gap_bytes += missing
            out.append((missing, self.pending[earliest][1] if now is None else now))
            self.retained, self.retained_bytes = [], 0
        self.next_seq = earliest
        self._drain(out, now)

    def _drain(self, out: list[Item], now: Any) -> None:
        """Deliver waiting segments that now continue the stream. They become readable at ``now`` (the
        segment that filled the hole), so they carry its tag; with ``now`` None, their own."""
        while self.pending:
            hit = self.pending.pop(self.next_seq, None)  # type: ignore[arg-type]
            if hit is None:
                return
            data, tag = hit
            self.pending_bytes -= len(data)
            out.append((data, tag if now is None else now))
            self._retain(self.next_seq, data, tag)  # type: ignore[arg-type]
            self.next_seq = (self.next_seq + len(data)) % SEQ_MOD  # type: ignore[operator]

    def _retain(self, seq: int, data: bytes, tag: Any) -> None:
        self.retained.append((seq, data, tag))
        self.retained_bytes += len(data)
        while self.retained_bytes - len(self.retained[0][1]) >= RETAINED_BYTES:
            self.retained_bytes -= len(self.retained.pop(0)[1])


def starts_nothing(seq: int, size: int, window: Window | None) -> bool:
    """A first segment wholly behind what the receiver acknowledged (a keep-alive) does not start a stream."""
    return window is not None and 0 <= seq_diff(window.ack, seq + size) <= MAX_SEQ_JUMP


def _refusal(seq: int, size: int, next_seq: int | None, window: Window | None) -> str:
    """Why the receiver would discard this segment whole, or '' when it would not."""
    if window is not None:
        if seq_diff(seq, window.edge) >= 0:
            return f"starts {seq_diff(seq, window.edge) + 1} bytes beyond the receiver's window"
        span = max(seq_diff(window.edge, window.ack), 1)
        if seq_diff(window.ack, seq + size) > span:
            return f"ends {seq_diff(window.ack, seq + size)} bytes behind what the receiver acknowledged"
    if next_seq is not None:
        ahead = seq_diff(seq, next_seq)
        if ahead >= MAX_WINDOW or ahead + size < -MAX_SEQ_JUMP:
            return f"{ahead} bytes from the stream's next byte, beyond any window"
    return ""


def _conflict_detail(first_tag: Any, size: int) -> str:
    first = first_tag[0] if isinstance(first_tag, tuple) else first_tag
    return f"{size} bytes differ from the copy in frame {first}, which was kept"
