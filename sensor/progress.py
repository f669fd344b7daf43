"""The progress bar ``analyze`` draws on a terminal (standard error, redrawn in place)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import IO

from sensor.terminal import DEFAULT_COLUMNS, columns

BAR_WIDTH = 30
PCAP_RECORD_HEADER = 16  # bytes before each frame; pcapng blocks are a little larger, so the bar may end short
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Progress:
    name: str
    done: int  # bytes of the current input consumed (estimated from frame lengths)
    size: int  # bytes in the current input, 0 when unknown (stdin)
    packets: int  # packets of the whole run so far
    seconds: float


def render(p: Progress, width: int = 1 << 16) -> str:
    """One frame, at most ``width`` characters: the file name is shortened first, then the bar goes."""
    rate = p.packets / p.seconds if p.seconds > 0 else 0.0
    counts = f"{p.packets:,} packets  {rate:,.0f} pkt/s"
    if p.size <= 0:
        head = f"{p.done / 1e6:,.1f} MB  {counts}"
    else:
        fraction = min(p.done / p.size, 1.0)
        filled = int(fraction * BAR_WIDTH)
        head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}  {counts}"
        if len(head) + 2 + min(len(p.name), 12) > width:  # too narrow for the bar: the percentage stays
            head = f"{fraction:4.0%}  {counts}"
    room = width - len(head) - 2
    if room <= 0:
        return head[:width]
    return f"{head}  {shorten(p.name, room)}"


def shorten(name: str, room: int) -> str:
    """The name whole if it fits; else its file name, kept from the end (where names differ) if need be."""
    if len(name) <= room:
        return name
    base = os.path.basename(name) or name
    if len(base) <= room:
        return base
    return ELLIPSIS + base[len(base) - room + 1:] if room > 1 else ""


class ProgressBar:
    """Redraws one line, never longer than the terminal is wide (a longer one wraps, and ``\\r`` then
    redraws only its last part, leaving copies stacked in the scrollback); ``finish`` draws the run
    complete, ``close`` ends the line so the summary starts on a fresh one."""

    def __init__(self, stream: IO[str] = sys.stderr) -> None:
        self.stream = stream
        self.width = 0
        self.last: Progress | None = None

    def __call__(self, p: Progress) -> None:
        self.last = p
        room = (columns(self.stream) or DEFAULT_COLUMNS) - 1  # the last column would move the cursor on
        line = render(p, room)
        self.stream.write("\r" + line.ljust(min(self.width, room)))
        self.stream.flush()
        self.width = max(self.width, len(line))

    def finish(self) -> None:
        """The last frame at 100 %: byte counts estimated from frame lengths fall a little short of a file's size."""
        if self.last is not None and self.last.size > 0:
            self(replace(self.last, done=self.last.size))
        self.close()

    def close(self) -> None:
        """End the line (once: closing again writes nothing)."""
        if self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
