"""Numbers as a person reads them in a baseline file, and as the models search them."""
from __future__ import annotations

from typing import Literal

import numpy as np


def plain(value: float) -> int | float:
    """Whole numbers without ``.0`` (counts and register values are integers); others to 3 decimals."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 3)


KEY_SHIFT = 41  # bits of a position in ``keyed``; key numbers take the bits above


def keyed(which: np.ndarray, position: np.ndarray) -> np.ndarray:
    """One sortable int64 per (key number, position), so a single search answers for many keys' sorted
    positions at once. Positions lie within ±2**40 (point addresses: Modbus's have 16 bits), key numbers
    below 2**21; key number -1 (an unknown key) sorts before every other key."""
    return (np.asarray(which, dtype=np.int64) << KEY_SHIFT) + (np.asarray(position, dtype=np.int64) + (1 << 40))


SMALL_TABLE = 4096  # entries (32 KB of int64): a table this small stays in L1 cache, so order does not matter


def search(table: np.ndarray, needles: np.ndarray, side: Literal["left", "right"] = "left") -> np.ndarray:
    """``np.searchsorted`` for needles in any order. Needles in random order (requests to random addresses)
    make a binary search over a large table miss cache and mispredict branches at every step, costing a few
    times a sort of the needles; so a large table is searched for the needles in sorted order."""
    if len(table) <= SMALL_TABLE:
        return np.searchsorted(table, needles, side=side)
    order = np.argsort(needles)
    at = np.empty(len(order), dtype=np.intp)
    at[order] = np.searchsorted(table, needles[order], side=side)
    return at
