"""Modbus/TCP over the flow layer: bulk header parsing where it is safe, full parsing elsewhere.

For every (flow, direction) run of segments in a batch:
- a *clean* run (continues the stream exactly, nothing buffered) whose every segment is one
  whole ADU the fast path accepts is parsed in bulk by ``protocols.modbus.batch``;
- any other run goes segment by segment through ``TcpStream`` reassembly and ``ModbusStream``
  framing, which handle retransmissions, several ADUs per segment and ADUs split across segments.
Both kinds of row end up in one ``ModbusBatch`` in capture order, then requests and responses are
paired. Requests travel from the initiator to the responder (the server side).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from protocols.base import Malformed
from protocols.modbus.batch import NONE, parse_headers
from protocols.modbus.session import Pairing, RequestTable
from protocols.modbus.stream import ModbusStream
from protocols.modbus.wire import ModbusMessage, parse_adu
from sensor.decode.packets import Weird
from sensor.flows.dispatch import stream_runs
from sensor.flows.reassembly import SEQ_MOD
from sensor.flows.table import Flow, FlowBatch

PROTOCOL = "modbus"


@dataclass(slots=True)
class ModbusBatch:
    """Every Modbus message of one batch, in capture order, as columns.

    ``row`` indexes ``FlowBatch.packets`` (the segment that completed the ADU) and ``flow`` indexes
    ``FlowBatch.flows``. ``messages`` holds the full parse for rows that took the slow path;
    fast rows can be fully parsed on demand from ``adu_off``/``adu_len`` in the packet buffer.
    """

    fb: FlowBatch
    row: np.ndarray
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
    messages: dict[int, ModbusMessage] = field(default_factory=dict)
    pairing: Pairing | None = None

    def __len__(self) -> int:
        return len(self.row)

    @property
    def frame(self) -> np.ndarray:
        return self.fb.packets.frame[self.row]

    @property
    def ts(self) -> np.ndarray:
        return self.fb.packets.ts[self.row]

    def message(self, i: int) -> ModbusMessage | None:
        """The full parse of row ``i``: kept from the slow path, or decoded now from the buffer."""
        kept = self.messages.get(i)
        if kept is not None:
            return kept
        start, size = int(self.adu_off[i]), int(self.adu_len[i])
        result = parse_adu(self.fb.packets.data[start:start + size].tobytes(), 0, bool(self.is_request[i]))
        return result[0] if isinstance(result, tuple) else None


class _Streams:
    """Per-flow framing state for both directions."""

    __slots__ = ("framers",)

    def __init__(self) -> None:
        self.framers = (ModbusStream(is_request=True), ModbusStream(is_request=False))


def _framers(flow: Flow) -> tuple[ModbusStream, ModbusStream]:
    if flow.session is None:
        flow.session = _Streams()
    return flow.session.framers  # type: ignore[union-attr]


def _has_buffered(flow: Flow, direction: int) -> bool:
    return flow.session is not None and flow.session.framers[direction].pending > 0  # type: ignore[union-attr]


class ModbusAnalyzer:
    """Turns a batch's Modbus flows into a ``ModbusBatch``; owns the request table."""

    def __init__(self, fast_path: bool = True) -> None:
        self.fast_path = fast_path
        self.requests = RequestTable()
        self.fast_rows = 0
        self.slow_rows = 0

    def analyze(self, fb: FlowBatch, weirds: list[Weird]) -> ModbusBatch | None:
        runs = stream_runs(fb, PROTOCOL, _has_buffered)
        if len(runs.rows) == 0:
            return None
        p = fb.packets
        rows = runs.rows
        is_request = fb.direction[rows] == 0
        cols = parse_headers(p.data, p.payload_off[rows], p.payload_len[rows], is_request)
        run_of_row = np.repeat(np.arange(len(runs.start)), runs.stop - runs.start)
        fast_run = runs.clean & (np.bincount(run_of_row, weights=~cols.accepted, minlength=len(runs.start)) == 0)
        if not self.fast_path:
            fast_run[:] = False
        fast = fast_run[run_of_row]
        self._advance_streams(fb, rows, runs.start, runs.stop, fast_run)

        parts = [self._fast_part(fb, rows[fast], cols, fast)]
        messages: list[tuple[int, int, ModbusMessage]] = []
        for i in np.nonzero(~fast_run)[0].tolist():
            self._slow_run(fb, rows[runs.start[i]:runs.stop[i]], messages, weirds)
        if messages:
            parts.append(self._slow_part(fb, messages))
        batch = _concat(fb, parts)
        if len(batch) == 0:
            return None
        self.fast_rows += int(fast.sum())
        self.slow_rows += len(messages)
        conn = np.array([f.id for f in fb.flows], dtype=np.int64)[batch.flow]
        batch.pairing = self.requests.pair(conn, batch.unit_id, batch.transaction_id, batch.is_request, batch.ts,
                                           batch.function_code, batch.address, batch.quantity, batch.frame)
        if batch.pairing.unanswered_dropped:
            weirds.append(Weird("modbus_request_table_full", PROTOCOL, p.file, int(batch.frame[-1]),
                                float(batch.ts[-1]), f"{batch.pairing.unanswered_dropped} unanswered requests forgotten"))
        return batch

    @staticmethod
    def _advance_streams(fb: FlowBatch, rows: np.ndarray, start: np.ndarray, stop: np.ndarray,
                         fast_run: np.ndarray) -> None:
        """A run parsed in place still moves its stream forward, so later segments line up."""
        p = fb.packets
        for i in np.nonzero(fast_run)[0].tolist():
            last = int(rows[stop[i] - 1])
            flow = fb.flows[int(fb.row_flow[last])]
            stream = flow.streams[int(fb.direction[last])]
            stream.next_seq = (int(p.seq[last]) + int(p.payload_len[last])) % SEQ_MOD

    @staticmethod
    def _fast_part(fb: FlowBatch, rows: np.ndarray, cols, fast: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "row": rows, "flow": fb.row_flow[rows], "is_request": fb.direction[rows] == 0,
            "transaction_id": cols.transaction_id[fast], "unit_id": cols.unit_id[fast],
            "function_code": cols.function_code[fast], "exception_code": cols.exception_code[fast],
            "address": cols.address[fast], "quantity": cols.quantity[fast], "value": cols.value[fast],
            "adu_off": cols.adu_off[fast], "adu_len": cols.adu_len[fast],
        }

    @staticmethod
    def _slow_run(fb: FlowBatch, rows: np.ndarray, out: list[tuple[int, int, ModbusMessage]],
                  weirds: list[Weird]) -> None:
        p = fb.packets
        first = int(rows[0])
        flow = fb.flows[int(fb.row_flow[first])]
        direction = int(fb.direction[first])
        stream = flow.streams[direction]
        framer = _framers(flow)[direction]
        for row in rows.tolist():
            start, size = int(p.payload_off[row]), int(p.payload_len[row])
            for data, at_row in stream.deliver(int(p.seq[row]), p.data[start:start + size].tobytes(), row):
                if isinstance(data, int):
                    framer.gap()
                    weirds.append(Weird("tcp_gap", "tcp", p.file, int(p.frame[at_row]), float(p.ts[at_row]),
                                        f"{data} bytes missing before this segment"))
                    continue
                for done_row, outcome in framer.feed(data, at_row):
                    if isinstance(outcome, Malformed):
                        weirds.append(Weird(outcome.code, PROTOCOL, p.file, int(p.frame[done_row]),
                                            float(p.ts[done_row]), outcome.detail))
                    else:
                        if outcome.weird:
                            weirds.append(Weird(outcome.weird, PROTOCOL, p.file, int(p.frame[done_row]),
                                                float(p.ts[done_row])))
                        out.append((done_row, len(out), outcome))

    @staticmethod
    def _slow_part(fb: FlowBatch, messages: list[tuple[int, int, ModbusMessage]]) -> dict[str, np.ndarray]:
        def column(values: list) -> np.ndarray:
            return np.array(values, dtype=np.int64)

        def opt(v: int | None) -> int:
            return NONE if v is None else v

        ms = [m for _, _, m in messages]
        rows = column([r for r, _, _ in messages])
        single = [m.values[0] if m.function_code in (5, 6) and m.values and m.exception_code is None else None
                  for m in ms]
        return {
            "row": rows, "flow": fb.row_flow[rows], "is_request": np.array([m.is_request for m in ms], dtype=bool),
            "transaction_id": column([m.transaction_id for m in ms]), "unit_id": column([m.unit_id for m in ms]),
            "function_code": column([m.function_code for m in ms]),
            "exception_code": column([opt(m.exception_code) for m in ms]),
            "address": column([opt(m.address) for m in ms]), "quantity": column([opt(m.quantity) for m in ms]),
            "value": column([opt(v) for v in single]),
            "adu_off": np.full(len(ms), NONE, dtype=np.int64), "adu_len": np.zeros(len(ms), dtype=np.int64),
            "_messages": ms,
        }


def _concat(fb: FlowBatch, parts: list[dict]) -> ModbusBatch:
    """Join fast and slow rows and put them in capture order (stable: ADUs of one segment keep theirs)."""
    names = ("row", "flow", "is_request", "transaction_id", "unit_id", "function_code", "exception_code",
             "address", "quantity", "value", "adu_off", "adu_len")
    merged = {name: np.concatenate([part[name] for part in parts]) for name in names}
    slow = [m for part in parts for m in part.get("_messages", [])]
    first_slow = len(merged["row"]) - len(slow)
    order = np.argsort(merged["row"], kind="stable")
    batch = ModbusBatch(fb=fb, **{name: col[order] for name, col in merged.items()})
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    batch.messages = {int(position[first_slow + i]): m for i, m in enumerate(slow)}
    return batch
