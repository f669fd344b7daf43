"""A run killed at any moment leaves a consistent database, and the next run continues from its checkpoint.

The capture is analysed in small batches so checkpoints come often; the process is SIGKILLed as soon as a
checkpoint is on disk, then the same command runs again. Packet, byte and point counts must equal those of
one uninterrupted run: nothing lost, nothing counted twice. (Connections alive at the checkpoint are picked
up mid-stream by the second run, so the per-communication *flow* count may be higher; that is the only
difference allowed.)
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv, run_otsensor

SMALL_BATCHES = ["--batch-frames", "64"]


def analyze_cmd(capture: Path, db: Path) -> list[str]:
    return [*otsensor_argv(), "analyze", str(capture), "--db", str(db), "--strict", "--no-progress", *SMALL_BATCHES]


def checkpoint(db: Path) -> tuple[int, int] | None:
    """(frames_done, complete) of the one file, or None before the first commit."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as conn:
            row = conn.execute("SELECT frames_done, complete FROM files").fetchone()
    except sqlite3.OperationalError:
        return None  # schema not created yet, or busy
    return tuple(row) if row else None


def counts(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {
            "assets": sorted(conn.execute("SELECT ip, packets, bytes FROM assets")),
            "points": sorted(conn.execute(
                "SELECT client, server, unit_id, function_code, access, address, quantity, count FROM points")),
            "communications": sorted(conn.execute(
                "SELECT initiator, responder, transport, port, packets, bytes FROM communications")),
        }


def test_killed_run_resumes_without_loss_or_double_counting(corpus: Path, tmp_path: Path) -> None:
    capture = corpus / "modbus" / "iti_ModbusTCP.pcap"  # 15,387 packets: ~240 checkpoints at 64 frames/batch
    clean = tmp_path / "clean.db"
    assert run_otsensor("analyze", capture, "--db", clean, "--strict", *SMALL_BATCHES).returncode == 0

    killed = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(analyze_cmd(capture, killed), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        cp = checkpoint(killed)
        if cp and cp[0] > 0 and not cp[1]:
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail("the run finished before a partial checkpoint could be observed: make the batches smaller")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = checkpoint(killed)
    assert partial is not None and not partial[1], partial
    counts(killed)  # the interrupted database opens and passes integrity_check

    resumed = run_otsensor("analyze", capture, "--db", killed, "--strict", *SMALL_BATCHES)
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint(killed) == (15387, 1)
    assert counts(killed) == counts(clean)

    again = run_otsensor("analyze", capture, "--db", killed, "--strict")
    assert "already in the database" in again.stdout
    assert counts(killed) == counts(clean)  # a third run of the same file adds nothing
