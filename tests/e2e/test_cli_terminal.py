"""On a terminal, analyze draws a progress bar on standard error; piped, it prints only the summary."""
from __future__ import annotations

import os
import pty
from pathlib import Path

from helpers import REPO_ROOT, otsensor_argv, run_otsensor

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"


def run_on_a_terminal(argv: list[str]) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout and stderr are the terminal
        os.environ["PYTHONPATH"] = str(REPO_ROOT)
        os.execv(argv[0], argv)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    return out.decode()


def test_progress_bar_on_a_terminal_then_the_summary(tmp_path: Path) -> None:
    out = run_on_a_terminal([*otsensor_argv(), "analyze", str(SAMPLE), "--db", str(tmp_path / "t.db"),
                             "--batch-frames", "50"])
    bar, _, summary = out.rpartition("\n" + "files")
    assert "\r[" in bar and "100%" in bar and "350 packets" in bar
    assert "packets     350" in summary and "pkt" not in summary.splitlines()[0]


def test_no_progress_when_piped(tmp_path: Path) -> None:
    result = run_otsensor("analyze", SAMPLE, "--db", tmp_path / "p.db")
    assert result.returncode == 0
    assert "\r" not in result.stderr and "[" not in result.stderr
    assert result.stdout.startswith("files       1 analysed")
