"""`otsensor live --workers 2` on a mirror port: the kernel shares the frames out by host pair (AF_PACKET fanout).

The scene of test_live_mirror (its namespaces, tc mirror and helpers), with three PLCs and four HMIs: real
pymodbus servers on three addresses of the plc namespace, real pymodbus clients from four addresses of the hmi
namespace, eight host pairs (one of them with two connections at once). On s0 run ``otsensor live --workers 2``
and tcpdump.

Checked: each worker received exactly the frames of tcpdump's pcap that ``fanout.member`` (the Python reading of
the program the kernel runs) gives it, so every frame between two hosts went to one worker and both workers had
frames; the summed packet count is the pcap's; the live inventory and alerts equal `otsensor analyze` of the pcap
once each worker's frame numbers are put back to the pcap's (and but for the input names and times within a
millisecond, as test_live_mirror allows); the health line counts two workers and sums their counters; SIGTERM ends
every process with exit 0 within seconds; s0 transmitted nothing. The run also forwards with ``--siem`` to a real
rsyslog in the sensor's namespace (its loopback): the workers spool their alerts, the starting process spools the
assets their commits changed; every alert id and every asset of the database reaches rsyslog, assets and alerts
already while capturing, and the health line carries the SIEM's fields. With ``--alerts`` the workers send their
lines to the starting process, which writes the file: it holds every alert of the database. Needs root (namespaces, tc, tcpdump) and
rsyslogd.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT
from siem_driver import RSYSLOGD, Rsyslog, rsyslog_missing
from test_live_mirror import (  # offline: the fixture, `otsensor analyze` of this module's pcap
    STACKS,
    Mirror,
    build,
    differences,
    listing,
    live_argv,
    offline,  # noqa: F401 - a fixture
    pcap_count,
    run,
    start,
    stop,
    summary_packets,
    teardown,
    wait_for,
)
from test_live_mirror import pytestmark as _needs_root

from sensor.capture.source import open_inputs
from sensor.live.fanout import member

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sinks"))
from siem_parsers import parse_cef  # noqa: E402

pytestmark = [_needs_root, pytest.mark.skipif(rsyslog_missing() is not None, reason=str(rsyslog_missing()))]
WORKERS = 2
PLCS = ["10.77.0.1", "10.77.0.3", "10.77.0.5"]  # PLCS[0] and HMIS[0] are test_live_mirror's build() addresses
HMIS = ["10.77.0.2", "10.77.0.4", "10.77.0.6", "10.77.0.8"]
PAIRS = [(hmi, PLCS[i % 3]) for i, hmi in enumerate(HMIS)] + [(hmi, PLCS[(i + 1) % 3]) for i, hmi in enumerate(HMIS)]
TWICE = PAIRS[0]  # a second connection at the same time: another 5-tuple, the same pair


class NamespaceRsyslog(Rsyslog):
    """The test's rsyslogd inside the sensor's namespace, listening on its loopback, where ``otsensor live`` is."""

    def __init__(self, folder: Path, mirror: Mirror) -> None:
        super().__init__(folder)
        self.mirror = mirror

    def start(self, timeout: float = 15.0) -> None:
        assert RSYSLOGD is not None
        log = open(self.folder / "rsyslogd.log", "ab")
        self.proc = subprocess.Popen(self.mirror.exec("sensor", RSYSLOGD, "-n", "-f", str(self.conf), "-i",
                                                      str(self.pidfile)),
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self.mirror.procs.append(self.proc)
        deadline = time.monotonic() + timeout
        while not self.pidfile.exists():  # written once its inputs listen
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log_text()[-2000:]
            time.sleep(0.02)


def cef(messages: list[dict]) -> list[tuple[list[str], dict[str, str]]]:
    return [parse_cef(m["msg"].lstrip("\ufeff")) for m in messages if m["msg"].lstrip("\ufeff").startswith("CEF:")]


def siem_alert_ids(messages: list[dict]) -> set[str]:
    return {ext["externalId"] for header, ext in cef(messages) if header[4] != "asset"}


def siem_assets(messages: list[dict]) -> set[str]:
    return {ext["cs6"] for header, ext in cef(messages) if header[4] == "asset"}


def names() -> list[str]:
    return [f"live:s0#{k}/{WORKERS}" for k in range(WORKERS)]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("live_workers")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    mirror = Mirror({role: f"otlw{os.getpid() % 100000}-{role}" for role in ("plc", "hmi", "sensor")})
    out: dict = {"tmp": tmp}
    siem = NamespaceRsyslog(tmp / "rsyslog", mirror)
    try:
        build(mirror)
        siem.start()
        for ns, dev, addresses in (("plc", "p0", PLCS[1:]), ("hmi", "h0", HMIS[1:])):
            for address in addresses:
                run("ip", "-n", mirror.ns[ns], "addr", "add", f"{address}/24", "dev", dev)
        tx_before = mirror.counter("tx_packets")
        for i, plc in enumerate(PLCS):
            server = start(mirror, "plc", [sys.executable, str(STACKS / "identity_server.py"), "--host", plc,
                                           "--port", "502"], tmp / f"server{i}.err", stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None and server.stdout.readline().startswith("ready"), \
                (tmp / f"server{i}.err").read_text()
        pcap = tmp / "mirror.pcap"
        dump = start(mirror, "sensor", ["tcpdump", "-i", "s0", "-nn", "-U", "--time-stamp-precision=nano",
                                        "-w", str(pcap)], tmp / "tcpdump.err")
        wait_for(tmp / "tcpdump.err", "listening on", 15, dump)
        live = start(mirror, "sensor", live_argv(tmp / "live.db", "--workers", str(WORKERS), "--health-every", "1",
                                                 "--flush-seconds", "1", "--siem", siem.url,
                                                 "--alerts", str(tmp / "alerts.jsonl")),
                     tmp / "live.err", stdout=(tmp / "live.out").open("w"), cwd=REPO_ROOT, env=env)
        out["start"] = wait_for(tmp / "live.err", "^live: capturing.*$", 60, live)
        out["worker_pids"] = children(live.pid)

        clients = [subprocess.Popen(mirror.exec("hmi", sys.executable, str(STACKS / "script_client.py"), "--host",
                                                plc, "--port", "502", "--source", hmi, "--out",
                                                str(tmp / f"results{i}.json")),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for i, (hmi, plc) in enumerate([*PAIRS, TWICE])]
        for client in clients:
            _, err = client.communicate(timeout=60)
            assert client.returncode == 0, err[-2000:]

        # While capturing: the workers' alerts, and the assets their commits changed, reach the SIEM.
        out["siem_while_capturing"] = siem.wait_for(lambda ms: siem_alert_ids(ms) and siem_assets(ms), 15)
        time.sleep(1.5)  # a health line after the traffic
        live.send_signal(signal.SIGUSR1)
        out["usr1_line"] = wait_for(tmp / "live.err", r"^health reason=signal .*$", 5, live)
        run("tc", "-n", mirror.ns["plc"], "qdisc", "del", "dev", "p0", "clsact")  # the SPAN session ends
        time.sleep(1.5)  # tcpdump hands over its last ring block at its 1 s timeout
        out["exit"] = stop(live, signal.SIGTERM, 30)
        out["left"] = [pid for pid in out["worker_pids"] if alive(pid)]
        out["tcpdump"] = (stop(dump, signal.SIGINT, 15), (tmp / "tcpdump.err").read_text())
        out["tx_delta"] = mirror.counter("tx_packets") - tx_before
        out["out"], out["err"] = (tmp / "live.out").read_text(), (tmp / "live.err").read_text()
        out["pcap"] = pcap
        sent = re.search(r"^health reason=final .*siem_sent=(\d+)", out["err"], re.MULTILINE)
        out["siem"] = siem.wait_for(lambda ms: sent is not None and len(ms) >= int(sent.group(1)), 10)
    finally:
        siem.stop()
        teardown(mirror)
    return out


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(p) for p in f.read().split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def health(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split()[1:])


@pytest.fixture(scope="module")
def shares(session) -> list[list[int]]:
    """The pcap's frame numbers each worker should have received, by the program's Python reading."""
    out: list[list[int]] = [[] for _ in range(WORKERS)]
    for source in open_inputs([str(session["pcap"])]):
        for fb in source.batches():
            for i in range(len(fb)):
                start = int(fb.offset[i])
                frame = fb.data[start:start + int(fb.caplen[i])].tobytes()
                out[member(frame, WORKERS)].append(int(fb.frame[i]))
    return out


def as_in_the_pcap(value, pcap: str, shares: list[list[int]]):
    """The value with each worker's (input, frame) put back as the pcap's: worker k's frame f is the f-th frame
    of the pcap that k was given."""
    names_re = "|".join(re.escape(name) for name in names())

    def frame(name: str, number: int) -> int:
        return shares[names().index(name)][number - 1]

    def walk(v):
        if isinstance(v, dict):
            if v.get("file") in names() and isinstance(v.get("frame"), int):
                return {**{k: walk(x) for k, x in v.items()}, "file": pcap, "frame": frame(v["file"], v["frame"])}
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            if len(v) == 2 and v[0] in names() and isinstance(v[1], int):
                return [pcap, frame(v[0], v[1])]
            return [walk(x) for x in v]
        if isinstance(v, str):
            v = re.sub(rf"({names_re}) frame (\d+)", lambda m: f"{pcap} frame {frame(m.group(1), int(m.group(2)))}",
                       v)
            return re.sub(names_re, pcap, v)
        return v

    return walk(value)


def test_sigterm_ends_every_process_cleanly_and_fast(session) -> None:
    code, seconds = session["exit"]
    assert code == 0, session["err"][-3000:]
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert len(session["worker_pids"]) == WORKERS and session["left"] == []
    assert "files       1 analysed" in session["out"], session["out"]
    (code, _), stderr = session["tcpdump"]
    assert code == 0 and re.search(r"^0 packets dropped by kernel", stderr, re.MULTILINE), stderr


def test_each_worker_received_the_frames_of_its_host_pairs(session, shares) -> None:
    """The kernel ran the program as ``fanout.member`` reads it: worker k's count is the pcap's frames given to
    k; both had frames. With the unit tests' symmetry, a pair's frames all went to one worker."""
    assert {member_of_pair(*pair) for pair in PAIRS} == set(range(WORKERS)), "the scene gives both workers pairs"
    final = health(next(line for line in session["err"].splitlines() if line.startswith("health reason=final")))
    assert final["worker_packets"] == ",".join(str(len(share)) for share in shares), (final, session["err"][-2000:])
    assert all(len(share) > 0 for share in shares)
    assert int(final["packets"]) == summary_packets(session["out"]) == pcap_count(session["pcap"])
    with sqlite3.connect(f"file:{session['tmp'] / 'live.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT initiator, responder, sample_frames FROM communications").fetchall()
        runs = [json.loads(files) for (files,) in db.execute("SELECT files FROM runs")]
    workers_of_pair: dict[frozenset, set[str]] = {}
    for initiator, responder, samples in rows:
        workers_of_pair.setdefault(frozenset((initiator, responder)), set()).update(f for f, _ in json.loads(samples))
    for pair in PAIRS:
        assert workers_of_pair[frozenset(pair)] == {names()[member_of_pair(*pair)]}, pair
    assert runs == [names()]


def member_of_pair(a: str, b: str) -> int:
    """The worker of the pair's frames (a SYN from a to b, built here)."""
    import ipaddress
    import struct

    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, ipaddress.IPv4Address(a).packed,
                     ipaddress.IPv4Address(b).packed)
    return member(bytes(12) + b"\x08\x00" + ip + bytes(20), WORKERS)


def test_live_inventory_and_alerts_equal_analyze_of_the_pcap(session, shares, offline, otsensor) -> None:  # noqa: F811
    """Equal but for the evidence of an asset seen by both workers: each worker's first frame showing a fact is
    kept by input name, then frame (the store's "first evidence"), so it is the lower worker's first, which need
    not be the pcap's first; it is a frame of that host, never earlier than the pcap's first."""
    pcap = str(session["pcap"])
    live_db = session["tmp"] / "live.db"
    live_assets = as_in_the_pcap(listing(otsensor, "assets", live_db), pcap, shares)
    offline_assets = listing(otsensor, "assets", offline)
    assert {a["ip"] for a in offline_assets} >= set(PLCS + HMIS)
    assert differences(without_evidence(live_assets), without_evidence(offline_assets)) == []
    hosts = frame_hosts(session["pcap"])
    for live, first in zip(live_assets, offline_assets):
        for attribute, source in live["sources"].items():
            assert source["file"] == pcap and source["frame"] >= first["sources"][attribute]["frame"]
            assert live["ip"] in hosts[source["frame"]], (live["ip"], attribute, source)
    live_alerts = as_in_the_pcap(listing(otsensor, "alerts", live_db), pcap, shares)
    offline_alerts = listing(otsensor, "alerts", offline)
    assert live_alerts, "the 43/14 reads raise alerts"
    for alert in live_alerts + offline_alerts:
        alert.pop("id")  # made from the input's name
    key = lambda a: (a["rule"], a["src"] or "", a["dst"] or "")  # noqa: E731
    assert differences(sorted(live_alerts, key=key), sorted(offline_alerts, key=key)) == []


def without_evidence(assets: list[dict]) -> list[dict]:
    """The assets without the frame each fact was first seen in (its sources' and the identity's)."""
    out = json.loads(json.dumps(assets))
    for asset in out:
        for source in asset["sources"].values():
            source.pop("frame")
        if asset["identity"]:
            asset["identity"]["source"] = re.sub(r" frame \d+$", "", asset["identity"]["source"])
    return out


def frame_hosts(pcap: Path) -> dict[int, set[str]]:
    """The IPv4 addresses in each frame of the pcap: an IP packet's, or an ARP message's sender and target."""
    import ipaddress

    out: dict[int, set[str]] = {}
    for source in open_inputs([str(pcap)]):
        for fb in source.batches():
            for i in range(len(fb)):
                start = int(fb.offset[i])
                frame = fb.data[start:start + int(fb.caplen[i])].tobytes()
                at = {b"\x08\x00": (26, 30), b"\x08\x06": (28, 38)}.get(frame[12:14], ())
                out[int(fb.frame[i])] = {str(ipaddress.IPv4Address(frame[o:o + 4])) for o in at}
    return out


def test_health_lines_sum_the_workers(session) -> None:
    assert f"; {WORKERS} workers" in session["start"] and "AF_PACKET fanout group" in session["start"]
    lines = [line for line in session["err"].splitlines() if line.startswith("health ")]
    assert any(line.startswith("health reason=periodic") for line in lines), session["err"][-2000:]
    final = health(lines[-1])
    assert final["reason"] == "final" and final["workers"] == str(WORKERS)
    assert sum(map(int, final["worker_packets"].split(","))) == int(final["packets"])
    assert final["kernel_drops"] == "0" and final["internal_errors"] == "0", lines[-1]
    assert int(final["kernel_packets"]) == int(final["packets"]), lines[-1]
    assert int(final["alerts"]) > 0 and int(final["flows"]) >= len(PAIRS) + 1, lines[-1]
    signal_line = health(session["usr1_line"])
    assert set(signal_line) == set(final), "the same fields"
    assert int(signal_line["packets"]) > 0
    assert {"spool_backlog", "siem_sent", "siem_dropped", "siem_connected"} <= set(final), lines[-1]
    assert int(signal_line["siem_sent"]) > 0 and signal_line["siem_connected"] == "true", session["usr1_line"]
    assert final["spool_backlog"] == "0" and final["siem_dropped"] == "0", lines[-1]
    assert int(final["siem_sent"]) == len(session["siem"]), "each record sent once: no duplicate without a fault"


def test_every_alert_and_asset_of_the_database_reached_the_siem(session, otsensor) -> None:
    live_db = session["tmp"] / "live.db"
    alerts, assets = listing(otsensor, "alerts", live_db), listing(otsensor, "assets", live_db)
    assert alerts and {a["ip"] for a in assets} >= set(PLCS + HMIS)
    assert siem_alert_ids(session["siem"]) == {a["id"] for a in alerts}
    assert siem_assets(session["siem"]) == {a["ip"] or a["mac"] for a in assets}
    assert "runs in one process" not in session["err"]
    assert re.search(r"^siem +\d+ records sent to tcp://127\.0\.0\.1:\d+, 0 waiting", session["out"], re.MULTILINE), \
        session["out"]
    # While capturing, not only at the end: the workers spooled alerts, the starting process the changed assets.
    while_capturing = session["siem_while_capturing"]
    assert siem_alert_ids(while_capturing) and siem_assets(while_capturing), while_capturing[-5:]


def test_the_sensor_interface_transmitted_nothing(session) -> None:
    assert session["tx_delta"] == 0
    final = next(line for line in session["err"].splitlines() if line.startswith("health reason=final"))
    assert "if_tx_packets=0" in final.split(), final


def test_the_alerts_file_has_every_alert_the_workers_raised(session, otsensor) -> None:
    lines = (session["tmp"] / "alerts.jsonl").read_text().splitlines()
    written = [json.loads(line) for line in lines]  # whole lines: each worker's are written as one piece
    stored = listing(otsensor, "alerts", session["tmp"] / "live.db")
    assert {a["id"] for a in written} == {a["id"] for a in stored}
    last = {a["id"]: a for a in written}  # a grown alert is written again: its last copy is the stored one
    by_id = {a["id"]: a for a in stored}
    assert all(last[i]["rule"] == by_id[i]["rule"] and last[i]["count"] == by_id[i]["count"] for i in by_id)
