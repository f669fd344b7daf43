"""Scanned targets are no assets: unanswered attempts are counted on their sender; whoever answers is an asset."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sensor.capture import LINKTYPE_ETHERNET
from sensor.inventory import scans as scans_module
from sensor.inventory.scans import ScanBook, or_maps, port_map, port_summary, ports_of
from sensor.pipeline import Options, Pipeline
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import batches

SCANNER, PLC, HMI, OFFLINE = "10.0.0.66", "10.0.0.10", "10.0.0.20", "10.0.0.30"
SCANNER_MAC = "00:80:f4:00:00:66"


def frame(pkt, ts: float, mac: str = "02:00:00:00:00:01") -> tuple:
    return bytes(Ether(src=mac, dst="02:00:00:00:00:02") / pkt), LINKTYPE_ETHERNET, ts


def plant() -> list[tuple]:
    """A sweep of 10.0.1.0/24 on three ports, which also finds the PLC (open) and the HMI (closed: a reset);
    an HMI polling its PLC over Modbus; a one-way producer push; an HMI that retries a PLC that is off."""
    out, ts = [], 0.0
    for port in (502, 102, 44818):
        for host in range(1, 255):
            out.append(frame(IP(src=SCANNER, dst=f"10.0.1.{host}") / TCP(sport=61000, dport=port, flags="S"), ts,
                             SCANNER_MAC))
            ts += 0.001
    out.append(frame(IP(src=SCANNER, dst=PLC) / TCP(sport=61000, dport=502, flags="S"), ts, SCANNER_MAC))
    out.append(frame(IP(src=PLC, dst=SCANNER) / TCP(sport=502, dport=61000, flags="SA"), ts + 0.001))
    out.append(frame(IP(src=SCANNER, dst=HMI) / TCP(sport=61000, dport=102, flags="S"), ts + 0.002, SCANNER_MAC))
    out.append(frame(IP(src=HMI, dst=SCANNER) / TCP(sport=102, dport=61000, flags="RA"), ts + 0.003))
    request = struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 0, 2)
    response = struct.pack(">HHHBBB", 1, 0, 7, 1, 3, 4) + b"\0\1\0\2"
    out += [frame(IP(src=HMI, dst=PLC) / TCP(sport=40000, dport=502, flags="S", seq=10), 1.0),
            frame(IP(src=PLC, dst=HMI) / TCP(sport=502, dport=40000, flags="SA", seq=90, ack=11), 1.001),
            frame(IP(src=HMI, dst=PLC) / TCP(sport=40000, dport=502, flags="PA", seq=11, ack=91) / Raw(request), 1.002),
            frame(IP(src=PLC, dst=HMI) / TCP(sport=502, dport=40000, flags="PA", seq=91, ack=23) / Raw(response), 1.003)]
    out += [frame(IP(src=HMI, dst=OFFLINE) / TCP(sport=40001 + k, dport=502, flags="S"), 2.0 + k) for k in range(3)]
    out += [frame(IP(src=PLC, dst="10.0.0.40") / UDP(sport=18246, dport=18246) / Raw(b"egd"), 3.0 + k) for k in range(2)]
    out += [frame(IP(src=HMI, dst="10.0.1.9") / ICMP(), 4.0)]
    return sorted(out, key=lambda f: f[2])


def analyze(tmp_path, frames, size):
    with Store.open(str(tmp_path / f"scan{size}.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(frames, size):
            pipeline._process(fb)
        pipeline._end_of_input("test.pcap")
        pipeline._flush(None)
        return {a["ip"]: a for a in store.assets()}, store


@pytest.mark.parametrize("size", [10_000, 1, 97])
def test_scanned_targets_are_no_assets_and_the_scan_is_the_scanners(tmp_path, size):
    assets, _ = analyze(tmp_path, plant(), size)
    assert sorted(assets) == sorted([SCANNER, PLC, HMI, "10.0.0.40"])  # the producer's receiver stays an asset
    [scan] = assets[SCANNER]["scans"]
    assert (scan["transport"], scan["attempts"], scan["targets"], scan["ports"], scan["ports_tried"]) == (
        "tcp", 3 * 254, 254, 3, [102, 502, 44818])  # the PLC and the HMI answered: no attempts of a scan
    assert assets[SCANNER]["mac"] == SCANNER_MAC
    assert assets[SCANNER]["packets"] == 3 * 254 + 4  # its attempts, and both ways of the two answered
    assert {(s["transport"], s["attempts"], s["targets"]) for s in assets[HMI]["scans"]} == {
        ("tcp", 3, 1), ("icmp", 1, 1)}  # the retries of a PLC that is off are three attempts at one target
    assert {s["port"] for s in assets[PLC]["services"]} == {502}
    assert assets[PLC]["scans"] == [] and assets["10.0.0.40"]["scans"] == []


def test_scan_counts_merge_across_flushes_and_runs(tmp_path):
    frames = plant()
    with Store.open(str(tmp_path / "m.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(frames, 100):
            pipeline._process(fb)
            pipeline._flush(None)
        pipeline._end_of_input("test.pcap")
        pipeline._flush(None)
        [scan] = [a for a in store.assets() if a["ip"] == SCANNER][0]["scans"]
    assert (scan["attempts"], scan["targets"], scan["ports"]) == (3 * 254, 254, 3)


def test_a_target_seen_again_is_not_counted_twice_and_port_maps_merge():
    from sensor.flows.half_open import COLUMNS, Attempts

    def attempts(targets, ports):
        n = len(targets)
        cols = {name: np.zeros(n, dtype) for name, dtype in COLUMNS.items()}
        cols["a_lo"][:] = 0xFFFF_0A00_0042  # the sender, 10.0.0.66 as IPv4-mapped
        cols["b_lo"][:] = [0xFFFF_0A01_0000 + t for t in targets]
        cols["src_is_a"][:] = True
        cols["ports_proto"][:] = [(6 << 32) | (61000 << 16) | p for p in ports]
        cols["packets"][:] = 1
        return Attempts(cols, ["x.pcap"])

    book = ScanBook()
    book.observe(attempts([1, 2, 3], [502, 502, 102]))
    book.observe(attempts([3, 4], [80, 502]))
    [delta] = book.take()
    assert (delta.source, delta.attempts, delta.targets, delta.port_list()) == (SCANNER, 5, 4, [80, 102, 502])
    assert ports_of(or_maps(delta.ports, port_map(np.array([7, 80])))) == [7, 80, 102, 502]
    assert len(delta.ports) < 100


@given(st.lists(st.integers(0, 65535), max_size=300), st.integers(1, 40))
def test_a_port_summary_is_the_count_and_the_lowest_of_the_list(ports: list[int], lowest: int) -> None:
    packed = port_map(np.array(ports, dtype=np.int64))
    listed = ports_of(packed)
    assert port_summary(packed, lowest) == (len(listed), listed[:lowest])


@given(st.lists(st.lists(st.integers(0, 30), max_size=40), max_size=8), st.integers(0, 25))
def test_a_pair_is_new_once_at_its_first_attempt_and_past_the_limit_the_lowest_are_kept(batches_, limit):
    """``_remember`` against a plain set: within a batch the first attempt of a pair is its new one; past
    ``MAX_SCAN_PAIRS`` only the lowest fresh hashes of a batch are remembered (they may count again later)."""
    book, seen, full = ScanBook(), set(), False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scans_module, "MAX_SCAN_PAIRS", limit)
        for batch in batches_:
            expected = [p not in seen and p not in batch[:i] for i, p in enumerate(batch)]
            fresh = sorted({p for p in batch if p not in seen})
            full |= len(fresh) > limit - len(seen)
            seen |= set(fresh[:max(limit - len(seen), 0)])
            assert book._remember(np.array(batch, np.uint64)).tolist() == expected
            assert (book._pairs.tolist(), book.full) == (sorted(seen), full)
