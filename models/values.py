"""Value ranges per point: the smallest and largest value written (or read) while learning.

A setpoint that an HMI always writes between 50 and 60 and that suddenly receives 900 is the
classic process attack (false command injection) that no allowlist sees: the client, the function
and the register are all usual. The range is widened on each side, so a value a little past what
learning happened to see is not an alert, while a constant (a register always written the same value)
stays exact: any other value is news worth a look.

How much to widen depends on how many values were seen. If n values come from a range, the true edge
lies beyond the largest seen by about width/(n-1) on average (for a uniform spread, the gap is
exponential with that mean), so a new normal value passes the largest seen by more than k times that
with probability about e^-k/(n+1). ``EDGE_GAPS`` = 8 keeps that near 1e-4 per write for 30 samples, a
false alert in about one hour of 100 writes in 100: a few samples leave the range wide, many narrow it
to ``MARGIN`` of its width.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from models.numbers import keyed, plain, search

MIN_SAMPLES = 3  # values needed before a range means anything: one or two writes are an event, not a habit
MARGIN = 0.1  # of the learned width on each side at least: values drift a little beyond what a sample shows
EDGE_GAPS = 8.0  # mean gaps between samples (width / (n - 1)) beyond each edge: see the module docstring

Key = tuple


Bound = TypeVar("Bound", float, np.ndarray)


def widened(low: Bound, high: Bound, samples: Bound) -> tuple[Bound, Bound]:
    """The learned range widened on each side by the larger of ``MARGIN`` of its width and ``EDGE_GAPS`` mean
    gaps between its samples (one range, or arrays of them; ``samples`` >= 2)."""
    width = high - low
    slack = np.maximum(MARGIN * width, EDGE_GAPS * width / np.maximum(samples - 1, 1))
    return low - slack, high + slack


@dataclass(slots=True)
class Range:
    low: float
    high: float
    samples: int


@dataclass(slots=True)
class ValueRanges:
    """``Range`` per point: a key prefix (such as server, unit, table) and an address, the last field."""

    fields: tuple[str, ...]
    ranges: dict[Key, Range] = field(default_factory=dict)
    _points: tuple[dict[Key, int], np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False,
                                                                                      compare=False)

    def fit(self, prefix: Key, addresses: np.ndarray, values: np.ndarray) -> ValueRanges:
        addresses, values = np.asarray(addresses, dtype=np.int64), np.asarray(values, dtype=np.float64)
        for address in np.unique(addresses).tolist():
            v = values[addresses == address]
            key = (*prefix, address)
            old = self.ranges.get(key)
            low, high, n = float(v.min()), float(v.max()), len(v)
            if old is not None:
                low, high, n = min(low, old.low), max(high, old.high), n + old.samples
            self.ranges[key] = Range(low, high, n)
        self._points = None
        return self

    def outside(self, prefixes: Sequence[Key], which: np.ndarray, addresses: np.ndarray,
                values: np.ndarray) -> np.ndarray:
        """True where a value falls outside the learned range of its point ``(*prefixes[which[i]], addresses[i])``
        (points with too few samples pass)."""
        return self.judge(prefixes, which, addresses, values)[0]

    def judge(self, prefixes: Sequence[Key], which: np.ndarray, addresses: np.ndarray,
              values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``outside``, and each point's learned bounds (NaN where it has none) for the evidence. One search over
        every prefix: a batch writes to many points of many servers."""
        ids, known, low, high = self._index()
        number = np.array([ids.get(p, -1) for p in prefixes], dtype=np.int64)
        wanted = keyed(number[np.asarray(which, dtype=np.int64)], addresses)
        if not len(known):
            return np.zeros(len(wanted), dtype=bool), np.full(len(wanted), np.nan), np.full(len(wanted), np.nan)
        at = np.minimum(search(known, wanted), len(known) - 1)
        found = known[at] == wanted
        low, high = np.where(found, low[at], np.nan), np.where(found, high[at], np.nan)
        values = np.asarray(values, dtype=np.float64)
        return found & ((values < low) | (values > high)), low, high

    def knows(self, prefix: Key) -> bool:
        """Whether any point of ``prefix`` has a range to judge by (else its writes need not be read)."""
        return prefix in self._index()[0]

    def _index(self) -> tuple[dict[Key, int], np.ndarray, np.ndarray, np.ndarray]:
        """Numbers for the prefixes with ranged points, and those points (``keyed``, sorted) with their bounds;
        built once (ranges are fixed while detecting)."""
        if self._points is None:
            ranged = [(key, r) for key, r in self.ranges.items() if r.samples >= MIN_SAMPLES]
            ids: dict[Key, int] = {}
            points = keyed(np.array([ids.setdefault(key[:-1], len(ids)) for key, _ in ranged], dtype=np.int64),
                           np.array([key[-1] for key, _ in ranged], dtype=np.int64))
            low, high = widened(np.array([r.low for _, r in ranged]), np.array([r.high for _, r in ranged]),
                                np.array([r.samples for _, r in ranged], dtype=np.float64))
            order = np.argsort(points)
            self._points = (ids, points[order], low[order], high[order])
        return self._points

    def to_dict(self) -> list[dict]:
        return [{**dict(zip(self.fields, key)), "min": plain(r.low), "max": plain(r.high), "samples": r.samples}
                for key, r in sorted(self.ranges.items())]

    @classmethod
    def from_dict(cls, fields: tuple[str, ...], entries: list[dict]) -> ValueRanges:
        return cls(fields, {tuple(e[name] for name in fields): Range(float(e["min"]), float(e["max"]), int(e["samples"]))
                            for e in entries})
