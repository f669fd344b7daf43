"""State that learning and detecting both carry from batch to batch, per channel.

Kept apart from the models (which are pure) and shared by ``learn`` and ``anomaly`` so both see
exactly the same intervals, transitions and windows. State is per channel and starts afresh with
each capture file: the gap between two files is not an interval of anybody's schedule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.timing import RECENT
from sensor.decode.packets import TCP_ACK, TCP_SYN
from sensor.detect.channels import BatchView
from sensor.order import unique_rows

WINDOW_S = 60.0
"""Width of a forest window: several cycles of typical polling (1–10 s), so that a window holding one
poll more or less than its neighbours is noise of a few percent; and an alert within about a minute."""

FEATURES = ("packets", "bytes", "connections", "ports", "requests", "exceptions", "functions", "addresses")
"""Counts per channel and window. All are sums or distinct counts over the channel's own packets, so a
worker that owns the address pair computes them exactly; a whole-host view would be their sum."""

MAX_WINDOW_FRAMES = 100_000  # frames remembered per open window (an alert names at most these)


class Intervals:
    """Per channel, the time of the last request and the last few intervals (the rolling median's context)."""

    def __init__(self) -> None:
        self.last: dict[tuple, float] = {}
        self.recent: dict[tuple, np.ndarray] = {}

    def feed(self, key: tuple, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The intervals ending at each of ``ts`` after the first of the channel, and the history before them."""
        last = self.last.get(key)
        series = np.concatenate([[last], ts]) if last is not None else ts
        intervals = np.diff(series)
        history = self.recent.get(key, np.zeros(0))
        self.last[key] = float(ts[-1])
        self.recent[key] = np.concatenate([history, intervals])[-(RECENT - 1):]
        return history, intervals

    def reset(self) -> None:
        self.last.clear()
        self.recent.clear()


@dataclass(slots=True)
class Window:
    counts: np.ndarray  # packets, bytes, connections, requests, exceptions
    ports: set = field(default_factory=set)
    functions: set = field(default_factory=set)
    addresses: set = field(default_factory=set)
    frames: list = field(default_factory=list)
    kept: int = 0

    def row(self) -> list[float]:
        packets, octets, opens, requests, exceptions = self.counts.tolist()
        return [packets, octets, opens, len(self.ports), requests, exceptions, len(self.functions),
                len(self.addresses)]


@dataclass(slots=True)
class _Packets:
    """Per packet of a batch, what a window counts: its flow's (client, server) pair and server port, its
    bytes, and whether it opens a connection (SYN without ACK)."""

    pair: np.ndarray  # index into ``pairs``
    pairs: list[tuple[str, str]]
    port: np.ndarray
    octets: np.ndarray
    opens: np.ndarray

    @classmethod
    def of(cls, view: BatchView) -> _Packets:
        fb = view.observed.flows
        assert fb is not None  # a view with packets has them from its flows
        pair_index: dict[tuple[str, str], int] = {}
        per_flow = np.array([pair_index.setdefault((f.client, f.server), len(pair_index)) for f in fb.flows])
        flags = fb.packets.tcp_flags
        return cls(per_flow[fb.row_flow], list(pair_index),
                   np.array([f.server_port for f in fb.flows], dtype=np.int64)[fb.row_flow], fb.packets.wirelen,
                   ((flags & TCP_SYN) != 0) & ((flags & TCP_ACK) == 0))


@dataclass(slots=True)
class Closed:
    """A finished window of one channel."""

    client: str
    server: str
    start: float
    row: list[float]
    frames: np.ndarray
    ts: np.ndarray


class Windows:
    """Counts per (channel, window); a window closes once packet time has passed its end."""

    def __init__(self, keep_frames: bool, width: float = WINDOW_S) -> None:
        self.width = width
        self.keep_frames = keep_frames
        self.open: dict[tuple[str, str, int], Window] = {}

    def feed(self, view: BatchView) -> list[Closed]:
        """Count the batch; return the windows that ended before its last packet."""
        index = np.floor(view.packet_ts / self.width).astype(np.int64)
        if len(index):
            packets = _Packets.of(view)
            code = packets.pair.astype(np.int64) * (1 << 32) + (index - index.min())
            _, first, inverse = unique_rows(code)
            sums = np.stack([np.bincount(inverse, minlength=len(first)).astype(np.float64),
                             np.bincount(inverse, packets.octets, len(first)),
                             np.bincount(inverse, packets.opens, len(first))], axis=1)
            order = np.argsort(inverse, kind="stable")
            bounds = np.flatnonzero(np.diff(inverse[order])) + 1
            for g, rows in enumerate(np.split(order, bounds)):
                r = int(first[g])
                window = self._window(packets.pairs[int(packets.pair[r])], int(index[r]))
                window.counts[:3] += sums[g]
                window.ports.update(np.unique(packets.port[rows]).tolist())
                if self.keep_frames and window.kept < MAX_WINDOW_FRAMES:
                    window.frames.append((view.packet_frame[rows], view.packet_ts[rows]))
                    window.kept += len(rows)
        m = view.observed.messages
        for group in view.messages:
            ts = m.ts[group.rows]
            where = np.floor(ts / self.width).astype(np.int64)
            for w in np.unique(where).tolist():
                rows = group.rows[where == w]
                window = self._window((group.client, group.server), w)
                if group.request:
                    window.counts[3] += len(rows)
                    window.functions.add((group.unit, group.function))
                    window.addresses.update(np.unique(m.address[rows]).tolist())
                else:
                    window.counts[4] += int(np.count_nonzero(m.exception[rows] >= 0))
        now = float(view.packet_ts.max()) if len(view.packet_ts) else None
        return self.close(now)

    def close(self, now: float | None = None) -> list[Closed]:
        """Windows that ended by ``now`` (all of them when None), in order of start."""
        done = [key for key in self.open if now is None or (key[2] + 1) * self.width <= now]
        out = []
        for key in sorted(done, key=lambda k: (k[2], k[0], k[1])):
            window = self.open.pop(key)
            frames = np.concatenate([f for f, _ in window.frames]) if window.frames else np.zeros(0, np.int64)
            ts = np.concatenate([t for _, t in window.frames]) if window.frames else np.zeros(0)
            order = np.argsort(frames, kind="stable")
            out.append(Closed(key[0], key[1], key[2] * self.width, window.row(), frames[order], ts[order]))
        return out

    def _window(self, pair: tuple[str, str], index: int) -> Window:
        key = (pair[0], pair[1], index)
        window = self.open.get(key)
        if window is None:
            window = self.open[key] = Window(np.zeros(5))
        return window
