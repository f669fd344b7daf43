"""Capture one run of dnp3_script.SCRIPT between a dnp3py master and outstation on loopback.

    python tests/e2e/stacks/dnp3_capture.py --out dnp3_stack.pcap

tcpdump (on lo, filtered to the outstation's address and port) starts first and must say it is listening;
then the outstation, then the master; tcpdump is stopped with SIGINT last, after a pause that lets it drain.
Needs root for tcpdump. Writes OUT (pcap) and OUT.results.json (what the master decoded).
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
from dnp3_script import OUTSTATION_IP, PORT  # noqa: E402


@dataclass(frozen=True)
class Dnp3Capture:
    pcap: Path
    results: dict


def _stop(proc: subprocess.Popen, sig: int, timeout: float = 15) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def capture(out: Path, drain: float = 1.5) -> Dnp3Capture:
    """Run outstation and master under tcpdump; raise with the tools' stderr if any step fails."""
    results_path = out.with_suffix(".results.json")
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "-w", str(out), f"host {OUTSTATION_IP} and port {PORT}"],
                            stderr=subprocess.PIPE, text=True)
    outstation = None
    try:
        line = dump.stderr.readline() if dump.stderr else ""
        if "listening on" not in line:
            raise RuntimeError(f"tcpdump did not start: {line.strip()} {_stop(dump, signal.SIGINT)}")
        outstation = subprocess.Popen([sys.executable, str(HERE / "dnp3_outstation.py")], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        ready = outstation.stdout.readline() if outstation.stdout else ""
        if not ready.startswith("ready"):
            raise RuntimeError(f"outstation did not start on {OUTSTATION_IP}:{PORT}: "
                               f"{_stop(outstation, signal.SIGTERM)[-2000:]}")
        master = subprocess.run([sys.executable, str(HERE / "dnp3_master.py"), "--out", str(results_path)],
                                capture_output=True, text=True, timeout=120)
        if master.returncode != 0:
            raise RuntimeError(f"master failed ({master.returncode}): {master.stderr[-2000:]}")
    finally:
        if outstation is not None:
            _stop(outstation, signal.SIGTERM)
        time.sleep(drain)
        stats = _stop(dump, signal.SIGINT)
    if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
        raise RuntimeError(f"tcpdump reports drops: {stats}")
    return Dnp3Capture(out, json.loads(results_path.read_text()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    cap = capture(ap.parse_args().out)
    print(f"{cap.pcap}: {len(cap.results['results'])} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
