"""``analyze --workers 2`` on a terminal draws the progress line with the run's rate, as one process does (the
reader once timed it from a capture timestamp, and the line said 0 pkt/s)."""
from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_progress_line_shows_the_rate(corpus: Path, tmp_path: Path, workers: str) -> None:
    primary, terminal = pty.openpty()  # standard error a terminal: the progress line is drawn
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    args = ["analyze", str(corpus / "modbus" / "iti_ModbusTCP.pcap"), "--db", str(tmp_path / "p.db"),
            "--workers", workers]
    with subprocess.Popen([*otsensor_argv(), *args], env=env, stdout=subprocess.DEVNULL, stderr=terminal) as run:
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the run closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
    os.close(primary)
    assert run.returncode == 0, drawn
    rates = [int(rate.replace(b",", b"")) for rate in re.findall(rb"([\d,]+) pkt/s", drawn)]
    assert rates and rates[-1] > 0, drawn
