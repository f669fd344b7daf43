"""Every merge rule, applied by two commits into a real database."""
from __future__ import annotations

import sqlite3

import pytest
from store_deltas import alert, asset, communication, point, poll, source

from sensor.inventory.model import Identity, Service
from sensor.store import FileCheckpoint, Run, StoreBatch

MODBUS = Service("modbus", "tcp", 502)
HTTP = Service("http", "tcp", 80)
PLC = Identity(vendor="Schneider Electric", product="BMX P34 2020", revision="v2.7", source="modbus 43/14")


def commit(store, **batch) -> None:
    store.commit(StoreBatch(**batch))


def only(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def test_assets_counters_add_sets_union_and_times_widen(store):
    commit(store, assets=[asset(first=100, last=200, packets=3, bytes=300,
                                roles={"modbus_server"}, services={MODBUS}, unit_ids={2})])
    commit(store, assets=[asset(first=50, last=150, packets=4, bytes=400,
                                roles={"modbus_server"}, services={HTTP}, unit_ids={1, 2})])
    row = only(store.assets())
    assert (row["packets"], row["bytes"]) == (7, 700)
    assert (row["first_seen"], row["last_seen"]) == (50, 200)
    assert row["roles"] == ["modbus_server"]
    assert row["unit_ids"] == [1, 2]
    assert row["services"] == [{"protocol": "http", "transport": "tcp", "port": 80},
                               {"protocol": "modbus", "transport": "tcp", "port": 502}]


def test_a_delta_of_times_alone_widens_the_stored_times_as_a_whole_merge_would(store):
    """The store widens times in place for deltas that only say "seen" (Store._widen_times); a new asset, and one
    whose other delta in the batch knows more, still go through the merge."""
    commit(store, assets=[asset(first=100, last=200, packets=3, roles={"modbus_server"}),
                          asset("10.0.0.2", first=100, last=200, packets=1)])
    commit(store, assets=[asset(first=50, last=150), asset(first=120, last=260),  # times alone, twice
                          asset("10.0.0.2", first=300, last=300), asset("10.0.0.2", first=90, last=90, packets=2),
                          asset("10.0.0.3", first=400, last=500)])  # new: times alone make it an asset
    rows = {row["ip"]: row for row in store.assets()}
    assert (rows["10.0.0.1"]["first_seen"], rows["10.0.0.1"]["last_seen"], rows["10.0.0.1"]["packets"]) == (50, 260, 3)
    assert rows["10.0.0.1"]["roles"] == ["modbus_server"]
    assert (rows["10.0.0.2"]["first_seen"], rows["10.0.0.2"]["last_seen"], rows["10.0.0.2"]["packets"]) == (90, 300, 3)
    assert (rows["10.0.0.3"]["first_seen"], rows["10.0.0.3"]["last_seen"], rows["10.0.0.3"]["roles"]) == (400, 500, [])


def test_asset_scalars_replace_only_when_the_delta_knows(store):
    commit(store, assets=[asset(mac="00:00:54:aa:bb:cc", mac_vendor="Schneider", identity=PLC)])
    commit(store, assets=[asset()])  # knows nothing new: nothing is erased
    row = only(store.assets())
    assert (row["mac"], row["mac_vendor"]) == ("00:00:54:aa:bb:cc", "Schneider")
    assert row["identity"]["vendor"] == "Schneider Electric"
    assert {"vendor", "product", "revision", "source"} <= row["identity"].keys()
    commit(store, assets=[asset(mac="00:00:54:dd:ee:ff")])
    assert only(store.assets())["mac"] == "00:00:54:dd:ee:ff"


def test_asset_sources_keep_the_first_evidence_and_add_new_attributes(store):
    commit(store, assets=[asset(sources={"mac": source(1, "arp")})])
    commit(store, assets=[asset(sources={"mac": source(9, "ethernet"), "identity": source(12)})])
    sources = only(store.assets())["sources"]
    assert sources["mac"] == {"proto": "arp", "file": "a.pcap", "frame": 1, "detail": ""}
    assert sources["identity"]["frame"] == 12


def test_derived_columns_are_set_and_survive_later_merges(store):
    commit(store, assets=[asset("10.0.0.1")], device_types=[("10.0.0.1", "plc", ["serves modbus"])],
           zones=[("10.0.0.1", "control", 2.0)])
    commit(store, assets=[asset("10.0.0.1", packets=1)])
    store.set_device_types([("10.0.0.9", "hmi", [])])  # unknown address: nothing to update
    row = only(store.assets())
    assert (row["device_type"], row["device_type_reasons"]) == ("plc", ["serves modbus"])
    assert (row["zone"], row["zone_level"]) == ("control", 2.0)
    store.set_zones([("10.0.0.1", "dmz", 3.5)])
    assert (only(store.assets())["zone"], only(store.assets())["zone_level"]) == ("dmz", 3.5)


def test_points_count_adds_and_the_newest_values_win(store):
    def write(first, last, values, frame=None):
        return point(first=first, last=last, function_code=16, access="write", last_values=values,
                     source=source(frame) if frame else None)

    commit(store, points=[write(100, 200, [1, 2], frame=5), write(100, 200, [1, 2])])
    commit(store, points=[write(50, 150, [9, 9], frame=3)])
    row = only(store.points())
    assert (row["count"], row["first_seen"], row["last_seen"]) == (3, 50, 200)
    assert row["last_values"] == [1, 2] and row["source"]["frame"] == 5  # the older delta did not replace
    commit(store, points=[write(300, 300, None)])
    assert only(store.points())["last_values"] == [1, 2]  # None never erases
    commit(store, points=[write(200, 200, [7, 7], frame=8)])
    row = only(store.points())
    assert row["last_values"] == [7, 7] and row["source"]["frame"] == 8  # as new as the stored ones: replaces
    assert row["last_seen"] == 300


def test_points_of_a_client_are_listed_on_its_asset(store):
    commit(store, points=[point(address=40, unit_id=3), point(address=0, unit_id=3)],
           assets=[asset("10.0.0.1", roles={"modbus_client"}), asset("10.0.0.2", roles={"modbus_server"})])
    client, server = store.assets()
    assert [p["address"] for p in client["points"]] == [0, 40]
    assert client["points"][0] == {
        "server": "10.0.0.2", "protocol": "modbus", "unit_id": 3, "function_code": 3,
        "function_name": "read_holding_registers", "access": "read", "name": None,
        "table": "holding_register", "address": 0, "quantity": 2, "count": 1, "last_values": None,
    }
    assert server["points"] == []


def test_communications_add_counters_and_actions_and_keep_the_earliest_frames(store):
    commit(store, communications=[communication(
        packets=10, bytes=1000, flows=1, actions={"read_holding_registers": 5},
        sample_frames=[("b.pcap", n) for n in range(1, 9)],
    )])
    commit(store, communications=[communication(
        first=50, last=300, packets=2, bytes=20, flows=1,
        actions={"read_holding_registers": 1, "write_single_register": 1},
        sample_frames=[("a.pcap", 7), ("a.pcap", 3), ("b.pcap", 1)],
    )])
    row = only(store.communications())
    assert (row["packets"], row["bytes"], row["flows"]) == (12, 1020, 2)
    assert (row["first_seen"], row["last_seen"]) == (50, 300)
    assert row["actions"] == {"read_holding_registers": 6, "write_single_register": 1}
    assert row["sample_frames"] == [["a.pcap", 3], ["a.pcap", 7]] + [["b.pcap", n] for n in range(1, 9)]


def test_polls_sums_add(store):
    commit(store, polls=[poll(requests=3, reads=2, writes=1, diagnostics=0, interval_sum=2.0,
                              interval_sumsq=2.0, intervals=2)])
    commit(store, polls=[poll(first=10, last=20, requests=2, reads=1, writes=0, diagnostics=1,
                              interval_sum=1.5, interval_sumsq=2.25, intervals=1)])
    row = only(store.polls())
    counts = ("requests", "reads", "writes", "diagnostics", "intervals")
    assert [row[name] for name in counts] == [5, 3, 1, 1, 3]
    assert (row["interval_sum"], row["interval_sumsq"]) == (3.5, 4.25)
    assert (row["first_seen"], row["last_seen"]) == (10, 200)


def test_alerts_keep_their_largest_count_frames_union_capped_and_the_newer_text_wins(store):
    """An alert arrives with its whole count so far: checking the same store twice must not double it."""
    commit(store, alerts=[alert(first=100, last=200, summary="new", evidence={"n": 2}, count=2,
                                frames=[["a.pcap", n] for n in range(15, 30)])])
    commit(store, alerts=[alert(first=50, last=60, summary="old", evidence={"n": 1}, count=1,
                                frames=[["a.pcap", n] for n in range(1, 8)])])
    row = only(store.alerts())
    assert (row["ts"], row["last_seen"], row["count"]) == (50, 200, 2)
    assert (row["summary"], row["evidence"]) == ("new", {"n": 2})
    assert row["frames"] == [["a.pcap", n] for n in [*range(1, 8), *range(15, 28)]]
    commit(store, alerts=[alert(first=300, summary="newest", evidence={"n": 3})])
    assert only(store.alerts())["summary"] == "newest"


def test_alert_defaults_when_only_contract_fields_are_given(store):
    contract = alert(first=100)
    del contract["last_seen"], contract["count"]
    commit(store, alerts=[contract])
    row = only(store.alerts())
    assert (row["ts"], row["last_seen"], row["count"]) == (100, 100, 1)


def test_weirds_add_and_keep_the_first_frame(store):
    commit(store, weirds={("modbus_bad_length", "a.pcap"): (2, 40)})
    commit(store, weirds={("modbus_bad_length", "a.pcap"): (1, 7), ("tcp_gap", "a.pcap"): (1, 3)})
    assert store.weirds() == [
        {"code": "modbus_bad_length", "file": "a.pcap", "count": 3, "first_frame": 7},
        {"code": "tcp_gap", "file": "a.pcap", "count": 1, "first_frame": 3},
    ]


def test_file_progress_resumes_a_partial_file_and_skips_a_complete_one(store):
    assert store.file_progress("sha256:ab") is None
    commit(store, files=[FileCheckpoint("sha256:ab", "a.pcap", 1000, 500, False)])
    assert store.file_progress("sha256:ab") == (500, False, ())
    commit(store, files=[FileCheckpoint("sha256:ab", "a.pcap", 1000, 800, True, ("sha256:00",))])
    assert store.file_progress("sha256:ab") == (800, True, ("sha256:00",))


def test_runs_are_appended(store):
    commit(store, runs=[Run("2024-01-01T00:00:00Z", "2024-01-01T00:00:05Z", ["a.pcap"], 9, 900, 5.0)])
    commit(store, runs=[Run("2024-01-02T00:00:00Z", "2024-01-02T00:00:01Z", [], 0, 0, 1.0)])
    assert [(run["id"], run["files"]) for run in store.runs()] == [(1, ["a.pcap"]), (2, [])]


def test_a_batch_that_fails_changes_nothing(store):
    commit(store, assets=[asset(packets=1)])
    broken = alert()
    del broken["rule"]  # NOT NULL: the alerts merge fails after the assets merge ran
    with pytest.raises(sqlite3.IntegrityError):
        commit(store, assets=[asset(packets=5)], alerts=[broken])
    assert only(store.assets())["packets"] == 1


def test_assets_sort_numerically_ipv4_before_ipv6(store):
    commit(store, assets=[asset(ip) for ip in ["fe80::1", "10.0.0.10", "10.0.0.9", "2001:db8::1", "9.9.9.9"]])
    assert [a["ip"] for a in store.assets()] == ["9.9.9.9", "10.0.0.9", "10.0.0.10", "2001:db8::1", "fe80::1"]
