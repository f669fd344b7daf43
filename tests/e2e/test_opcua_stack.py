"""asyncua's real server and client on loopback, captured, analysed: the sensor must tell what happened.

Two runs (stacks/opcua_capture.py): in the clear on port 4840, and with Basic256Sha256 SignAndEncrypt on
another port (found by the probe), the server and client holding self-signed certificates made in the test's
tmp dir. In each the client reads the endpoints, opens a session, reads the server's BuildInfo variables and
a plant variable, writes it and reads it back. ``otsensor analyze`` reads the capture; expectations come from
what the scripts were told to be and do (stacks/opcua_script.py) and from what the client itself saw, never
from the package's output.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from helpers import run_otsensor

sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from opcua_capture import OpcuaCapture, capture  # noqa: E402
from opcua_script import BASIC256SHA256, CLIENT, SECURE_PORT, SERVER, SERVER_IP, WRITTEN  # noqa: E402

pytest.importorskip("asyncua", reason="asyncua is a test extra (pip install asyncua)")
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None,
                                reason="needs root and tcpdump to capture on lo")


def analyse(cap: OpcuaCapture) -> tuple[list[dict], list[dict]]:
    db, events = cap.pcap.with_suffix(".db"), cap.pcap.with_suffix(".events.jsonl")
    done = run_otsensor("analyze", cap.pcap, "--strict", "--no-progress", "--db", db, "--events", events)
    assert done.returncode == 0, done.stderr[-3000:]
    listing = run_otsensor("assets", "--db", db, "--format", "json")
    assert listing.returncode == 0, listing.stderr[-3000:]
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()], json.loads(listing.stdout)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[OpcuaCapture, list[dict], list[dict]]:
    cap = capture(tmp_path_factory.mktemp("opcua_plain") / "opcua.pcap")
    return (cap, *analyse(cap))


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> tuple[OpcuaCapture, list[dict], list[dict]]:
    cap = capture(tmp_path_factory.mktemp("opcua_secure") / "opcua.pcap", secure=True)
    return (cap, *analyse(cap))


def opcua(events: list[dict]) -> list[dict]:
    return [e for e in events if e["proto"] == "opcua"]


def asset(assets: list[dict], ip: str) -> dict:
    return next(a for a in assets if a["ip"] == ip)


def test_the_stack_did_what_it_was_told(plain) -> None:
    cap, _, _ = plain
    assert cap.results["build_info"] == {k: SERVER[k] for k in cap.results["build_info"]}
    assert (cap.results["before"], cap.results["after"]) == (21.5, WRITTEN)


def test_inventory_names_the_server_from_its_description_and_build_info(plain) -> None:
    _, events, assets = plain
    server = asset(assets, SERVER_IP)
    identity = server["identity"]
    assert identity["name"] == SERVER["name"] and identity["product_uri"] == SERVER["product_uri"]
    assert identity["application_uri"] == SERVER["application_uri"]
    assert (identity["vendor"], identity["product"], identity["revision"], identity["build_number"]) == \
        (SERVER["manufacturer_name"], SERVER["product_name"], SERVER["software_version"], SERVER["build_number"])
    assert "opcua_server" in server["roles"]
    assert {"protocol": "opcua", "transport": "tcp", "port": 4840} in server["services"]
    client_ip = next(e["src"] for e in opcua(events) if e["function_name"] == "hello")
    client = asset(assets, client_ip)
    assert client["identity"]["name"] == CLIENT["name"] and "opcua_client" in client["roles"]
    assert client["identity"]["application_uri"] == CLIENT["application_uri"]


def test_session_read_and_write_are_decoded_and_paired(plain) -> None:
    cap, events, _ = plain
    ours = opcua(events)
    assert not [e for e in events if e["proto"] == "weird"]
    requests = [e["function_name"] for e in ours if e["direction"] == "request"]
    for name in ("hello", "open_secure_channel", "get_endpoints", "create_session", "activate_session", "read",
                 "write", "close_session", "close_secure_channel"):
        assert name in requests, name
    write = next(e for e in ours if e["function_name"] == "write" and e["direction"] == "request")
    assert write["action"] == "write"
    assert write["nodes_to_write"] == [{"node_id": cap.results["variable"], "attribute_id": 13, "value": WRITTEN}]
    responses = [e for e in ours if e["direction"] == "response" and e["message_type"] == "MSG"]
    assert responses and all(e["request_frame"] > 0 for e in responses)
    read_back = [e for e in ours if e["function_name"] == "read" and e["direction"] == "response"
                 and any(r.get("node_id") == cap.results["variable"] for r in e["results"])]
    assert [r["value"] for e in read_back for r in e["results"]] == [cap.results["before"], WRITTEN]


def test_secured_session_says_its_policy_and_mode_and_decodes_nothing(secure) -> None:
    cap, events, assets = secure
    assert [p for p in cap.results["endpoints"] if p[1] == BASIC256SHA256] == \
        [[f"opc.tcp://{SERVER_IP}:{SECURE_PORT}/", BASIC256SHA256, "SignAndEncrypt"]]
    ours = opcua(events)
    assert ours and all(e["dport"] == SECURE_PORT or e["sport"] == SECURE_PORT for e in ours)
    opened = [e for e in ours if e["message_type"] == "OPN" and e.get("security_policy_uri") == BASIC256SHA256]
    assert opened and all(e["encrypted"] and e["sender_certificate"] for e in opened)
    secured = [e for e in ours if e["message_type"] in ("MSG", "CLO") and e.get("encrypted")]
    assert secured and {(e["security_mode"], e["security_policy_uri"]) for e in secured} == \
        {("SignAndEncrypt", BASIC256SHA256)}
    channels = {e["secure_channel_id"] for e in opened if e["direction"] == "response"}
    in_channel = [e for e in ours if e.get("secure_channel_id") in channels and e["message_type"] != "OPN"]
    assert in_channel and all(e.get("encrypted") and "type_id" not in e for e in in_channel)
    assert not [e for e in ours if e["function_name"] in ("read", "write")]  # they travelled encrypted
    subjects = {e["sender_certificate_subject"]["cn"] for e in opened if "sender_certificate_subject" in e}
    assert subjects == {SERVER["application_uri"], CLIENT["application_uri"]}
    server = asset(assets, SERVER_IP)
    assert {"protocol": "opcua", "transport": "tcp", "port": SECURE_PORT} in server["services"]
    assert server["identity"]["name"] == SERVER["name"]  # from GetEndpoints on the None channel first
