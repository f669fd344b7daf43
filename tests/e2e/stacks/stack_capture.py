"""Capture one run of the known Modbus script between real pymodbus stacks on loopback.

    python tests/e2e/stacks/stack_capture.py --port 502 --out stack_502.pcap

tcpdump (on lo, filtered to the server's address and port) starts first and must say it is listening; then the
identity server, then the script client; tcpdump is stopped last, after a pause that lets it drain its ring
buffer (it drops unread blocks when interrupted). Needs root for tcpdump and for port 502.
Writes OUT (pcap) and OUT.results.json (what the client decoded).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loopback import record  # noqa: E402
from modbus_script import CLIENT_IP, SERVER_IP  # noqa: E402


@dataclass(frozen=True)
class StackCapture:
    pcap: Path
    results: list[dict]
    port: int


def capture(out: Path, port: int, drain: float = 2.0) -> StackCapture:
    """Run the identity server and the script client under tcpdump; raise with the tools' stderr if any step fails."""
    results = record(out, f"host {SERVER_IP} and tcp port {port}",
                     [sys.executable, str(HERE / "identity_server.py"), "--host", SERVER_IP, "--port", str(port)],
                     [sys.executable, str(HERE / "script_client.py"), "--host", SERVER_IP, "--port", str(port),
                      "--source", CLIENT_IP], drain)
    return StackCapture(out, results, port)


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
