"""Flows and Zeek's conn.log name the service of well-known IT ports, from one table (sensor.services)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_otsensor
from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

from protocols import BUILTIN
from sensor.policy.services import KNOWN
from sensor.services import PORT_SERVICES, by_port, flow_service, ports_of

CLIENT, SERVER = "10.40.0.7", "10.30.0.20"
EXPECTED = {22: "ssh", 3389: "rdp", 445: "smb", 88: "kerberos", 1883: "mqtt", 389: "ldap", 40000: None}


def conversation(sport: int, dport: int, t: float) -> list:
    """A whole TCP conversation: handshake, a request and its answer, FIN both ways."""
    c, s = Ether() / IP(src=CLIENT, dst=SERVER), Ether() / IP(src=SERVER, dst=CLIENT)
    packets = [c / TCP(sport=sport, dport=dport, flags="S", seq=100),
               s / TCP(sport=dport, dport=sport, flags="SA", seq=500, ack=101),
               c / TCP(sport=sport, dport=dport, flags="A", seq=101, ack=501),
               c / TCP(sport=sport, dport=dport, flags="PA", seq=101, ack=501) / Raw(b"hello"),
               s / TCP(sport=dport, dport=sport, flags="PA", seq=501, ack=106) / Raw(b"world"),
               c / TCP(sport=sport, dport=dport, flags="FA", seq=106, ack=506),
               s / TCP(sport=dport, dport=sport, flags="FA", seq=506, ack=107),
               c / TCP(sport=sport, dport=dport, flags="A", seq=107, ack=507)]
    for i, packet in enumerate(packets):
        packet.time = t + i * 0.01
    return packets


@pytest.fixture(scope="module")
def it_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("it") / "it.pcap"
    packets = [p for i, port in enumerate(EXPECTED) for p in conversation(50000 + i, port, 1_700_000_000 + i)]
    ntp = [Ether() / IP(src=CLIENT, dst=SERVER) / UDP(sport=123, dport=123) / Raw(b"\x23" + b"\0" * 47),
           Ether() / IP(src=SERVER, dst=CLIENT) / UDP(sport=123, dport=123) / Raw(b"\x24" + b"\0" * 47)]
    for i, packet in enumerate(ntp):
        packet.time = 1_700_000_100 + i
    wrpcap(str(path), packets + ntp)
    return path


def test_flows_and_conn_log_name_well_known_it_ports(it_capture: Path, tmp_path: Path) -> None:
    flows, logs = tmp_path / "flows.jsonl", tmp_path / "zeek"
    done = run_otsensor("analyze", it_capture, "--db", tmp_path / "p.db", "--flows", flows, "--zeek-logs", logs,
                        "--zeek-format", "json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in flows.read_text().splitlines()]
    named = {r["dport"]: r["service"] for r in records}
    assert named == {**EXPECTED, 123: "ntp"}
    conn = [json.loads(line) for line in (logs / "conn.log").read_text().splitlines()]
    assert {c["id.resp_p"]: c.get("service") for c in conn} == named


def test_the_table_leaves_registered_ports_to_their_dissectors() -> None:
    for spec in BUILTIN:
        assert ports_of(spec.name) == frozenset(spec.ports)
        assert all(by_port(transport, port) is None for transport, port in spec.ports)
    assert by_port("tcp", 443) is None  # tls reads the payload: a flow it rejected is not tls by port
    assert flow_service("modbus", "tcp", 22) == "modbus" and flow_service(None, "tcp", 22) == "ssh"
    assert flow_service(None, "udp", None) is None


def test_the_policy_takes_its_ports_from_the_same_table() -> None:
    for name, (ports, _labels) in KNOWN.items():
        assert ports_of(name) <= ports
    assert KNOWN["rdp"][0] == ports_of("rdp") == frozenset(PORT_SERVICES["rdp"])
    assert KNOWN["modbus"][0] == frozenset(next(s for s in BUILTIN if s.name == "modbus").ports)
