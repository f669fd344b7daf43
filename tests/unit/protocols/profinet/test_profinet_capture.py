"""Our own capture (make_dcp_capture.py): a multicast DCP Identify answered by two stations, one of which has no
IP traffic. The whole sensor must list that one as an asset keyed by its MAC, and give the other's identity to
its IP asset instead of listing it twice."""
from __future__ import annotations

import json
from pathlib import Path

from helpers import run_otsensor

CAPTURE = Path(__file__).resolve().parent / "data" / "dcp_two_stations.pcap"


def test_layer_2_station_and_ip_station(tmp_path):
    db, events = tmp_path / "o.db", tmp_path / "e.jsonl"
    done = run_otsensor("analyze", CAPTURE, "--strict", "--no-progress", "--db", db, "--events", events)
    assert done.returncode == 0, done.stderr
    assert "profinet 3" in done.stdout and "other_non_ip" not in done.stdout
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    dcp = [e for e in lines if e["proto"] == "profinet"]
    assert [(e["frame"], e["direction"], e["src"], e["dst"], e["sport"]) for e in dcp] == [
        (1, "request", "00:0c:29:00:00:05", "01:0e:cf:00:00:00", None),
        (2, "announce", "00:1b:1b:00:00:01", "00:0c:29:00:00:05", None),
        (3, "announce", "00:1b:1b:00:00:02", "00:0c:29:00:00:05", None)]
    assert dcp[1]["ip_address"] == "192.168.0.20" and dcp[2]["name_of_station"] == "plc-1"

    listing = run_otsensor("assets", "--db", db, "--format", "json")
    assets = {a["ip"] or a["mac"]: a for a in json.loads(listing.stdout)}
    assert set(assets) == {"192.168.0.5", "192.168.0.10", "00:1b:1b:00:00:01"}
    io = assets["00:1b:1b:00:00:01"]
    assert io["ip"] is None and io["mac"] == "00:1b:1b:00:00:01"
    assert (io["identity"]["name"], io["identity"]["vendor"], io["identity"]["vendor_id"], io["identity"]["product"]) \
        == ("io-1", "Siemens", 42, "ET200SP")
    assert io["roles"] == ["profinet_io_device"] and io["hostnames"] == ["io-1"]
    plc = assets["192.168.0.10"]
    assert plc["mac"] == "00:1b:1b:00:00:02" and plc["identity"]["name"] == "plc-1"
    assert plc["roles"] == ["profinet_io_controller", "profinet_io_device"]
    assert plc["services"] == [{"port": 161, "protocol": "udp", "transport": "udp"}]
