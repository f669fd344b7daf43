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


def one(n: int) -> np.ndarray:
    """Every request of the first (only) key."""
    return np.zeros(n, dtype=np.int64)


def test_ranges_do_not_bridge_gaps():
    ranges = RangeAllowlist(("k",)).fit(("k",), np.array([0, 20]), np.array([9, 29]))
    assert ranges.expected(("k",)) == [[0, 9], [20, 29]]
    out = ranges.uncovered([("k",)], one(4), np.array([0, 5, 10, 25]), np.array([9, 9, 19, 30]))
    assert out.tolist() == [False, False, True, True]
    assert ranges.uncovered([("other",)], one(1), np.array([0]), np.array([0])).tolist() == [True]
    assert RangeAllowlist(("k",)).uncovered([("k",)], one(1), np.array([0]), np.array([0])).tolist() == [True]


def test_many_keys_are_judged_apart():
    """One search serves every key: an interval of one key never covers a request of another, even next to it."""
    ranges = RangeAllowlist(("k",)).fit(("a",), np.array([0]), np.array([9])).fit(("b",), np.array([5]), np.array([7]))
    keys = [("a",), ("b",), ("c",)]
    which = np.array([0, 1, 1, 1, 0, 2])
    first, last = np.array([2, 5, 0, 6, 9, 0]), np.array([9, 7, 3, 8, 10, 0])
    assert ranges.uncovered(keys, which, first, last).tolist() == [False, False, True, True, True, True]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 300), st.integers(0, 20)), min_size=1, max_size=40),
       st.lists(st.tuples(st.integers(0, 4), st.integers(0, 320), st.integers(0, 30)), min_size=1, max_size=40))
def test_many_keys_agree_with_one_key_at_a_time(learned, asked):
    ranges = RangeAllowlist(("k",))
    for k in {k for k, _, _ in learned}:
        first = np.array([a for kk, a, _ in learned if kk == k])
        ranges.fit((k,), first, first + np.array([n for kk, _, n in learned if kk == k]))
    keys = [(k,) for k in range(5)]
    which = np.array([k for k, _, _ in asked])
    first = np.array([a for _, a, _ in asked])
    last = first + np.array([n for _, _, n in asked])
    together = ranges.uncovered(keys, which, first, last)
    for i in range(len(asked)):
        alone = ranges.uncovered([keys[which[i]]], one(1), first[i:i + 1], last[i:i + 1])
        inside = any(a <= first[i] and last[i] <= b for a, b in ranges.ranges.get(keys[which[i]], []))
        assert together[i] == alone[0] == (not inside)


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 40)), min_size=1, max_size=30))
def test_learned_requests_are_always_covered_and_merge_is_minimal(spans):
    first = np.array([a for a, _ in spans])
    last = first + np.array([n for _, n in spans])
    ranges = RangeAllowlist(("k",)).fit(("k",), first, last)
    assert not ranges.uncovered([("k",)], one(len(first)), first, last).any()
    merged = ranges.ranges[("k",)]
    assert all(b + 1 < c for (_, b), (c, _) in zip(merged, merged[1:]))  # disjoint and not touching
    assert merge(merged) == merged
    again = RangeAllowlist.from_dict(("k",), ranges.to_dict())
    assert again.ranges == ranges.ranges
