"""The summary's duration ignores a lone frame stamped years away (a counted weird), and its counts say their unit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor
from scapy.all import IP, TCP, Ether, wrpcap

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten frames a second apart; the fifth stamped about 12 years later."""
    packets = []
    for i in range(10):
        p = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=502, flags="A")
        p.time = T0 + i + (4e8 if i == 4 else 0)
        packets.append(p)
    path = tmp_path_factory.mktemp("odd") / "odd-clock.pcap"
    wrpcap(str(path), packets)
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_lone_far_timestamp_is_a_weird_and_not_part_of_the_duration(capture: Path, tmp_path: Path,
                                                                       workers: str) -> None:
    events = tmp_path / "events.jsonl"
    done = run_otsensor("analyze", capture, "--db", tmp_path / "p.db", "--events", events, "--workers", workers)
    assert done.returncode == 0, done.stderr
    assert "duration    9.000 s of traffic" in done.stdout
    assert "capture_time_outlier 1" in done.stdout
    weirds = [e for e in map(json.loads, events.read_text().splitlines()) if e.get("name") == "capture_time_outlier"]
    assert [(w["frame"], w["ts"]) for w in weirds] == [(5, T0 + 4 + 4e8)]


def test_protocol_counts_say_their_unit(tmp_path: Path) -> None:
    done = run_otsensor("analyze", REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap", "--db", tmp_path / "p.db")
    assert "protocols   tcp 350 packets; modbus 281 messages\n" in done.stdout
