"""A map from 64-bit key hashes to slots, looked up and changed a whole batch at a time.

A Python dict costs a call per key; a SYN flood brings a new key with nearly every packet. A sorted array
answers a batch with one ``searchsorted`` but changes with a pass over the whole array, and a flood changes it
every batch. So these are open-addressing tables (linear probing) in numpy arrays: a batch walks its probe
sequences together, one step per round, every key of the batch at once, and costs what the batch holds, not
what the table holds. Rounds run as long as the longest probe sequence of the batch, which a table kept at
most ``MAX_LOAD`` full keeps short.
"""
from __future__ import annotations

import numpy as np

MISSING = -1
MAX_LOAD = 0.5  # positions in use (removed ones included) past which a table is rebuilt
ROOM = 4  # a rebuilt table has this many positions per key it holds, so churn waits long for the next rebuild
_EMPTY, _GONE = -1, -2  # slot of a position never used / of a removed entry; claims are coded below these
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of hash * this pick the position


def _positions(hashes: np.ndarray, bits: int) -> np.ndarray:
    """Each hash's first position in a table of ``1 << bits``."""
    return ((hashes * _SPREAD) >> np.uint64(64 - bits)).astype(np.int64)


def _bits_for(keys: int) -> int:
    """Table size (as bits) for ``keys`` entries with ``ROOM`` positions each."""
    return max(10, int(keys * ROOM).bit_length())


class HashIndex:
    """Hashes and their slots. A hash may appear more than once (two keys that collide): ``find`` gives one
    of them, and callers verify the key behind the slot; ``remove`` says which by its slot."""

    def __init__(self) -> None:
        self._new_table(10)
        self._count = 0  # entries
        self._used = 0  # positions not empty: entries and removed ones

    def __len__(self) -> int:
        return self._count

    def _new_table(self, bits: int) -> None:
        """Each position is a row (slot, hash as int64): one probe reads one cache line."""
        self._bits = bits
        self._table = np.zeros((1 << bits, 2), np.int64)
        self._table[:, 0] = _EMPTY
        self._flat = self._table.reshape(-1)  # slot of position p at 2p, its hash at 2p + 1

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """The slot of each hash, or ``MISSING``."""
        out = np.full(len(hashes), MISSING, np.int64)
        if not self._count or not len(hashes):
            return out
        hashes = np.ascontiguousarray(hashes, np.uint64)
        mask = (1 << self._bits) - 1
        todo, pos, wanted = np.arange(len(hashes)), _positions(hashes, self._bits), hashes.view(np.int64)
        while len(todo):
            rows = self._table.take(pos, axis=0)
            hit = (rows[:, 1] == wanted) & (rows[:, 0] >= 0)
            out[todo[hit]] = rows[hit, 0]
            on = ~hit & (rows[:, 0] != _EMPTY)  # past an empty position the hash is not in the table
            todo, pos, wanted = todo[on], (pos[on] + 1) & mask, wanted[on]
        return out

    def add(self, hashes: np.ndarray, slots: np.ndarray) -> None:
        if not len(hashes):
            return
        if self._used + len(hashes) > MAX_LOAD * (1 << self._bits):
            self._rebuild(self._count + len(hashes))
        self._place(np.ascontiguousarray(hashes, np.uint64), np.asarray(slots, np.int64))

    def remove(self, hashes: np.ndarray, slots: np.ndarray) -> None:
        """Remove these (hash, slot) entries; each must be present."""
        if not len(hashes):
            return
        hashes = np.ascontiguousarray(hashes, np.uint64)
        slots = np.asarray(slots, np.int64)
        wanted = hashes.view(np.int64)
        mask = (1 << self._bits) - 1
        todo, pos = np.arange(len(hashes)), _positions(hashes, self._bits)
        while len(todo):
            rows = self._table.take(pos, axis=0)
            if np.any(rows[:, 0] == _EMPTY):
                raise KeyError("HashIndex.remove: an entry that is not in the index")
            hit = np.flatnonzero((rows[:, 0] == slots[todo]) & (rows[:, 1] == wanted[todo]))
            if len(hit):  # one batch may remove two equal entries: each takes its own position
                at, code = 2 * pos[hit], _GONE - 1 - todo[hit]
                self._flat[at] = code
                won = self._flat[at] == code
                self._flat[at] = _GONE
                self._count -= int(np.count_nonzero(won))
                done = np.zeros(len(todo), bool)
                done[hit[won]] = True
                todo, pos = todo[~done], pos[~done]
            pos = (pos + 1) & mask

    def _place(self, hashes: np.ndarray, slots: np.ndarray) -> None:
        """Put each entry at the first free position of its probe sequence. Entries of one round that meet at
        a position claim it by writing their own code there; the one whose code stayed has it."""
        mask = (1 << self._bits) - 1
        flat, wanted = self._flat, hashes.view(np.int64)
        todo, pos = np.arange(len(hashes)), _positions(hashes, self._bits)
        while len(todo):
            stored = flat.take(2 * pos)
            free = np.flatnonzero(stored < 0)  # never used, or removed
            at, code = 2 * pos[free], _GONE - 1 - todo[free]
            flat[at] = code
            won = flat[at] == code
            at, who = at[won], todo[free[won]]
            flat[at] = slots[who]
            flat[at + 1] = wanted[who]
            self._count += len(who)
            self._used += int(np.count_nonzero(stored[free[won]] == _EMPTY))
            placed = np.zeros(len(todo), bool)
            placed[free[won]] = True
            todo, pos = todo[~placed], (pos[~placed] + 1) & mask

    def _rebuild(self, keys: int) -> None:
        """A table sized for ``keys`` entries holding the present ones, without the removed. Placed in the
        order of their first positions, each entry goes to the first position past its own and past the
        previous entry's: a running maximum, written in one sequential pass."""
        live = self._table.take(np.flatnonzero(self._flat[0::2] >= 0), axis=0)
        bits = _bits_for(keys)
        if bits == self._bits:
            self._flat[0::2] = _EMPTY  # the same size: the memory is reused (a hash beside an empty slot is never read)
        else:
            self._new_table(bits)
        hashes = np.ascontiguousarray(live[:, 1]).view(np.uint64)
        home = _positions(hashes, self._bits)
        order = np.argsort(home, kind="stable")  # the old table's order is nearly this one: few runs to merge
        hashes, slots, home = hashes[order], live[order, 0], home[order]
        step = np.arange(len(home))
        pos = step + np.maximum.accumulate(home - step) if len(home) else home
        inside = pos < (1 << self._bits)
        self._flat[2 * pos[inside]] = slots[inside]
        self._flat[2 * pos[inside] + 1] = hashes[inside].view(np.int64)
        self._count = self._used = int(np.count_nonzero(inside))
        self._place(hashes[~inside], slots[~inside])  # past the table's end: they go on at its start
