"""Polling schedules: a steady poll fits; floods, new rates and silences are named; one odd poll is not."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.timing import FLOOD, MIN_INTERVALS, SCHEDULE, SILENCE, Schedule


def steady(n: int, period: float = 10.0, noise: float = 0.01, seed: int = 1) -> np.ndarray:
    return period + np.random.default_rng(seed).uniform(-noise, noise, n)


def test_too_few_intervals_learn_nothing():
    assert Schedule.fit(steady(MIN_INTERVALS - 1)) is None


def test_fit_and_round_trip():
    s = Schedule.fit(steady(100))
    assert abs(s.period - 10.0) < 0.01 and s.jitter < 0.01
    assert Schedule.from_dict(s.to_dict()) == s


@given(st.floats(0.05, 100.0), st.integers(0, 1000))
def test_the_learned_schedule_never_alerts_on_itself(period, seed):
    intervals = steady(200, period, period * 0.02, seed)
    s = Schedule.fit(intervals[:100])
    verdict, _ = s.judge(intervals[:4], intervals[4:])
    assert not verdict.any()


def test_one_late_or_early_poll_is_not_an_alert():
    s = Schedule.fit(steady(100))
    intervals = steady(20)
    intervals[10] = 25.0  # late, but less than three periods
    intervals[15] = 0.5  # an operator's refresh
    assert not s.judge(np.zeros(0), intervals)[0].any()


def test_flood_schedule_and_silence():
    s = Schedule.fit(steady(100))
    assert FLOOD in s.judge(steady(10), np.full(10, 0.1))[0].tolist()
    assert s.judge(steady(10), np.full(10, 20.0))[0].tolist()[-1] == SCHEDULE
    verdict = s.judge(steady(10), np.array([10.0, 45.0, 10.0]))[0].tolist()
    assert verdict == ["", SILENCE, ""]


def test_traffic_without_a_clock_gets_no_schedule():
    bursts = np.random.default_rng(3).exponential(1.0, 200)  # event-driven: intervals all over the place
    assert Schedule.fit(bursts) is None
