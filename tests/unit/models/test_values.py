"""Value ranges: learned values pass, far values fail, constants are exact, thin samples pass."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.values import MIN_SAMPLES, ValueRanges

FIELDS = ("server", "unit", "table", "address")
PREFIX = ("10.0.0.9", 1, "holding_register")


def at(address: int, n: int) -> np.ndarray:
    return np.full(n, address)


def test_out_of_range_setpoint():
    ranges = ValueRanges(FIELDS).fit(PREFIX, at(100, 5), np.array([50, 52, 55, 58, 60]))
    assert ranges.outside(PREFIX, at(100, 4), np.array([50, 61, 900, 40])).tolist() == [False, False, True, True]
    assert not ranges.outside(PREFIX, at(101, 1), np.array([900])).any()  # an unlearned point: not this model's call


def test_constant_is_exact_and_few_samples_learn_nothing():
    constant = ValueRanges(FIELDS).fit(PREFIX, at(7, MIN_SAMPLES), np.full(MIN_SAMPLES, 7))
    assert constant.outside(PREFIX, at(7, 2), np.array([7, 8])).tolist() == [False, True]
    thin = ValueRanges(FIELDS).fit(PREFIX, at(7, MIN_SAMPLES - 1), np.full(MIN_SAMPLES - 1, 7))
    assert not thin.outside(PREFIX, at(7, 1), np.array([9000])).any()


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-32768, 65535)), min_size=1, max_size=50))
def test_learned_values_always_pass_and_round_trip(points):
    addresses = np.array([a for a, _ in points])
    values = np.array([v for _, v in points])
    ranges = ValueRanges(FIELDS).fit(PREFIX, addresses, values)
    assert not ranges.outside(PREFIX, addresses, values).any()
    again = ValueRanges.from_dict(FIELDS, ranges.to_dict())
    assert again.ranges == ranges.ranges
