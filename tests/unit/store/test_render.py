"""Rendering store rows: JSON loads back equal, CSV has a header and a row per asset, the table aligns."""
from __future__ import annotations

import csv
import io
import json

import pytest
from store_deltas import asset, communication, name, point, source

from sensor.inventory.model import Identity, Service
from sensor.render import ASSET_TABLE_COLUMNS, render
from sensor.store import StoreBatch


@pytest.fixture
def assets(store):
    store.commit(StoreBatch(
        assets=[
            asset("10.0.0.2", first=1_700_000_000.25, last=1_700_000_060.0, mac="00:00:54:aa:bb:cc",
                  mac_vendor="Schneider Electric", roles={"modbus_server"}, unit_ids={1, 2},
                  services={Service("modbus", "tcp", 502), Service("tcp", "tcp", 8080)},
                  identity=Identity("Schneider Electric", "BMX P34 2020", "v2.7", "modbus 43/14 frame 9"),
                  sources={"identity": source(9)}),
            asset("10.0.0.1", roles={"modbus_client"}),
        ],
        names=[name("10.0.0.2", "plc-1", last=300.0), name("10.0.0.2", "plc"),
               name("10.0.0.1", "hmi, north")],  # a comma inside a value
        points=[point(last_values=None, source=source(4))],
        device_types=[("10.0.0.2", "plc", ["answers modbus 43/14"])],
    ))
    return store.assets()


def test_json_loads_back_equal(assets):
    text = render(assets, "json")
    assert json.loads(text) == assets
    assert text.startswith("[\n  {\n")  # indented for people, sorted keys for diffs
    assert render(assets, "json") == text


def test_json_with_columns_keeps_only_those(assets):
    assert json.loads(render(assets, "json", ["ip", "zone"])) == [
        {"ip": "10.0.0.1", "zone": None}, {"ip": "10.0.0.2", "zone": None}]


def test_json_keeps_non_ascii_readable():
    assert render([{"name": "Kühlung"}], "json") == '[\n  {\n    "name": "Kühlung"\n  }\n]'


def test_csv_has_the_header_and_one_row_per_asset(assets):
    rows = list(csv.reader(io.StringIO(render(assets, "csv"))))
    assert rows[0] == list(assets[0])
    assert len(rows) == 1 + len(assets)
    plc = dict(zip(rows[0], rows[2], strict=True))
    assert plc["ip"] == "10.0.0.2"
    assert plc["hostnames"] == "plc-1;plc"  # newest first
    assert plc["unit_ids"] == "1;2"
    assert [json.loads(s) for s in plc["services"].split(";")] == assets[1]["services"]
    assert json.loads(plc["identity"]) == assets[1]["identity"]
    assert plc["zone"] == ""
    assert dict(zip(rows[0], rows[1], strict=True))["hostnames"] == "hmi, north"


def test_csv_columns_pick_and_order(assets):
    lines = render(assets, "csv", ["mac", "ip"]).splitlines()
    assert lines == ["mac,ip", ",10.0.0.1", "00:00:54:aa:bb:cc,10.0.0.2"]


def test_table_is_aligned_and_readable(assets):
    lines = render(assets, "table", ASSET_TABLE_COLUMNS).splitlines()
    header, rule, client, plc = lines
    starts = [header.index(name) for name in ASSET_TABLE_COLUMNS]
    assert starts == sorted(starts)
    for line in (client, plc):  # every cell starts under its heading
        assert all(line[start - 2:start] == "  " or start == 0 for start in starts)
    assert set(rule) == {"-", " "}
    assert "Schneider Electric BMX P34 2020 v2.7" in plc
    assert "modbus/tcp/502, tcp/8080" in plc
    assert "1, 2" in plc
    assert "2023-11-14T22:13:20Z" in plc and "2023-11-14T22:14:20Z" in plc
    assert plc.split()[:2] == ["10.0.0.2", "00:00:54:aa:bb:cc"]


def test_table_shows_nested_values_compactly(store):
    store.commit(StoreBatch(communications=[communication(
        actions={"read_coils": 3, "write_single_coil": 1}, sample_frames=[("a.pcap", 7), ("a.pcap", 9)])]))
    (line,) = render(store.communications(), "table", ["actions", "sample_frames"]).splitlines()[2:]
    assert line.split("  ")[0] == "read_coils=3, write_single_coil=1"
    assert line.endswith("a.pcap:7, a.pcap:9")


def test_empty_listing():
    assert render([], "json") == "[]"
    assert render([], "csv", ["ip"]) == "ip"
    assert render([], "table", ["ip", "mac"]).splitlines() == ["ip  mac", "--  ---"]


def test_unknown_format_is_an_error(assets):
    with pytest.raises(ValueError, match="yaml"):
        render(assets, "yaml")
