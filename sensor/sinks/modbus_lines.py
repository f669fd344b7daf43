"""Event lines of the Modbus rows the fast path parsed, built from the batch's columns.

Writing one event per message through a parsed ``ModbusMessage``, a dict and ``json.dumps`` costs
about 15 µs a message: ten times the rest of the pipeline. The fast path's rows are well-formed ADUs
of function codes 1–6, 15 and 16 or exception responses (``protocols.modbus.batch``), whose every field
sits in the columns or at a fixed offset, so their lines are formatted from lists with one template.
The text is byte for byte what the per-message writer gives (tests/unit/sinks/test_modbus_lines.py
checks that on captures); every other row still goes through ``ModbusMessage.event_fields``.
"""
from __future__ import annotations

import json

import numpy as np

from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of, exception_name, function_name
from sensor.dissect.modbus import ModbusBatch

MBAP_AND_FUNCTION = 8  # where a PDU's data begins in the ADU
READ_BITS, READ_REGISTERS, WRITE_COIL, WRITE_REGISTER, WRITE_COILS, WRITE_REGISTERS = (1, 2), (3, 4), 5, 6, 15, 16
REGISTER_TEXT = [str(v) for v in range(1 << 16)]  # every register value's digits, made once

# Per (is_request, function code): the text from "direction" to "function_name" around the transaction id.
_VERB = {(request, code): ('"direction":"%s","action":"%s","transaction_id":' % (
    "request" if request else "response", action_of(function_name(code))), function_name(code))
    for request in (False, True) for code in range(128)}


def fast_rows(mb: ModbusBatch) -> np.ndarray:
    """The rows this module writes: parsed by the fast path (the slow path keeps its messages)."""
    fast = mb.adu_off != NONE
    if mb.messages:
        fast[list(mb.messages)] = False
    return np.flatnonzero(fast)


def lines(mb: ModbusBatch, rows: np.ndarray) -> list[str]:
    """One JSON line (no newline) per row in ``rows`` (fast-path rows, in capture order)."""
    if not len(rows):
        return []
    data = mb.data
    off, fc = mb.adu_off[rows], mb.function_code[rows]
    request, exception = mb.is_request[rows], mb.exception_code[rows]
    address, quantity = mb.address[rows].copy(), mb.quantity[rows].copy()
    byte8 = data[off + MBAP_AND_FUNCTION].astype(np.int64)
    normal = exception == NONE
    tails = _tails(mb, rows, request, fc, normal, byte8, address, quantity)
    values = _values(data, off, fc, request, normal, byte8, quantity)
    ends = _ends(mb, rows, request)
    file = json.dumps(mb.file)
    head = '{"ts":%r,"frame":%d,"file":' + file + ',"proto":"modbus",%s%s%d,"unit_id":%d,"function_code":%d,' \
        '"function_name":"%s","exception_code":%s,"address":%s,"quantity":%s,"values":%s%s}'
    verbs = [_VERB[key] for key in zip(request.tolist(), fc.tolist())]
    return [head % (ts, frame, end, verb, tid, unit, code, name, exc, addr, qty, vals, tail)
            for ts, frame, end, (verb, name), tid, unit, code, exc, addr, qty, vals, tail in zip(
                mb.ts[rows].tolist(), mb.frame[rows].tolist(), ends, verbs, mb.transaction_id[rows].tolist(),
                mb.unit_id[rows].tolist(), fc.tolist(), _nullable(exception), _nullable(address),
                _nullable(quantity), values, tails)]


def _nullable(column: np.ndarray) -> list[str]:
    return ["null" if v == NONE else str(v) for v in column.tolist()]


def _ends(mb: ModbusBatch, rows: np.ndarray, request: np.ndarray) -> list[str]:
    """``"src":..,"sport":..,"dst":..,"dport":..,`` per row, made once per flow and direction."""
    texts: dict[tuple[int, bool], str] = {}
    out = []
    for flow, is_request in zip(mb.flow[rows].tolist(), request.tolist()):
        text = texts.get((flow, is_request))
        if text is None:
            f = mb.flows[flow]
            ends = ((f.client, f.client_port), (f.server, f.server_port))
            (src, sport), (dst, dport) = ends if is_request else ends[::-1]
            text = texts[flow, is_request] = '"src":%s,"sport":%d,"dst":%s,"dport":%d,' % (
                json.dumps(src), sport, json.dumps(dst), dport)
        out.append(text)
    return out


def _values(data: np.ndarray, off: np.ndarray, fc: np.ndarray, request: np.ndarray, normal: np.ndarray,
            byte8: np.ndarray, quantity: np.ndarray) -> list[str]:
    """The ``values`` text per row: registers, coil bits (0/1), a single write's value, or null."""
    n = len(off)
    start, count = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)  # where the values' bytes are
    read_response = normal & ~request & (np.isin(fc, READ_BITS) | np.isin(fc, READ_REGISTERS))
    start[read_response], count[read_response] = off[read_response] + 9, byte8[read_response]
    written = normal & request & ((fc == WRITE_COILS) | (fc == WRITE_REGISTERS))
    start[written], count[written] = off[written] + 13, data[off[written] + 12]
    single = normal & ((fc == WRITE_COIL) | (fc == WRITE_REGISTER))  # a coil's FF00/0000 is its high byte's bit 0
    start[single], count[single] = off[single] + 10, np.where(fc[single] == WRITE_COIL, 1, 2)
    registers = np.isin(fc, READ_REGISTERS) | (fc == WRITE_REGISTERS) | (fc == WRITE_REGISTER)
    text = ["null"] * n
    words = np.flatnonzero(registers & (count > 0))
    if len(words):
        _fill(text, words, _words(data, start[words], count[words] // 2))
    coils = np.flatnonzero(~registers & (count > 0))
    if len(coils):
        bits = _bits(data, start[coils], count[coils])
        keep = np.where(fc[coils] == WRITE_COIL, 1, np.where(fc[coils] == WRITE_COILS, quantity[coils],
                                                             8 * count[coils]))
        _fill(text, coils, bits, keep)
    return text


def _words(data: np.ndarray, start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every row's u16 values end to end, and where each row's begin."""
    begins = np.cumsum(count) - count
    index = np.repeat(start - 2 * begins, count) + 2 * np.arange(int(count.sum()))
    values = (data[index].astype(np.int64) << 8) | data[index + 1]
    return values, begins


def _bits(data: np.ndarray, start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every row's bytes unpacked LSB first, end to end, and where each row's bits begin."""
    begins = np.cumsum(count) - count
    index = np.repeat(start - begins, count) + np.arange(int(count.sum()))
    return np.unpackbits(data[index], bitorder="little").astype(np.int64), 8 * begins


def _fill(text: list[str], rows: np.ndarray, found: tuple[np.ndarray, np.ndarray],
          keep: np.ndarray | None = None) -> None:
    """Each row's values as a JSON array; ``keep``: how many of its values count (coils past the quantity do not)."""
    values, begins = found
    digits = [REGISTER_TEXT[v] for v in values.tolist()]
    ends = np.r_[begins[1:], len(values)] if keep is None else begins + keep
    for row, a, b in zip(rows.tolist(), begins.tolist(), ends.tolist()):
        text[row] = "[" + ",".join(digits[a:b]) + "]"


def _tails(mb: ModbusBatch, rows: np.ndarray, request: np.ndarray, fc: np.ndarray, normal: np.ndarray,
           byte8: np.ndarray, address: np.ndarray, quantity: np.ndarray) -> list[str]:
    """``byte_count``, ``disputed``, then a response's request context; fills a response's address and
    quantity from its request, as the per-message writer does."""
    n = len(rows)
    data, off = mb.data, mb.adu_off[rows]
    byte_count = np.full(n, NONE, dtype=np.int64)
    reads = normal & ~request & (np.isin(fc, READ_BITS) | np.isin(fc, READ_REGISTERS))
    byte_count[reads] = byte8[reads]
    multi = normal & request & ((fc == WRITE_COILS) | (fc == WRITE_REGISTERS))
    byte_count[multi] = data[off[multi] + 12]
    request_frame = np.full(n, NONE, dtype=np.int64)
    response_time = np.full(n, np.nan)
    pairing = mb.pairing
    if pairing is not None:
        asked = pairing.request_row[rows]
        paired = np.flatnonzero(asked >= 0)
        source = asked[paired]
        request_frame[paired] = mb.frame[source]
        fill = paired[address[paired] == NONE]
        address[fill] = mb.address[asked[fill]]
        fill = paired[quantity[paired] == NONE]
        quantity[fill] = mb.quantity[asked[fill]]
        for k in np.flatnonzero(asked < 0).tolist():
            carried = pairing.carried.get(int(rows[k]))
            if carried is not None:
                _, _, carried_address, carried_quantity, request_frame[k] = carried
                if address[k] == NONE:
                    address[k] = carried_address
                if quantity[k] == NONE:
                    quantity[k] = carried_quantity
        answered = request_frame >= 0
        response_time[answered] = pairing.response_time[rows[answered]]
    out = []
    for code, count, disputed, frame, seconds in zip(mb.exception_code[rows].tolist(), byte_count.tolist(),
                                                     mb.disputed[rows].tolist(), request_frame.tolist(),
                                                     response_time.tolist()):
        tail = "" if code == NONE else ',"exception_name":"%s"' % exception_name(code)
        if count != NONE:
            tail += ',"byte_count":%d' % count
        if disputed:
            tail += ',"disputed":true'
        if frame != NONE:
            tail += ',"request_frame":%d' % frame
            if seconds == seconds:  # not NaN
                tail += ',"response_time":%r' % round(seconds, 6)
        out.append(tail)
    return out
