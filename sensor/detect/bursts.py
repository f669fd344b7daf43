"""How many distinct values one channel showed within a sliding window, for a whole batch at once.

A burst rule asks, at each message, "how many different values (unit ids, addresses, or messages
themselves) did this channel show in the last ``window_s`` seconds?". Scans and floods make this
question run over every request, so it is answered with sorted arrays, not a loop.

Each occurrence of a value counts from its message until the window has passed or the same value
comes again (the newer occurrence takes over), so the count at a message is the number of messages
up to it minus the occurrences that had stopped counting by then (positions, not times, so that
messages with equal time stamps count in capture order). Between batches
a ``Window`` keeps only the newest occurrence of each value still inside the window: that is all a
later batch needs, so the answer does not depend on where batches split.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensor.order import stable_order

MAX_WINDOW_VALUES = 100_000  # occurrences one window keeps; beyond it the oldest go (weird burst_window_full)


@dataclass(slots=True)
class Window:
    """The newest occurrence of each value still inside the window, in time order."""

    values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=float))
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firing: bool = False
    full: bool = False  # MAX_WINDOW_VALUES was hit (reported once)


@dataclass(slots=True)
class Burst:
    """What one batch did to a window: the frames that belong to a burst, and the count at the end."""

    frames: np.ndarray
    ts: np.ndarray
    count: int
    overflowed: bool


def advance(w: Window, values: np.ndarray, ts: np.ndarray, frames: np.ndarray, window_s: float, threshold: int,
            every: bool) -> Burst:
    """Add one channel's occurrences (capture order) and say which frames belong to a burst.

    Once the count reaches ``threshold``, the newest occurrence of every value in the window is part of
    the burst, and so is each later occurrence of a value not already in it (``every``: each one).
    """
    old = len(w.values)
    v, t, f = _joined(w, values, ts, frames)
    if not w.firing:  # polling shows few distinct values: when too few for any burst, only the newest matter
        newest = _newest_of_each(v)
        if len(newest) < threshold:
            _keep(w, v, t, f, newest[t[newest] + window_s > t[-1]])
            return Burst(np.zeros(0, dtype=np.int64), np.zeros(0), len(w.values), False)
    n = len(v)
    order = stable_order(v)
    repeat = v[order][1:] == v[order][:-1]
    earlier, later = order[:-1][repeat], order[1:][repeat]
    superseded_at = np.full(n, n)  # where the same value comes again
    superseded_at[earlier] = later
    previous = np.full(n, -np.inf)
    previous[later] = t[earlier]
    expires_at = np.searchsorted(t, t + window_s, side="left")  # first occurrence outside its window
    ends_at = np.minimum(superseded_at, expires_at)  # the first position at which it no longer counts
    ended = np.cumsum(np.bincount(ends_at, minlength=n + 1)[:n])
    count = (np.arange(n) + 1 - ended)[old:]
    now = t[old:]
    firing = count >= threshold
    fresh = previous[old:] + window_s <= now
    picked = np.zeros(n, dtype=bool)
    picked[old:] = firing & (fresh | every)
    began = old + np.nonzero(firing & ~np.r_[w.firing, firing[:-1]])[0]
    if len(began):  # where a burst began, the values that made it are part of it: j counts at some start
        first_start = np.searchsorted(began, np.arange(n), side="left")
        at = began[np.minimum(first_start, len(began) - 1)]
        picked |= (first_start < len(began)) & (at < ends_at)
    following = superseded_at < n
    overflowed = _keep(w, v, t, f, np.nonzero(~following & (t + window_s > t[-1]))[0])
    w.firing = bool(firing[-1]) if len(firing) else w.firing
    rows = np.nonzero(picked)[0]
    return Burst(f[rows], t[rows], int(count[-1]) if len(count) else len(w.values), overflowed)


def _joined(w: Window, values: np.ndarray, ts: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, ...]:
    """The window's occurrences, then the batch's; time runs forward (a late-stamped frame takes the last time)."""
    floor = w.ts[-1] if len(w.values) else -np.inf
    return (np.concatenate([w.values, values.astype(np.int64)]),
            np.concatenate([w.ts, np.maximum.accumulate(np.maximum(ts.astype(float), floor))]),
            np.concatenate([w.frames, frames.astype(np.int64)]))


def _keep(w: Window, v: np.ndarray, t: np.ndarray, f: np.ndarray, positions: np.ndarray) -> bool:
    """Keep these occurrences (the newest of each value still inside the window); True when the cap first bites."""
    overflowed = len(positions) > MAX_WINDOW_VALUES and not w.full
    kept = positions[-MAX_WINDOW_VALUES:]
    w.values, w.ts, w.frames = v[kept], t[kept], f[kept]
    w.full = w.full or overflowed
    return overflowed


def _newest_of_each(v: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each distinct value, in position order. Values spanning a small
    range (unit ids) are counted in a table; others are sorted."""
    low, span = int(v.min()), int(v.max()) - int(v.min()) + 1
    if span <= 4 * len(v):
        last = np.full(span, -1, dtype=np.int64)
        np.maximum.at(last, v - low, np.arange(len(v)))
        return np.sort(last[last >= 0])
    _, back = np.unique(v[::-1], return_index=True)
    return np.sort(len(v) - 1 - back)
