"""Capture one run of the S7 script between python-snap7's server and client on loopback.

    python tests/e2e/stacks/s7comm_capture.py --out s7_stack.pcap [--port 102]

tcpdump (on lo, filtered to the server's address and port) starts first and must say it is listening;
then the server, then the client; tcpdump is stopped last with SIGINT, after a pause that lets it drain
its buffer. Needs root for tcpdump and for port 102. Writes OUT (pcap) and OUT.results.json (what the
client decoded).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loopback import record  # noqa: E402
from s7comm_script import CLIENT_IP, PORT, SERVER_IP  # noqa: E402


@dataclass(frozen=True)
class S7Capture:
    pcap: Path
    results: dict
    port: int


def capture(out: Path, port: int = PORT, drain: float = 1.5) -> S7Capture:
    """Run server and client under tcpdump; raise with the tools' stderr if any step fails."""
    results = record(out, f"host {SERVER_IP} and tcp port {port}",
                     [sys.executable, str(HERE / "s7comm_server.py"), "--host", SERVER_IP, "--port", str(port)],
                     [sys.executable, str(HERE / "s7comm_client.py"), "--host", SERVER_IP, "--port", str(port),
                      "--source", CLIENT_IP], drain)
    return S7Capture(out, results, port)


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
