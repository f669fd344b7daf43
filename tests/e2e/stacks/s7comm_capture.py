"""Capture one run of the S7 script between python-snap7's server and client on loopback.

    python tests/e2e/stacks/s7comm_capture.py --out s7_stack.pcap [--port 102]

tcpdump (on lo, filtered to the server's address and port) starts first and must say it is listening;
then the server, then the client; tcpdump is stopped last with SIGINT, after a pause that lets it drain
its buffer. Needs root for tcpdump and for port 102. Writes OUT (pcap) and OUT.results.json (what the
client decoded).
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
from s7comm_script import CLIENT_IP, PORT, SERVER_IP  # noqa: E402


@dataclass(frozen=True)
class S7Capture:
    pcap: Path
    results: dict
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


def capture(out: Path, port: int = PORT, drain: float = 1.5) -> S7Capture:
    """Run server and client under tcpdump; raise with the tools' stderr if any step fails."""
    results_path = out.with_suffix(".results.json")
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "-w", str(out),
                             f"host {SERVER_IP} and tcp port {port}"], stderr=subprocess.PIPE, text=True)
    server = None
    try:
        line = dump.stderr.readline() if dump.stderr else ""
        if "listening on" not in line:
            raise RuntimeError(f"tcpdump did not start: {line.strip()} {_stop(dump, signal.SIGINT)}")
        server = subprocess.Popen([sys.executable, str(HERE / "s7comm_server.py"), "--host", SERVER_IP,
                                   "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = server.stdout.readline() if server.stdout else ""
        if not ready.startswith("ready"):
            raise RuntimeError(f"server did not start on {SERVER_IP}:{port}: {_stop(server, signal.SIGTERM)}")
        client = subprocess.run([sys.executable, str(HERE / "s7comm_client.py"), "--host", SERVER_IP,
                                 "--port", str(port), "--source", CLIENT_IP, "--out", str(results_path)],
                                capture_output=True, text=True, timeout=120)
        if client.returncode != 0:
            raise RuntimeError(f"client failed ({client.returncode}): {client.stderr[-2000:]}")
    finally:
        if server is not None:
            _stop(server, signal.SIGTERM)
        time.sleep(drain)
        stats = _stop(dump, signal.SIGINT)
    if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
        raise RuntimeError(f"tcpdump reports drops: {stats}")
    return S7Capture(out, json.loads(results_path.read_text()), port)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cap = capture(args.out, args.port)
    failed = [c for c in cap.results["calls"] if not c["ok"]]
    print(f"{cap.pcap}: {len(cap.results['calls'])} calls, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
