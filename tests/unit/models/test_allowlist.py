"""Allowlists: exact membership, address ranges that never widen, and a faithful JSON round trip."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.allowlist import Allowlist, RangeAllowlist, merge

FIELDS = ("client", "server", "function")


def test_unknown_keys_are_flagged():
    allow = Allowlist(FIELDS).fit([("a", "b", "read"), ("a", "c", "read")])
    assert allow.unknown([("a", "b", "read"), ("a", "b", "write"), ("x", "b", "read")]).tolist() == [False, True, True]


def test_round_trip_and_one_entry_per_item():
    allow = Allowlist(FIELDS).fit([("a", "b", "read"), ("a", "b", "write")])
    entries = allow.to_dict()
    assert entries[0] == {"client": "a", "server": "b", "function": "read"}
    assert Allowlist.from_dict(FIELDS, entries).items == allow.items
    assert Allowlist.from_dict(FIELDS, entries[1:]).unknown([("a", "b", "read")]).tolist() == [True]  # line deleted


def test_ranges_do_not_bridge_gaps():
    ranges = RangeAllowlist(("k",)).fit(("k",), np.array([0, 20]), np.array([9, 29]))
    assert ranges.expected(("k",)) == [[0, 9], [20, 29]]
    out = ranges.uncovered(("k",), np.array([0, 5, 10, 25]), np.array([9, 9, 19, 30]))
    assert out.tolist() == [False, False, True, True]
    assert ranges.uncovered(("other",), np.array([0]), np.array([0])).tolist() == [True]


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 40)), min_size=1, max_size=30))
def test_learned_requests_are_always_covered_and_merge_is_minimal(spans):
    first = np.array([a for a, _ in spans])
    last = first + np.array([n for _, n in spans])
    ranges = RangeAllowlist(("k",)).fit(("k",), first, last)
    assert not ranges.uncovered(("k",), first, last).any()
    merged = ranges.ranges[("k",)]
    assert all(b + 1 < c for (_, b), (c, _) in zip(merged, merged[1:]))  # disjoint and not touching
    assert merge(merged) == merged
    again = RangeAllowlist.from_dict(("k",), ranges.to_dict())
    assert again.ranges == ranges.ranges
