"""Capture one run of dnp3_script.SCRIPT between a dnp3py master and outstation on loopback.

    python tests/e2e/stacks/dnp3_capture.py --out dnp3_stack.pcap

tcpdump (on lo, filtered to the outstation's address and port) starts first and must say it is listening;
then the outstation, then the master; tcpdump is stopped with SIGINT last, after a pause that lets it drain.
Needs root for tcpdump. Writes OUT (pcap) and OUT.results.json (what the master decoded).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dnp3_script import OUTSTATION_IP, PORT  # noqa: E402
from loopback import record  # noqa: E402


@dataclass(frozen=True)
class Dnp3Capture:
    pcap: Path
    results: dict


def capture(out: Path, drain: float = 1.5) -> Dnp3Capture:
    """Run outstation and master under tcpdump; raise with the tools' stderr if any step fails."""
    results = record(out, f"host {OUTSTATION_IP} and port {PORT}", [sys.executable, str(HERE / "dnp3_outstation.py")],
                     [sys.executable, str(HERE / "dnp3_master.py")], drain)
    return Dnp3Capture(out, results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    cap = capture(ap.parse_args().out)
    print(f"{cap.pcap}: {len(cap.results['results'])} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
