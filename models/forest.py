"""An isolation forest over per-window counts of each channel: for what the other models do not describe.

Allowlists catch the new, schedules and DFAs catch the out-of-order; volume is left: a known client
that reads ten times as much, a PLC that starts answering with exceptions, a known peer that begins
touching hundreds of addresses. Each row is one channel (a client–server pair) during one window,
described by counts (packets, bytes, connections, requests, exceptions, distinct functions, ...);
counts enter as ``log1p`` so a doubling weighs the same at any scale.

A window is anomalous in two ways, and the alert says which:

- a count beyond ``RANGE_FACTOR`` times the largest count of any learning window, plus ``RANGE_SLACK``
  (a read flood, a PLC answering with exceptions, a peer touching many addresses). An isolation forest
  cannot see this alone: its trees split only within the learning range, so a point far outside it
  lands in the same leaf as the most extreme learning window and scores no higher;
- a combination of counts, each within range, that the forest (scikit-learn, seeded: the same windows
  give the same forest) isolates faster than it isolated any learning window (``score`` above the
  learning maximum plus ``MARGIN``): many packets but no requests, many connections for few requests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.ensemble import IsolationForest

from models.numbers import plain

MIN_WINDOWS = 16  # learning windows needed: with fewer, every new window is "unusual" to the forest
TREES = 100  # scikit-learn's default; scores are stable to about 0.01 at this size
MAX_ROWS = 4096  # learning windows kept in the baseline (evenly spaced): the file stays reviewable
MARGIN = 0.05  # on the anomaly score in [0, 1]: about one level of tree depth beyond the learning extreme
RANGE_FACTOR = 2.0  # doubling: a window holds a cycle more or less than its neighbours, never twice as many
RANGE_SLACK = 2.0  # so a count learned at 0 (exceptions) is not an alert at its first one or two
SEED = 0


@dataclass(slots=True)
class WindowForest:
    """The learning windows (kept, so the baseline can be reviewed and the forest refitted) and the forest."""

    features: tuple[str, ...]
    rows: np.ndarray  # (windows, features) counts
    threshold: float = 1.0
    _forest: IsolationForest | None = field(default=None, repr=False)  # built on first use

    @classmethod
    def fit(cls, features: tuple[str, ...], rows: np.ndarray) -> WindowForest | None:
        """The forest of these learning windows, or None when there are fewer than ``MIN_WINDOWS``."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(features))
        if len(rows) < MIN_WINDOWS:
            return None
        if len(rows) > MAX_ROWS:
            rows = rows[np.linspace(0, len(rows) - 1, MAX_ROWS).astype(np.int64)]
        model = cls(features, rows)
        model.threshold = round(float(model.score(rows).max()) + MARGIN, 4)
        return model

    @property
    def forest(self) -> IsolationForest:
        from sklearn.ensemble import IsolationForest  # 1.5 s to import: only runs that score windows pay it

        if self._forest is None:
            self._forest = IsolationForest(n_estimators=TREES, max_samples=min(256, len(self.rows)),
                                           random_state=SEED).fit(np.log1p(self.rows))
        return self._forest

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Anomaly score in [0, 1] per window (0.5 and above: isolated faster than a typical point)."""
        return -self.forest.score_samples(np.log1p(np.asarray(rows, dtype=np.float64)))

    def check(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, dict]]:
        """Per window: anomalous or not, and its score; for anomalous windows, what made them so as
        ``{row: {feature: (learned low, learned high, seen)}}``: the counts beyond range, or else the
        counts furthest from the learned median (the combination the forest isolated)."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.features))
        if not len(rows):
            return np.zeros(0, dtype=bool), np.zeros(0), {}
        low, high = self.rows.min(axis=0), self.rows.max(axis=0)
        beyond = rows > RANGE_FACTOR * high + RANGE_SLACK
        scores = self.score(rows)
        anomalous = beyond.any(axis=1) | (scores > self.threshold)
        distance = np.abs(np.log1p(rows) - np.median(np.log1p(self.rows), axis=0))
        why = {}
        for i in np.flatnonzero(anomalous).tolist():
            named = np.flatnonzero(beyond[i]) if beyond[i].any() else np.argsort(-distance[i])[:2]
            why[i] = {self.features[j]: (plain(low[j]), plain(high[j]), plain(rows[i, j])) for j in named.tolist()}
        return anomalous, scores, why

    def to_dict(self) -> dict:
        return {"features": list(self.features), "threshold": self.threshold,
                "windows": [[plain(v) for v in row] for row in self.rows.tolist()]}

    @classmethod
    def from_dict(cls, entry: dict) -> WindowForest:
        features = tuple(entry["features"])
        rows = np.asarray(entry["windows"], dtype=np.float64).reshape(-1, len(features))
        return cls(features, rows, float(entry["threshold"]))

