"""Value ranges per point: the smallest and largest value written (or read) while learning.

A setpoint that an HMI always writes between 50 and 60 and that suddenly receives 900 is the
classic process attack (false command injection) that no allowlist sees: the client, the function
and the register are all usual. The range is widened by ``MARGIN`` of its width on each side, so a
value a little past what learning happened to see is not an alert, while a constant (a register
always written the same value) stays exact: any other value is news worth a look.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.numbers import plain

MIN_SAMPLES = 3  # values needed before a range means anything: one or two writes are an event, not a habit
MARGIN = 0.1  # of the learned width on each side: values drift a little beyond what a finite sample shows

Key = tuple


@dataclass(slots=True)
class Range:
    low: float
    high: float
    samples: int

    @property
    def bounds(self) -> tuple[float, float]:
        slack = MARGIN * (self.high - self.low)
        return self.low - slack, self.high + slack


@dataclass(slots=True)
class ValueRanges:
    """``Range`` per point: a key prefix (such as server, unit, table) and an address, the last field."""

    fields: tuple[str, ...]
    ranges: dict[Key, Range] = field(default_factory=dict)
    _tables: dict[Key, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

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
        self._tables.clear()
        return self

    def outside(self, prefix: Key, addresses: np.ndarray, values: np.ndarray) -> np.ndarray:
        """True where a value falls outside its point's learned range (points with too few samples pass)."""
        known, low, high = self._table(prefix)
        addresses, values = np.asarray(addresses, dtype=np.int64), np.asarray(values, dtype=np.float64)
        at = np.minimum(np.searchsorted(known, addresses), max(len(known) - 1, 0))
        found = (known[at] == addresses) if len(known) else np.zeros(len(addresses), dtype=bool)
        return found & ((values < low[at]) | (values > high[at])) if len(known) else found

    def knows(self, prefix: Key) -> bool:
        """Whether any point of ``prefix`` has a range to judge by (else its writes need not be read)."""
        return len(self._table(prefix)[0]) > 0

    def _table(self, prefix: Key) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted addresses of ``prefix`` with their bounds, built once (ranges are few and fixed while detecting)."""
        table = self._tables.get(prefix)
        if table is None:
            points = sorted((key[-1], r) for key, r in self.ranges.items()
                            if key[:-1] == prefix and r.samples >= MIN_SAMPLES)
            table = self._tables[prefix] = (np.array([a for a, _ in points], dtype=np.int64),
                                            np.array([r.bounds[0] for _, r in points]),
                                            np.array([r.bounds[1] for _, r in points]))
        return table

    def to_dict(self) -> list[dict]:
        return [{**dict(zip(self.fields, key)), "min": plain(r.low), "max": plain(r.high), "samples": r.samples}
                for key, r in sorted(self.ranges.items())]

    @classmethod
    def from_dict(cls, fields: tuple[str, ...], entries: list[dict]) -> ValueRanges:
        return cls(fields, {tuple(e[name] for name in fields): Range(float(e["min"]), float(e["max"]), int(e["samples"]))
                            for e in entries})
