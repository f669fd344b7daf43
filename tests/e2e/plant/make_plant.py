"""A small Modbus/TCP plant built from real stacks in network namespaces, captured on its bridge.

    python tests/e2e/plant/make_plant.py --out DIR [--plant-seconds 240] [--speed 10] [--seed 7]

Each host is a network namespace with one veth leg on a Linux bridge (10.20.1.0/24); tcpdump records the
bridge (a SPAN port would see the same frames). The hosts run real pymodbus 3 servers and clients
(hosts.py); the DHCP exchange and the ARP probe are crafted with scapy and sent on the link, the NetBIOS and
mDNS broadcasts come from real UDP sockets. The plant runs ``speed`` times faster than real time and the
capture's timestamps are then stretched by the same factor around the first one, so the analysed capture
shows the plant's own periods (1 s, 2 s, 5 s). Needs root (namespaces, tcpdump).

``build()`` returns a ``Plant``: the capture and the ground truth (address -> what was built there and
what each client did, as the pymodbus clients themselves recorded it). Everything it creates in the kernel
is removed in a ``finally``. As a script it prints the ground truth as JSON.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOSTS_PY = HERE / "hosts.py"

NETWORK = ipaddress.ip_network("10.20.1.0/24")
BROADCAST = str(NETWORK.broadcast_address)  # the directed broadcast: 10.20.1.255
MDNS_GROUP = "224.0.0.251"
SPEED = 10.0  # plant seconds per real second
PLANT_SECONDS = 240.0

# Identity objects 0x00..0x06 (Modbus Application Protocol v1.1b3, 6.21) as pymodbus names them.
PLCS = {
    "plc1": ("10.20.1.11", "00:80:f4:14:20:11", {
        "VendorName": "Schneider Electric", "ProductCode": "BMX P34 2020", "MajorMinorRevision": "v3.20",
        "VendorUrl": "http://www.se.com", "ProductName": "Modicon M340", "ModelName": "BMX P34 2020",
        "UserApplicationName": "raw_water_intake"}),
    "plc2": ("10.20.1.12", "00:30:de:0a:20:12", {
        "VendorName": "WAGO", "ProductCode": "750-8212", "MajorMinorRevision": "03.10.08",
        "VendorUrl": "https://www.wago.com", "ProductName": "PFC200 G2", "ModelName": "750-8212",
        "UserApplicationName": "filtration"}),
    "plc3": ("10.20.1.13", "00:a0:45:5c:20:13", {
        "VendorName": "Phoenix Contact", "ProductCode": "AXC F 2152", "MajorMinorRevision": "2023.0.5",
        "VendorUrl": "https://www.phoenixcontact.com", "ProductName": "AXC F 2152", "ModelName": "PLCnext",
        "UserApplicationName": "chemical_dosing"}),
    "plc4": ("10.20.1.14", "00:01:05:1b:20:14", {
        "VendorName": "Beckhoff Automation", "ProductCode": "CX9020", "MajorMinorRevision": "3.1.4024",
        "VendorUrl": "https://www.beckhoff.com", "ProductName": "Embedded PC", "ModelName": "CX9020-0111",
        "UserApplicationName": "clear_well_pumps"}),
    # a Modbus gateway to serial devices: it answers every unit id (one pymodbus context for all)
    "gateway": ("10.20.1.20", "00:90:e8:6d:20:20", {
        "VendorName": "Moxa", "ProductCode": "MGate MB3180", "MajorMinorRevision": "2.2",
        "VendorUrl": "https://www.moxa.com", "ProductName": "MGate MB3180", "ModelName": "MB3180",
        "UserApplicationName": "sludge_press_rtus"}),
}
ANY_UNIT = "gateway"
GATEWAY_UNITS = (1, 2, 3, 10, 247)
CLIENTS = {  # name: (address, MAC, device type the plant's behaviour stands for)
    "hmi": ("10.20.1.101", "00:14:22:6e:21:01", "hmi"),
    "panel": ("10.20.1.102", "00:0e:8c:52:21:02", "hmi"),
    "scada": ("10.20.1.103", "00:25:64:31:21:03", "hmi"),
    "historian": ("10.20.1.110", "00:1e:c9:44:21:10", "historian"),
    "eng": ("10.20.1.120", "00:21:cc:77:21:20", "engineering_station"),
}
ROUTER = ("router", "10.20.1.1", "00:00:0c:9f:f0:01")  # Cisco; the plant's DHCP server
LAPTOP = ("laptop", "10.20.1.150", "3c:52:82:4b:01:50")  # leased by DHCP; HP


@dataclass
class Plant:
    """The capture and what was built: ``expected`` maps each address to its ground truth."""

    pcap: Path
    raw_pcap: Path
    speed: float
    plant_seconds: float
    network: str
    broadcast: str
    expected: dict[str, dict]
    not_hosts: list[str]  # destination addresses the plant used that are no devices
    logs: dict[str, dict] = field(default_factory=dict)
    packets: int = 0
    wall_seconds: float = 0.0
    t0: float = 0.0  # plant time 0 as a time stamp of ``pcap`` (the stretched capture)

    def summary(self) -> dict:
        return {"pcap": str(self.pcap), "speed": self.speed, "plant_seconds": self.plant_seconds,
                "packets": self.packets, "wall_seconds": round(self.wall_seconds, 1), "network": self.network,
                "broadcast": self.broadcast, "not_hosts": self.not_hosts, "expected": self.expected}


# --- the kernel side: namespaces, veths, a bridge ----------------------------------------------------------

def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")


class Lan:
    """One bridge and one namespace per host, named after this process so parallel runs don't collide."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.bridge = f"otpb{tag}"
        self._tag = tag
        self.namespaces: dict[str, str] = {}
        self._veths: list[str] = []
        self._bridge_made = False

    def up(self) -> None:
        # No STP and no IGMP snooping: the switch itself stays silent, so the capture is the hosts' alone.
        _run("ip", "link", "add", self.bridge, "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
        self._bridge_made = True
        Path(f"/proc/sys/net/ipv6/conf/{self.bridge}/disable_ipv6").write_text("1")
        _run("ip", "link", "set", self.bridge, "up")

    def add_host(self, name: str, mac: str, address: str | None) -> str:
        """A namespace with eth0 (this MAC, this address, no IPv6) on the bridge; returns its name."""
        ns = f"otplant{self._tag}-{name}"
        veth = f"otp{self._tag}h{len(self._veths):02d}"
        _run("ip", "netns", "add", ns)
        self.namespaces[name] = ns
        _run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1")
        _run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self._veths.append(veth)
        Path(f"/proc/sys/net/ipv6/conf/{veth}/disable_ipv6").write_text("1")
        _run("ip", "link", "set", veth, "master", self.bridge)
        _run("ip", "link", "set", veth, "up")
        _run("ip", "-n", ns, "link", "set", "eth0", "address", mac)
        _run("ip", "-n", ns, "link", "set", "lo", "up")
        if address:
            _run("ip", "-n", ns, "addr", "add", f"{address}/{NETWORK.prefixlen}", "dev", "eth0")
        _run("ip", "-n", ns, "link", "set", "eth0", "up")
        return ns

    def down(self) -> list[str]:
        """Remove everything made; returns what could not be removed (never raises)."""
        left = []
        for ns in self.namespaces.values():
            if subprocess.run(["ip", "netns", "del", ns], capture_output=True).returncode != 0:
                left.append(ns)
        for veth in self._veths:  # gone with their namespace's peer; this only catches half-made ones
            if Path(f"/sys/class/net/{veth}").exists():
                subprocess.run(["ip", "link", "del", veth], capture_output=True)
        if self._bridge_made and subprocess.run(["ip", "link", "del", self.bridge],
                                                capture_output=True).returncode != 0:
            left.append(self.bridge)
        return left


# --- processes ---------------------------------------------------------------------------------------------

class Host:
    """One program of hosts.py (or of ``script``) in a namespace; stdout says "ready", stdin takes "go T0"."""

    def __init__(self, name: str, ns: str, program: str, spec: dict, logs: Path, script: Path = HOSTS_PY) -> None:
        self.name, self.log = name, logs / f"{name}.json"
        spec = {**spec, "log": str(self.log)}
        self.err = (logs / f"{name}.stderr").open("w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(script), program,
                                      json.dumps(spec)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)

    def wait_ready(self, timeout: float) -> None:
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            raise RuntimeError(f"{self.name} not ready after {timeout} s: {self.stderr()}")
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{self.name} did not start ({line!r}): {self.stderr()}")

    def go(self, t0: float) -> None:
        self.proc.stdin.write(f"go {t0:.6f}\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float) -> dict:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{self.name} still running after {timeout} s: {self.stderr()}") from exc
        if code != 0:
            raise RuntimeError(f"{self.name} exited {code}: {self.stderr()}")
        return json.loads(self.log.read_text()) if self.log.exists() else {}

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()

    def stderr(self) -> str:
        self.err.flush()
        return Path(self.err.name).read_text()[-3000:]


# --- the plant's script --------------------------------------------------------------------------------------

def scripts(plant_seconds: float, speed: float, seed: int) -> dict[str, tuple[str, dict]]:
    """Each host's program and spec. Times are plant seconds; random draws are seeded (same plant every run)."""
    rng = random.Random(seed)
    ip = {name: v[0] for name, v in PLCS.items()}
    four = [ip[f"plc{i}"] for i in range(1, 5)]
    base = {"speed": speed, "duration": plant_seconds}

    hmi_writes, t = [], 20.0
    while t < plant_seconds - 5:  # an operator changes a setpoint every 15 to 45 s
        hmi_writes.append({"t": round(t, 3), "ip": rng.choice(four), "unit": 1, "fc": 6, "address": 40,
                           "values": [rng.randrange(500, 900)]})
        t += rng.uniform(15, 45)
    eng_steps = [{"t": 10.0 + 1.7 * n, "do": "identify", "ip": ip[name], "unit": 1, "read_code": 2}
                 for n, name in enumerate(("plc1", "plc2", "plc3", "gateway"))]  # plc4 is never asked
    for n, when in enumerate(sorted(rng.uniform(30, plant_seconds - 10) for _ in range(5))):
        target = ip["plc1"] if n % 2 == 0 else ip["plc2"]
        step = ({"fc": 6, "address": 300 + n, "values": [rng.randrange(0, 1000)]} if n % 3 else
                {"fc": 16, "address": 310, "values": [rng.randrange(0, 65535) for _ in range(3)]})
        eng_steps.append({"t": round(when, 3), "do": "write", "ip": target, "unit": 1, **step})

    def targets(ips: list[str], blocks: list, period: float, units=(1,)) -> list[dict]:
        return [{"ip": a, "units": list(units), "blocks": blocks, "phase": round(rng.uniform(0, period), 3)}
                for a in ips]

    out: dict[str, tuple[str, dict]] = {}
    for name, (address, _mac, identity) in PLCS.items():
        out[name] = ("plc", {"ip": address, "unit": 1, "any_unit": name == ANY_UNIT, "identity": identity})
    out["hmi"] = ("poller", {**base, "period": 1.0, "writes": hmi_writes,
                             "targets": targets(four, [[3, 0, 20], [3, 100, 10], [1, 0, 16]], 1.0)})
    out["panel"] = ("poller", {**base, "period": 1.0, "targets": targets([ip["plc3"]], [[3, 0, 8], [2, 0, 16]], 1.0)})
    out["scada"] = ("poller", {**base, "period": 2.0,
                               "targets": targets([ip["gateway"]], [[3, 0, 10]], 2.0, GATEWAY_UNITS)})
    out["historian"] = ("poller", {**base, "period": 5.0,
                                   "targets": targets(four, [[3, 0, 50], [4, 0, 20]], 5.0)})
    out["eng"] = ("engineer", {"speed": speed, "steps": eng_steps})
    out["router"] = ("dhcp", {"ip": ROUTER[1], "mac": ROUTER[2], "lease": LAPTOP[1],
                              "netmask": str(NETWORK.netmask), "broadcast": BROADCAST})
    out["laptop"] = ("laptop", {"speed": speed, "t": 25.0, "mac": LAPTOP[2], "xid": rng.getrandbits(32),
                                "hostname": "CONTRACTOR-LT07", "lookup": "WPAD", "prefix": NETWORK.prefixlen,
                                "broadcast": BROADCAST})
    return out


# --- the capture -------------------------------------------------------------------------------------------

_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 10**6), b"\xa1\xb2\xc3\xd4": (">", 10**6),
               b"\x4d\x3c\xb2\xa1": ("<", 10**9), b"\xa1\xb2\x3c\x4d": (">", 10**9)}


def rescale(src: Path, dst: Path, factor: float) -> int:
    """Stretch every timestamp of a pcap by ``factor`` around the first one (integer ticks, no float drift);
    returns the number of packets."""
    data = src.read_bytes()
    endian, tick = _PCAP_MAGIC[data[:4]]
    out, pos, first, n = bytearray(data[:24]), 24, None, 0
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from(endian + "IIII", data, pos)
        t = sec * tick + frac
        first = t if first is None else first
        t = first + round((t - first) * factor)
        out += struct.pack(endian + "IIII", t // tick, t % tick, incl, orig)
        out += data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        n += 1
    dst.write_bytes(bytes(out))
    return n


def _first_timestamp(raw: Path) -> float:
    """The time stamp of the first frame tcpdump wrote (it writes at once, -U): the point rescale stretches around.
    The bridge is silent until the hosts speak, so the plant's servers' start-up has put frames there by now."""
    for _ in range(100):
        data = raw.read_bytes()[:40] if raw.exists() else b""
        if len(data) >= 32:
            endian, tick = _PCAP_MAGIC[data[:4]]
            sec, frac = struct.unpack_from(endian + "II", data, 24)
            return sec + frac / tick
        time.sleep(0.05)
    raise RuntimeError(f"{raw}: no frame captured before the clients started")


def _tcpdump(bridge: str, out: Path) -> subprocess.Popen:
    dump = subprocess.Popen(["tcpdump", "-i", bridge, "-nn", "-U", "-B", "16384", "-w", str(out)],
                            stderr=subprocess.PIPE, text=True)
    line = dump.stderr.readline() if dump.stderr else ""
    if "listening on" not in line:
        dump.kill()
        raise RuntimeError(f"tcpdump did not start on {bridge}: {line.strip()} {dump.communicate()[1]}")
    return dump


# --- ground truth ------------------------------------------------------------------------------------------

def ground_truth(specs: dict[str, tuple[str, dict]], logs: dict[str, dict]) -> dict[str, dict]:
    """Address -> what was built there: the configured identity, what the clients did (their own logs)."""
    expected: dict[str, dict] = {}
    clients = [name for name, (program, _) in specs.items() if program in ("poller", "engineer")]
    for name, (address, mac, identity) in PLCS.items():
        announced = logs["eng"]["identity"].get(address)  # what pymodbus decoded from the 43/14 answer
        units = sorted({u for c in clients for u in logs[c]["units"].get(address, [])})
        expected[address] = {
            "name": name, "device_type": "plc", "mac": mac, "configured_identity": identity,
            "identity": None if announced is None else
            {"vendor": announced["0"], "product": announced["1"], "revision": announced["2"]},
            "unit_ids": units, "any_unit": name == ANY_UNIT}
    for name, (address, mac, device_type) in CLIENTS.items():
        program, spec = specs[name]
        log = logs[name]
        counts = log["counts"]
        entry = {"name": name, "device_type": device_type, "mac": mac,
                 "requests": log["requests"],
                 "reads": sum(c.get("reads", 0) for c in counts.values()),
                 "writes": sum(c.get("writes", 0) for c in counts.values()),
                 "identify": sum(c.get("identify", 0) for c in counts.values()),
                 "servers": sorted(counts)}
        if program == "poller":
            entry["period_s"] = spec["period"]
            entry["cycles"] = sum(c.get("cycles", 0) for c in counts.values())
        last: dict[tuple, list[int]] = {}
        for ip, writes in log["written"].items():
            for w in writes:  # in the order they were sent
                last[(ip, w["fc"], w["address"])] = w["values"]
        entry["last_written"] = [[ip, fc, a, v] for (ip, fc, a), v in last.items()]  # server, fc, address, values
        expected[address] = entry
    expected[ROUTER[1]] = {"name": "router", "device_type": "it_host", "mac": ROUTER[2]}
    expected[LAPTOP[1]] = {"name": "laptop", "device_type": "it_host", "mac": LAPTOP[2]}
    return expected


def namespaces_available() -> str | None:
    """None when this process can make network namespaces, a bridge and capture; else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, tcpdump)"
    for tool in ("ip", "tcpdump", "sysctl"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    probe = f"otplant{os.getpid() % 100000}-probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


# --- the whole run -----------------------------------------------------------------------------------------

@dataclass
class Intruder:
    """A program that is no part of the plant (an attack): its own host, or run inside a plant host's namespace."""

    program: str
    spec: dict
    script: Path
    host: str | None = None  # run in this plant host's namespace (its address); None: a host of its own
    address: str | None = None
    mac: str | None = None


def build(out_dir: Path, plant_seconds: float = PLANT_SECONDS, speed: float = SPEED, seed: int = 7,
          edit: Callable[[dict[str, tuple[str, dict]]], None] | None = None,
          intruders: dict[str, Intruder] | None = None, expect_errors: tuple[str, ...] = ()) -> Plant:
    """Build the plant, run it for ``plant_seconds`` of plant time, capture it; tear it all down.

    Scenarios (tests/e2e/scenarios) pass ``edit`` (changes the hosts' specs in place: a write, a fault),
    ``intruders`` (started with the clients, told the same T0) and ``expect_errors`` (hosts whose clients
    may see exception responses)."""
    intruders = intruders or {}
    if os.geteuid() != 0:
        raise PermissionError("the plant needs root (network namespaces, tcpdump)")
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    logdir = out_dir / "logs"
    logdir.mkdir(exist_ok=True)
    raw, pcap = out_dir / "plant_raw.pcap", out_dir / "plant.pcap"
    specs = scripts(plant_seconds, speed, seed)
    if edit is not None:
        edit(specs)
    lan, dump, hosts = Lan(), None, {}
    logs: dict[str, dict] = {}
    try:
        lan.up()
        for name, (address, mac, _) in PLCS.items():
            lan.add_host(name, mac, address)
        for name, (address, mac, _) in CLIENTS.items():
            lan.add_host(name, mac, address)
        lan.add_host(ROUTER[0], ROUTER[2], ROUTER[1])
        lan.add_host(LAPTOP[0], LAPTOP[2], None)  # no address until DHCP gives one
        for name, intruder in intruders.items():
            if intruder.host is None:
                lan.add_host(name, intruder.mac, intruder.address)
        dump = _tcpdump(lan.bridge, raw)
        servers = [*PLCS, "router"]
        for name in servers:
            hosts[name] = Host(name, lan.namespaces[name], *specs[name], logdir)
        for name in servers:
            hosts[name].wait_ready(30)
        clients = [name for name in specs if name not in servers]
        for name in clients:
            hosts[name] = Host(name, lan.namespaces[name], *specs[name], logdir)
        for name, intruder in intruders.items():
            ns = lan.namespaces[intruder.host or name]
            hosts[name] = Host(name, ns, intruder.program, {"speed": speed, **intruder.spec}, logdir, intruder.script)
        for name in [*clients, *intruders]:
            hosts[name].wait_ready(30)
        first_frame = _first_timestamp(raw)
        t0 = time.time() + 0.2
        timed = [*clients, *intruders, *(n for n in PLCS if specs[n][1].get("faults"))]
        for name in timed:
            hosts[name].go(t0)
        for name in [*clients, *intruders]:
            logs[name] = hosts[name].finish(plant_seconds / speed + 30)
        hosts["router"].stop()
        logs["router"] = json.loads(hosts["router"].log.read_text())
        for name in PLCS:
            hosts[name].stop()
        time.sleep(1.0)  # let tcpdump drain its buffer before it is interrupted
        dump.send_signal(signal.SIGINT)
        stats = dump.communicate(timeout=15)[1]
        dump = None
        if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
            raise RuntimeError(f"tcpdump reports drops: {stats}")
    finally:
        for host in hosts.values():  # on success only the PLCs are left; on failure anything may be
            host.stop()
        if dump is not None:
            dump.kill()
            dump.wait()
        left = lan.down()
        if left:
            print(f"make_plant: could not remove {left}", file=sys.stderr)
    errors = {name: log["errors"] for name, log in logs.items() if log.get("errors") and name not in expect_errors}
    if errors:
        raise RuntimeError(f"the plant's own clients saw errors: {errors}")
    packets = rescale(raw, pcap, speed)
    return Plant(pcap=pcap, raw_pcap=raw, speed=speed, plant_seconds=plant_seconds, network=str(NETWORK),
                 broadcast=BROADCAST, expected=ground_truth(specs, logs),
                 not_hosts=["0.0.0.0", "255.255.255.255", MDNS_GROUP, BROADCAST], logs=logs, packets=packets,
                 wall_seconds=time.monotonic() - started, t0=first_frame + (t0 - first_frame) * speed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for plant.pcap, plant_raw.pcap and logs/")
    ap.add_argument("--plant-seconds", type=float, default=PLANT_SECONDS)
    ap.add_argument("--speed", type=float, default=SPEED)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    plant = build(args.out, args.plant_seconds, args.speed, args.seed)
    print(json.dumps(plant.summary(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
