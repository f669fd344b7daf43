"""Reading commands on evidence: a read-only mount, a mistyped path, a reader that leaves the pipe early.

Tests run as root, so file modes stop nothing: read-only means a read-only bind mount (the machinery of
test_analyze_faults.py).
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv, run_otsensor
from test_analyze_faults import read_only_view

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"
PLC = "166.161.16.230"
READING = [["assets"], ["alerts"], ["paths"], ["policy", "suggest"]]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("analysed") / "plant.db"
    done = run_otsensor("analyze", SAMPLE, "--db", db)
    assert done.returncode == 0, done.stderr
    return db


def evidence_folder(analysed: Path, folder: Path, *, wal_commit: bool) -> Path:
    """A copy of the database as it was left; with ``wal_commit`` its -wal still holds a commit (the
    PLC retyped as an HMI) that only a reader replaying the WAL sees, as after a crash."""
    folder.mkdir()
    shutil.copyfile(analysed, folder / "plant.db")
    if not wal_commit:
        return folder / "plant.db"
    conn = sqlite3.connect(folder / "plant.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE assets SET device_type = 'hmi' WHERE ip = ?", [PLC])
    frozen = folder.parent / f"{folder.name}-frozen"
    frozen.mkdir()
    shutil.copyfile(folder / "plant.db", frozen / "plant.db")  # while the writer still holds its -wal
    shutil.copyfile(folder / "plant.db-wal", frozen / "plant.db-wal")
    conn.close()
    return frozen / "plant.db"


@pytest.mark.parametrize("wal_commit", [False, True], ids=["closed-cleanly", "wal-holds-a-commit"])
def test_reading_commands_work_on_a_read_only_mount(analysed: Path, tmp_path: Path, wal_commit: bool) -> None:
    db = evidence_folder(analysed, tmp_path / "evidence", wal_commit=wal_commit)
    before = sorted(p.name for p in db.parent.iterdir())
    with read_only_view(db.parent, tmp_path / "ro") as view:
        for command in READING:
            done = run_otsensor(*command, "--db", view / db.name)
            assert done.returncode == 0 and not done.stderr, (command, done.stderr)
        listed = json.loads(run_otsensor("assets", "--db", view / db.name, "--format", "json").stdout)
    assert {a["ip"]: a["device_type"] for a in listed}[PLC] == ("hmi" if wal_commit else "plc")
    assert sorted(p.name for p in db.parent.iterdir()) == before


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_missing_database_is_refused_and_not_created(command: list[str], tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    done = run_otsensor(*command, "--db", typo)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {typo}: no such database") and done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["assets", "--format", "json"], ["alerts", "--format", "csv"],
                                     ["paths", "--format", "json"]], ids=" ".join)
def test_a_pipe_closed_early_ends_quietly(command: list[str], analysed: Path) -> None:
    """``| head -0``: the reader leaves before the first line; the command ends with status 0 and no traceback
    (closed before the command starts writing, so the output cannot slip into the pipe's buffer first)."""
    proc = subprocess.Popen([*otsensor_argv(), *command, "--db", str(analysed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_analyze_into_a_closed_pipe_keeps_its_status(tmp_path: Path) -> None:
    """The summary cannot be printed, but the database is complete: ``analyze | true`` is a success."""
    db = tmp_path / "p.db"
    proc = subprocess.Popen([*otsensor_argv(), "analyze", str(SAMPLE), "--db", str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""
    assert json.loads(run_otsensor("assets", "--db", db, "--format", "json").stdout)
