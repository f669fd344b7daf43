"""How much time an input covers, without a lone timestamp far from its neighbours.

One frame stamped years away from the frames around it (a clock reset, a corrupt record) would make the
span of an hour's capture hundreds of millions of seconds. Such a frame is reported (``capture_time_outlier``)
and left out of the span. A frame is one when it is more than OUTLIER_S from both neighbours while they are
within OUTLIER_S of each other (the first frame: from the next, which is that close to the one after; the
last alike). A capture that resumes a day later for more than one frame moves on for good: not an outlier.
"""
from __future__ import annotations

import numpy as np

OUTLIER_S = 86_400.0


class Span:
    """Fed an input's timestamps batch by batch; ``add`` returns the outliers it could decide, ``finish`` the
    last one, if the last frame is one, and the span in seconds."""

    def __init__(self) -> None:
        self._t = np.empty(0)  # points carried to the next batch: [context, undecided] or, at the start, all
        self._f = np.empty(0, dtype=np.int64)
        self._context = False  # whether _t[0] is a point already decided, kept as a neighbour
        self._before: float | None = None  # the neighbour before the context point
        self.first, self.last = float("inf"), float("-inf")

    def add(self, ts: np.ndarray, frames: np.ndarray) -> list[tuple[int, float]]:
        t = np.concatenate([self._t, np.asarray(ts, dtype=np.float64)])
        f = np.concatenate([self._f, np.asarray(frames, dtype=np.int64)])
        n, lo = len(t), int(self._context)
        if n - lo < 2 or (not self._context and n < 3):  # too few to decide anything yet
            self._t, self._f = t, f
            return []
        hi = n - 1  # the last point waits for its next neighbour
        far = np.zeros(n, dtype=bool)
        i = np.arange(max(lo, 1), hi)
        far[i] = ((np.abs(t[i] - t[i - 1]) > OUTLIER_S) & (np.abs(t[i + 1] - t[i]) > OUTLIER_S)
                  & (np.abs(t[i + 1] - t[i - 1]) <= OUTLIER_S))
        if lo == 0:
            far[0] = abs(t[1] - t[0]) > OUTLIER_S and abs(t[2] - t[1]) <= OUTLIER_S
        self._count(t[lo:hi][~far[lo:hi]])
        outliers = [(int(f[k]), float(t[k])) for k in np.nonzero(far[lo:hi])[0] + lo]
        self._before = float(t[hi - 2]) if hi >= 2 else None
        self._t, self._f, self._context = t[hi - 1:], f[hi - 1:], True
        return outliers

    def finish(self) -> tuple[float, list[tuple[int, float]]]:
        """The span in seconds, and the last frame if it is an outlier (its one neighbour close to the one before)."""
        t, outliers = self._t[int(self._context):], []
        if self._context and len(t) == 1 and self._before is not None and abs(t[0] - self._t[0]) > OUTLIER_S \
                and abs(self._t[0] - self._before) <= OUTLIER_S:
            outliers, t = [(int(self._f[1]), float(t[0]))], t[:0]
        self._count(t)
        return (max(self.last - self.first, 0.0) if self.last >= self.first else 0.0), outliers

    def _count(self, t: np.ndarray) -> None:
        if len(t):
            self.first, self.last = min(self.first, float(t.min())), max(self.last, float(t.max()))
