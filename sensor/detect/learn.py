"""Learning a baseline: a check that reports nothing and remembers everything, run over normal traffic.

``Learner`` rides the normal pipeline as a detection check, so learning sees exactly the flows,
messages and windows that detection will see. ``cutoff`` limits learning to the start of each file
(the pre-attack part of a capture); rows after it pass unlearned.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from models.forest import WindowForest
from models.sequence import Dfa
from models.timing import Schedule
from sensor.detect.baseline import Baseline
from sensor.detect.channels import WRITE_TABLES, BatchView, MessageGroup, communication, service
from sensor.detect.engine import Observed
from sensor.detect.episodes import Finding
from sensor.detect.streams import FEATURES, Intervals, Windows
from sensor.detect.view import VERBS, Messages
from sensor.order import within_runs


@dataclass(slots=True)
class Cutoff:
    """What to learn from: frames up to ``frames[file]`` (or ``default_frames``) and times up to ``until``."""

    frames: dict[str, int] = field(default_factory=dict)
    default_frames: int | None = None
    until: float | None = None

    def limit(self, file: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
        """A row mask from (frame, ts) columns, or None when the whole file is learned."""
        last = self.frames.get(file, self.default_frames)
        until = self.until
        if last is None and until is None:
            return None
        return lambda frame, ts: (frame <= (last if last is not None else np.iinfo(np.int64).max)) & (
            ts <= (until if until is not None else np.inf))


class Learner:
    """A ``Check`` that learns every model from the batches it is shown; ``baseline()`` fits them."""

    def __init__(self, cutoff: Cutoff | None = None) -> None:
        self.cutoff = cutoff or Cutoff()
        self.result = Baseline()
        self.intervals = Intervals()
        self.timing: dict[tuple, list[np.ndarray]] = {}
        self.windows = Windows(keep_frames=False, width=self.result.window_s)
        self.rows: list[list[float]] = []
        self.previous: dict[tuple, str] = {}
        self.file: str | None = None
        self.files: list[str] = []
        self.packets = 0
        self.messages = 0
        self.first_ts = np.inf
        self.last_ts = -np.inf

    def check(self, batch: Observed) -> list[Finding]:
        if batch.file != self.file:
            self._new_file(batch.file)
        view = BatchView.of(self._learnable(batch))
        self._communications(view)
        self._messages(view)
        self.rows += [w.row for w in self.windows.feed(view)]
        if batch.flows is None:  # end of this input
            self.rows += [w.row for w in self.windows.close()]
        return []

    def baseline(self) -> Baseline:
        """Fit the models on what was learned and return the baseline."""
        self.rows += [w.row for w in self.windows.close()]
        b = self.result
        for key, parts in self.timing.items():
            schedule = Schedule.fit(np.concatenate(parts))
            if schedule is not None:
                b.schedules[key] = schedule
        b.sequences = {key: dfa for key, dfa in b.sequences.items() if dfa.trained}
        b.forest = WindowForest.fit(FEATURES, np.array(self.rows)) if self.rows else None
        c = self.cutoff
        b.learned = {"files": self.files, "packets": self.packets, "messages": self.messages,
                     "first_ts": float(self.first_ts) if self.packets else None,
                     "last_ts": float(self.last_ts) if self.packets else None,
                     "frames": {f: c.frames.get(f, c.default_frames) for f in self.files}, "until": c.until}
        return b

    def _new_file(self, file: str) -> None:
        """Schedules, sequences and windows do not run across files: a file's end is not a silence."""
        self.rows += [w.row for w in self.windows.close()]
        self.intervals.reset()
        self.previous.clear()
        self.file = file
        self.files.append(file)

    def _learnable(self, batch: Observed) -> Observed:
        limit = self.cutoff.limit(batch.file)
        if limit is None:
            return batch
        m, fb = batch.messages, batch.flows
        messages = m.take(np.flatnonzero(limit(m.frame, m.ts)))
        if fb is not None:
            keep = limit(fb.packets.frame, fb.packets.ts)
            fb = type(fb)(fb.packets.select(keep), fb.flows, fb.row_flow[keep], fb.direction[keep], fb.new_flows,
                          fb.counts, fb.octets)
        return Observed(messages, fb, batch.weirds)

    def _communications(self, view: BatchView) -> None:
        b = self.result
        for flow in view.flows:
            key = communication(flow)
            b.communications.items.add(key)
            b.services[key] = service(flow)
        if len(view.packet_ts):
            self.packets += len(view.packet_ts)
            self.first_ts = min(self.first_ts, float(view.packet_ts.min()))
            self.last_ts = max(self.last_ts, float(view.packet_ts.max()))

    def _messages(self, view: BatchView) -> None:
        b = self.result
        m = view.observed.messages
        self.messages += len(m)
        for group in view.messages:
            b.functions.items.add((group.client, group.server, group.protocol, group.action, group.function))
        requests = [g for g in view.messages if g.request]
        for g in requests:
            rows = g.rows[m.address[g.rows] >= 0]
            if len(rows):
                b.points.fit((g.client, g.server, g.protocol, g.unit, g.function), *span(m.address[rows], m.quantity[rows]))
            if g.function in WRITE_TABLES:
                addresses, values, _ = written(m, g.rows)
                b.values.fit(value_prefix(g), addresses, values)
            self.timing.setdefault((*g.channel, g.function), []).append(
                self.intervals.feed((*g.channel, g.function), m.ts[g.rows])[1])
        names = VERBS.column(2)
        for channel, rows in by_channel(requests).items():
            codes = m.verb[rows]
            b.sequences.setdefault(channel, Dfa()).fit(self.previous.get(channel), codes, names)
            self.previous[channel] = names[int(codes[-1])]

def span(address: np.ndarray, quantity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last address of each request (a single-point request has no quantity: one point)."""
    return address, address + np.maximum(quantity, 1) - 1


def by_channel(requests: list[MessageGroup]) -> dict[tuple, np.ndarray]:
    """Request rows per polling channel, in capture order (a channel spans flows, units stay apart)."""
    rows: dict[tuple, list[np.ndarray]] = {}
    for g in requests:
        rows.setdefault(g.channel, []).append(g.rows)
    return {channel: np.sort(np.concatenate(parts)) for channel, parts in rows.items()}


def value_prefix(group: MessageGroup) -> tuple[str, int, str]:
    """The points a write group sets, less their address: (server, unit, table)."""
    return group.server, group.unit, WRITE_TABLES[group.function]


def written(m: Messages, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The address, value and message row of every point that the write messages ``rows`` set: single writes
    first, then bulk-read register writes (both from the columns), then the rest (parsed), each in ``rows`` order."""
    single = m.value[rows] >= 0
    bulk = rows[m.written_start[rows] >= 0]  # multiple-register writes the view read in bulk
    counts = m.written_count[bulk]
    offsets = within_runs(counts)
    addresses = [m.address[rows[single]], np.repeat(m.address[bulk], counts) + offsets]
    values = [m.value[rows[single]], m.written[np.repeat(m.written_start[bulk], counts) + offsets]]
    where = [rows[single], np.repeat(bulk, counts)]
    for i in rows[~single & (m.written_start[rows] < 0)].tolist():
        point_values = [int(v) for v in (m.fields(i).get("values") or []) if isinstance(v, int)]
        addresses.append(int(m.address[i]) + np.arange(len(point_values)))
        values.append(np.array(point_values, dtype=np.int64))
        where.append(np.full(len(point_values), i))
    return (np.concatenate(addresses).astype(np.int64), np.concatenate(values).astype(np.float64),
            np.concatenate(where).astype(np.int64))
