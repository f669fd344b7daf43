"""`otsensor analyze --siem`: every alert and asset of a run reaches a real rsyslog as CEF, through an outage of
the receiver and through a `kill -9` of the sensor (the spool beside the database is resent by the next run)."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from siem_driver import Rsyslog, free_port, rsyslog_missing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sinks"))
from frames import Conversation, write_pcap  # noqa: E402
from helpers import REPO_ROOT, otsensor_argv, run_otsensor  # noqa: E402
from siem_parsers import parse_cef  # noqa: E402

pytestmark = pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))
SCENARIOS = REPO_ROOT / "captures" / "scenarios"
PLANT = [SCENARIOS / "pivot_chain.pcap", REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"]


def cef_records(server: Rsyslog) -> list[tuple[dict, dict]]:
    out = []
    for message in server.received():
        text = message["msg"].lstrip("\ufeff")
        if text.startswith("CEF:"):
            out.append(parse_cef(text))
    return out


def stored(db: Path, what: str) -> list[dict]:
    done = run_otsensor(what, "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def alert_ids(server: Rsyslog) -> set[str]:
    return {ext["externalId"] for header, ext in cef_records(server) if header[4] != "asset"}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_policy_run_sends_every_alert_and_asset_as_cef(tmp_path, workers: int) -> None:
    """With workers too: each worker spools its alerts as it raises them, the starting process sends them."""
    server = Rsyslog(tmp_path / "rsyslog", tcp_port=free_port())
    server.start()
    try:
        db = tmp_path / "plant.db"
        done = run_otsensor("analyze", *PLANT, "--policy", SCENARIOS / "policy.yaml", "--db", db, "--no-progress",
                            "--siem", server.url, "--siem-format", "cef", "--sensor-name", "cell-7",
                            "--workers", str(workers))
        assert done.returncode == 0, done.stderr
        assert "runs in one process" not in done.stderr
        alerts, assets = stored(db, "alerts"), stored(db, "assets")
        assert {a["category"] for a in alerts} >= {"policy", "signature"}
        server.wait_for(lambda ms: alert_ids(server) >= {a["id"] for a in alerts})
        assert alert_ids(server) >= {a["id"] for a in alerts}
        records = cef_records(server)
        assert all(ext["dvchost"] == "cell-7" for _, ext in records)
        by_id = {ext["externalId"]: (header, ext) for header, ext in records}
        for alert in alerts:
            header, ext = by_id[alert["id"]]
            assert header[4] == alert["rule"] and int(header[6]) == alert["severity"]
        sent_assets = {ext.get("cs6") for header, ext in records if header[4] == "asset"}
        assert sent_assets >= {a["ip"] or a["mac"] for a in assets}
        assert f"{len(records)} records sent" in done.stdout and "0 waiting" in done.stdout
    finally:
        server.stop()


def test_an_outage_of_the_receiver_loses_nothing(tmp_path) -> None:
    port = free_port()
    db = tmp_path / "plant.db"
    args = ("analyze", *PLANT, "--policy", SCENARIOS / "policy.yaml", "--db", db, "--no-progress",
            "--siem", f"tcp://127.0.0.1:{port}", "--siem-wait", "1")
    down = run_otsensor(*args)  # nothing listens: the run completes, the records wait in the spool
    assert down.returncode == 0, down.stderr
    assert " 0 records sent" in down.stdout and "waiting in" in down.stdout
    assert Path(f"{db}.spool").exists()
    server = Rsyslog(tmp_path / "rsyslog", tcp_port=port)
    server.start()
    try:
        again = run_otsensor(*args[:-2], "--siem-wait", "20")  # every input is already analysed: only the resend
        assert again.returncode == 0, again.stderr
        expected = {a["id"] for a in stored(db, "alerts")}
        server.wait_for(lambda ms: alert_ids(server) >= expected)
        missing = expected - alert_ids(server)
        assert not missing, f"{len(missing)} of {len(expected)} alerts never arrived"
    finally:
        server.stop()


def long_plant(path: Path) -> Path:
    """Forty HMIs, each forcing its PLC into listen-only mode once, spread over 20,000 frames."""
    frames = []
    for k in range(40):
        c = Conversation(client=f"10.0.1.{k + 1}", server=f"10.0.2.{k + 1}", t0=1000.0 + k, step=0.0001)
        c.handshake()
        for tid in range(1, 250):
            pdu = bytes([8, 0, 4, 0, 0]) if tid == 125 else struct.pack(">BHH", 3, 0, 2)
            c.packet(True, struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu)
        frames += c.frames
    frames.sort(key=lambda f: f[2])
    return write_pcap(path, frames)


@pytest.fixture(scope="module")
def long_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``long_plant``, made once for the tests that kill a run midway (it takes seconds to build)."""
    return long_plant(tmp_path_factory.mktemp("long") / "long.pcap")


def test_a_killed_sensor_resumed_sends_every_alert(tmp_path, long_capture: Path) -> None:
    capture = long_capture
    server = Rsyslog(tmp_path / "rsyslog", tcp_port=free_port())
    server.start()
    db = tmp_path / "long.db"
    args = ["analyze", str(capture), "--db", str(db), "--no-progress", "--batch-frames", "20",
            "--siem", server.url, "--alerts", str(tmp_path / "alerts.jsonl")]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    try:
        sensor = subprocess.Popen([*otsensor_argv(), *args], cwd=REPO_ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        alerts_file = tmp_path / "alerts.jsonl"
        while time.monotonic() < deadline and sensor.poll() is None:
            if alerts_file.exists() and len(alerts_file.read_text().splitlines()) >= 5:
                break
            time.sleep(0.01)
        assert sensor.poll() is None, "the run ended before it could be killed: make the capture longer"
        sensor.send_signal(signal.SIGKILL)
        sensor.wait()
        resumed = run_otsensor(*args)
        assert resumed.returncode == 0, resumed.stderr
        expected = {a["id"] for a in stored(db, "alerts")}
        assert len(expected) == 40
        server.wait_for(lambda ms: alert_ids(server) >= expected)
        missing = expected - alert_ids(server)
        assert not missing, f"{len(missing)} of {len(expected)} alerts never arrived"
    finally:
        server.stop()


def spooled_alert_ids(spool: Path) -> set[str]:
    """The alert ids in the records of a spool file, read as a file (no sender opens it)."""
    import sqlite3

    with sqlite3.connect(f"file:{spool}?mode=ro", uri=True) as db:
        rows = [bytes(data).decode() for (data,) in db.execute("SELECT data FROM records")]
    ids = set()
    for row in rows:
        header, ext = parse_cef(row[row.index("CEF:"):])
        if header[4] != "asset":
            ids.add(ext["externalId"])
    return ids


def test_a_killed_run_with_workers_has_every_stored_alert_in_its_spool(tmp_path, long_capture: Path) -> None:
    """``analyze --workers 2`` killed -9 mid-run, its SIEM down: every alert a worker committed to the database is
    in the spool (each worker spools before it commits), for the next run to send."""
    import sqlite3

    capture = long_capture
    db, port = tmp_path / "long.db", free_port()
    args = ["analyze", str(capture), "--db", str(db), "--no-progress", "--batch-frames", "20", "--workers", "2",
            "--siem", f"tcp://127.0.0.1:{port}"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    sensor = subprocess.Popen([*otsensor_argv(), *args], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    def stored_ids() -> set[str]:
        if not db.exists():
            return set()
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                return {i for (i,) in con.execute("SELECT id FROM alerts")}
        except sqlite3.OperationalError:  # not created yet
            return set()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sensor.poll() is None and len(stored_ids()) < 5:
        time.sleep(0.01)
    assert sensor.poll() is None, "the run ended before it could be killed: make the capture longer"
    sensor.send_signal(signal.SIGKILL)  # the workers die with it (PR_SET_PDEATHSIG)
    sensor.wait()
    time.sleep(0.5)
    committed = stored_ids()
    assert 5 <= len(committed) < 40
    assert committed <= spooled_alert_ids(Path(f"{db}.spool"))  # the next run sends them (test above: resend)


def test_a_bad_siem_setting_stops_the_run_before_anything_is_written(tmp_path) -> None:
    for setting in (("--siem", "ftp://127.0.0.1:21"), ("--siem", "tls://127.0.0.1:6514", "--siem-ca",
                                                         str(tmp_path / "missing-ca.pem"))):
        done = run_otsensor("analyze", PLANT[1], "--db", tmp_path / "x.db", "--no-progress", *setting)
        assert done.returncode == 2 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
        assert not (tmp_path / "x.db").exists()
