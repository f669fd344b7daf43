"""``analyze --workers 2`` that fails (a worker killed, Ctrl-C, the run itself killed) leaves no shared memory
segment in /dev/shm and no worker behind.

The run goes through the real command line on a corpus capture with small batches, so it is still reading when
the test strikes; the test notes every /dev/shm file the reader and its workers map at that moment, and after
the run checks that none of them, and nothing else new, is left in /dev/shm.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv

SHM = Path("/dev/shm")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def shm_files_mapped(pids: list[int]) -> set[str]:
    """The /dev/shm files the processes map (a named segment shows there, unlinked or not)."""
    found = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        found |= {line.split("/dev/shm/", 1)[1].split()[0] for line in maps.splitlines() if "/dev/shm/" in line}
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("strike", ["worker killed", "interrupted", "run killed"])
def test_a_failed_run_leaves_no_shared_memory_and_no_worker(corpus: Path, tmp_path: Path, strike: str) -> None:
    before = set(os.listdir(SHM))
    args = ["analyze", str(corpus / "modbus" / "iti_ModbusTCP.pcap"), "--db", str(tmp_path / "x.db"),
            "--workers", "2", "--no-progress", "--batch-frames", "16"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.Popen([*otsensor_argv(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        deadline = time.monotonic() + 60
        while len(workers := children(run.pid)) < 2 or not (tmp_path / "x.db").exists():
            assert run.poll() is None and time.monotonic() < deadline, "the run ended before the test could strike"
            time.sleep(0.01)
        time.sleep(0.3)  # well into the reading
        mapped = shm_files_mapped([run.pid, *workers])
        assert run.poll() is None, "the run ended before the test could strike: make the batches smaller"
        if strike == "worker killed":
            os.kill(workers[0], signal.SIGKILL)
        else:
            run.send_signal(signal.SIGINT if strike == "interrupted" else signal.SIGKILL)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode != 0
    if strike == "worker killed":
        assert "stopped" in err, err
    elif strike == "interrupted":
        assert "interrupted" in err, err
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:  # PR_SET_PDEATHSIG is asynchronous
        time.sleep(0.01)
    assert not [pid for pid in workers if alive(pid)]
    left = set(os.listdir(SHM))
    assert not mapped & left, f"segments left in /dev/shm: {mapped & left}"
    time.sleep(0.2)  # what other tests' runs make and unlink at once (multiprocessing's semaphores) is gone by now
    lasting = {name for name in left - before if (SHM / name).exists()}
    assert not lasting, f"new in /dev/shm: {lasting}"
