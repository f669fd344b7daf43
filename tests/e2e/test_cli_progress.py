"""The progress bar in a terminal of a given width: one line redrawn in place, never wrapped, ending at 100 %.

A frame longer than the terminal wraps, and ``\\r`` then redraws only its last row: every frame would stay in
the scrollback. So every frame must fit in the width less one column.
"""
from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"


def run_in_terminal(argv: list[str], cols: int) -> str:
    """ARGV with a terminal ``cols`` wide as its standard output and error; all it wrote, decoded."""
    pid, fd = pty.fork()
    if pid == 0:  # the child sizes its own terminal before anything can ask its width
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        os.environ["PYTHONPATH"] = str(REPO_ROOT)
        os.execv(argv[0], argv)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    return out.decode()


@pytest.fixture(scope="module")
def long_pcapng(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as pcapng (its blocks are larger than the bar's estimate per frame) under a long absolute path."""
    folder = tmp_path_factory.mktemp("evidence") / "case-2026-0042" / "site-north" / "substation-7" / "mirror-port"
    folder.mkdir(parents=True)
    target = folder / "iti_modbus_test_data_part2-converted-for-the-progress-test.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(SAMPLE), str(target)], check=True)
    return target


def frames(out: str) -> list[str]:
    """The bar's frames: what was drawn after each carriage return, before the summary (the terminal turns
    the newline that ends the bar into CR LF, which splits off nothing)."""
    bar = out.partition("files ")[0]
    return [frame for frame in (part.rstrip("\n") for part in bar.split("\r")[1:]) if frame]


@pytest.mark.parametrize("cols", [60, 80, 200])
def test_the_bar_fits_the_terminal_and_ends_at_100_percent(cols: int, long_pcapng: Path, tmp_path: Path) -> None:
    out = run_in_terminal([*otsensor_argv(), "analyze", str(long_pcapng), "--db", str(tmp_path / "t.db"),
                           "--batch-frames", "40"], cols)
    drawn = frames(out)
    assert len(drawn) > 3, out
    assert max(len(frame) for frame in drawn) < cols, drawn
    assert "100%" in drawn[-1] and "350 packets" in drawn[-1]
    name = drawn[-1].rstrip().rpartition("  ")[2]
    if cols >= 200:
        assert name in (str(long_pcapng), long_pcapng.name)  # the path if it fits, else the whole file name
    else:
        assert name.startswith("…") and long_pcapng.name.endswith(name[1:])  # the name's end, where names differ
    assert "\nfiles       1 analysed" in out
