"""The terminal an output goes to: its width, and a standard output whose reader may leave early."""
from __future__ import annotations

import os
import sys
from typing import IO

DEFAULT_COLUMNS = 80  # a terminal that does not say its width (a pty nobody sized)


def columns(stream: IO[str]) -> int | None:
    """The width of the terminal ``stream`` writes to, or None when it is not a terminal (a file, a pipe)."""
    try:
        if not stream.isatty():
            return None
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None
    return width if width > 0 else DEFAULT_COLUMNS


def say(text: str) -> None:
    """Write ``text`` and a newline to standard output. A reader that closed the pipe (``| head``) wanted no
    more: the rest of the output goes nowhere, quietly, and the command ends with its own status."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_gone()


def stdout_gone() -> None:
    """Point standard output at /dev/null, so that Python's flush at exit does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
