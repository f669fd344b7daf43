"""SIEM forwarding into a real rsyslogd: TCP and TLS (octet counting), UDP, an outage, and a killed sender.

Each test starts its own rsyslogd (``-n -f CONF -i PIDFILE``) on a free loopback port, writing every message
it receives as a JSON line; the tests parse those lines back and check every alert arrived (at least once
where delivery is at-least-once) with exactly the values sent. Needs the Debian packages ``rsyslog`` and
``rsyslog-gnutls`` (the TLS tests) and the ``openssl`` command.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from siem_driver import Rsyslog, free_port, gtls_missing, make_alert, make_certs, rsyslog_missing

from sensor.sinks.siem import Forwarder
from sensor.sinks.siem.common import iso_ms
from sensor.sinks.siem.syslog import syslog_severity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sinks"))
from siem_parsers import parse_cef, parse_leef  # noqa: E402

DRIVER = Path(__file__).resolve().parent / "siem_driver.py"
FAST = {"backoff_initial": 0.05, "backoff_max": 0.5, "batch": 25}
BOM = "\ufeff"

pytestmark = pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not installed")
    if gtls_missing():
        pytest.skip(str(gtls_missing()))
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def rsyslog_factory(tmp_path: Path):
    started: list[Rsyslog] = []

    def make(**kwargs) -> Rsyslog:
        server = Rsyslog(tmp_path / f"rsyslog{len(started)}", **kwargs)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


def body(message: dict) -> str:
    text = message["msg"]
    return text[len(BOM):] if text.startswith(BOM) else text


def alert_ids(messages: list[dict]) -> Counter:
    out: Counter = Counter()
    for m in messages:
        text = body(m)
        if text.startswith("CEF:"):
            out[parse_cef(text)[1]["externalId"]] += 1
        elif text.startswith("LEEF:"):
            out[parse_leef(text)[1]["externalId"]] += 1
        else:
            out[json.loads(text)["event"]["id"]] += 1
    return out


def check_exact(messages: list[dict], fmt: str, n: int) -> None:
    """Every alert exactly once, and every value exactly as sent."""
    by_id = {}
    for m in messages:
        assert (m["hostname"], m["appname"], m["msgid"], m["facility"]) == ("sensor-1", "otsensor", "alert", "16")
        text = body(m)
        if fmt == "cef":
            header, ext = parse_cef(text)
            by_id[ext["externalId"]] = (m, header, ext)
        elif fmt == "leef":
            header, ext = parse_leef(text)
            by_id[ext["externalId"]] = (m, header, ext)
        else:
            doc = json.loads(text)
            by_id[doc["event"]["id"]] = (m, None, doc)
    assert len(messages) == n and len(by_id) == n
    for k in range(n):
        alert = make_alert(k)
        m, header, fields = by_id[alert["id"]]
        assert m["severity"] == str(syslog_severity(alert["severity"]))
        assert m["timestamp"] == iso_ms(alert["ts"])
        if fmt == "cef":
            assert header[4] == "policy.no_conduit"
            assert header[5] == alert["summary"].replace("\n", " ").replace("\r", " ")
            assert header[6] == str(alert["severity"])
            assert fields["msg"] == alert["summary"]
            assert (fields["src"], fields["dst"], fields["spt"], fields["dpt"]) == (
                alert["src"], alert["dst"], str(alert["sport"]), str(alert["dport"]))
            assert json.loads(fields["cs2"]) == alert["evidence"] and fields["cs4"] == "enterprise"
        elif fmt == "leef":
            assert header[4] == "policy.no_conduit" and fields["msg"] == alert["summary"]
            assert (fields["srcPort"], fields["dstPort"]) == (str(alert["sport"]), str(alert["dport"]))
        else:
            assert fields["message"] == alert["summary"] and fields["source"]["port"] == alert["sport"]
            assert fields["ot"]["evidence"] == alert["evidence"]


# --- (a) every alert arrives, exactly parsed ----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["cef", "leef", "json"])
def test_tcp_delivers_every_alert_exactly(rsyslog_factory, tmp_path: Path, fmt: str) -> None:
    server = rsyslog_factory()
    n = 150
    fwd = Forwarder(server.url, fmt, "sensor-1", tmp_path / "siem.spool", **FAST)
    fwd.alerts([make_alert(k) for k in range(n)])
    assert fwd.flush(20), fwd.health()
    fwd.close(5)
    check_exact(server.wait_for(lambda ms: len(ms) >= n), fmt, n)


def test_tls_delivers_every_alert_exactly(rsyslog_factory, certs, tmp_path: Path) -> None:
    server = rsyslog_factory(tls=certs)
    n = 150
    fwd = Forwarder(server.url, "cef", "sensor-1", tmp_path / "siem.spool", ca_file=str(certs["ca"]),
                    cert_file=str(certs["client_cert"]), key_file=str(certs["client_key"]), **FAST)
    fwd.alerts([make_alert(k) for k in range(n)])
    assert fwd.flush(20), fwd.health()
    health = fwd.health()
    fwd.close(5)
    assert health["sent"] == n and health["backlog"] == 0 and health["last_error"] is None
    check_exact(server.wait_for(lambda ms: len(ms) >= n), "cef", n)


def test_tls_refuses_what_it_cannot_trust(rsyslog_factory, certs, tmp_path: Path) -> None:
    """A server signed by another CA, or not named as in the URL, gets nothing; nor does a client without
    a certificate get anything accepted. The alerts stay in the spool."""
    server = rsyslog_factory(tls=certs)
    client = {"cert_file": str(certs["client_cert"]), "key_file": str(certs["client_key"])}
    cases = [
        (server.url, {"ca_file": str(certs["other_ca"]), **client}, "CERTIFICATE_VERIFY_FAILED"),
        (f"tls://127.0.0.1:{server.tcp_port}", {"ca_file": str(certs["ca"]), **client}, "mismatch"),
        (server.url, {"ca_file": str(certs["ca"])}, ""),  # no client certificate: rsyslog hangs up
    ]
    for k, (url, tls, error) in enumerate(cases):
        fwd = Forwarder(url, "cef", "sensor-1", tmp_path / f"s{k}.spool", **tls, **FAST)
        fwd.alerts([make_alert(0)])
        assert not fwd.flush(1.0)
        health = fwd.health()
        fwd.close(0)
        assert health["backlog"] == 1 and health["sent"] == 0 and health["retries"] >= 1
        assert error in (health["last_error"] or ""), health
    assert server.received() == []


# --- (b) the SIEM goes away mid-run and comes back ----------------------------------------------------------

def test_rsyslog_restart_mid_run_loses_nothing(rsyslog_factory, tmp_path: Path) -> None:
    server = rsyslog_factory()
    n = 400
    fwd = Forwarder(server.url, "cef", "sensor-1", tmp_path / "siem.spool", **FAST)
    for k in range(n):
        fwd.alerts([make_alert(k)])
        if k == n // 3:
            server.stop()  # while the forwarder is sending
        if k == 2 * n // 3:
            server.start()
        time.sleep(0.002)
    assert fwd.flush(30), fwd.health()
    health = fwd.health()
    fwd.close(5)
    assert health["retries"] >= 1 and health["dropped"] == 0
    seen = alert_ids(server.wait_for(lambda ms: set(alert_ids(ms)) >= {make_alert(k)["id"] for k in range(n)}))
    missing = {make_alert(k)["id"] for k in range(n)} - set(seen)
    assert not missing, f"{len(missing)} alerts never arrived, e.g. {sorted(missing)[:5]}"


# --- (c) the sender is killed -9 and started again on the same spool ---------------------------------------

def run_driver(url: str, spool: Path, first: int, count: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DRIVER), url, str(spool), str(first), str(count), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def queued_until(proc: subprocess.Popen, stop_after: int | None) -> list[int]:
    """Read ``queued N`` lines; SIGKILL the driver after ``stop_after`` of them (None: read to the end)."""
    assert proc.stdout is not None
    queued = []
    for line in proc.stdout:
        if line.startswith("queued "):
            queued.append(int(line.split()[1]))
            if stop_after is not None and len(queued) >= stop_after:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(30)
    return queued


def test_sender_killed_twice_then_resumed_loses_nothing(rsyslog_factory, tmp_path: Path) -> None:
    server = rsyslog_factory()
    spool = tmp_path / "siem.spool"
    # 1. Killed while sending to a live rsyslog.
    first = queued_until(run_driver(server.url, spool, 0, 300, "--pace", "0.002"), stop_after=150)
    # 2. Killed while rsyslog is down: everything it queued is only in the spool.
    server.stop()
    second = queued_until(run_driver(server.url, spool, 1000, 100), stop_after=100)
    # 3. A clean run on the same spool, rsyslog back: sends the backlog first, then its own.
    server.start()
    third = run_driver(server.url, spool, 2000, 20, "--drain", "30")
    out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    health = json.loads(out.strip().splitlines()[-1].split(" ", 1)[1])
    assert health["backlog"] == 0 and health["dropped"] == 0, health
    expected = {make_alert(k)["id"] for k in first + second + list(range(2000, 2020))}
    seen = alert_ids(server.wait_for(lambda ms: set(alert_ids(ms)) >= expected))
    missing = expected - set(seen)
    assert not missing, f"{len(missing)} alerts never arrived, e.g. {sorted(missing)[:5]}"


# --- (d) UDP ------------------------------------------------------------------------------------------------

def test_udp_delivers(rsyslog_factory, tmp_path: Path) -> None:
    server = rsyslog_factory(udp_port=free_port())
    n = 50
    fwd = Forwarder(f"udp://127.0.0.1:{server.udp_port}", "cef", "sensor-1", tmp_path / "siem.spool", **FAST)
    for k in range(n):
        fwd.alerts([make_alert(k)])
        time.sleep(0.001)  # a loopback burst can overflow the receive buffer: UDP is best effort
    assert fwd.flush(10)
    fwd.close(2)
    check_exact(server.wait_for(lambda ms: len(ms) >= n), "cef", n)
