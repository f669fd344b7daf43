"""A run killed at any moment and run again gives exactly what one clean run gives.

The inputs are chosen so that state matters: the first is a corpus Modbus capture followed by itself
(`mergecap -a`), so every session appears twice and a clean run drops the second copy as TCP
retransmissions; the second is a policy scenario, so alerts depend on everything stored; the third is
another Modbus capture, whose flow state follows from the two before it. The
same command is SIGKILLed at random moments, several times over, and then run to the end; the assets
and alerts it reports must equal the clean run's byte for byte. Small batches make checkpoints frequent,
so kills land between, before and after them.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv, run_otsensor, stored_communications

SMALL_BATCHES = ["--batch-frames", "64"]
SCENARIOS = REPO_ROOT / "captures" / "scenarios"
KILLS = 4


@pytest.fixture(scope="module")
def inputs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("kill")
    doubled = folder / "doubled.pcap"
    source = corpus / "modbus" / "iti_ModbusTCP.pcap"  # 15,387 packets
    subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", str(doubled), str(source), str(source)], check=True)
    return [doubled, SCENARIOS / "pivot_chain.pcap", corpus / "modbus" / "lemay_characterization_modbus_6RTU_with_operate.pcap"]


def analyze_args(inputs: list[Path], db: Path, workers: int = 1) -> list[str]:
    return ["analyze", *map(str, inputs), "--db", str(db), "--strict", "--no-progress",
            "--policy", str(SCENARIOS / "policy.yaml"), *SMALL_BATCHES, "--workers", str(workers)]


def report(db: Path) -> tuple[str, str, list[tuple]]:
    """What a user sees: the assets and the alerts, as JSON, and the communications the report reads."""
    assets = run_otsensor("assets", "--db", db, "--format", "json")
    alerts = run_otsensor("alerts", "--db", db, "--format", "json")
    assert assets.returncode == 0 and alerts.returncode == 0, assets.stderr + alerts.stderr
    return assets.stdout, alerts.stdout, stored_communications(db)


def progress(db: Path) -> list[tuple]:
    """(name, frames_done, complete) per file, or [] before the first commit."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as conn:
            return sorted(conn.execute("SELECT name, frames_done, complete FROM files"))
    except sqlite3.OperationalError:
        return []  # schema not created yet, or busy


def frames_done(state: list[tuple]) -> int:
    return sum(frames for _, frames, _ in state)


def kill_after(args: list[str], seconds: float) -> bool:
    """Start the command and SIGKILL it after ``seconds``; False when it finished first."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([*otsensor_argv(), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_runs_resume_to_exactly_the_clean_result(inputs: list[Path], tmp_path: Path, workers: int) -> None:
    """With workers too: each resumes its own share, and the result is the clean one-process run's."""
    clean = tmp_path / "clean.db"
    started = time.monotonic()
    done = run_otsensor(*analyze_args(inputs, clean))
    clean_seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    expected = report(clean)

    killed = tmp_path / "killed.db"
    rng = random.Random(20261129)
    kills, partial_states = 0, []
    total = frames_done(progress(clean))
    for _ in range(KILLS):
        # a resumed run has only what is left to do: the kill lands inside that, or before its first checkpoint
        left = max(0.05, 1 - frames_done(progress(killed)) / total)
        if kill_after(analyze_args(inputs, killed, workers), rng.uniform(0.15, 0.9) * clean_seconds * left):
            kills += 1
            partial_states.append(progress(killed))
            if killed.exists():
                with sqlite3.connect(killed) as conn:
                    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert kills >= 2, "the runs finished before they could be killed: make the batches smaller"
    assert any(state and not all(complete for _, _, complete in state) for state in partial_states), partial_states

    resumed = run_otsensor(*analyze_args(inputs, killed, workers))
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed without the state" not in resumed.stderr
    assert all(complete for _, _, complete in progress(killed))
    assert report(killed) == expected


def test_a_resume_replays_the_inputs_whose_state_it_continued(inputs: list[Path], tmp_path: Path) -> None:
    """Killed inside the last input: the ones before it, complete, are replayed (not counted) before resuming."""
    clean = tmp_path / "clean.db"
    assert run_otsensor(*analyze_args(inputs, clean)).returncode == 0
    db = tmp_path / "second.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([*otsensor_argv(), *analyze_args(inputs, db)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        state = {name: (frames, complete) for name, frames, complete in progress(db)}
        last = state.get(str(inputs[-1]))
        if last and last[0] > 0 and not last[1]:
            break
        time.sleep(0.002)
    if proc.poll() is not None:
        pytest.fail("the last input was done before a partial checkpoint could be caught: make the batches smaller")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = run_otsensor(*analyze_args(inputs, db))
    assert resumed.returncode == 0, resumed.stderr
    assert "2 already in the database" in resumed.stdout
    assert report(db) == report(clean)

    again = run_otsensor(*analyze_args(inputs, db))
    assert "3 already in the database" in again.stdout
    assert report(db) == report(clean)  # a third run adds nothing
