"""How regularly a client asks a server: a histogram of the gaps between its requests.

Bins are half-octaves from 1 ms (bin ``b`` holds gaps in [2^(b/2), 2^((b+1)/2)) ms, so each is ~41 % wide)
up to about six hours; counts add up when deltas merge, so the histogram of a whole run is the sum of its
flushes, whatever the batch boundaries. An HMI that reads three register blocks every second has many
gaps of a few milliseconds (inside one poll cycle) and as many of one second (between cycles): the cycle
is the most common gap above ``BURST_GAP_S``, and the share of cycle gaps near it says how steady it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BINS = 50
BURST_GAP_S = 0.05  # gaps shorter than this are requests of one poll cycle, not the cycle
MIN_CYCLES = 10  # cycle gaps needed before a period is trusted
STEADY_SHARE = 0.8  # share of cycle gaps within one bin of the most common that makes polling steady
_FIRST_CYCLE_BIN = math.floor(2 * math.log2(BURST_GAP_S / 0.001))  # the bin that holds BURST_GAP_S


def bins(gaps: np.ndarray) -> np.ndarray:
    """The bin of each gap given in seconds."""
    return np.clip(np.floor(2 * np.log2(np.maximum(gaps, 1e-9) / 0.001)), 0, BINS - 1).astype(np.int64)


def histogram(gaps: np.ndarray) -> np.ndarray:
    """Counts per bin of gaps given in seconds."""
    return np.bincount(bins(gaps), minlength=BINS)


def add(stored: list[int], incoming: list[int]) -> list[int]:
    """Merge two histograms (an empty list is an empty histogram)."""
    if not stored or not incoming:
        return list(stored or incoming)
    return [a + b for a, b in zip(stored, incoming)]


@dataclass(frozen=True, slots=True)
class Cycle:
    """The polling cycle read from a histogram: its period, how many cycle gaps, and the share near it."""

    period_s: float
    cycles: int
    share: float

    @property
    def steady(self) -> bool:
        return self.cycles >= MIN_CYCLES and self.share >= STEADY_SHARE


def cycle(counts: list[int], cycle_sum: float, cycle_count: int) -> Cycle | None:
    """The polling cycle: the mean of the gaps above the burst threshold (their sum and count are kept
    exactly), and the share of them near the most common bin; None when there are too few to tell."""
    if not counts or cycle_count < MIN_CYCLES:
        return None
    above = np.asarray(counts[_FIRST_CYCLE_BIN:], dtype=np.int64)
    mode = int(np.argmax(above))
    near = int(above[max(mode - 1, 0):mode + 2].sum())
    return Cycle(cycle_sum / cycle_count, cycle_count, min(near / cycle_count, 1.0))
