"""stable_order is np.lexsort: the same permutation, packed keys or not; first_rows and groups are np.unique with
its first rows and its inverse."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.order import first_rows, groups, stable_order, unique_rows, within_runs

small = st.lists(st.integers(-50, 50), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3).flatmap(lambda k: st.tuples(*[small] * k)), st.booleans())
def test_the_order_is_lexsorts(columns, wide):
    n = min(len(c) for c in columns)
    keys = [np.array(c[:n], dtype=np.int64) for c in columns]
    if wide:  # keys that cannot be packed into 63 bits: the lexsort path
        keys[0] = keys[0] * (1 << 55)
    expected = np.lexsort(keys[::-1])
    assert stable_order(*keys).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=300), st.booleans())
def test_first_rows_are_uniques(values, wide):
    keys = np.array(values, dtype=np.int64) * ((1 << 55) if wide else 1)
    distinct, first = np.unique(keys, return_index=True)
    got = first_rows(keys)
    assert got[0].tolist() == distinct.tolist() and got[1].tolist() == first.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=300), st.booleans())
def test_groups_are_uniques_with_their_inverse(values, wide):
    keys = np.array(values, dtype=np.int64) * ((1 << 40) if wide else 1)  # wide: too sparse for a table of flags
    distinct, inverse = np.unique(keys, return_inverse=True)
    got = groups(keys)
    assert got[0].tolist() == distinct.tolist() and got[1].tolist() == inverse.reshape(-1).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 64) - 1), max_size=300), st.lists(st.integers(0, 3), max_size=300))
def test_uint64_hashes_sort_as_unsigned(values, near):
    """Hashes above 2**63 (half of them) order as unsigned numbers, in both the packed and the wide paths."""
    n = min(len(values), len(near))
    wide = np.array(values[:n], dtype=np.uint64)
    narrow = (np.uint64(1 << 63) + np.array(near[:n], dtype=np.uint64)) if n else np.zeros(0, np.uint64)
    for keys in (wide, narrow):  # narrow: a span that packs, every key past 2**63
        assert stable_order(keys).tolist() == np.argsort(keys, kind="stable").tolist()
        distinct, first = np.unique(keys, return_index=True)
        got = first_rows(keys)
        assert got[0].tolist() == distinct.tolist() and got[1].tolist() == first.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 70_000), max_size=400), st.sampled_from([1 << 8, 1 << 16, 1 << 17]),
       st.sampled_from([np.int64, np.int32, np.uint64, np.uint16]))
def test_a_narrow_key_sorts_by_radix_as_the_stable_sort(values, span, dtype):
    """One key spanning under 2**8 or 2**16 values takes numpy's radix sort; wider ones the packed sort."""
    keys = (np.array(values, dtype=np.int64) % span).astype(dtype)
    assert stable_order(keys).tolist() == np.argsort(keys, kind="stable").tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 64) - 1), max_size=300), st.integers(0, 3))
def test_unique_rows_are_numpys_unique_with_first_rows_and_inverse(values, narrow):
    """Hashes (a plain sort) and narrow keys (the packed sort) alike."""
    keys = np.array(values, dtype=np.uint64)
    if narrow:
        keys = keys % np.uint64(7 ** narrow)
    expected = np.unique(keys, return_index=True, return_inverse=True)
    got = unique_rows(keys)
    assert [g.tolist() for g in got] == [e.reshape(-1).tolist() for e in expected]


def test_within_runs_numbers_each_item_from_zero_within_its_run() -> None:
    counts = np.array([3, 0, 1, 2], dtype=np.int64)
    assert within_runs(counts).tolist() == [0, 1, 2, 0, 0, 1]
    assert within_runs(np.zeros(0, dtype=np.int64)).tolist() == []
