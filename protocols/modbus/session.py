"""Pair Modbus responses with their requests on (connection, unit_id, transaction_id).

Pairing is done for a whole batch at once: rows are sorted by key, and a response pairs with the
request just before it under the same key. Requests still unanswered at the end of a batch wait
in a bounded table for the next batch (a server may answer after the batch boundary).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_PENDING_REQUESTS = 65_536  # unanswered requests remembered across batches, all connections together


@dataclass(slots=True)
class Pairing:
    """For each row: the row index of its request (responses only, else -1) and the response time."""

    request_row: np.ndarray
    response_time: np.ndarray
    carried: dict[int, tuple[float, int, int, int, int]]  # response row -> request (ts, fc, address, quantity, frame) from an earlier batch
    unanswered_dropped: int


class RequestTable:
    """Requests waiting for their response, keyed by (connection id, unit_id, transaction_id)."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[float, int, int, int, int]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def pair(self, conn: np.ndarray, unit: np.ndarray, tid: np.ndarray, is_request: np.ndarray, ts: np.ndarray,
             fc: np.ndarray, address: np.ndarray, quantity: np.ndarray, frame: np.ndarray) -> Pairing:
        """Rows must be in capture order."""
        n = len(conn)
        key = (conn.astype(np.int64) << 24) | (unit.astype(np.int64) << 16) | tid.astype(np.int64)
        order = np.argsort(key, kind="stable")
        k, req = key[order], is_request[order]
        same_as_prev = np.zeros(n, dtype=bool)
        same_as_prev[1:] = k[1:] == k[:-1]
        prev_is_req = np.zeros(n, dtype=bool)
        prev_is_req[1:] = req[:-1]
        paired = ~req & same_as_prev & prev_is_req
        request_row = np.full(n, -1, dtype=np.int64)
        request_row[order[paired]] = order[np.nonzero(paired)[0] - 1]
        response_time = np.full(n, np.nan)
        answered = request_row >= 0
        response_time[answered] = ts[answered] - ts[request_row[answered]]

        carried: dict[int, tuple[float, int, int, int, int]] = {}
        first_resp = ~req & ~same_as_prev
        for pos in np.nonzero(first_resp)[0].tolist():
            hit = self._pending.pop(int(k[pos]), None)
            if hit is not None:
                row = int(order[pos])
                carried[row] = hit
                response_time[row] = float(ts[row]) - hit[0]
        last_of_key = np.ones(n, dtype=bool)
        last_of_key[:-1] = k[:-1] != k[1:]
        waiting = req & last_of_key
        for pos in np.nonzero(waiting)[0].tolist():
            row = int(order[pos])
            self._pending[int(k[pos])] = (float(ts[row]), int(fc[row]), int(address[row]), int(quantity[row]),
                                          int(frame[row]))
        dropped = 0
        while len(self._pending) > MAX_PENDING_REQUESTS:
            del self._pending[next(iter(self._pending))]
            dropped += 1
        return Pairing(request_row, response_time, carried, dropped)
