"""Plain helpers the tests import (``from helpers import ...``): where the corpus is, how to run the CLI.

A module of its own, not conftest.py, because several folders have a conftest.py and ``from conftest import``
would pick whichever pytest imported first.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def captures_dir() -> Path:
    """The shared corpus: $OTSENSOR_CAPTURES, else ../shared/captures beside the repository."""
    env = os.environ.get("OTSENSOR_CAPTURES")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "captures").resolve()


def otsensor_argv() -> list[str]:
    """The CLI of this checkout as a module, so tests run the working tree even when not pip-installed."""
    return [sys.executable, "-m", "sensor.cli"]


def run_otsensor(*args: str, cwd: Path | None = None, timeout: float = 900,
                 stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run `otsensor ARGS` as a subprocess (as users do), capturing stdout and stderr as text."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([*otsensor_argv(), *map(str, args)], cwd=cwd or REPO_ROOT, env=env, input=stdin,
                          capture_output=True, timeout=timeout, text=stdin is None)


class NonSeekable(io.RawIOBase):
    """A pipe stand-in (how stdin behaves): short reads of at most ``step`` bytes, no seeking."""

    def __init__(self, raw: bytes, step: int = 1 << 30) -> None:
        self._raw, self._pos, self._step = raw, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self._step, len(self._raw) - self._pos)
        b[:n] = self._raw[self._pos:self._pos + n]
        self._pos += n
        return n


def stored_communications(db: Path) -> list[tuple]:
    """Every column of every stored communication, sorted: the facts policy, paths and the report's blind spots
    read, compared whole where runs must agree (workers, kill and resume)."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return sorted(conn.execute("SELECT * FROM communications"))
