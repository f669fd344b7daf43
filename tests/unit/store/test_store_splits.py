"""The same deltas, split into batches differently, end as the same bytes in the database."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.inventory.model import (
    AssetDelta,
    CommunicationDelta,
    Identity,
    NameDelta,
    PointDelta,
    PollStats,
    Service,
    Source,
)
from sensor.store import Store, StoreBatch, tables
from sensor.store.ranges import merge_ranges

# Few keys, so most deltas land on a row another delta already made.
IPS = st.sampled_from(["10.0.0.1", "fe80::1"])
SERVER = st.just("10.0.0.2")
# Halves are exact in binary, so float sums do not depend on the order they are added in.
TIMES = st.integers(0, 20).map(lambda n: n / 2)
SMALL = st.integers(0, 5)
SOURCES = st.builds(Source, proto=st.sampled_from(["arp", "modbus"]), file=st.just("a.pcap"), frame=SMALL)
FRAMES = st.lists(st.tuples(st.sampled_from(["a.pcap", "b.pcap"]), st.integers(1, 15)), max_size=12)
SERVICES = st.builds(Service, st.sampled_from(["modbus", "tcp"]), st.just("tcp"), st.sampled_from([502, 80]))
IDENTITIES = st.builds(Identity, st.sampled_from(["A", "B"]), st.just("P"), st.just("1"), st.just("s"))


def timed(build, **fields):
    """A delta builder with first_seen/last_seen drawn too (the merge rules do not need them ordered)."""
    return st.builds(build, first_seen=TIMES, last_seen=TIMES, **fields)


asset_deltas = timed(
    AssetDelta, ip=IPS, packets=SMALL, bytes=SMALL,
    mac=st.none() | st.sampled_from(["00:00:54:00:00:01", "00:00:54:00:00:02"]),
    mac_vendor=st.none() | st.just("Schneider"),
    roles=st.sets(st.sampled_from(["modbus_client", "modbus_server"])), services=st.sets(SERVICES),
    unit_ids=st.sets(SMALL), identity=st.none() | IDENTITIES,
    sources=st.dictionaries(st.sampled_from(["mac", "identity"]), SOURCES),
)
point_deltas = timed(
    PointDelta, client=IPS, server=SERVER, unit_id=st.just(1), function_code=st.just(16),
    access=st.just("write"), table=st.just("holding_register"), address=st.just(0), quantity=st.just(1),
    count=SMALL, last_values=st.none() | st.lists(SMALL, min_size=1, max_size=1), source=st.none() | SOURCES,
)
communication_deltas = timed(
    CommunicationDelta, initiator=IPS, responder=SERVER, transport=st.just("tcp"), port=st.just(502),
    protocol=st.just("modbus"), packets=SMALL, bytes=SMALL, flows=SMALL, sample_frames=FRAMES,
    actions=st.dictionaries(st.sampled_from(["read_coils", "write_single_coil"]), SMALL),
)
name_deltas = timed(
    NameDelta, address=IPS, name=st.sampled_from(["plc", "hmi"]), proto=st.sampled_from(["dns", "dhcp"]), count=SMALL,
    source=SOURCES,
)
poll_deltas = timed(
    PollStats, client=IPS, server=SERVER, requests=SMALL, reads=SMALL, writes=SMALL, diagnostics=SMALL,
    interval_sum=TIMES, interval_sumsq=TIMES, intervals=SMALL,
)
alert_dicts = st.fixed_dictionaries({
    "id": st.sampled_from(["x", "y"]), "ts": TIMES, "last_seen": TIMES, "rule": st.just("r"),
    "category": st.just("policy"), "severity": st.integers(0, 10), "src": IPS, "dst": SERVER,
    "proto": st.just("modbus"), "summary": st.sampled_from(["one", "two"]),
    "evidence": st.dictionaries(st.just("k"), SMALL), "frames": FRAMES, "count": st.integers(1, 3),
})
KINDS = {  # batch field -> (deltas, table rules, delta -> row)
    "assets": (asset_deltas, tables.ASSETS, tables.asset_row),
    "points": (point_deltas, tables.POINTS, tables.point_row),
    "communications": (communication_deltas, tables.COMMUNICATIONS, tables.communication_row),
    "polls": (poll_deltas, tables.POLLS, tables.poll_row),
    "names": (name_deltas, tables.NAMES, tables.name_row),
    "alerts": (alert_dicts, tables.ALERTS, tables.alert_row),
}


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "points"])  # points merge as ranges: see below
def test_merge_rules_are_associative(kind):
    """The property that makes batch splits irrelevant, checked on rows where it is cheap to search."""
    deltas, spec, to_row = KINDS[kind]

    @settings(max_examples=200, deadline=None)
    @given(st.lists(deltas, min_size=3, max_size=3))
    def check(three):
        a, b, c = (to_row(delta) for delta in three)
        b, c = ({**row, **{column: a[column] for column in spec.key}} for row in (b, c))  # one row's deltas
        assert spec.merge(spec.merge(a, b), c) == spec.merge(a, spec.merge(b, c))

    check()


def test_point_ranges_merge_the_same_in_any_grouping():
    """Point rows coalesce as address ranges (sensor.store.ranges); grouping must not change the result."""
    ranged = timed(
        PointDelta, client=st.just("10.0.0.1"), server=SERVER, unit_id=st.just(1), function_code=st.just(16),
        access=st.just("write"), table=st.just("holding_register"), address=st.integers(0, 6),
        quantity=st.just(1), count=SMALL, last_values=st.none() | st.lists(SMALL, min_size=1, max_size=1),
        source=st.none() | SOURCES,
    )

    @settings(max_examples=200, deadline=None)
    @given(st.lists(ranged, min_size=1, max_size=6), st.integers(0, 6))
    def check(deltas, cut):
        rows = [tables.point_row(d) for d in deltas]
        whole = merge_ranges(rows)
        assert merge_ranges(merge_ranges(rows[:cut]) + merge_ranges(rows[cut:])) == whole
        assert sum(r["count"] for r in whole) == sum(d.count for d in deltas)
        ends = [(r["address"], r["address"] + r["quantity"]) for r in whole]
        assert all(a_end < b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:]))  # disjoint, not touching

    check()


def commit_in_batches(path: str, kind: str, deltas: list, cuts: set[int]) -> list[tuple]:
    """Commit deltas in order, starting a new batch at each cut; return the table's raw rows."""
    with Store.open(path) as store:
        batch = StoreBatch()
        for n, delta in enumerate(deltas):
            if n in cuts:
                store.commit(batch)
                batch = StoreBatch()
            getattr(batch, kind).append(delta)
        store.commit(batch)
        return sorted(store.db.execute(f"SELECT * FROM {kind}").fetchall())


@pytest.mark.parametrize("kind", KINDS)
def test_batch_splits_end_as_the_same_bytes(tmp_path_factory, kind):
    @settings(max_examples=20, deadline=None)
    @given(deltas=st.lists(KINDS[kind][0], max_size=12), cuts=st.sets(st.integers(1, 11)))
    def check(deltas, cuts):
        folder = tmp_path_factory.mktemp(kind)
        whole = commit_in_batches(str(folder / "whole.db"), kind, deltas, cuts=set())
        assert commit_in_batches(str(folder / "split.db"), kind, deltas, cuts=cuts) == whole

    check()
