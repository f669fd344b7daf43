"""Python's http.server (plain and over TLS) and its clients on loopback, captured, analysed by the sensor.

The server (tls_http_server.py on 127.0.0.51, ports 80 and 443) announces a PLC-like Server header and holds
a self-signed certificate made here with ``openssl`` (CN, O and SAN from tls_http_script.py); the client
(127.0.0.52) sends a GET and a POST with urllib (a Host name and a User-Agent of its own), then opens TLS 1.2
and TLS 1.3 connections with an SNI. tcpdump records it; ``otsensor analyze`` reads the capture. Expectations
come from the script and from what the client itself saw (status, Server header, negotiated version and
cipher), never from the sensor's output: the names must reach the events and the right assets.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STACKS = Path(__file__).resolve().parent / "stacks"
sys.path.insert(0, str(STACKS))
from loopback import record  # noqa: E402
from tls_http_script import (  # noqa: E402
    CERT_CN,
    CERT_ORG,
    CERT_SAN,
    CLIENT_IP,
    HTTP_HOST,
    SERVER_HEADER,
    SERVER_IP,
    SNI,
    USER_AGENT,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("openssl") is None,
                                reason="needs root and tcpdump to capture on lo and bind ports 80/443, openssl")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, otsensor) -> tuple[dict, list[dict], dict[str, dict]]:
    """(what the client saw, the sensor's events, its assets by address)."""
    tmp = tmp_path_factory.mktemp("tls_http")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", f"/CN={CERT_CN}/O={CERT_ORG}",
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in CERT_SAN)], check=True,
                   capture_output=True)
    pcap = tmp / "tls_http.pcap"
    seen = record(pcap, f"host {SERVER_IP} and (tcp port 80 or tcp port 443)",
                  [sys.executable, str(STACKS / "tls_http_server.py"), "--host", SERVER_IP, "--cert", str(cert),
                   "--key", str(key)],
                  [sys.executable, str(STACKS / "tls_http_client.py")])
    db, events = tmp / "o.db", tmp / "events.jsonl"
    analysed = otsensor("analyze", pcap, "--strict", "--no-progress", "--db", db, "--events", events)
    assert analysed.returncode == 0, analysed.stderr[-2000:]
    listing = otsensor("assets", "--db", db, "--format", "json")
    assert listing.returncode == 0, listing.stderr[-2000:]
    assets = {a["ip"]: a for a in json.loads(listing.stdout)}
    return seen, [json.loads(line) for line in events.read_text().splitlines() if line.strip()], assets


def of(events: list[dict], proto: str, name: str | None = None) -> list[dict]:
    return [e for e in events if e.get("proto") == proto and (name is None or e["function_name"] == name)]


def test_nothing_weird(run) -> None:
    _, events, _ = run
    assert not [e for e in events if e.get("proto") == "weird"]


def test_http_requests_and_responses(run) -> None:
    seen, events, _ = run
    requests = [e for e in of(events, "http") if e["direction"] == "request"]
    assert [(e["method"], e["host"], e["user_agent"]) for e in requests] == [
        (x["method"], HTTP_HOST, USER_AGENT) for x in seen["http"]]
    assert [e["action"] for e in requests] == ["read", "write"]
    responses = [e for e in of(events, "http") if e["direction"] == "response"]
    assert [(e["status_code"], e["server"]) for e in responses] == [(x["status"], x["server"]) for x in seen["http"]]
    assert all(x["server"] == SERVER_HEADER for x in seen["http"])
    assert [e["request_frame"] for e in responses] == [e["frame"] for e in requests]  # paired in order


def test_tls_hellos_and_certificate(run) -> None:
    seen, events, _ = run
    hellos = of(events, "tls", "client_hello")
    assert [e["server_name"] for e in hellos] == [SNI, SNI]
    assert all(len(e["ja3_hash"]) == 32 for e in hellos)
    servers = of(events, "tls", "server_hello")
    assert [e["version"] for e in servers] == [x["version"] for x in seen["tls"]] == ["TLSv1.2", "TLSv1.3"]
    assert servers[1]["cipher_suite_name"] == seen["tls"][1]["cipher"]  # TLS 1.3 suites: OpenSSL uses IANA names
    assert [e["certificate_encrypted"] for e in servers] == [False, True]
    (certificate,) = of(events, "tls", "certificate")  # TLS 1.3 sends it encrypted: only the TLS 1.2 one
    assert certificate["subject_cn"] == [CERT_CN] and certificate["subject_o"] == [CERT_ORG]
    assert certificate["san_dns"] == list(CERT_SAN)
    assert certificate["sport"] == 443 and certificate["src"] == SERVER_IP


def test_the_names_reach_the_right_assets(run) -> None:
    _, _, assets = run
    server, client = assets[SERVER_IP], assets[CLIENT_IP]
    assert {SNI, HTTP_HOST, CERT_CN, "opc.plant.example"} <= set(server["hostnames"])
    assert not [n for n in server["hostnames"] if "*" in n]  # wildcards name no host
    assert not client["hostnames"]
    services = {(s["protocol"], s["port"]) for s in server["services"]}
    assert {("http", 80), ("tls", 443)} <= services
    identity = server["identity"] or {}
    assert identity.get("http_server") == SERVER_HEADER  # both protocols' identities join on one device
    assert identity.get("tls_subject") == f"CN={CERT_CN}, O={CERT_ORG}"
    assert (client["identity"] or {}).get("http_user_agent") == USER_AGENT
