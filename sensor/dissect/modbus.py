"""Modbus/TCP over the flow layer: bulk header parsing where it is safe, full parsing elsewhere.

For every (flow, direction) run of segments in a batch:
- a *clean* run (continues the stream exactly, nothing buffered) whose every segment is one
  whole ADU the fast path accepts is parsed in bulk by ``protocols.modbus.batch``;
- any other run goes segment by segment through ``TcpStream`` reassembly and ``ModbusStream``
  framing, which handle retransmissions, several ADUs per segment and ADUs split across segments.
Both kinds of row end up in one ``ModbusBatch`` in capture order, then requests and responses are
paired. Requests travel from the client to the server side of the flow (``Flow.server_side``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from protocols.modbus.batch import NONE, ModbusColumns, parse_headers
from protocols.modbus.session import Pairing, RequestTable
from protocols.modbus.stream import ModbusStream
from protocols.modbus.wire import ModbusMessage, parse_adu
from sensor.decode.packets import Weird
from sensor.dissect.streams import Framed, has_buffered
from sensor.flows.dispatch import stream_runs
from sensor.flows.table import Flow, FlowBatch
from sensor.order import stable_order, within_runs

PROTOCOL = "modbus"
RETAINED_SEGMENTS = 16  # last segments of a run parsed in place that its stream keeps for comparisons


@dataclass(slots=True)
class ModbusBatch:
    """Every Modbus message of one batch, in capture order, as columns.

    ``frame``/``ts`` are those of the segment that completed the ADU, and ``flow`` indexes ``flows``.
    ``messages`` holds the full parse of rows that took the slow path; fast rows are parsed on
    demand from ``adu_off``/``adu_len`` in ``data``, the batch's packet buffer.
    """

    flows: list[Flow]
    file: str
    data: np.ndarray
    frame: np.ndarray
    ts: np.ndarray
    flow: np.ndarray
    is_request: np.ndarray
    transaction_id: np.ndarray
    unit_id: np.ndarray
    function_code: np.ndarray
    exception_code: np.ndarray
    address: np.ndarray
    quantity: np.ndarray
    value: np.ndarray
    adu_off: np.ndarray  # NONE for rows parsed on the slow path
    adu_len: np.ndarray
    disputed: np.ndarray  # built from bytes that a differing TCP copy contradicted (see flows.reassembly)
    messages: dict[int, ModbusMessage] = field(default_factory=dict)
    pairing: Pairing | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def message(self, i: int) -> ModbusMessage | None:
        """The full parse of row ``i``: kept from the slow path, or decoded now from the buffer."""
        kept = self.messages.get(i)
        if kept is not None:
            return kept
        start, size = int(self.adu_off[i]), int(self.adu_len[i])
        result = parse_adu(self.data[start:start + size].tobytes(), 0, bool(self.is_request[i]))
        return result[0] if isinstance(result, tuple) else None


class ModbusAnalyzer:
    """Turns a batch's Modbus flows into a ``ModbusBatch``; owns the request table."""

    def __init__(self, fast_path: bool = True) -> None:
        self.fast_path = fast_path
        self.requests = RequestTable()
        self.fast_rows = 0
        self.slow_rows = 0

    def analyze(self, fb: FlowBatch, weirds: list[Weird]) -> ModbusBatch | None:
        runs = stream_runs(fb, PROTOCOL, has_buffered, restarts_in_place=True)  # ModbusStream.gap only drops
        if len(runs.start) == 0:  # a run may hold no row (SYNs, or segments behind an acknowledged hole)
            return None
        p = fb.packets
        rows = runs.rows
        server_side = np.array([f.server_side for f in fb.flows], dtype=np.int64)
        is_request = fb.direction[rows] != server_side[fb.row_flow[rows]]
        cols = parse_headers(p.data, p.payload_off[rows], p.payload_len[rows], is_request)
        run_of_row = np.repeat(np.arange(len(runs.start)), runs.stop - runs.start)
        fast_run = runs.clean & (np.bincount(run_of_row, weights=~cols.accepted, minlength=len(runs.start)) == 0)
        if not self.fast_path:
            fast_run[:] = False
        fast = fast_run[run_of_row]
        self._advance_streams(fb, rows, runs.start, runs.stop, fast_run)

        in_order = np.flatnonzero(fast)  # the fast rows in capture order (stable: a segment's ADUs keep theirs)
        in_order = in_order[stable_order(p.frame[rows[in_order]])]
        parts = [self._fast_part(fb, rows[in_order], is_request[in_order], cols, in_order)]
        messages = Framed(PROTOCOL)
        for i in np.nonzero(~fast_run)[0].tolist():
            messages.run(fb, runs, i, ModbusStream, weirds)
        given_back = [g for g in set(runs.flow[fast_run].tolist()) if fb.flows[g].protocol != PROTOCOL]  # above
        if given_back:
            fast &= ~np.isin(fb.row_flow[rows], given_back)
        if messages:
            parts.append(_slow_part(messages))
        self.fast_rows += int(fast.sum())
        return self._finish(fb.flows, p.file, p.data, parts, weirds)

    def flush(self, flows: list[Flow], file: str, weirds: list[Weird]) -> ModbusBatch | None:
        """End of input: segments still waiting behind a hole are delivered after a gap."""
        messages = Framed(PROTOCOL)
        mine = messages.flush(flows, PROTOCOL, file, ModbusStream, weirds)
        if not messages:
            return None
        return self._finish(mine, file, np.zeros(0, dtype=np.uint8), [_slow_part(messages)], weirds)

    def _finish(self, flows: list[Flow], file: str, data: np.ndarray, parts: list[dict],
                weirds: list[Weird]) -> ModbusBatch | None:
        batch = _concat(flows, file, data, parts)
        if len(batch) == 0:
            return None
        self.slow_rows += len(batch.messages)
        conn = np.array([f.id for f in flows], dtype=np.int64)[batch.flow]
        batch.pairing = self.requests.pair(conn, batch.unit_id, batch.transaction_id, batch.is_request, batch.ts,
                                           batch.function_code, batch.address, batch.quantity, batch.frame)
        if batch.pairing.unanswered_dropped:
            weirds.append(Weird("modbus_request_table_full", PROTOCOL, file, int(batch.frame[-1]),
                                float(batch.ts[-1]), f"{batch.pairing.unanswered_dropped} unanswered requests forgotten"))
        return batch

    @staticmethod
    def _advance_streams(fb: FlowBatch, rows: np.ndarray, start: np.ndarray, stop: np.ndarray,
                         fast_run: np.ndarray) -> None:
        """A run parsed in place still moves its stream forward, so later segments line up, and leaves
        its last segments with the stream so a later copy of them can be compared. The tails of every run are
        gathered at once: a capture of many short connections has a run for nearly every segment."""
        runs = np.nonzero(fast_run)[0]
        if not len(runs):
            return
        p = fb.packets
        first = np.maximum(start[runs], stop[runs] - RETAINED_SEGMENTS)
        counts = stop[runs] - first
        tail = rows[np.repeat(first, counts) + within_runs(counts)]
        ends = np.cumsum(counts)
        last = tail[ends - 1]
        seqs, offsets, sizes, frames, times = (column[tail].tolist() for column in (
            p.seq, p.payload_off, p.payload_len, p.frame, p.ts))
        data = memoryview(p.data)
        begin = 0
        for end, flow, direction in zip(ends.tolist(), fb.row_flow[last].tolist(), fb.direction[last].tolist()):
            fb.flows[flow].streams[direction].advanced([
                (seqs[k], data[offsets[k]:offsets[k] + sizes[k]].tobytes(), (frames[k], times[k]))
                for k in range(begin, end)])
            begin = end

    @staticmethod
    def _fast_part(fb: FlowBatch, rows: np.ndarray, is_request: np.ndarray, cols: ModbusColumns,
                   at: np.ndarray) -> dict[str, np.ndarray]:
        """The fast rows' columns; ``at`` indexes ``cols`` (in capture order, as ``rows`` is)."""
        return {
            "frame": fb.packets.frame[rows], "ts": fb.packets.ts[rows], "flow": fb.row_flow[rows],
            "is_request": is_request,
            "transaction_id": cols.transaction_id[at], "unit_id": cols.unit_id[at],
            "function_code": cols.function_code[at], "exception_code": cols.exception_code[at],
            "address": cols.address[at], "quantity": cols.quantity[at], "value": cols.value[at],
            "adu_off": cols.adu_off[at], "adu_len": cols.adu_len[at], "disputed": np.zeros(len(rows), dtype=bool),
        }


def _slow_part(found: Framed) -> dict:
    def column(values: list) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    def opt(v: int | None) -> int:
        return NONE if v is None else v

    messages = found.rows
    ms = [m for _, _, _, _, m in messages]
    single = [m.values[0] if m.function_code in (5, 6) and m.values and m.exception_code is None else None
              for m in ms]
    return {
        "frame": column([r[0] for r in messages]), "ts": np.array([r[1] for r in messages]),
        "flow": column([r[2] for r in messages]), "is_request": np.array([m.is_request for m in ms], dtype=bool),
        "transaction_id": column([m.transaction_id for m in ms]), "unit_id": column([m.unit_id for m in ms]),
        "function_code": column([m.function_code for m in ms]),
        "exception_code": column([opt(m.exception_code) for m in ms]),
        "address": column([opt(m.address) for m in ms]), "quantity": column([opt(m.quantity) for m in ms]),
        "value": column([opt(v) for v in single]),
        "adu_off": np.full(len(ms), NONE, dtype=np.int64), "adu_len": np.zeros(len(ms), dtype=np.int64),
        "disputed": np.isin(np.arange(len(ms)), list(found.disputed)),
        "_messages": ms,
    }


def _concat(flows: list[Flow], file: str, data: np.ndarray, parts: list[dict]) -> ModbusBatch:
    """Join fast and slow rows in capture order (stable, so ADUs of one segment keep theirs)."""
    names = ("frame", "ts", "flow", "is_request", "transaction_id", "unit_id", "function_code", "exception_code",
             "address", "quantity", "value", "adu_off", "adu_len", "disputed")
    if len(parts) == 1 and "_messages" not in parts[0]:  # the fast rows alone, in capture order already
        return ModbusBatch(flows=flows, file=file, data=data, **{name: parts[0][name] for name in names})
    merged = {name: np.concatenate([part[name] for part in parts]) for name in names}
    slow = [m for part in parts for m in part.get("_messages", [])]
    first_slow = len(merged["frame"]) - len(slow)
    order = stable_order(merged["frame"])
    batch = ModbusBatch(flows=flows, file=file, data=data, **{name: col[order] for name, col in merged.items()})
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    batch.messages = {int(position[first_slow + i]): m for i, m in enumerate(slow)}
    return batch
