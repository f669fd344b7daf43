"""The progress bar ``analyze`` draws on a terminal (standard error, redrawn in place)."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO

BAR_WIDTH = 30
PCAP_RECORD_HEADER = 16  # bytes before each frame; pcapng blocks are a little larger, so the bar may end short


@dataclass(frozen=True, slots=True)
class Progress:
    name: str
    done: int  # bytes of the current input consumed (estimated from frame lengths)
    size: int  # bytes in the current input, 0 when unknown (stdin)
    packets: int  # packets of the whole run so far
    seconds: float


def render(p: Progress) -> str:
    rate = p.packets / p.seconds if p.seconds > 0 else 0.0
    tail = f"{p.packets:,} packets  {rate:,.0f} pkt/s  {p.name}"
    if p.size <= 0:
        return f"{p.done / 1e6:,.1f} MB  {tail}"
    fraction = min(p.done / p.size, 1.0)
    filled = int(fraction * BAR_WIDTH)
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}  {tail}"


class ProgressBar:
    """Redraws one line; ``close`` ends it so the summary starts on a fresh line."""

    def __init__(self, stream: IO[str] = sys.stderr) -> None:
        self.stream = stream
        self.width = 0

    def __call__(self, p: Progress) -> None:
        line = render(p)
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(line))

    def close(self) -> None:
        """End the line (once: closing again writes nothing)."""
        if self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
