"""Value ranges: learned values pass, far values fail, constants are exact, thin samples pass."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.values import MIN_SAMPLES, ValueRanges, widened

FIELDS = ("server", "unit", "table", "address")
PREFIX = ("10.0.0.9", 1, "holding_register")


def at(address: int, n: int) -> np.ndarray:
    return np.full(n, address)


def outside(ranges: ValueRanges, addresses: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Judged under ``PREFIX`` alone."""
    return ranges.outside([PREFIX], np.zeros(len(addresses), dtype=np.int64), addresses, values)


def test_out_of_range_setpoint():
    ranges = ValueRanges(FIELDS).fit(PREFIX, at(100, 5), np.array([50, 52, 55, 58, 60]))
    # five samples 10 apart at most: the edges may lie 8 mean gaps (8 * 10 / 4 = 20) beyond them
    assert outside(ranges, at(100, 5), np.array([50, 61, 80, 900, 25])).tolist() == [False, False, False, True, True]
    assert not outside(ranges, at(101, 1), np.array([900])).any()  # an unlearned point: not this model's call


def test_many_samples_narrow_the_range_to_its_margin():
    ranges = ValueRanges(FIELDS).fit(PREFIX, at(100, 101), np.linspace(50, 60, 101))
    assert outside(ranges, at(100, 4), np.array([49, 61, 48.5, 61.5])).tolist() == [False, False, True, True]


def test_constant_is_exact_and_few_samples_learn_nothing():
    constant = ValueRanges(FIELDS).fit(PREFIX, at(7, MIN_SAMPLES), np.full(MIN_SAMPLES, 7))
    assert outside(constant, at(7, 2), np.array([7, 8])).tolist() == [False, True]
    thin = ValueRanges(FIELDS).fit(PREFIX, at(7, MIN_SAMPLES - 1), np.full(MIN_SAMPLES - 1, 7))
    assert not outside(thin, at(7, 1), np.array([9000])).any()


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-32768, 65535)), min_size=1, max_size=50))
def test_learned_values_always_pass_and_round_trip(points):
    addresses = np.array([a for a, _ in points])
    values = np.array([v for _, v in points])
    ranges = ValueRanges(FIELDS).fit(PREFIX, addresses, values)
    assert not outside(ranges, addresses, values).any()
    again = ValueRanges.from_dict(FIELDS, ranges.to_dict())
    assert again.ranges == ranges.ranges


def test_many_prefixes_are_judged_apart():
    """One search serves every prefix: a point of one server says nothing about the same address on another."""
    other = ("10.0.0.8", 1, "holding_register")
    ranges = ValueRanges(FIELDS).fit(PREFIX, at(100, 3), np.array([50, 55, 60])).fit(other, at(100, 3), np.full(3, 7))
    prefixes = [PREFIX, other, ("10.0.0.7", 1, "coil")]
    which = np.array([0, 1, 1, 2, 0])
    out = ranges.outside(prefixes, which, np.array([100, 100, 100, 100, 101]), np.array([55, 7, 55, 900, 900]))
    assert out.tolist() == [False, False, True, False, False]
    assert ranges.knows(other) and not ranges.knows(prefixes[2])
    assert not ValueRanges(FIELDS).outside(prefixes, which, at(1, 5), at(1, 5)).any()


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 6), st.integers(-100, 100)), min_size=1, max_size=60),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(-200, 200)), min_size=1, max_size=30))
def test_many_prefixes_agree_with_the_learned_bounds(learned, asked):
    prefixes = [("s", unit, "coil") for unit in range(4)]
    ranges = ValueRanges(FIELDS)
    for p in {p for p, _, _ in learned}:
        ranges.fit(prefixes[p], np.array([a for q, a, _ in learned if q == p]), np.array([v for q, _, v in learned if q == p]))
    which = np.array([p for p, _, _ in asked])
    out = ranges.outside(prefixes, which, np.array([a for _, a, _ in asked]), np.array([v for _, _, v in asked]))
    for flagged, (p, a, v) in zip(out.tolist(), asked):
        r = ranges.ranges.get((*prefixes[p], a))
        low, high = widened(r.low, r.high, r.samples) if r is not None and r.samples >= MIN_SAMPLES else (-np.inf, np.inf)
        assert flagged == (not low <= v <= high)
