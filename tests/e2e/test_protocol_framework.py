"""The protocol framework end to end: probes that can say no, decode-as, addresses that are not hosts,
mid-stream direction by the protocol's port, and the same action vocabulary through the policy."""
from __future__ import annotations

import json
from pathlib import Path

from helpers import run_otsensor


def analyze(tmp_path: Path, capture: Path, *extra: str) -> tuple[list[dict], list[dict]]:
    db, events = tmp_path / "f.db", tmp_path / "f.jsonl"
    done = run_otsensor("analyze", capture, "--db", db, "--events", events, "--strict", "--no-progress", *extra)
    assert done.returncode == 0, done.stderr
    assets = json.loads(run_otsensor("assets", "--db", db, "--format", "json").stdout)
    return assets, [json.loads(line) for line in events.read_text().splitlines()]


def test_an_ldap_server_is_not_taken_for_modbus(corpus, tmp_path):
    """it/malcolm_KRB5.pcap: the first bytes of an LDAP exchange on tcp/389 look like an MBAP header."""
    assets, events = analyze(tmp_path, corpus / "it" / "malcolm_KRB5.pcap")
    assert not [e for e in events if e["proto"] == "modbus"]
    server = next(a for a in assets if a["ip"] == "192.168.1.62")
    assert server["device_type"] != "plc" and not server["roles"]
    assert {(s["protocol"], s["port"]) for s in server["services"]} == {("tcp", 389)}


def test_decode_as_puts_a_protocol_on_another_port(corpus, tmp_path):
    capture = corpus / "dnp3" / "iti_dnp3_read_p20001.pcap"
    assets, events = analyze(tmp_path, capture, "--decode-as", "dnp3=tcp/20001")
    assert any(e["proto"] == "dnp3" and 20001 in (e["sport"], e["dport"]) for e in events)
    services = {(s["protocol"], s["transport"], s["port"]) for a in assets for s in a["services"]}
    assert ("dnp3", "tcp", 20001) in services


def test_a_mid_stream_dnp3_request_keeps_its_direction(corpus, tmp_path):
    """malcolm_DNP3.pcap: single-packet flows without a SYN; the side on tcp/20000 is the outstation."""
    assets, events = analyze(tmp_path, corpus / "dnp3" / "malcolm_DNP3.pcap")
    # application requests come from the master; link-layer status requests may come from either station
    requests = [e for e in events if e["proto"] == "dnp3" and e["direction"] == "request"
                and not e["function_name"].startswith("link_") and e["function_name"] != "confirm"]
    assert requests and all(e["dport"] in (20000, 20001) for e in requests)
    for asset in assets:
        if "dnp3_master" in asset["roles"] and "dnp3_outstation" not in asset["roles"]:
            assert not [s for s in asset["services"] if s["protocol"] == "dnp3"], asset["ip"]


def test_broadcast_and_multicast_are_never_assets(corpus, tmp_path):
    assets, _ = analyze(tmp_path, corpus / "enip" / "emre_ControlLogix_Logix5000_download_upload_run.pcap")
    addresses = {a["ip"] for a in assets}
    assert not addresses & {"255.255.255.255", "0.0.0.0", "224.0.0.252", "ff02::1:3"}
    assert not [ip for ip in addresses if ip.startswith(("224.", "239.", "ff0"))]
    plc = next(a for a in assets if a["ip"] == "10.92.18.17")
    assert plc["device_type"] == "plc" and "enip_target" in plc["roles"]
    assert plc["modules"] and plc["modules"][0]["vendor"].startswith("Rockwell")


def test_mms_on_the_s7comm_port_is_given_back(corpus, tmp_path):
    """IEC 61850 MMS shares ISO-TSAP tcp/102 with S7comm: its bytes withdraw the port's claim."""
    capture = next(corpus.rglob("iti_iec61850_write.pcap"))
    assets, events = analyze(tmp_path, capture)
    assert not [e for e in events if e["proto"] == "s7comm"]
    assert any(e["proto"] == "weird" and e["name"] == "probe_claim_withdrawn" for e in events)
    assert not [a for a in assets if any(r.startswith("s7comm_") for r in a["roles"])]
