"""`otsensor live` on a mirror port: real pymodbus stacks in namespaces, mirrored by tc, captured live and by tcpdump.

Three network namespaces: plc and hmi joined by a veth pair (p0 <-> h0), and sensor. Both directions of p0 are
mirrored by tc (clsact ingress and egress, u32 matching all, ``mirred egress mirror``) to a second veth pair whose far end
s0 is in the sensor namespace: a SPAN port. On s0 run, at the same time, ``otsensor live`` (no filter), a second
``otsensor live -f 'tcp port 502'``, and tcpdump writing a nanosecond pcap. The pymodbus identity server in plc
answers the script client in hmi (reads, writes, 43/14 device identification); then hmi sends ICMP echo requests and
a UDP datagram: traffic the filter must keep out.

Checked: the live database (inventory with the 43/14 identity, and alerts) equals what `otsensor analyze` makes of
tcpdump's pcap of the same interface, but for the input's name (``live:s0`` against the pcap's path: in the facts'
sources, the identity's ``source`` text, and the alert ids made from it) and for times within a millisecond (see
``differences``); s0 transmitted nothing; the health line is printed on its timer and
on SIGUSR1; the database is committed while the capture runs; SIGTERM ends the capture with exit 0 within seconds;
the BPF filter lets exactly the pcap's tcp/502 frames in. Needs root (namespaces, tc, tcpdump).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv

STACKS = Path(__file__).resolve().parent / "stacks"
sys.path.insert(0, str(STACKS))
from modbus_script import IDENTITY  # noqa: E402

PLC_IP, HMI_IP = "10.77.0.1", "10.77.0.2"  # only inside this test's own namespaces
SENSOR_IF = "s0"
BPF = "tcp port 502"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, tc, tcpdump)"
    for tool in ("ip", "tc", "tcpdump"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Mirror:
    """The three namespaces; ``ns`` maps plc, hmi and sensor to their names."""

    ns: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)

    def exec(self, where: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns[where], *argv]

    def counter(self, name: str) -> int:
        return int(run(*self.exec("sensor", "cat", f"/sys/class/net/{SENSOR_IF}/statistics/{name}")))


def build(mirror: Mirror) -> None:
    for ns in mirror.ns.values():
        run("ip", "netns", "add", ns)
        # No IPv6 (router solicitations, MLD): the namespaces send only what the test makes them send.
        run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1")
        run("ip", "-n", ns, "link", "set", "lo", "up")
    plc, hmi, sensor = mirror.ns["plc"], mirror.ns["hmi"], mirror.ns["sensor"]
    run("ip", "-n", plc, "link", "add", "p0", "type", "veth", "peer", "name", "h0", "netns", hmi)
    run("ip", "-n", plc, "link", "add", "m0", "type", "veth", "peer", "name", SENSOR_IF, "netns", sensor)
    run("ip", "-n", plc, "addr", "add", f"{PLC_IP}/24", "dev", "p0")
    run("ip", "-n", hmi, "addr", "add", f"{HMI_IP}/24", "dev", "h0")
    for ns, dev in ((plc, "p0"), (plc, "m0"), (hmi, "h0"), (sensor, SENSOR_IF)):
        run("ip", "-n", ns, "link", "set", dev, "up")
    # The SPAN session: every frame p0 receives or sends is copied out of m0, so it arrives on s0.
    run("tc", "-n", plc, "qdisc", "add", "dev", "p0", "clsact")
    for direction in ("ingress", "egress"):
        run("tc", "-n", plc, "filter", "add", "dev", "p0", direction, "protocol", "all", "u32", "match", "u32", "0", "0",
            "action", "mirred", "egress", "mirror", "dev", "m0")


def teardown(mirror: Mirror) -> None:
    for proc in mirror.procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    for ns in mirror.ns.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def wait_for(path: Path, pattern: str, timeout: float, proc: subprocess.Popen | None = None) -> str:
    """The first line of ``path`` matching ``pattern``, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            return found.group(0)
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in {path} after {timeout} s:\n{path.read_text()[-3000:]}")


def icmp_echo(seq: int) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"otsensor-live-test"
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total >> 16) + (total & 0xFFFF)
    checksum = ~(total + (total >> 16)) & 0xFFFF
    return header[:2] + struct.pack("!H", checksum) + header[4:]


OTHER_TRAFFIC = f"""
import socket, struct, time
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for packet in {[icmp_echo(seq) for seq in range(1, 4)]!r}:
    icmp.sendto(packet, ({PLC_IP!r}, 0))
    time.sleep(0.05)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.sendto(b"not modbus", ({PLC_IP!r}, 9999))
time.sleep(0.2)
"""


def start(mirror: Mirror, where: str, argv: list[str], log: Path, **kw) -> subprocess.Popen:
    proc = subprocess.Popen(mirror.exec(where, *argv), stderr=log.open("w"), **kw)
    mirror.procs.append(proc)
    return proc


def stop(proc: subprocess.Popen, sig: int, timeout: float) -> tuple[int, float]:
    """Send ``sig`` and wait; (exit status, seconds it took)."""
    t0 = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout)
    return code, time.monotonic() - t0


def live_argv(db: Path, *extra: str) -> list[str]:
    return [*otsensor_argv(), "live", "-i", SENSOR_IF, "--db", str(db), "--strict", *extra]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the whole scene once; the tests read what it recorded."""
    tmp = tmp_path_factory.mktemp("live_mirror")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    tag = os.getpid() % 100000
    mirror = Mirror({role: f"otlm{tag}-{role}" for role in ("plc", "hmi", "sensor")})
    out: dict = {"tmp": tmp}
    try:
        build(mirror)
        tx_before = mirror.counter("tx_packets")
        server = start(mirror, "plc", [sys.executable, str(STACKS / "identity_server.py"), "--host", PLC_IP,
                                       "--port", "502"], tmp / "server.err", stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline().startswith("ready"), \
            (tmp / "server.err").read_text()
        pcap = tmp / "mirror.pcap"
        dump = start(mirror, "sensor", ["tcpdump", "-i", SENSOR_IF, "-nn", "-U", "--time-stamp-precision=nano",
                                        "-w", str(pcap)], tmp / "tcpdump.err")
        wait_for(tmp / "tcpdump.err", "listening on", 15, dump)
        live = start(mirror, "sensor", live_argv(tmp / "live.db", "--health-every", "1", "--flush-seconds", "1",
                                                 "--alerts", str(tmp / "alerts.jsonl")),
                     tmp / "live.err", stdout=(tmp / "live.out").open("w"), cwd=REPO_ROOT, env=env)
        filtered = start(mirror, "sensor", live_argv(tmp / "filtered.db", "-f", BPF, "--health-every", "0"),
                         tmp / "filtered.err", stdout=(tmp / "filtered.out").open("w"), cwd=REPO_ROOT, env=env)
        for name, proc in (("live", live), ("filtered", filtered)):
            out[f"{name}_start"] = wait_for(tmp / f"{name}.err", "^live: capturing.*$", 60, proc)

        client = subprocess.run(mirror.exec("hmi", sys.executable, str(STACKS / "script_client.py"), "--host", PLC_IP,
                                            "--port", "502", "--source", HMI_IP, "--out", str(tmp / "results.json")),
                                capture_output=True, text=True, timeout=60)
        assert client.returncode == 0, client.stderr[-2000:]
        other = subprocess.run(mirror.exec("hmi", sys.executable, "-c", OTHER_TRAFFIC), capture_output=True,
                               text=True, timeout=30)
        assert other.returncode == 0, other.stderr[-2000:]

        # Quiet now: within --flush-seconds the running sensor must have committed what it saw.
        time.sleep(2.5)
        with sqlite3.connect(f"file:{tmp / 'live.db'}?mode=ro", uri=True) as db:
            out["assets_while_running"] = {row[0] for row in db.execute("SELECT key FROM assets")}
        out["health_before_usr1"] = (tmp / "filtered.err").read_text().count("\nhealth ")
        filtered.send_signal(signal.SIGUSR1)
        out["usr1_line"] = wait_for(tmp / "filtered.err", r"^health reason=signal .*$", 5, filtered)

        # End the SPAN session first, so that the three captures end on the same last frame (the hosts still
        # talk: ARP probes their neighbours a few seconds after the last traffic).
        run("tc", "-n", mirror.ns["plc"], "qdisc", "del", "dev", "p0", "clsact")
        time.sleep(1.5)  # tcpdump hands over its last ring block at its 1 s timeout
        for name, proc in (("live", live), ("filtered", filtered)):
            out[f"{name}_exit"] = stop(proc, signal.SIGTERM, 30)
        out["tcpdump"] = (stop(dump, signal.SIGINT, 15), (tmp / "tcpdump.err").read_text())
        server.send_signal(signal.SIGTERM)
        out["tx_delta"] = mirror.counter("tx_packets") - tx_before
        for name in ("live", "filtered"):
            out[f"{name}_out"] = (tmp / f"{name}.out").read_text()
            out[f"{name}_err"] = (tmp / f"{name}.err").read_text()
        out["pcap"] = pcap
    finally:
        teardown(mirror)
    return out


def listing(otsensor, what: str, db: Path) -> list[dict]:
    proc = otsensor(what, "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def without_file_names(value, *names: str):
    """The value with the input's name replaced wherever it appears (sources' ``file`` fields, and text such as
    an identity's ``source``): the one fact that differs between a live input and a capture file."""
    text = json.dumps(value, sort_keys=True)
    for name in names:
        text = text.replace(json.dumps(name)[1:-1], "<input>")
    return json.loads(text)


TIME_KEYS = {"ts", "first_seen", "last_seen"}
TIME_TOLERANCE = 1e-3


def differences(live, offline, where: str = "") -> list[str]:
    """Where two JSON values differ; times may differ by TIME_TOLERANCE.

    Why times at all: a frame that a local TCP stack sent carries its monotonic departure time (EDT) through the
    veths and the tc mirror, so the kernel does not stamp it once on arrival at s0; each capture socket then reads
    the clock itself, tcpdump's a microsecond or so after the sensor's. A real NIC's frames are stamped once.
    """
    if isinstance(live, dict) and isinstance(offline, dict):
        if set(live) != set(offline):
            return [f"{where}: keys {sorted(set(live) ^ set(offline))}"]
        out = []
        for key in live:
            a, b = live[key], offline[key]
            if key in TIME_KEYS and isinstance(a, float) and isinstance(b, float):
                if abs(a - b) > TIME_TOLERANCE:
                    out.append(f"{where}.{key}: {a} != {b}")
            else:
                out += differences(a, b, f"{where}.{key}")
        return out
    if isinstance(live, list) and isinstance(offline, list):
        if len(live) != len(offline):
            return [f"{where}: {len(live)} items != {len(offline)}"]
        return [d for i, (a, b) in enumerate(zip(live, offline)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if live == offline else [f"{where}: {live!r} != {offline!r}"]


@pytest.fixture(scope="module")
def offline(session, otsensor) -> Path:
    db = session["tmp"] / "offline.db"
    proc = otsensor("analyze", session["pcap"], "--db", db, "--strict", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return db


def pcap_count(pcap: Path, bpf: str = "") -> int:
    out = subprocess.run(["tcpdump", "-nn", "-r", str(pcap), *([bpf] if bpf else [])], capture_output=True,
                         text=True, check=True).stdout
    return len(out.splitlines())


def summary_packets(stdout: str) -> int:
    found = re.search(r"^packets\s+([\d,]+)", stdout, re.MULTILINE)
    assert found, stdout
    return int(found.group(1).replace(",", ""))


def test_sigterm_ends_the_capture_cleanly_and_fast(session) -> None:
    for name in ("live", "filtered"):
        code, seconds = session[f"{name}_exit"]
        assert code == 0, session[f"{name}_err"][-2000:]
        assert seconds < 5, f"{name} took {seconds:.1f} s to stop"
        assert "files       1 analysed" in session[f"{name}_out"], session[f"{name}_out"]
    (code, _), stderr = session["tcpdump"]
    assert code == 0 and re.search(r"^0 packets dropped by kernel", stderr, re.MULTILINE), stderr


def test_live_inventory_and_alerts_equal_analyze_of_the_pcap(session, offline, otsensor) -> None:
    live_db = session["tmp"] / "live.db"
    live_assets, offline_assets = listing(otsensor, "assets", live_db), listing(otsensor, "assets", offline)
    assert summary_packets(session["live_out"]) == pcap_count(session["pcap"]), "both captures saw the same frames"
    plc = {a["ip"]: a for a in live_assets}[PLC_IP]
    assert plc["identity"] is not None, plc
    assert (plc["identity"]["vendor"], plc["identity"]["product"]) == (IDENTITY["VendorName"], IDENTITY["ProductCode"])
    names = (f"live:{SENSOR_IF}", str(session["pcap"]))
    assert differences(without_file_names(live_assets, *names), without_file_names(offline_assets, *names)) == []
    live_alerts, offline_alerts = listing(otsensor, "alerts", live_db), listing(otsensor, "alerts", offline)
    assert live_alerts, "the 43/14 reads raise an alert"
    # An alert's id is made from its input's file name (so reruns of one file keep it): another name, another id.
    for alert in live_alerts + offline_alerts:
        alert.pop("id")
    assert differences(without_file_names(live_alerts, *names), without_file_names(offline_alerts, *names)) == []


def test_the_database_is_committed_while_capturing(session) -> None:
    assert {PLC_IP, HMI_IP} <= session["assets_while_running"]


def test_the_sensor_interface_transmitted_nothing(session) -> None:
    assert session["tx_delta"] == 0
    finals = [line for line in session["live_err"].splitlines() if line.startswith("health reason=final")]
    assert finals and "if_tx_packets=0" in finals[0].split(), finals


def test_health_lines_on_the_timer_and_on_sigusr1(session) -> None:
    periodic = [line for line in session["live_err"].splitlines() if line.startswith("health reason=periodic")]
    assert periodic, session["live_err"][-2000:]
    fields = dict(item.split("=", 1) for item in periodic[-1].split()[1:])
    for key in ("packets", "bytes", "kernel_drops", "if_rx_dropped", "weirds", "internal_errors", "flows", "alerts",
                "spool_backlog"):
        assert key in fields, (key, periodic[-1])
    assert fields["kernel_drops"] == "0" and fields["internal_errors"] == "0", periodic[-1]
    # The filtered sensor has no timer: before SIGUSR1 it had written no health line, then exactly one.
    assert session["health_before_usr1"] == 0
    assert session["filtered_err"].count("health reason=signal") == 1
    assert "reason=periodic" not in session["filtered_err"]


def test_the_filter_keeps_other_traffic_out(session) -> None:
    pcap = session["pcap"]
    assert pcap_count(pcap, "icmp") >= 3 and pcap_count(pcap, "udp port 9999") >= 1, "the other traffic was sent"
    assert summary_packets(session["filtered_out"]) == pcap_count(pcap, BPF)
    assert "icmp" not in session["filtered_out"] and "udp" not in session["filtered_out"], session["filtered_out"]
    assert f"filter '{BPF}'" in session["filtered_start"]
