"""Event lines of the Modbus rows the fast path parsed, assembled as bytes from the batch's columns.

Writing one event per message through a parsed ``ModbusMessage``, a dict and ``json.dumps`` costs about
15 µs a message; even one ``%`` template per row costs 2 µs. The fast path's rows are well-formed ADUs of
function codes 1–6, 15 and 16 or exception responses (``protocols.modbus.batch``), whose every field sits in
the columns or at a fixed offset, so their lines are assembled for the whole batch at once in one byte
buffer, decoded once: no Python work per row. The text is byte for byte what the per-message writer gives
(tests/unit/sinks/test_modbus_lines.py checks that on every shape, random conversations and the corpus);
every other row still goes through ``ModbusMessage.event_fields``.

How a line is assembled. Each line is a run of *segments*, each a right-aligned text of a few possible
shapes: a number's digits followed by a constant (``41094,"file":...``), or a per-group text looked up in a
small table (a flow's ends and the verb; the unit, function and exception; the tail's keys). Every row's
lengths are known first, so every segment's end in the buffer is too. A segment is written to all rows at
once through a sliding-window view of the buffer (``win[ends - width] = block``: one block copy per row),
padded to the width of the longest: the padding lands to the left of the segment, inside the same line,
and is overwritten afterwards because segments are written from the line's end towards its start. Two
segments are written exactly instead (rows grouped by length), so nothing else overwrites them: the line's
head (``{"ts":...,"frame":``), whose left is the previous line, and its end (``,"response_time":...}``).
Rows whose padding would cross into the previous line also get an exact write.

Floats. ``json.dumps`` writes ``repr(float)``: the shortest decimal that reads back as the same double.
A capture's timestamps (microseconds) and ``round(response_time, 6)`` are doubles nearest to a decimal
k·10⁻⁶; for such a double x below 2³³ the ULP is below 10⁻⁶, so two decimals of at most six places can
not both read back as x: k·10⁻⁶ with its trailing zeros stripped is the only one, and no shorter decimal
(which would also have at most six places) reads back as x, so it is the repr (fixed notation from 10⁻⁴;
below that repr switches to exponents, a table of the 99 values). Whether x is such a double is checked,
not assumed: k = rint(x·10⁶) and k / 10⁶ == x (IEEE division is correctly rounded, so that is strtod of
the decimal). For ``round(y, 6)`` the nearest k is certain when |y·10⁶ − k| leaves a margin of one ULP
of y·10⁶ below one half, and then round() returns k / 10⁶. Rows that fail a check (nanosecond
timestamps, near ties, negative values) take ``repr`` one at a time.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
from numpy.lib.stride_tricks import as_strided

from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of, exception_name, function_name
from sensor.dissect.modbus import ModbusBatch

MBAP_AND_FUNCTION = 8  # where a PDU's data begins in the ADU
READ_BITS, READ_REGISTERS, WRITE_COIL, WRITE_REGISTER, WRITE_COILS, WRITE_REGISTERS = (1, 2), (3, 4), 5, 6, 15, 16

# Digits of 0..99999, right-aligned in 5 bytes (what is left of them is padding); row NULL holds "null".
_CHUNK = 100_000
NULL = _CHUNK
_EMPTY = 2 * _CHUNK + 1  # a row of padding (a number's absent upper chunk)


def _digit_tables() -> tuple[np.ndarray, np.ndarray]:
    v = np.arange(_CHUNK)
    length = 1 + sum((v >= 10 ** k).astype(np.int64) for k in range(1, 5))
    table = np.zeros((2 * _CHUNK + 2, 5), dtype=np.uint8)  # [0, N): digits; N: null; [N+1, 2N+1): zero-padded
    for k in range(5):
        digit = (v // 10 ** k % 10 + 48).astype(np.uint8)
        table[:_CHUNK, 4 - k] = np.where(k < length, digit, 0)
        table[_CHUNK + 1:2 * _CHUNK + 1, 4 - k] = digit
    table[NULL, 1:] = np.frombuffer(b"null", dtype=np.uint8)
    lengths = np.zeros(2 * _CHUNK + 2, dtype=np.int64)
    lengths[:_CHUNK], lengths[NULL], lengths[_CHUNK + 1:2 * _CHUNK + 1] = length, 4, 5
    return table, lengths


DIGITS, DIGIT_LEN = _digit_tables()


def _fraction_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Six decimals as two halves of three, left-aligned, trailing zeros stripped: the upper half's
    table has the stripped digits at [0, 1000) (0 gives "0", for x.0) and all three at [1000, 2000)
    (used when the lower half is not zero); the lower half's has the stripped digits (0 gives none)."""
    v = np.arange(1000)
    full = np.stack([v // 100 + 48, v // 10 % 10 + 48, v % 10 + 48], axis=1).astype(np.uint8)
    kept = 3 - (v % 10 == 0) - (v % 100 == 0) - (v == 0)  # digits left once trailing zeros go
    stripped = np.where(np.arange(3) < kept[:, None], full, 0).astype(np.uint8)
    upper = np.concatenate([stripped, full])
    upper[0, 0] = ord("0")
    upper_len = np.concatenate([np.maximum(kept, 1), np.full(1000, 3)])
    return upper, upper_len, stripped, kept.astype(np.int64)


FRACTION_HIGH, FRACTION_HIGH_LEN, FRACTION_LOW, FRACTION_LOW_LEN = _fraction_tables()
def _tiny_table() -> tuple[np.ndarray, np.ndarray]:
    """repr of k·10⁻⁶ for k < 100, left-aligned: below 1e-4 repr writes an exponent (5e-05)."""
    texts = [repr(k / 1e6).encode() for k in range(100)]
    table = np.zeros((100, 8), dtype=np.uint8)
    for k, text in enumerate(texts):
        table[k, :len(text)] = np.frombuffer(text, dtype=np.uint8)
    return table, np.array([len(t) for t in texts], dtype=np.int64)


TINY, TINY_LEN = _tiny_table()


class Lines(Sequence[str]):
    """The event lines of some Modbus rows: ``text`` holds them all, each followed by a newline.

    ``frames``/``rows`` are each line's frame and batch row (the order ``events.py`` merges lines by);
    ``ends[i]`` is where line i's newline ends in ``text``. Indexing or iterating gives lines without
    their newline, as a list of str would.
    """

    __slots__ = ("text", "frames", "rows", "ends")

    def __init__(self, text: str, frames: np.ndarray, rows: np.ndarray, ends: np.ndarray) -> None:
        self.text, self.frames, self.rows, self.ends = text, frames, rows, ends

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        return self.text[int(self.ends[i - 1]) if i else 0:int(self.ends[i]) - 1]

    def __iter__(self) -> Iterator[str]:
        return iter(self.text.split("\n")[:-1])


def merge(fast: Lines | None, others: list[tuple[int, int, str]]) -> str:
    """The text of ``fast``'s lines and ``others`` (``(frame, order, line)``, sorted) in (frame, order)
    order, a newline after each; a line's order in ``fast`` is its row."""
    if fast is None or not len(fast):
        return "".join([line + "\n" for _, _, line in others])
    if not others:
        return fast.text
    frame = np.array([f for f, _, _ in others], dtype=np.int64)
    order = np.array([o for _, o, _ in others], dtype=np.int64)
    # How many fast lines sort before each other line: first by frame, then by order among equal frames.
    low = np.searchsorted(fast.frames, frame, side="left")
    high = np.searchsorted(fast.frames, frame, side="right")
    at = low.copy()
    for k in np.flatnonzero(high > low).tolist():
        at[k] += int(np.searchsorted(fast.rows[low[k]:high[k]], order[k]))
    offset = np.concatenate([[0], fast.ends])[at].tolist()
    pieces, done = [], 0
    for cut, (_, _, line) in zip(offset, others):
        if cut > done:
            pieces.append(fast.text[done:cut])
            done = cut
        pieces.append(line + "\n")
    pieces.append(fast.text[done:])
    return "".join(pieces)


def fast_rows(mb: ModbusBatch) -> np.ndarray:
    """The rows this module writes: parsed by the fast path (the slow path keeps its messages)."""
    fast = mb.adu_off != NONE
    if mb.messages:
        fast[list(mb.messages)] = False
    return np.flatnonzero(fast)


def lines(mb: ModbusBatch, rows: np.ndarray) -> Lines:
    """The JSON line of every row in ``rows`` (fast-path rows, in capture order)."""
    rows = np.asarray(rows, dtype=np.int64)
    frames = mb.frame[rows]
    if not len(rows):
        return Lines("", frames, rows, np.zeros(0, dtype=np.int64))
    buffer, ends = _Assembly(mb, rows).run()
    return Lines(str(memoryview(buffer)[:int(ends[-1])], "ascii"), frames, rows, ends)


def _put(out: np.ndarray, ends: np.ndarray, block: np.ndarray) -> None:
    """Write each row of ``block`` (or the one row, to every end) so that it ends at ``ends``."""
    width = block.shape[-1]
    if len(ends):
        as_strided(out, shape=(len(out) - width + 1, width), strides=(1, 1))[ends - width] = block


def _put_exact(out: np.ndarray, ends: np.ndarray, block: np.ndarray, length: np.ndarray) -> None:
    """Write only each row's last ``length`` bytes of the right-aligned ``block``: rows grouped by length."""
    width = block.shape[1]
    counts = np.bincount(length, minlength=1)
    for size in np.flatnonzero(counts).tolist():
        if size:
            pick = np.flatnonzero(length == size) if counts[size] < len(length) else slice(None)
            _put(out, ends[pick], block[pick, width - size:])


def _number(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned digits of non-negative integers (NONE gives null), and their lengths."""
    null = v < 0
    w = np.where(null, 0, v)
    part, rest = w % _CHUNK, w // _CHUNK
    if not rest.any():
        index = np.where(null, NULL, part)
        return DIGITS[index], DIGIT_LEN[index]
    chunks, length, i = [], DIGIT_LEN[part], 0  # least significant chunk first
    while True:
        above = rest > 0  # a chunk with more digits above it shows its leading zeros
        if i == 0:
            chunks.append(np.where(null, NULL, np.where(above, part + _CHUNK + 1, part)))
        else:
            shown = w >= _CHUNK ** i
            chunks.append(np.where(above, part + _CHUNK + 1, np.where(shown, part, _EMPTY)))
            length = np.where(shown, 5 * i + DIGIT_LEN[part], length)
        if not above.any():
            break
        part, rest, i = rest % _CHUNK, rest // _CHUNK, i + 1
    return np.concatenate([DIGITS[c] for c in chunks[::-1]], axis=1), np.where(null, 4, length)


def _decimal(k: np.ndarray, fallback: list[tuple[int, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The repr of k·10⁻⁶ (k ≥ 0) for every row, then ``fallback``'s texts at their rows: a block, and each
    row's first and last column in it (the text is ``block[i, first:last]``)."""
    whole, fraction = k // 1_000_000, k % 1_000_000
    digits, digits_len = _number(whole)
    high, low = fraction // 1000, fraction % 1000
    high = high + 1000 * (low != 0)
    point = digits.shape[1]
    width = max(point + 7, point - 1 + max((len(text) for _, text in fallback), default=0))
    block = np.zeros((len(k), width), dtype=np.uint8)
    block[:, :point] = digits
    block[:, point] = ord(".")
    block[:, point + 1:point + 4] = FRACTION_HIGH[high]
    block[:, point + 4:point + 7] = FRACTION_LOW[low]
    first = point - digits_len
    last = point + 1 + FRACTION_HIGH_LEN[high] + FRACTION_LOW_LEN[low]
    tiny = np.flatnonzero((k > 0) & (k < 100))
    if len(tiny):
        block[tiny, point - 1:point + 7] = TINY[k[tiny]]
        first[tiny], last[tiny] = point - 1, point - 1 + TINY_LEN[k[tiny]]
    for i, text in fallback:
        _place(block, first, last, i, point - 1, text.encode("ascii"))
    return block, first, last


def _place(block: np.ndarray, first: np.ndarray, last: np.ndarray, i: int, at: int, text: bytes) -> None:
    block[i, at:at + len(text)] = np.frombuffer(text, dtype=np.uint8)
    first[i], last[i] = at, at + len(text)


def _seconds(ts: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Microsecond counts of doubles that are the nearest to their microsecond decimal, and the repr of
    the others, by row."""
    k = np.rint(ts * 1e6)
    exact = (k / 1e6 == ts) & (ts >= 0) & ~np.signbit(ts) & (ts < 2.0 ** 33)
    bad = np.flatnonzero(~exact)
    k[bad] = 0
    return k.astype(np.int64), [(i, repr(x)) for i, x in zip(bad.tolist(), ts[bad].tolist())]


def _rounded(y: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Microsecond counts of ``round(y, 6)`` where the nearest is certain, and the repr of the others."""
    p = y * 1e6
    k = np.rint(p)
    sure = (np.abs(p - k) < 0.5 - np.spacing(np.abs(p))) & (y >= 0) & ~np.signbit(y) & (p < 2.0 ** 52) \
        & (k < 2.0 ** 33 * 1e6)
    bad = np.flatnonzero(~sure)
    k[bad] = 0
    return k.astype(np.int64), [(i, repr(round(x, 6))) for i, x in zip(bad.tolist(), y[bad].tolist())]


def _table(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Texts right-aligned in the rows of one array, and their lengths."""
    width = max(1, max(map(len, texts), default=1))
    table = np.zeros((len(texts), width), dtype=np.uint8)
    for i, text in enumerate(texts):
        if text:
            table[i, width - len(text):] = np.frombuffer(text, dtype=np.uint8)
    return table, np.array([len(t) for t in texts], dtype=np.int64)


def _groups(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and each row's index among them; keys are in [0, space)."""
    if space <= 8 * len(key) + 4096:
        seen = np.zeros(space, dtype=bool)
        seen[key] = True
        distinct = np.flatnonzero(seen)
        index = np.zeros(space, dtype=np.int64)
        index[distinct] = np.arange(len(distinct))
        return distinct, index[key]
    distinct, inverse = np.unique(key, return_inverse=True)
    return distinct, inverse.reshape(-1)


CODES, EXCEPTIONS, BYTE_COUNTS = 128, 13, 257  # function codes, exception codes + 1, byte counts + 1
_UNIT_TEXT: dict[int, bytes] = {}
_TAIL_TEXT: dict[int, bytes] = {}


def _unit_text(key: int) -> bytes:
    """From the unit id to ``"address":``, for (unit, code index, exception + 1)."""
    text = _UNIT_TEXT.get(key)
    if text is None:
        rest, exc = divmod(key, EXCEPTIONS)
        unit, fc = divmod(rest, CODES)
        text = _UNIT_TEXT[key] = ('%d,"function_code":%d,"function_name":"%s","exception_code":%s,"address":' % (
            unit, fc, function_name(fc), exc - 1 if exc else "null")).encode()
    return text


def _tail_text(key: int) -> bytes:
    """From the values to the request frame, for (exception + 1, byte count + 1, disputed, answered)."""
    text = _TAIL_TEXT.get(key)
    if text is None:
        rest, answered = divmod(key, 2)
        rest, disputed = divmod(rest, 2)
        exc, count = divmod(rest, BYTE_COUNTS)
        tail = "" if not exc else ',"exception_name":"%s"' % exception_name(exc - 1)
        if count:
            tail += ',"byte_count":%d' % (count - 1)
        if disputed:
            tail += ',"disputed":true'
        if answered:
            tail += ',"request_frame":'
        text = _TAIL_TEXT[key] = tail.encode()
    return text


class _Assembly:
    """The lines of one call: fields by row, then segments written from each line's end to its start."""

    def __init__(self, mb: ModbusBatch, rows: np.ndarray) -> None:
        self.mb, self.rows = mb, rows
        self.n = len(rows)
        self.off = mb.adu_off[rows]
        self.fc = mb.function_code[rows]
        self.request = mb.is_request[rows]
        self.exception = mb.exception_code[rows]
        self.address, self.quantity = mb.address[rows].copy(), mb.quantity[rows].copy()
        self.byte8 = mb.data[self.off + MBAP_AND_FUNCTION].astype(np.int64)
        self.normal = self.exception == NONE
        self._context()

    def _context(self) -> None:
        """``byte_count``, and a response's request context (its address and quantity fill the response's)."""
        mb, rows, fc, normal, request = self.mb, self.rows, self.fc, self.normal, self.request
        n = self.n
        byte_count = np.full(n, NONE, dtype=np.int64)
        reads = normal & ~request & np.isin(fc, READ_BITS + READ_REGISTERS)
        byte_count[reads] = self.byte8[reads]
        multi = normal & request & ((fc == WRITE_COILS) | (fc == WRITE_REGISTERS))
        byte_count[multi] = mb.data[self.off[multi] + 12]
        request_frame = np.full(n, NONE, dtype=np.int64)
        response_time = np.full(n, np.nan)
        pairing = mb.pairing
        address, quantity = self.address, self.quantity
        if pairing is not None:
            asked = pairing.request_row[rows]
            paired = np.flatnonzero(asked >= 0)
            source = asked[paired]
            request_frame[paired] = mb.frame[source]
            fill = paired[address[paired] == NONE]
            address[fill] = mb.address[asked[fill]]
            fill = paired[quantity[paired] == NONE]
            quantity[fill] = mb.quantity[asked[fill]]
            if pairing.carried:
                carried_rows = np.array(sorted(pairing.carried), dtype=np.int64)
                at = np.minimum(np.searchsorted(rows, carried_rows), n - 1)
                for k, row in zip(at.tolist(), carried_rows.tolist()):
                    if rows[k] == row and asked[k] < 0:
                        _, _, carried_address, carried_quantity, request_frame[k] = pairing.carried[row]
                        if address[k] == NONE:
                            address[k] = carried_address
                        if quantity[k] == NONE:
                            quantity[k] = carried_quantity
            answered = request_frame >= 0
            response_time[answered] = pairing.response_time[rows[answered]]
        self.byte_count, self.request_frame, self.response_time = byte_count, request_frame, response_time

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        mb, rows = self.mb, self.rows
        answered = self.request_frame != NONE
        timed = answered & ~np.isnan(self.response_time)
        # Each row's segments, from the line's start: texts or digit blocks and their lengths.
        ts_k, ts_fallback = _seconds(mb.ts[rows])
        ts_block, ts_first, ts_last = _decimal(ts_k, ts_fallback)
        ts_len = ts_last - ts_first
        frame, frame_len = _number(mb.frame[rows])
        tid, tid_len = _number(mb.transaction_id[rows])
        address, address_len = _number(self.address)
        quantity, quantity_len = _number(self.quantity)
        ends_table, ends_len, ends_group = self._ends_and_verb()
        unit_table, unit_len, unit_group = self._unit()
        tail_table, tail_len, tail_group = self._tail(answered)
        values = _Values(self)
        rf, rf_len = _number(np.where(answered, self.request_frame, 0))
        rf_len = np.where(answered, rf_len, 0)
        rt_k, rt_fallback = _rounded(np.where(timed, self.response_time, 0.0))
        rt_block, rt_first, rt_last = _decimal(rt_k, rt_fallback)
        end_len = np.where(timed, 17 + rt_last - rt_first, 0) + 2

        head = '{"ts":', ',"frame":'
        file = (',"file":' + json.dumps(mb.file) + ',"proto":"modbus",').encode("ascii")
        lengths = [15 + ts_len, frame_len + len(file), ends_len, tid_len + 11, unit_len, address_len + 12,
                   quantity_len + np.where(values.null, 14, 11), values.length, tail_len, rf_len, end_len]
        end = np.cumsum(np.stack(lengths, axis=1), axis=1)  # each segment's end within its line
        line_end = np.cumsum(end[:, -1])
        line_start = line_end - end[:, -1]
        at = line_start[:, None] + end  # each segment's end in the buffer
        out = np.empty(int(line_end[-1]) + 64, dtype=np.uint8)

        # Exact: the line's end, then everything right-aligned from the end towards the start.
        self._line_end(out, at[:, 9], timed, rt_block, rt_first, rt_last)
        some = np.flatnonzero(answered)
        self._padded(out, at[some, 9], line_start[some], rf[some], rf_len[some])
        self._padded(out, at[:, 8], line_start, tail_table[tail_group], tail_len)
        values.write(out, at[:, 6], at[:, 7], line_start)
        for null, suffix in ((values.null, b',"values":null'), (~values.null, b',"values":[')):
            pick = np.flatnonzero(null)
            self._padded(out, at[pick, 6], line_start[pick], _then(quantity[pick], suffix), quantity_len[pick] + len(suffix))
        self._padded(out, at[:, 5], line_start, _then(address, b',"quantity":'), address_len + 12)
        self._padded(out, at[:, 4], line_start, unit_table[unit_group], unit_len)
        self._padded(out, at[:, 3], line_start, _then(tid, b',"unit_id":'), tid_len + 11)
        self._padded(out, at[:, 2], line_start, ends_table[ends_group], ends_len)
        self._padded(out, at[:, 1], line_start, _then(frame, file), frame_len + len(file))
        # Exact, last: the line's head, whose padding would reach the previous line.
        for (first, last), pick in _classes(ts_first, ts_last):
            block = np.empty((len(pick), 15 + last - first), dtype=np.uint8)
            block[:, :6] = np.frombuffer(head[0].encode(), dtype=np.uint8)
            block[:, 6:6 + last - first] = ts_block[pick, first:last]
            block[:, 6 + last - first:] = np.frombuffer(head[1].encode(), dtype=np.uint8)
            _put(out, at[pick, 0], block)
        return out, line_end

    @staticmethod
    def _padded(out: np.ndarray, ends: np.ndarray, line_start: np.ndarray, block: np.ndarray,
                length: np.ndarray) -> None:
        """Right-aligned, padded to the block's width; rows whose padding would leave the line: exact."""
        far = ends - block.shape[1] < line_start
        if not far.any():
            _put(out, ends, block)
            return
        near = np.flatnonzero(~far)
        _put(out, ends[near], block[near])
        far = np.flatnonzero(far)
        _put_exact(out, ends[far], block[far], length[far])

    @staticmethod
    def _line_end(out: np.ndarray, start: np.ndarray, timed: np.ndarray, block: np.ndarray, first: np.ndarray,
                  last: np.ndarray) -> None:
        """``,"response_time":...}`` and the newline, exactly, rows grouped by the text's place in ``block``."""
        plain = np.flatnonzero(~timed)
        _put(out, start[plain] + 2, np.frombuffer(b"}\n", dtype=np.uint8))
        timed = np.flatnonzero(timed)
        for (a, b), pick in _classes(first[timed], last[timed]):
            rows = timed[pick]
            text = np.empty((len(rows), 19 + b - a), dtype=np.uint8)
            text[:, :17] = np.frombuffer(b',"response_time":', dtype=np.uint8)
            text[:, 17:17 + b - a] = block[rows, a:b]
            text[:, 17 + b - a:] = np.frombuffer(b"}\n", dtype=np.uint8)
            _put(out, start[rows] + text.shape[1], text)

    def _ends_and_verb(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``"src":..,"sport":..,"dst":..,"dport":..,"direction":..,"action":..,"transaction_id":`` by
        (flow, direction, function code)."""
        mb = self.mb
        flow = mb.flow[self.rows].astype(np.int64)
        key = (flow * 2 + self.request) * CODES + self.fc
        distinct, group = _groups(key, len(mb.flows) * 2 * CODES)
        texts = []
        for k in distinct.tolist():
            rest, code = divmod(k, CODES)
            f, request = divmod(rest, 2)
            flow_ = mb.flows[f]
            ends = ((flow_.client, flow_.client_port), (flow_.server, flow_.server_port))
            (src, sport), (dst, dport) = ends if request else ends[::-1]
            name = function_name(code)
            texts.append(('"src":%s,"sport":%d,"dst":%s,"dport":%d,"direction":"%s","action":"%s",'
                          '"transaction_id":' % (json.dumps(src), sport, json.dumps(dst), dport,
                                                 "request" if request else "response", action_of(name))).encode())
        table, length = _table(texts)
        return table, length[group], group

    def _unit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        unit = self.mb.unit_id[self.rows]
        key = (unit * CODES + self.fc) * EXCEPTIONS + (self.exception + 1)
        distinct, group = _groups(key, 256 * CODES * EXCEPTIONS)
        table, length = _table([_unit_text(k) for k in distinct.tolist()])
        return table, length[group], group

    def _tail(self, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        disputed = self.mb.disputed[self.rows].astype(np.int64)
        key = (((self.exception + 1) * BYTE_COUNTS + (self.byte_count + 1)) * 2 + disputed) * 2 + answered
        distinct, group = _groups(key, EXCEPTIONS * BYTE_COUNTS * 4)
        table, length = _table([_tail_text(k) for k in distinct.tolist()])
        return table, length[group], group


def _then(block: np.ndarray, suffix: bytes) -> np.ndarray:
    """Each row of ``block`` followed by ``suffix``."""
    out = np.empty((len(block), block.shape[1] + len(suffix)), dtype=np.uint8)
    out[:, :block.shape[1]] = block
    out[:, block.shape[1]:] = np.frombuffer(suffix, dtype=np.uint8)
    return out


def _classes(first: np.ndarray, last: np.ndarray) -> list[tuple[tuple[int, int], np.ndarray]]:
    """Rows grouped by (first, last)."""
    if not len(first):
        return []
    key = first * 4096 + last
    found = []
    counts = np.bincount(key - key.min())
    for k in (np.flatnonzero(counts) + key.min()).tolist():
        pick = np.flatnonzero(key == k) if counts[k - key.min()] < len(key) else np.arange(len(key))
        found.append(((k // 4096, k % 4096), pick))
    return found


class _Values:
    """The ``values`` array of every row (``null`` where there is none): its length, and how to write it."""

    def __init__(self, a: _Assembly) -> None:
        data, off, fc, request, normal, byte8 = a.mb.data, a.off, a.fc, a.request, a.normal, a.byte8
        n = a.n
        start, count = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)  # where the values' bytes are
        read_response = normal & ~request & np.isin(fc, READ_BITS + READ_REGISTERS)
        start[read_response], count[read_response] = off[read_response] + 9, byte8[read_response]
        written = normal & request & ((fc == WRITE_COILS) | (fc == WRITE_REGISTERS))
        start[written], count[written] = off[written] + 13, data[off[written] + 12]
        single = normal & ((fc == WRITE_COIL) | (fc == WRITE_REGISTER))  # a coil's FF00/0000 is its high byte's bit 0
        start[single], count[single] = off[single] + 10, np.where(fc[single] == WRITE_COIL, 1, 2)
        registers = np.isin(fc, READ_REGISTERS) | (fc == WRITE_REGISTERS) | (fc == WRITE_REGISTER)
        self.null = count == 0
        self.length = np.zeros(n, dtype=np.int64)  # from after "[" to "]" included
        # Registers: each value's digits and a comma (the last comma becomes "]").
        self.words = np.flatnonzero(registers & (count > 0))
        per_row = count[self.words] // 2
        begins = np.cumsum(per_row) - per_row
        index = np.repeat(start[self.words] - 2 * begins, per_row) + 2 * np.arange(int(per_row.sum()))
        self.word_values = (data[index].astype(np.int64) << 8) | data[index + 1]
        through = np.cumsum(DIGIT_LEN[self.word_values] + 1)  # where each value's comma ends, all rows end to end
        before = np.concatenate([[0], through])[begins]
        self.length[self.words] = np.concatenate([[0], through])[begins + per_row] - before
        self.word_end = through - np.repeat(before, per_row)  # within its row's values
        self.word_row = np.repeat(self.words, per_row)
        # Coils and inputs: "0," or "1," per bit kept (bits past a write's quantity are padding).
        self.coils = c = np.flatnonzero(~registers & (count > 0))
        per_row = count[c]
        begins = np.cumsum(per_row) - per_row
        index = np.repeat(start[c] - begins, per_row) + np.arange(int(per_row.sum()))
        bits = np.unpackbits(data[index], bitorder="little")
        keep = np.where(fc[c] == WRITE_COIL, 1, np.where(fc[c] == WRITE_COILS, a.quantity[c], 8 * per_row))
        self.keep = keep = np.minimum(keep, 8 * per_row)
        self.bits = bits[np.repeat(8 * begins, keep) + _within(keep)]  # the kept bits, rows end to end
        self.length[c] = 2 * keep

    def write(self, out: np.ndarray, begin: np.ndarray, end: np.ndarray, line_start: np.ndarray) -> None:
        """Values run from ``begin`` (right after "[") to ``end`` (after "]"); padding goes left."""
        if len(self.words):
            item_end = begin[self.word_row] + self.word_end
            cells = _then(DIGITS[self.word_values], b",")
            _put(out, item_end[::-1], cells[::-1])  # the last first: each one's padding lands on an earlier one
        keep = self.keep
        first_bit = np.cumsum(keep) - keep
        tier = keep // 64  # rows of similar lengths together, so that padding stays short
        for t in np.unique(tier).tolist():
            pick = np.flatnonzero(tier == t)
            rows, kept = self.coils[pick], keep[pick]
            width = int(kept.max())
            cells = np.empty((len(pick), width, 2), dtype=np.uint8)
            cells[:, :, 1] = ord(",")
            within = _within(kept)
            cell = np.repeat(np.arange(len(pick)) * width + width - kept, kept) + within
            cells.reshape(-1, 2)[cell, 0] = self.bits[np.repeat(first_bit[pick], kept) + within] + 48
            _Assembly._padded(out, end[rows], line_start[rows], cells.reshape(len(pick), 2 * width), 2 * kept)
        listed = np.flatnonzero(~self.null)
        out[end[listed] - 1] = ord("]")


def _within(count: np.ndarray) -> np.ndarray:
    """0, 1, .., count - 1 for each row, end to end."""
    return np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
