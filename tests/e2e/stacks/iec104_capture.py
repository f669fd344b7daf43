"""Capture one run of iec104_script between a c104 controlling station and a c104 controlled station on loopback.

    python tests/e2e/stacks/iec104_capture.py --out iec104_stack.pcap

tcpdump (on lo, filtered to the server's address and port) starts first and must say it is listening; then
the server, then the client; tcpdump is stopped last, after a pause that lets it drain. Needs root for tcpdump.
Writes OUT (pcap), OUT.results.json (what the client did and received) and OUT.server.jsonl (what the server
was told).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from iec104_script import PORT, SERVER_IP  # noqa: E402
from loopback import record  # noqa: E402


@dataclass(frozen=True)
class Iec104Capture:
    pcap: Path
    results: dict  # what the client did and received
    received: list[dict]  # what the server was told, as it logged it


def capture(out: Path, drain: float = 1.0) -> Iec104Capture:
    """Run server and client under tcpdump; raise with the tools' stderr if any step fails."""
    log = out.with_suffix(".server.jsonl")
    results = record(out, f"host {SERVER_IP} and tcp port {PORT}",
                     [sys.executable, str(HERE / "iec104_server.py"), "--log", str(log)],
                     [sys.executable, str(HERE / "iec104_client.py")], drain)
    return Iec104Capture(out, results, [json.loads(line) for line in log.read_text().splitlines() if line])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    cap = capture(ap.parse_args().out)
    print(f"{cap.pcap}: {cap.results}\n{cap.received}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
