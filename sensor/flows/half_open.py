"""Connection attempts nobody has answered yet, kept as columns instead of flow objects.

A SYN scan, a ping sweep or a UDP flood opens a new flow with nearly every packet. A Python ``Flow`` per
packet would cost more than the rest of the pipeline together and the table would churn through its limit.
So a flow whose packets so far all went one way and carried nothing to parse (bare SYNs; datagrams on no
dissector's port; ICMP) lives here, one row per attempt, until it is either *answered* (a packet comes back,
or the sender goes on with data) and becomes a ``Flow`` with everything it counted, or it *ends*: it idled
``TIMEOUT`` seconds of packet time, was evicted, or its input ended. An ended attempt is a fact about its
sender (``sensor.inventory.scans``), never an asset of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensor.flows.hash_index import HashIndex

MAX_HALF_OPEN = 262_144  # attempts tracked at once; the least recently active end beyond it
TIMEOUT = 600.0  # seconds of packet time an unanswered attempt waits for an answer
KEY_COLUMNS = ("a_hi", "a_lo", "b_hi", "b_lo", "ports_proto")  # the flow key, as FlowTable builds it
COLUMNS: dict[str, type] = {
    **dict.fromkeys(KEY_COLUMNS, np.uint64),
    "src_is_a": np.bool_,  # the sender is side A of the key
    "id": np.int64, "first_ts": np.float64, "last_ts": np.float64, "first_frame": np.int64, "file": np.int32,
    "packets": np.int64, "bytes": np.int64, "flags": np.int64, "mac": np.uint64, "mac_frame": np.int64,
    "l2_broadcast": np.bool_,
    "syn_seq": np.int64, "syn_wscale": np.int64,  # the latest SYN's: its stream starts there once answered
}


_GIVEN = COLUMNS.keys() - {"file"}  # the columns ``HalfOpen.add`` is given: every one (its rows are not cleared)


@dataclass(slots=True)
class Attempts:
    """Rows of the table, as columns (``COLUMNS``); ``files`` names the ``file`` indices."""

    columns: dict[str, np.ndarray]
    files: list[str]

    def __len__(self) -> int:
        return len(self.columns["id"])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise AttributeError(name) from None

    def sender(self) -> tuple[np.ndarray, np.ndarray]:
        """(hi, lo) of each attempt's sender."""
        a = self.columns["src_is_a"]
        return (np.where(a, self.columns["a_hi"], self.columns["b_hi"]),
                np.where(a, self.columns["a_lo"], self.columns["b_lo"]))

    def target(self) -> tuple[np.ndarray, np.ndarray]:
        a = self.columns["src_is_a"]
        return (np.where(a, self.columns["b_hi"], self.columns["a_hi"]),
                np.where(a, self.columns["b_lo"], self.columns["a_lo"]))

    def ports(self) -> tuple[np.ndarray, np.ndarray]:
        """(sender port, target port) of each attempt."""
        pp = self.columns["ports_proto"]
        a_port, b_port = ((pp >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.int64), (pp & np.uint64(0xFFFF)).astype(np.int64)
        a = self.columns["src_is_a"]
        return np.where(a, a_port, b_port), np.where(a, b_port, a_port)

    def proto(self) -> np.ndarray:
        return (self.columns["ports_proto"] >> np.uint64(32)).astype(np.int64)


class HalfOpen:
    """The attempts table: columns indexed by a 64-bit hash of the flow key, verified on every lookup."""

    def __init__(self) -> None:
        self._cols = {name: np.zeros(1024, dtype) for name, dtype in COLUMNS.items()}
        self._index = HashIndex()  # key hash -> slot
        self._hash = np.zeros(1024, np.uint64)
        self._live = np.zeros(1024, bool)
        self._free = np.arange(1023, -1, -1)  # slots to reuse, taken from the end
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._index)

    def find(self, hashes: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
        """The slot of each key, or -1. A hash whose stored key differs (a collision) is reported as -2:
        the caller tracks that flow as a ``Flow`` instead."""
        slots = self._index.find(hashes)
        hit = np.flatnonzero(slots >= 0)
        if len(hit):
            same = np.ones(len(hit), bool)
            for name, column in zip(KEY_COLUMNS, keys):
                same &= self._cols[name][slots[hit]] == column[hit]
            slots[hit[~same]] = -2
        return slots

    def add(self, hashes: np.ndarray, values: dict[str, np.ndarray], file: str) -> None:
        """New attempts (every column of ``COLUMNS`` but ``file``), all of one input."""
        if values.keys() != _GIVEN:
            raise ValueError(f"HalfOpen.add needs the columns {sorted(_GIVEN)}")
        n = len(hashes)
        if len(self._free) < n:
            self._grow(len(self._live) - len(self._free) + n)
        slots, self._free = self._free[len(self._free) - n:][::-1], self._free[:len(self._free) - n]
        for name, column in values.items():
            self._cols[name][slots] = column
        self._cols["file"][slots] = self._file(file)
        self._hash[slots] = hashes
        self._live[slots] = True
        self._index.add(hashes, slots)

    def grow(self, slots: np.ndarray, packets: np.ndarray, octets: np.ndarray, flags: np.ndarray,
             last_ts: np.ndarray, l2_broadcast: np.ndarray, syn_seq: np.ndarray, syn_wscale: np.ndarray) -> None:
        """More unanswered packets of known attempts."""
        c = self._cols
        c["syn_seq"][slots] = syn_seq
        c["syn_wscale"][slots] = syn_wscale
        c["packets"][slots] += packets
        c["bytes"][slots] += octets
        c["flags"][slots] |= flags
        c["last_ts"][slots] = np.maximum(c["last_ts"][slots], last_ts)
        c["l2_broadcast"][slots] |= l2_broadcast

    def take(self, slots: np.ndarray) -> Attempts:
        """Remove these attempts and return them, in the order given."""
        out = Attempts({name: column[slots] for name, column in self._cols.items()}, self._files)
        self._index.remove(self._hash[slots], slots)
        self._live[slots] = False
        self._free = np.concatenate([self._free, slots[::-1]])
        return out

    def idle(self, before: float) -> np.ndarray:
        """Slots of the attempts last active before ``before``, least recently active first."""
        live = np.flatnonzero(self._live)
        return self._by_activity(live[self._cols["last_ts"][live] < before])

    def oldest(self, count: int) -> np.ndarray:
        """Slots of the ``count`` least recently active attempts, least recently active first; of attempts last
        active at the same time, the earlier begun goes first."""
        live = np.flatnonzero(self._live)
        if count <= 0:
            return live[:0]
        if count >= len(live):
            return self._by_activity(live)
        last_ts = self._cols["last_ts"][live]
        bound = np.partition(last_ts, count - 1)[count - 1]  # the count-th least recent time
        below, tied = live[last_ts < bound], live[last_ts == bound]
        tied = tied[np.argsort(self._cols["id"][tied])[:count - len(below)]]  # ids are distinct: any sort will do
        return self._by_activity(np.concatenate([below, tied]))

    def all(self) -> np.ndarray:
        """Every slot, in the order the attempts began."""
        live = np.flatnonzero(self._live)
        return live[np.argsort(self._cols["id"][live])]

    def _by_activity(self, slots: np.ndarray) -> np.ndarray:
        """The slots ordered by last activity, then by id. A plain sort does when no two times are equal (the
        usual case), a stable one of two keys only when some are."""
        last_ts = self._cols["last_ts"][slots]
        order = np.argsort(last_ts)
        ordered = last_ts[order]
        if np.any(ordered[1:] == ordered[:-1]):
            order = np.lexsort((self._cols["id"][slots], last_ts))
        return slots[order]

    def _file(self, name: str) -> int:
        index = self._file_index.get(name)
        if index is None:
            index = self._file_index[name] = len(self._files)
            self._files.append(name)
        return index

    def _grow(self, needed: int) -> None:
        """Room for ``needed`` attempts. The new rows are left as they are until ``add`` fills them (it sets
        every column), so memory nobody uses yet is never touched."""
        size = len(self._live)
        new = max(needed, 2 * size)
        for name, column in self._cols.items():
            self._cols[name] = _extended(column, new)
        self._hash = _extended(self._hash, new)
        self._live = np.concatenate([self._live, np.zeros(new - size, bool)])
        self._free = np.concatenate([np.arange(new - 1, size - 1, -1), self._free])


def _extended(column: np.ndarray, size: int) -> np.ndarray:
    grown = np.empty(size, column.dtype)
    grown[:len(column)] = column
    return grown
