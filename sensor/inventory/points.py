"""Which Modbus points each client reads and writes: address ranges per server, unit and function.

A poller that reads registers 0–9 a million times is one range with a count, not a million rows;
a client that reads random addresses collapses into the few ranges it covers. Requests whose
address ranges overlap or touch merge into one range (a map of the address space in use, as an
engineer draws it). Written values are kept per address, so each range can show the last value
written to each of its points.

Requests are kept as arrays until the flush and merged there in one vectorised pass.
"""
from __future__ import annotations

import numpy as np

from protocols.modbus.codes import ACCESS
from sensor.inventory.model import PointDelta, Source
from sensor.order import first_rows, stable_order

_SPAN = np.int64(1 << 18)  # larger than any Modbus end address, so keys never overlap after offsetting
READ, WRITE = 0, 1


def coalesce(keys: np.ndarray, start: np.ndarray, end: np.ndarray, ts: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """Merge overlapping or touching [start, end) intervals per key, all at once.

    Returns per merged interval: key, start, end, request count, first ts, last ts, and the index (into
    the inputs) of its latest request.
    """
    lo = keys * _SPAN + start
    hi = keys * _SPAN + end
    order = stable_order(lo)  # by key, then start: the key dominates lo
    lo, hi, ts_sorted = lo[order], hi[order], ts[order]
    reach = np.maximum.accumulate(hi)
    new = np.ones(len(lo), dtype=bool)
    new[1:] = lo[1:] > reach[:-1]
    starts = np.nonzero(new)[0]
    merged_key = keys[order][starts]
    merged_start = lo[starts] - merged_key * _SPAN
    merged_end = np.maximum.reduceat(hi, starts) - merged_key * _SPAN
    counts = np.diff(np.append(starts, len(lo)))
    first = np.minimum.reduceat(ts_sorted, starts)
    last = np.maximum.reduceat(ts_sorted, starts)
    group = np.cumsum(new) - 1
    at_last = np.where(ts_sorted == last[group], order, -1)
    latest = np.maximum.reduceat(at_last, starts)  # the latest in time; on a tie, the one captured last
    return merged_key, merged_start, merged_end, counts, first, last, latest


def _last_per_key(key: np.ndarray) -> np.ndarray:
    """Index of the last occurrence of every distinct key."""
    reverse = key[::-1]
    _, first_in_reverse = first_rows(reverse)
    return len(key) - 1 - first_in_reverse


class PointBook:
    """Requests and written values since the last flush, as growing lists of arrays."""

    def __init__(self) -> None:
        self._pair_ids: dict[tuple[str, str], int] = {}  # (client, server) -> small id used in keys
        self._pairs: list[tuple[str, str]] = []
        self._requests: list[tuple[np.ndarray, ...]] = []
        self._values: list[tuple[np.ndarray, ...]] = []
        self._file = ""

    def pair_ids(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Small integer ids for (client, server) pairs, so many connections of one pair share a key."""
        ids = []
        for pair in pairs:
            if pair not in self._pair_ids:
                self._pair_ids[pair] = len(self._pairs)
                self._pairs.append(pair)
            ids.append(self._pair_ids[pair])
        return np.array(ids, dtype=np.int64)

    def add_requests(self, file: str, pair: np.ndarray, unit: np.ndarray, fc: np.ndarray, access: int,
                     start: np.ndarray, quantity: np.ndarray, ts: np.ndarray, frame: np.ndarray) -> None:
        self._file = file
        key = (pair << 17) | (unit << 9) | (fc << 1) | access
        self._requests.append((key, start, start + quantity, ts, frame))

    def add_values(self, pair: np.ndarray, unit: np.ndarray, fc: np.ndarray, address: np.ndarray,
                   value: np.ndarray, order: np.ndarray) -> None:
        """One row per written address; ``order`` is the capture order of its message: later wins."""
        self._values.append((pair, unit, fc, address, value, order))

    def take(self) -> list[PointDelta]:
        if not self._requests:
            return []
        key, start, end, ts, frame = (np.concatenate(col) for col in zip(*self._requests))
        written = self._written()
        out = []
        for k, lo, hi, count, first, last, latest in zip(*(c.tolist() for c in coalesce(key, start, end, ts))):
            pair, unit, fc, access = k >> 17, (k >> 9) & 255, (k >> 1) & 255, k & 1
            client, server = self._pairs[pair]
            rule = ACCESS[fc]
            table = (rule.write if access == WRITE else rule.read).value
            values = None
            if access == WRITE:
                book = written.get((client, server, unit, table), {})
                values = [book.get(a) for a in range(lo, hi)]
            out.append(PointDelta(client, server, unit, fc, "write" if access == WRITE else "read", table, lo,
                                  hi - lo, count, first, last, values, Source("modbus", self._file, int(frame[latest]))))
        self._requests, self._values = [], []
        return out

    def _written(self) -> dict[tuple[str, str, int, str], dict[int, int]]:
        """The last value written to each (client, server, unit, table, address) since the last flush."""
        if not self._values:
            return {}
        pair, unit, fc, address, value, order = (np.concatenate(col) for col in zip(*self._values))
        by_order = stable_order(order)
        pair, unit, fc, address, value = (col[by_order] for col in (pair, unit, fc, address, value))
        tables = _TABLE_OF_FC[fc]
        key = (pair << 28) | (unit << 20) | (tables << 17) | address
        out: dict[tuple[str, str, int, str], dict[int, int]] = {}
        for i in _last_per_key(key).tolist():
            client, server = self._pairs[int(pair[i])]
            table = _TABLES[int(tables[i])]
            out.setdefault((client, server, int(unit[i]), table), {})[int(address[i])] = int(value[i])
        return out


_TABLES = ("coil", "holding_register", "file_record")
_TABLE_OF_FC = np.zeros(256, dtype=np.int64)  # function code -> index in _TABLES of the table it writes
for _fc, _access in ACCESS.items():
    if _access.write is not None:
        _TABLE_OF_FC[_fc] = _TABLES.index(_access.write.value)
