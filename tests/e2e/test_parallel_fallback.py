"""Batches that find no block of the ring free go to the workers pickled, each worker its share; a run that
mixes both ways gives what one process gives.

The ring is cut to one block, so a batch finds it free only once both workers have let go of the one before.
That run is the command line in a Python of its own that first cuts the ring and counts which way each batch
went (forking workers from the test process itself would fork its threads' locks too).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO_ROOT, run_otsensor

ONE_BLOCK = """
import json, sys
import sensor.parallel
from sensor.batch_ring import BatchRing
from sensor.cli import main

ways = {"ring": 0, "pickled": 0}
put = BatchRing.put

def counted(ring, *args):
    ticket = put(ring, *args)
    ways["ring" if ticket is not None else "pickled"] += 1
    return ticket

sensor.parallel.RING_BLOCKS = 1
BatchRing.put = counted
code = main(sys.argv[1:])
print(json.dumps(ways), file=sys.stderr)
sys.exit(code)
"""


def outputs(db: Path, events: Path) -> tuple[str, str, list[str]]:
    assets, alerts = (run_otsensor(kind, "--db", db, "--format", "json").stdout for kind in ("assets", "alerts"))
    return assets, alerts, sorted(events.read_text().splitlines())


def summary(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("speed")]


def test_pickled_and_ring_batches_together_give_what_one_process_gives(corpus: Path, tmp_path: Path) -> None:
    capture = corpus / "it" / "emre_simens.pcap"
    common = ["--no-progress", "--strict", "--batch-frames", "64"]
    one = run_otsensor("analyze", capture, "--db", tmp_path / "one.db", "--events", tmp_path / "one.jsonl", *common)
    assert one.returncode == 0, one.stderr

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    two = subprocess.run([sys.executable, "-c", ONE_BLOCK, "analyze", str(capture), "--db", str(tmp_path / "two.db"),
                          "--events", str(tmp_path / "two.jsonl"), "--workers", "2", *common],
                         env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    ways = json.loads(two.stderr.strip().splitlines()[-1])
    assert ways["ring"] and ways["pickled"], ways
    expected = outputs(tmp_path / "one.db", tmp_path / "one.jsonl")
    assert json.loads(expected[0]), "no asset: nothing would be compared"
    assert outputs(tmp_path / "two.db", tmp_path / "two.jsonl") == expected
    assert summary(two.stdout) == summary(one.stdout)
