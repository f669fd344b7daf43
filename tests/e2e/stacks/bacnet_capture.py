"""Capture one run of the bacpypes3 BACnet/IP device and client in two network namespaces joined by a veth pair.

    python tests/e2e/stacks/bacnet_capture.py --out bacnet_stack.pcap

BACnet/IP finds devices by broadcast, which loopback does not deliver between two stacks bound to one port, so
each stack gets a namespace of its own (bacnet_script.DEVICE_IP and CLIENT_IP on one /24). tcpdump, in the
device's namespace on its veth, starts first and must say it is listening; then the device, which prints "ready";
then the client, run to completion; the device is stopped, tcpdump last with SIGINT after a pause that lets it
drain. The namespaces go whatever happens. Needs root (namespaces, tcpdump). Writes OUT and OUT.results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bacnet_script import CLIENT_IP, DEVICE_IP, PORT, PREFIX  # noqa: E402
from loopback import stop  # noqa: E402


@dataclass(frozen=True)
class BacnetCapture:
    pcap: Path
    results: dict


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@contextmanager
def namespaces() -> Iterator[tuple[str, str, str]]:
    """(device namespace, client namespace, the device's veth), removed on exit."""
    tag = os.getpid() % 100_000
    dev_ns, cli_ns, dev_if, cli_if = f"otsbac-d{tag}", f"otsbac-c{tag}", f"obd{tag}", f"obc{tag}"
    made: list[str] = []
    try:
        for ns in (dev_ns, cli_ns):
            _ip("netns", "add", ns)
            made.append(ns)
        _ip("link", "add", dev_if, "type", "veth", "peer", "name", cli_if)
        for ns, iface, address in ((dev_ns, dev_if, DEVICE_IP), (cli_ns, cli_if, CLIENT_IP)):
            _ip("link", "set", iface, "netns", ns)
            _ip("-n", ns, "addr", "add", f"{address}/{PREFIX}", "dev", iface)
            _ip("-n", ns, "link", "set", iface, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield dev_ns, cli_ns, dev_if
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


@contextmanager
def tcpdump(ns: str, iface: str, out: Path, drain: float) -> Iterator[None]:
    dump = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-nn", "-U", "-w", str(out),
                             f"udp port {PORT}"], stderr=subprocess.PIPE, text=True)
    line = dump.stderr.readline() if dump.stderr else ""
    if "listening on" not in line:
        raise RuntimeError(f"tcpdump did not start: {line.strip()} {stop(dump, signal.SIGINT)}")
    try:
        yield
    finally:
        time.sleep(drain)
        stats = stop(dump, signal.SIGINT)
    if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
        raise RuntimeError(f"tcpdump reports drops: {stats}")


def capture(out: Path, drain: float = 1.0) -> BacnetCapture:
    """Run device and client under tcpdump; raise with the tools' stderr if any step fails."""
    results = out.with_suffix(".results.json")
    with namespaces() as (dev_ns, cli_ns, dev_if), tcpdump(dev_ns, dev_if, out, drain):
        device = subprocess.Popen(["ip", "netns", "exec", dev_ns, sys.executable, str(HERE / "bacnet_device.py")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = device.stdout.readline() if device.stdout else ""
            if not ready.startswith("ready"):
                raise RuntimeError(f"device did not start: {stop(device, signal.SIGTERM)[-2000:]}")
            done = subprocess.run(["ip", "netns", "exec", cli_ns, sys.executable, str(HERE / "bacnet_client.py"),
                                   "--out", str(results)], capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"client failed ({done.returncode}): {done.stderr[-2000:]}")
        finally:
            stop(device, signal.SIGTERM)
    return BacnetCapture(out, json.loads(results.read_text()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    cap = capture(ap.parse_args().out)
    print(f"{cap.pcap}: {len(cap.results['calls'])} calls, I-Am {cap.results['i_am']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
