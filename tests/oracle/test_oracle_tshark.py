"""The oracle itself: tshark's per-field lists must be paired into the right per-PDU rows."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import oracle_tshark as oracle
import pytest

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def write_pcap(path: Path, payloads: list[tuple[int, int, bytes]]) -> None:
    """One TCP segment per (sport, dport, payload), sequence numbers continuing per direction."""
    from scapy.all import IP, TCP, Ether, wrpcap

    seq: dict[tuple[int, int], int] = {}
    pkts = []
    for i, (sport, dport, data) in enumerate(payloads):
        s = seq.get((sport, dport), 1000)
        p = Ether() / IP(src="10.0.0.1" if dport in (502, 1502) else "10.0.0.2",
                         dst="10.0.0.2" if dport in (502, 1502) else "10.0.0.1") / \
            TCP(sport=sport, dport=dport, flags="PA", seq=s) / data
        p.time = 1_700_000_000 + i
        pkts.append(p)
        seq[(sport, dport)] = s + len(data)
    wrpcap(str(path), pkts)


def test_exception_codes_pair_with_their_own_adu(tmp_path: Path) -> None:
    """Two responses in one segment, only the second an exception: fields alone can't tell which."""
    req = adu(1, 7, bytes([3, 0, 0, 0, 1])) + adu(2, 9, bytes([3, 0, 9, 0, 1]))
    resp = adu(1, 7, bytes([3, 2, 0, 42])) + adu(2, 9, bytes([0x83, 2]))
    pcap = tmp_path / "two_adus.pcap"
    write_pcap(pcap, [(40000, 502, req), (502, 40000, resp)])
    assert oracle.modbus_rows(pcap) == {
        (1, 3, None, 1, 7): 1, (1, 3, None, 2, 9): 1,
        (2, 3, None, 1, 7): 1, (2, 3, 2, 2, 9): 1,
    }


def test_non_standard_port_is_detected_and_decoded(tmp_path: Path) -> None:
    payloads = [(40000 + i, 1502, adu(i, 1, bytes([4, 0, i, 0, 2]))) for i in range(3)]
    pcap = tmp_path / "port1502.pcap"
    write_pcap(pcap, payloads)
    assert oracle.modbus_rows(pcap) == {}
    assert oracle.extra_modbus_ports(pcap) == [1502]
    assert sum(oracle.modbus_rows(pcap, [1502]).values()) == 3
