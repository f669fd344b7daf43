"""The ``--events`` file: one JSON line per protocol message and per weird, in capture order.

Lines are ASCII (``json.dumps`` escapes the rest) and assembled as bytes; a text file gets them through its
byte buffer, skipping a decode and an encode of every line.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO

import numpy as np

from protocols.base import Message
from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of
from sensor.decode.packets import Weird
from sensor.dissect.generic import MessageBatch
from sensor.dissect.linklayer import LinkBatch
from sensor.dissect.modbus import ModbusBatch
from sensor.sinks import modbus_lines

WRITE = 1 << 20  # bytes a write hands the kernel: a batch's 25 MB at once costs it more than MiB by MiB
_dumps = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for every line


class EventWriter:
    """Writes events as they are produced; the file is line-buffered JSON, one object per line."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._raw = getattr(out, "write_raw", None) or _raw_writer(out)  # the lines are ASCII bytes already
        self.count = 0
        self._held: list[LinkBatch] = []

    def hold(self, links: list[LinkBatch]) -> None:
        """Link-layer messages of the batch in hand: written by the next ``write``, in frame order with the rest."""
        self._held += links

    def write(self, modbus: ModbusBatch | None, others: list[MessageBatch], weirds: list[Weird]) -> None:
        lines: list[tuple[int, int, str]] = []
        fast = None
        if modbus is not None:
            fast, slow = self._modbus(modbus)
            lines += slow
        for k, batch in enumerate(others, start=1):
            lines += self._messages(batch, k << 24)
        for k, link in enumerate(self._held, start=len(others) + 1):
            lines += self._link_messages(link, k << 24)
        self._held = []
        for i, w in enumerate(weirds):
            record = {"ts": w.ts, "frame": w.frame, "file": w.file, "proto": "weird", "name": w.code,
                      "layer": w.layer, "detail": w.detail}
            lines.append((w.frame, 1 << 30 | i, _dumps(record)))
        lines.sort()  # (frame, order) never tie, so texts are never compared
        pieces = modbus_lines.merge(fast, lines)  # the fast rows' text comes in pieces; the rest in between
        if self._raw is not None:
            self._raw([view[at:at + WRITE] for view in map(memoryview, pieces) for at in range(0, len(view), WRITE)])
        else:
            self.out.write(b"".join(pieces).decode("ascii"))
        self.count += len(lines) + (len(fast) if fast is not None else 0)

    @staticmethod
    def _modbus(mb: ModbusBatch) -> tuple[modbus_lines.Lines, list[tuple[int, int, str]]]:
        """The fast path's rows from the columns (``modbus_lines``), and the rest one message at a time."""
        fast = modbus_lines.fast_rows(mb)
        slow = np.ones(len(mb), dtype=bool)
        slow[fast] = False
        rest = EventWriter._modbus_messages(mb, np.flatnonzero(slow).tolist()) if slow.any() else []
        return modbus_lines.lines(mb, fast), rest

    @staticmethod
    def _modbus_messages(mb: ModbusBatch, rows: list[int]) -> list[tuple[int, int, str]]:
        frames, ts = mb.frame.tolist(), mb.ts.tolist()
        pairing = mb.pairing
        out = []
        for i in rows:
            flow = mb.flows[int(mb.flow[i])]
            request = bool(mb.is_request[i])
            message = mb.message(i)
            if message is None:
                continue
            record = {
                "ts": ts[i], "frame": frames[i], "file": mb.file, "proto": "modbus",
                "src": flow.client if request else flow.server,
                "sport": flow.client_port if request else flow.server_port,
                "dst": flow.server if request else flow.client,
                "dport": flow.server_port if request else flow.client_port,
                "direction": "request" if request else "response",
                "action": action_of(message.action_name),
            }
            record.update(message.event_fields())
            if mb.disputed[i]:
                record["disputed"] = True  # built from TCP bytes that a differing copy contradicted
            if not request and pairing is not None:
                _add_request_context(record, mb, i)
            out.append((frames[i], i, _dumps(record)))
        return out


    @staticmethod
    def _messages(mb: MessageBatch, order: int) -> list[tuple[int, int, str]]:
        """Any protocol's messages: the contract's fields, then the protocol's own."""
        frames, ts = mb.frame.tolist(), mb.ts.tolist()
        out = []
        for i, message in enumerate(mb.messages):
            flow = mb.flows[int(mb.flow[i])]
            ends = ((flow.initiator, flow.init_port), (flow.responder, flow.resp_port))
            (src, sport), (dst, dport) = ends[int(mb.side[i])], ends[1 - int(mb.side[i])]
            record = _record(ts[i], frames[i], mb.file, mb.protocol, src, sport, dst, dport, message)
            if mb.request_frame[i] >= 0:
                record["request_frame"] = int(mb.request_frame[i])
                record["response_time"] = round(float(mb.response_time[i]), 6)
            if mb.disputed[i]:
                record["disputed"] = True
            out.append((frames[i], order | i, _dumps(record)))
        return out

    @staticmethod
    def _link_messages(lb: LinkBatch, order: int) -> list[tuple[int, int, str]]:
        """Link-layer messages: their ends are MAC addresses, and they have no ports."""
        frames, ts = lb.frame.tolist(), lb.ts.tolist()
        return [(frames[i], order | i, _dumps(_record(ts[i], frames[i], lb.file, lb.protocol, lb.src[i], None,
                                                      lb.dst[i], None, message)))
                for i, message in enumerate(lb.messages)]


def _raw_writer(out: IO[str]) -> Callable[[list], None] | None:
    """How to write bytes to a text file: through its byte buffer, once the text layer holds nothing."""
    raw = getattr(out, "buffer", None)
    if raw is None:
        return None

    def write(pieces: list) -> None:
        out.flush()
        raw.writelines(pieces)
    return write


def _record(ts: float, frame: int, file: str, proto: str, src: str | None, sport: int | None, dst: str | None,
            dport: int | None, message: Message) -> dict:
    """The contract's fields, then the protocol's own."""
    record = {
        "ts": ts, "frame": frame, "file": file, "proto": proto, "src": src, "sport": sport, "dst": dst,
        "dport": dport, "direction": message.direction, "action": message.action,
        "function_code": message.function_code, "function_name": message.function_name, **message.fields,
    }
    if message.weird:
        record["weird"] = message.weird
    return record


def _add_request_context(record: dict, mb: ModbusBatch, i: int) -> None:
    """A response does not repeat what it answers; the paired request tells the address and timing."""
    pairing = mb.pairing
    assert pairing is not None
    j = int(pairing.request_row[i])
    if j >= 0:
        address, quantity, frame = int(mb.address[j]), int(mb.quantity[j]), int(mb.frame[j])
    elif i in pairing.carried:
        _, _, address, quantity, frame = pairing.carried[i]
    else:
        return
    if record.get("address") is None and address != NONE:
        record["address"] = address
    if record.get("quantity") is None and quantity != NONE:
        record["quantity"] = quantity
    record["request_frame"] = frame
    if not np.isnan(pairing.response_time[i]):
        record["response_time"] = round(float(pairing.response_time[i]), 6)
