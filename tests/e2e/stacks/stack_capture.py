"""Capture one run of the known Modbus script between real pymodbus stacks on loopback.

    python tests/e2e/stacks/stack_capture.py --port 502 --out stack_502.pcap

tcpdump (on lo, filtered to the server's address and port) starts first and must say it is listening; then the
identity server, then the script client; tcpdump is stopped last, after a pause that lets it drain its ring
buffer (it drops unread blocks when interrupted). Needs root for tcpdump and for port 502.
Writes OUT (pcap) and OUT.results.json (what the client decoded).
"""
from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from modbus_script import CLIENT_IP, SERVER_IP  # noqa: E402


@dataclass(frozen=True)
class StackCapture:
    pcap: Path
    results: list[dict]
    port: int


def _stop(proc: subprocess.Popen, sig: int, timeout: float = 15) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def capture(out: Path, port: int, drain: float = 2.0) -> StackCapture:
    """Run server and client under tcpdump; raise with the tools' stderr if any step fails."""
    results_path = out.with_suffix(".results.json")
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "-w", str(out),
                             f"host {SERVER_IP} and tcp port {port}"], stderr=subprocess.PIPE, text=True)
    server = None
    try:
        line = dump.stderr.readline() if dump.stderr else ""
        if "listening on" not in line:
            raise RuntimeError(f"tcpdump did not start: {line.strip()} {_stop(dump, signal.SIGINT)}")
        server = subprocess.Popen([sys.executable, str(HERE / "identity_server.py"), "--host", SERVER_IP,
                                   "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = server.stdout.readline() if server.stdout else ""
        if not ready.startswith("ready"):
            raise RuntimeError(f"server did not start on {SERVER_IP}:{port}: {_stop(server, signal.SIGTERM)}")
        client = subprocess.run([sys.executable, str(HERE / "script_client.py"), "--host", SERVER_IP,
                                 "--port", str(port), "--source", CLIENT_IP, "--out", str(results_path)],
                                capture_output=True, text=True, timeout=120)
        if client.returncode != 0:
            raise RuntimeError(f"script client failed ({client.returncode}): {client.stderr[-2000:]}")
    finally:
        if server is not None:
            _stop(server, signal.SIGTERM)
        time.sleep(drain)
        stats = _stop(dump, signal.SIGINT)
    if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
        raise RuntimeError(f"tcpdump reports drops: {stats}")
    return StackCapture(out, json.loads(results_path.read_text()), port)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=502)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cap = capture(args.out, args.port)
    print(f"{cap.pcap}: {len(cap.results)} transactions on port {cap.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
