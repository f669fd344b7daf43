"""Faults of the machine, not of the traffic: one line on stderr naming the path, exit 2, a database left sound.

- An output folder that does not exist or is read-only, and a database that cannot take a write, are found
  before any packet is read: the input is a FIFO nobody ever writes to, so a sensor that opened it would hang
  (and time out) instead of exiting 2.
- A disk that fills up mid-run (a small tmpfs) can only be met when it happens: the commit that does not fit
  is rolled back whole, the checkpoints before it stand, and after the space is freed the same command
  resumes and ends with the assets of a clean run.
- Ctrl-C ends with exit 130 and no traceback, leaving a database the next run resumes.

Tests run as root, so file modes stop nothing: read-only means a read-only bind mount or ``chattr +i``.
Each test that needs ``mount`` or ``chattr`` skips, saying why, only where the facility is missing.
"""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv, run_otsensor

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"
POLICY = REPO_ROOT / "captures" / "scenarios" / "policy.yaml"
OUTPUTS = ("--events", "--flows", "--alerts")
TINY = "300k"  # a disk that a database outgrows early
TINY_SIZES = tuple(f"{k}k" for k in range(300, 1001, 20))  # tried in turn: the schema's size changes with migrations
ROOMY = "64m"


# --- the machinery: mounts, immutable files, the tripwire input --------------------------------------------

def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True)


@contextmanager
def mounted(*mount_args: str, target: Path, purpose: str) -> Iterator[Path]:
    """``mount ARGS TARGET`` for the duration; skips (with mount's own words) where mounting is not allowed."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        done = _run("mount", *mount_args, str(target))
    except FileNotFoundError:
        pytest.skip(f"no mount command here: cannot {purpose}")
    if done.returncode != 0:
        pytest.skip(f"cannot {purpose} here (not root, or no CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield target
    finally:
        if _run("umount", str(target)).returncode != 0:
            _run("umount", "-l", str(target))  # still busy (a child not yet reaped): detach it anyway


@contextmanager
def tmpfs(target: Path, size: str) -> Iterator[Path]:
    with mounted("-t", "tmpfs", "-o", f"size={size}", "tmpfs", target=target, purpose=f"mount a {size} tmpfs"):
        yield target


def resize(target: Path, size: str) -> None:
    done = _run("mount", "-o", f"remount,size={size}", str(target))
    assert done.returncode == 0, done.stderr


@contextmanager
def read_only_view(source: Path, target: Path) -> Iterator[Path]:
    """TARGET shows SOURCE through a read-only bind mount: writes there fail with EROFS, even for root."""
    with mounted("--bind", str(source), target=target, purpose="bind-mount a folder"):
        done = _run("mount", "-o", "remount,bind,ro", str(target))
        if done.returncode != 0:
            pytest.skip(f"cannot remount a bind mount read-only here: {done.stderr.strip()}")
        yield target


@contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """``chattr +i``: not even root may write, rename or delete it (and, for a folder, create files in it)."""
    try:
        done = _run("chattr", "+i", str(path))
    except FileNotFoundError:
        pytest.skip("no chattr command here (e2fsprogs)")
    if done.returncode != 0:
        pytest.skip(f"this filesystem does not take chattr +i: {done.stderr.strip()}")
    try:
        yield path
    finally:
        _run("chattr", "-i", str(path))  # or pytest could never delete tmp_path


@pytest.fixture
def tripwire(tmp_path: Path) -> Path:
    """An input that hangs whoever opens it: a FIFO nobody writes to."""
    fifo = tmp_path / "never-read.pcap"
    os.mkfifo(fifo)
    return fifo


def analyze_before_reading(*args: object) -> subprocess.CompletedProcess:
    """`otsensor analyze ARGS` that must give up without opening its input (the tripwire)."""
    try:
        return run_otsensor("analyze", *args, "--no-progress", timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("analyze opened its input before finding the fault (it hung on the FIFO)")


# --- what every fault must look like -----------------------------------------------------------------------

def assert_one_line(result: subprocess.CompletedProcess, path: Path, *causes: str, exit_code: int = 2) -> str:
    """Exit status, no traceback, and exactly one line on stderr: ``error: PATH: CAUSE``."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    if exit_code == 2:
        assert lines[0].startswith(f"error: {path}: "), lines[0]
        assert any(cause in lines[0] for cause in causes), lines[0]
    return lines[0]


def db_files(db: Path) -> list[Path]:
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")) if p.exists()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpoint(db: Path) -> tuple[int, int] | None:
    """(frames_done, complete) of the one file analysed, or None before the first checkpoint."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone():
            return None  # the disk was too small for the schema itself
        row = conn.execute("SELECT frames_done, complete FROM files").fetchone()
    return tuple(row) if row else None


def assets(db: Path) -> str:
    result = run_otsensor("assets", "--db", db, "--format", "json")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def big_capture(corpus: Path) -> Path:
    return corpus / "modbus" / "iti_ModbusTCP.pcap"  # 15,387 packets, 1.4 MB


@pytest.fixture(scope="module")
def clean_assets(big_capture: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """`assets --format json` after one undisturbed run, per --batch-frames (computed when first asked)."""

    class Clean(dict):
        def __missing__(self, batch_frames: int) -> str:
            db = tmp_path_factory.mktemp("clean") / "clean.db"
            result = run_otsensor("analyze", big_capture, "--db", db, "--strict", "--no-progress",
                                  "--batch-frames", str(batch_frames))
            assert result.returncode == 0, result.stderr
            self[batch_frames] = assets(db)
            return self[batch_frames]

    return Clean()


# --- checked before any packet is read ---------------------------------------------------------------------

@pytest.mark.parametrize("option", OUTPUTS)
def test_output_in_a_missing_folder_stops_before_reading_and_creates_no_database(
        option: str, tmp_path: Path, tripwire: Path) -> None:
    db, out = tmp_path / "x.db", tmp_path / "no-such-folder" / "out.jsonl"
    result = analyze_before_reading(tripwire, "--db", db, option, out, "--policy", POLICY)
    assert_one_line(result, out, "no such directory")
    assert result.stdout == ""
    assert db_files(db) == [] and not out.parent.exists()


@pytest.mark.parametrize("option", OUTPUTS)
def test_output_on_a_read_only_mount_stops_before_reading_and_creates_no_database(
        option: str, tmp_path: Path, tripwire: Path) -> None:
    source = tmp_path / "outputs"
    source.mkdir()
    db = tmp_path / "x.db"
    with read_only_view(source, tmp_path / "ro") as ro:
        result = analyze_before_reading(tripwire, "--db", db, option, ro / "out.jsonl", "--policy", POLICY)
    assert_one_line(result, ro / "out.jsonl", "read-only file system")
    assert db_files(db) == [] and list(source.iterdir()) == []


@pytest.mark.parametrize("option", OUTPUTS)
def test_immutable_output_file_stops_before_reading(option: str, tmp_path: Path, tripwire: Path) -> None:
    db, out = tmp_path / "x.db", tmp_path / "out.jsonl"
    out.write_text("kept\n")
    with immutable(out):
        result = analyze_before_reading(tripwire, "--db", db, option, out, "--policy", POLICY)
    assert_one_line(result, out, "not writable")
    assert db_files(db) == [] and out.read_text() == "kept\n"


def test_output_path_that_is_a_folder_stops_before_reading(tmp_path: Path, tripwire: Path) -> None:
    db = tmp_path / "x.db"
    result = analyze_before_reading(tripwire, "--db", db, "--events", tmp_path)
    assert_one_line(result, tmp_path, "is a directory")
    assert db_files(db) == []


def test_database_in_a_missing_folder_stops_before_reading(tmp_path: Path, tripwire: Path) -> None:
    db = tmp_path / "no-such-folder" / "x.db"
    result = analyze_before_reading(tripwire, "--db", db)
    assert_one_line(result, db, "no such directory")
    assert not db.parent.exists()


@pytest.fixture
def existing_db(tmp_path: Path) -> Path:
    """A database that already holds one small capture, in a folder of its own."""
    db = tmp_path / "site" / "plant.db"
    db.parent.mkdir()
    result = run_otsensor("analyze", SAMPLE, "--db", db, "--strict", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert db_files(db) == [db]  # WAL checkpointed and removed on close
    return db


def test_existing_database_on_a_read_only_mount_stops_before_reading(
        existing_db: Path, tmp_path: Path, tripwire: Path) -> None:
    before = sha256(existing_db)
    with read_only_view(existing_db.parent, tmp_path / "ro") as ro:
        result = analyze_before_reading(tripwire, "--db", ro / existing_db.name)
    assert_one_line(result, ro / existing_db.name, "read-only file system")
    assert sha256(existing_db) == before and db_files(existing_db) == [existing_db]


def test_new_database_on_a_read_only_mount_stops_before_reading(tmp_path: Path, tripwire: Path) -> None:
    source = tmp_path / "site"
    source.mkdir()
    with read_only_view(source, tmp_path / "ro") as ro:
        result = analyze_before_reading(tripwire, "--db", ro / "new.db", "--events", tmp_path / "events.jsonl")
    assert_one_line(result, ro / "new.db", "read-only file system")
    assert list(source.iterdir()) == []
    assert not (tmp_path / "events.jsonl").exists()  # outputs are opened only once the database is known good


def test_immutable_database_file_stops_before_reading(existing_db: Path, tripwire: Path) -> None:
    """Before: the whole capture was analysed, then the first commit died with a traceback."""
    before = sha256(existing_db)
    with immutable(existing_db):
        result = analyze_before_reading(tripwire, "--db", existing_db)
        assert_one_line(result, existing_db, "not writable")
    assert sha256(existing_db) == before
    assert checkpoint(existing_db) == (350, 1)  # still opens, still sound, still the one capture


def test_database_in_an_immutable_folder_stops_before_reading(existing_db: Path, tripwire: Path) -> None:
    before = sha256(existing_db)
    with immutable(existing_db.parent):
        for db in (existing_db, existing_db.parent / "new.db"):
            result = analyze_before_reading(tripwire, "--db", db)
            assert_one_line(result, db, "cannot create files in")
    assert sha256(existing_db) == before and db_files(existing_db) == [existing_db]


def test_new_database_on_a_disk_already_full_stops_before_reading_and_leaves_no_file(
        tmp_path: Path, tripwire: Path) -> None:
    with tmpfs(tmp_path / "small", "4k") as small:
        (small / "filler").write_bytes(b"\0" * 4096)
        db = small / "x.db"
        result = analyze_before_reading(tripwire, "--db", db)
        assert_one_line(result, db, "database or disk is full")
        assert db_files(db) == []


# --- met only when it happens: a disk that fills up mid-run ----------------------------------------------------

def test_database_disk_full_mid_run_is_one_line_and_the_rerun_resumes(
        big_capture: Path, clean_assets: dict[int, str], tmp_path: Path) -> None:
    args = ("--strict", "--no-progress", "--batch-frames", "1024")  # a checkpoint every 8,192 frames
    with ExitStack() as mounts:
        for size in TINY_SIZES:  # the smallest disk that holds a first checkpoint but not the whole run
            small = mounts.enter_context(tmpfs(tmp_path / f"small-{size}", size))
            db = small / "plant.db"
            full = run_otsensor("analyze", big_capture, "--db", db, *args)
            partial = checkpoint(db) if full.returncode else None
            if partial is not None and partial[0] > 0 and not partial[1]:
                break
        else:
            pytest.fail(f"no tmpfs size in {TINY_SIZES} filled after a checkpoint and before the end")
        assert_one_line(full, db, "database or disk is full")
        assert full.stdout == ""
        # Still on the full disk: the database opens, passes integrity_check, and kept its checkpoints.
        resize(small, ROOMY)
        resumed = run_otsensor("analyze", big_capture, "--db", db, *args)
        assert resumed.returncode == 0, resumed.stderr
        assert f"packets     {15387 - partial[0]:,}" in resumed.stdout  # resumed, not started over
        assert checkpoint(db) == (15387, 1)
        assert assets(db) == clean_assets[1024]


def test_events_disk_full_mid_run_is_one_line_and_the_rerun_resumes(
        big_capture: Path, clean_assets: dict[int, str], tmp_path: Path) -> None:
    """ENOSPC on the events file stops the run (it is not counted as a weird of the traffic)."""
    db = tmp_path / "plant.db"
    args = ("--db", db, "--strict", "--no-progress", "--batch-frames", "1024")
    with tmpfs(tmp_path / "small", TINY) as small:
        events = small / "events.jsonl"
        full = run_otsensor("analyze", big_capture, "--events", events, *args)
        assert_one_line(full, events, "No space left on device")
        progress = checkpoint(db)
        assert progress is None or progress[1] == 0, progress

        resize(small, ROOMY)
        resumed = run_otsensor("analyze", big_capture, "--events", events, *args)
        assert resumed.returncode == 0, resumed.stderr
        assert checkpoint(db) == (15387, 1)
        assert assets(db) == clean_assets[1024]
        assert events.stat().st_size > 0


def test_alerts_disk_full_is_one_line(tmp_path: Path) -> None:
    """The alerts file is written last: the analysis is committed, only the file is missing."""
    db = tmp_path / "plant.db"
    scenario = REPO_ROOT / "captures" / "scenarios" / "enterprise_plc_write.pcap"
    with tmpfs(tmp_path / "small", "4k") as small:
        (small / "filler").write_bytes(b"\0" * 4096)
        alerts = small / "alerts.jsonl"
        result = run_otsensor("analyze", scenario, "--db", db, "--policy", POLICY, "--alerts", alerts,
                              "--strict", "--no-progress")
        assert_one_line(result, alerts, "No space left on device")
    assert checkpoint(db) is not None and checkpoint(db)[1] == 1


# --- Ctrl-C ---------------------------------------------------------------------------------------------------

def test_ctrl_c_exits_130_quietly_and_the_rerun_resumes(
        big_capture: Path, clean_assets: dict[int, str], tmp_path: Path) -> None:
    db = tmp_path / "plant.db"
    args = ("--strict", "--no-progress", "--batch-frames", "64")  # a checkpoint every 512 frames
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([*otsensor_argv(), "analyze", str(big_capture), "--db", str(db), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as conn:
                    row = conn.execute("SELECT frames_done, complete FROM files").fetchone()
            except sqlite3.OperationalError:
                row = None  # schema not there yet, or busy
            if row and row[0] > 0 and not row[1]:
                break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail("the run finished before a partial checkpoint could be observed: make the batches smaller")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    line = assert_one_line(result, db, exit_code=130)
    assert line.startswith("interrupted: ") and str(db) in line

    partial = checkpoint(db)
    assert partial is not None and partial[1] == 0
    resumed = run_otsensor("analyze", big_capture, "--db", db, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint(db) == (15387, 1)
    assert assets(db) == clean_assets[64]
