"""BACnet/IP off UDP 47808: the probe claims a flow whose payloads carry a well-formed BVLC header."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers import run_otsensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bacnet_frames as bf  # noqa: E402


def test_a_flow_on_another_port_is_claimed_by_the_probe(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    client, device, port = "10.9.0.3", "10.9.0.2", 47820
    datagrams = [(client, device, bf.read_property(8, 7, 77, invoke=1)),
                 (device, client, bf.read_property_ack(8, 7, 77, bf.app_string("ahu-1"), invoke=1)),
                 (client, device, bf.read_property(8, 7, 70, invoke=2)),
                 (device, client, bf.read_property_ack(8, 7, 70, bf.app_string("M-9"), invoke=2))]
    packets = [Ether() / IP(src=s, dst=d) / UDP(sport=port, dport=port) / payload for s, d, payload in datagrams]
    for i, packet in enumerate(packets):
        packet.time = 1000 + i
    wrpcap(str(tmp_path / "off_port.pcap"), packets)
    proc = run_otsensor("analyze", tmp_path / "off_port.pcap", "--strict", "--no-progress", "--db", tmp_path / "o.db",
                        "--events", tmp_path / "e.jsonl")
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [e["function_name"] for e in events if e["proto"] == "bacnet"] == ["read_property"] * 4
    listing = run_otsensor("assets", "--db", tmp_path / "o.db", "--format", "json")
    identity = {a["ip"]: a["identity"] for a in json.loads(listing.stdout)}[device]
    assert (identity["name"], identity["model"], identity["device_instance"]) == ("ahu-1", "M-9", 7)
