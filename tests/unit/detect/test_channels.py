"""Grouping rows for the learned models: one sort gives numpy's stable order, packed or not; bad entries come
back per group in entry order."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from protocols.base import REQUEST
from sensor.detect.anomaly import per_group
from sensor.detect.channels import _message_groups, grouped
from sensor.detect.engine import Observed
from sensor.detect.view import COLUMNS, VERBS, Messages

COLUMN = st.lists(st.integers(0, 5), min_size=1, max_size=60)


def reference(*columns: np.ndarray) -> tuple[list[int], list[int]]:
    order = np.lexsort(columns[::-1])
    keys = list(zip(*(c[order].tolist() for c in columns)))
    return order.tolist(), [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]


@given(COLUMN, st.data())
def test_grouped_is_a_stable_sort_by_the_columns(flow, data):
    n = len(flow)
    unit = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    columns = (np.array(flow), unit)
    order, starts = grouped(*columns)
    assert (order.tolist(), starts.tolist()) == reference(*columns)


def test_keys_too_wide_to_pack_are_grouped_alike():
    wide = np.array([1 << 62, 3, 1 << 62, 3, 0])
    order, starts = grouped(wide, np.array([1, 1, 0, 1, 2]))
    assert (order.tolist(), starts.tolist()) == reference(wide, np.array([1, 1, 0, 1, 2])) == ([4, 1, 3, 2, 0], [1, 3, 4])
    assert [a.tolist() for a in grouped(np.zeros(0, dtype=np.int64))] == [[], []]


def test_bad_entries_come_per_group_in_group_then_entry_order():
    which = np.array([2, 0, 2, 1, 0, 2])
    bad = np.array([True, True, True, False, False, True])
    assert [(g, part.tolist()) for g, part in per_group(which, bad)] == [(0, [1]), (2, [0, 2, 5])]
    assert list(per_group(which, np.zeros(6, dtype=bool))) == []


def messages(flow: list[int], unit: list[int], verb: list[int]) -> Messages:
    n = len(flow)
    columns = {name: np.full(n, -1, dtype=np.int64) for name in COLUMNS}
    columns.update(flow=np.array(flow), unit=np.array(unit), verb=np.array(verb), frame=np.arange(1, n + 1),
                   ts=np.arange(n, dtype=np.float64), client=np.array(["a"] * n, dtype=object),
                   server=np.array(["b"] * n, dtype=object), transport=np.array(["tcp"] * n, dtype=object))
    return Messages("f", **columns, written=np.zeros(0, dtype=np.int64), _fields=[], _starts=np.zeros(1, dtype=np.int64))


def test_groups_keep_link_layer_rows_and_wide_stations_apart():
    """No flow (-1: a link-layer message) groups first; DNP3 stations beyond 8 bits stay apart."""
    read = VERBS.id("dnp3", REQUEST, "read", "read")
    batch = Observed(messages([3, -1, 3, 3, -1, 0], [1, -1, 513, 1, -1, 1], [read] * 6), None)
    groups = _message_groups(batch)
    assert [(g.rows.tolist(), g.unit) for g in groups] == [([1, 4], -1), ([5], 1), ([0, 3], 1), ([2], 513)]
    assert all(g.request and g.function == "read" for g in groups)
