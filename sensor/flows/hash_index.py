"""A map from 64-bit key hashes to slots, looked up and changed a whole batch at a time.

A Python dict costs a call per key; a SYN flood brings a new key with nearly every packet. Kept as one
sorted array (and the slots beside it), a batch of lookups is one ``searchsorted``, and adding or removing a
batch of keys is one pass over the array.
"""
from __future__ import annotations

import numpy as np

MISSING = -1


class HashIndex:
    """Sorted hashes and their slots. A hash may appear more than once (two keys that collide): ``find``
    gives the first of them, and callers verify the key behind the slot."""

    def __init__(self) -> None:
        self._hashes = np.zeros(0, np.uint64)
        self._slots = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._hashes)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """The slot of each hash, or ``MISSING``."""
        if not len(self._hashes) or not len(hashes):
            return np.full(len(hashes), MISSING, np.int64)
        order = np.argsort(hashes)  # sorted needles walk the array once instead of jumping about it
        at = np.empty(len(hashes), np.int64)
        at[order] = np.minimum(np.searchsorted(self._hashes, hashes[order]), len(self._hashes) - 1)
        return np.where(self._hashes[at] == hashes, self._slots[at], MISSING)

    def add(self, hashes: np.ndarray, slots: np.ndarray) -> None:
        if not len(hashes):
            return
        order = np.argsort(hashes, kind="stable")
        at = np.searchsorted(self._hashes, hashes[order])
        self._hashes = np.insert(self._hashes, at, hashes[order])
        self._slots = np.insert(self._slots, at, slots[order])

    def remove(self, hashes: np.ndarray, slots: np.ndarray) -> None:
        """Remove these (hash, slot) entries; each must be present."""
        if not len(hashes):
            return
        order = np.argsort(hashes)
        hashes, slots = hashes[order], slots[order]
        left = np.searchsorted(self._hashes, hashes)
        right = np.searchsorted(self._hashes, hashes, side="right")
        at = left.copy()
        for i in np.flatnonzero(right - left > 1).tolist():  # a collided hash: find the entry of this slot
            at[i] = left[i] + int(np.flatnonzero(self._slots[left[i]:right[i]] == slots[i])[0])
        keep = np.ones(len(self._hashes), bool)
        keep[at] = False
        self._hashes, self._slots = self._hashes[keep], self._slots[keep]
