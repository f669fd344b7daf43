"""Polling schedules: per channel, the period between requests and its jitter.

SCADA polling is clockwork: a master asks the same thing every T seconds, give or take a few
milliseconds of scheduling noise. The learned schedule is the median interval (the period, robust
to the odd retry or late poll) and the median absolute deviation around it (the jitter). A channel
then breaks its schedule in three ways:

- **flood**: the recent intervals are a fraction of the period (``FLOOD_RATIO`` times the rate or more);
- **schedule**: the recent median interval is neither the period nor a flood (a new poll rate);
- **silence**: one gap longer than ``SILENCE_PERIODS`` periods (plus jitter): polls were missed.

"Recent" is the median of the last ``RECENT`` intervals, so one early or late poll (a retry, an
operator's manual refresh, a loaded master) never alerts alone; a real change of rate shows within
``RECENT`` requests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MIN_INTERVALS = 8  # intervals needed to learn a period: a median of fewer is one unlucky sample away from wrong
RECENT = 5  # intervals whose median is judged: an odd one out (retry, manual refresh) is outvoted 3 to 2
FLOOD_RATIO = 4.0  # recent median below period / 4: four times the learned rate is not jitter, it is a flood
SCHEDULE_TOLERANCE = 0.25  # a recent median within 25 % of the period is the same schedule ...
JITTER_WIDTH = 6.0  # ... or within 6 jitters (about 4 standard deviations for MAD-based noise)
SILENCE_PERIODS = 3.0  # a gap of 3 periods is at least two missed polls in a row, not one late answer
MAX_RELATIVE_JITTER = 0.25  # a channel whose typical deviation exceeds a quarter period is not polled on a
# clock (operator-driven or event-driven traffic): it gets no schedule rather than one that alerts at random

FLOOD, SCHEDULE, SILENCE = "flood", "schedule", "silence"


@dataclass(slots=True)
class Schedule:
    """A channel's learned polling: ``period`` and ``jitter`` in seconds, from ``intervals`` intervals."""

    period: float
    jitter: float
    intervals: int

    @classmethod
    def fit(cls, intervals: np.ndarray) -> Schedule | None:
        """The schedule of these intervals, or None when there are too few to say (``MIN_INTERVALS``) or
        they keep no clock (``MAX_RELATIVE_JITTER``)."""
        intervals = np.asarray(intervals, dtype=np.float64)
        if len(intervals) < MIN_INTERVALS:
            return None
        period = float(np.median(intervals))
        if period <= 0:
            return None
        jitter = float(np.median(np.abs(intervals - period)))
        if jitter > MAX_RELATIVE_JITTER * period:
            return None
        return cls(round(period, 6), round(jitter, 6), len(intervals))

    @property
    def tolerance(self) -> float:
        """How far a recent median may stray from the period and still be this schedule."""
        return max(SCHEDULE_TOLERANCE * self.period, JITTER_WIDTH * self.jitter)

    @property
    def silence(self) -> float:
        """The longest gap that is still the schedule (late polls), beyond which polls were missed."""
        return SILENCE_PERIODS * self.period + JITTER_WIDTH * self.jitter

    def judge(self, history: np.ndarray, intervals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``intervals`` (after ``history``, the intervals just before): its verdict and recent median.

        The verdict is "" (fits), ``FLOOD``, ``SCHEDULE`` or ``SILENCE``. A rolling median needs ``RECENT``
        intervals: the first intervals of a channel are judged on silence alone.
        """
        intervals = np.asarray(intervals, dtype=np.float64)
        n = len(intervals)
        verdict = np.full(n, "", dtype=object)
        recent = np.full(n, np.nan)
        if n == 0:
            return verdict, recent
        series = np.concatenate([np.asarray(history, dtype=np.float64)[-(RECENT - 1):], intervals]) \
            if RECENT > 1 else intervals
        lead = len(series) - n
        if len(series) >= RECENT:
            medians = np.median(sliding_window_view(series, RECENT), axis=1)
            judged = np.arange(len(medians)) + RECENT - 1 - lead  # the interval each window ends at
            keep = judged >= 0
            recent[judged[keep]] = medians[keep]
        verdict[np.abs(recent - self.period) > self.tolerance] = SCHEDULE
        verdict[recent < self.period / FLOOD_RATIO] = FLOOD
        verdict[intervals > self.silence] = SILENCE
        return verdict, recent

    def to_dict(self) -> dict:
        return {"period": self.period, "jitter": self.jitter, "intervals": self.intervals}

    @classmethod
    def from_dict(cls, entry: dict) -> Schedule:
        return cls(float(entry["period"]), float(entry["jitter"]), int(entry["intervals"]))
