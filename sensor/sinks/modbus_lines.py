"""Event lines of the Modbus rows the fast path parsed, assembled as bytes from the batch's columns.

Writing one event per message through a parsed ``ModbusMessage``, a dict and ``json.dumps`` costs about
15 µs a message; even one ``%`` template per row costs 2 µs. The fast path's rows are well-formed ADUs of
function codes 1–6, 15 and 16 or exception responses (``protocols.modbus.batch``), whose every field sits in
the columns or at a fixed offset, so their lines are assembled for the whole batch at once in a byte
buffer with numpy: no Python work per row (about 1 µs a line, where ``%`` took 4.5). The text is byte for byte what the per-message writer gives
(tests/unit/sinks/test_modbus_lines.py checks that on every shape, random conversations and the corpus);
every other row still goes through ``ModbusMessage.event_fields``.

How a line is assembled. A line is a run of *segments*: a number's digits followed by a constant
(``41094,"unit_id":``), or a per-group text from a small table (a flow's ends and the verb; the unit,
function and exception; the tail's keys). Every row's segment lengths are known first, so every segment's
end in the buffer is too, and a segment is written to all rows at once through a view of the buffer whose
items are ``width`` bytes starting at every byte (``view[ends - width] = block``: one memcpy a row). Blocks
are right-aligned and padded to the widest row; the padding lands on the segment's left, inside the line,
on a segment written afterwards, because segments are written from the line's end towards its start. The
request frame and response time have padding on both sides: on the right it lands on the next line's
head. The head (``{"ts":...,"frame":``) is written last and exactly (rows grouped by its shape): its left
is the previous line. Rows go by chunks, so the buffer's part and the blocks stay in the CPU's cache.

Where the compiled join of ``sensor.sinks.cells`` is installed, the same columns and texts become the lines
through it instead (``_Assembly.compiled``, about four times faster); the assembly above is then the
fallback, and the tests hold the two to the same bytes.

Floats. ``json.dumps`` writes ``repr(float)``: the shortest decimal that reads back as the same double.
A capture's timestamps (microseconds) and ``round(response_time, 6)`` are doubles nearest to a decimal
k·10⁻⁶; for such a double x below 2³³ the ULP is below 10⁻⁶, so two decimals of at most six places can
not both read back as x: k·10⁻⁶ with its trailing zeros stripped is the only one, and no shorter decimal
(which would also have at most six places) reads back as x, so it is the repr (fixed notation from 10⁻⁴;
below that repr switches to exponents, a table of the 99 values). Whether x is such a double is checked,
not assumed: k = rint(x·10⁶) and k / 10⁶ == x (IEEE division is correctly rounded, so that is strtod of
the decimal). For ``round(y, 6)`` the nearest k is certain when |y·10⁶ − k| leaves a margin of one ULP
of y·10⁶ below one half, and then round() returns k / 10⁶. Rows that fail a check (nanosecond
timestamps, near ties, negative or non-finite values) take ``repr`` (what ``json.dumps`` writes) one at a
time. The tests check all of this against ``repr`` on random doubles.
"""
from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

import numpy as np

from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of, exception_name, function_name
from sensor.dissect.modbus import ModbusBatch
from sensor.order import groups
from sensor.sinks import cells

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


Text = bytes | memoryview


class Lines(Sequence[str]):
    """The event lines of some Modbus rows, each followed by a newline, as ``pieces`` of ASCII text cut between
    lines: views of a buffer the next batch reuses, so they are written out (``EventWriter``) before it.

    ``frames``/``rows`` are each line's frame and batch row (the order ``events.py`` merges lines by);
    ``ends[i]`` is where line i's newline ends in ``text``, the pieces end to end. Indexing or iterating
    gives lines without their newline, as a list of str would.
    """

    __slots__ = ("pieces", "frames", "rows", "ends", "_text")

    def __init__(self, pieces: list[Text], frames: np.ndarray, rows: np.ndarray, ends: np.ndarray) -> None:
        self.pieces, self.frames, self.rows, self.ends = pieces, frames, rows, ends
        self._text: str | None = None

    @property
    def text(self) -> str:
        """Every line, each followed by a newline (the pieces joined: made on first use)."""
        if self._text is None:
            self._text = b"".join(self.pieces).decode("ascii")
        return self._text

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
        yield from self.text.split("\n")[:-1]


def merge(fast: Lines | None, others: list[tuple[int, int, str]]) -> list[Text]:
    """Pieces of text holding ``fast``'s lines and ``others`` (``(frame, order, line)``, sorted) in (frame,
    order) order, a newline after each line; a line's order in ``fast`` is its row. Write them one by one."""
    if fast is None or not len(fast):
        return ["".join([line + "\n" for _, _, line in others]).encode()] if others else []
    if not others:
        return fast.pieces
    frame = np.array([f for f, _, _ in others], dtype=np.int64)
    order = np.array([o for _, o, _ in others], dtype=np.int64)
    # How many fast lines sort before each other line: first by frame, then by order among equal frames.
    low = np.searchsorted(fast.frames, frame, side="left")
    high = np.searchsorted(fast.frames, frame, side="right")
    at = low.copy()
    for k in np.flatnonzero(high > low).tolist():
        at[k] += int(np.searchsorted(fast.rows[low[k]:high[k]], order[k]))
    cuts = np.concatenate([[0], fast.ends])[at].tolist()  # where each other line goes in the text
    out: list[Text] = []
    j, start = 0, 0
    for piece in fast.pieces:
        end, done = start + len(piece), start
        while j < len(others) and cuts[j] < end:
            if cuts[j] > done:
                out.append(piece[done - start:cuts[j] - start])
                done = cuts[j]
            out.append((others[j][2] + "\n").encode())
            j += 1
        out.append(piece if done == start else piece[done - start:])
        start = end
    out.extend((line + "\n").encode() for _, _, line in others[j:])
    return out


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
        return Lines([], frames, rows, np.zeros(0, dtype=np.int64))
    assembly = _Assembly(mb, rows)
    pieces, ends = assembly.compiled() if cells.COMPILED else assembly.run()
    return Lines(pieces, frames, rows, ends)


STEP = 16384  # rows written together: their part of the buffer and their blocks stay in the CPU's cache
SLACK = 256  # past the last line: the last row's padding
_scratch = threading.local()


def _buffer(size: int) -> np.ndarray:
    """A byte buffer of at least ``size``, kept between calls (a fresh one costs a page fault per 4 KiB)."""
    buffer = getattr(_scratch, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _scratch.buffer = np.empty(size + size // 4, dtype=np.uint8)
    return buffer


@functools.cache
def _kind(width: int) -> np.dtype:
    return np.dtype((np.void, width))


def _items(block: np.ndarray) -> np.ndarray:
    """The rows of a 2-D byte block (its last axis contiguous) as one item each: numpy copies an item with
    one memcpy, where it loops over a row's bytes."""
    return block.view(_kind(block.shape[1]))[:, 0]


def _rows(table: np.ndarray, index: np.ndarray | slice) -> np.ndarray:
    """``table[index]`` for a C-contiguous 2-D byte table: rows taken as items."""
    if isinstance(index, slice):
        return table[index]
    width = table.shape[1]
    return table.view(_kind(width)).reshape(-1).take(index).view(np.uint8).reshape(len(index), width)


def _join(n: int, *parts: np.ndarray | bytes) -> np.ndarray:
    """The rows of blocks and constants side by side."""
    widths = [len(p) if isinstance(p, bytes) else p.shape[1] for p in parts]
    out = np.empty((n, sum(widths)), dtype=np.uint8)
    if not n:
        return out
    column = 0
    for part, width in zip(parts, widths):
        if width:
            into = np.ndarray((n,), dtype=_kind(width), buffer=out, offset=column, strides=(out.shape[1],))
            into[...] = np.frombuffer(part, dtype=_kind(width))[0] if isinstance(part, bytes) else _items(part)
        column += width
    return out


def _put(out: np.ndarray, ends: np.ndarray, block: np.ndarray | bytes) -> None:
    """Write each row of ``block`` (a constant: the same to every end) so that it ends at ``ends``: one copy
    a row, through a view of the buffer whose items are ``width`` bytes starting at every byte."""
    width = len(block) if isinstance(block, bytes) else block.shape[1]
    if not len(ends) or not width:
        return
    windows = np.ndarray((len(out) - width + 1,), dtype=_kind(width), buffer=out, strides=(1,))
    windows[ends - width] = np.frombuffer(block, dtype=_kind(width))[0] if isinstance(block, bytes) else _items(block)


def _put_exact(out: np.ndarray, ends: np.ndarray, block: np.ndarray, length: np.ndarray) -> None:
    """Write only each row's last ``length`` bytes of the right-aligned ``block``: rows grouped by length."""
    width = block.shape[1]
    for size, pick in _classes(length):
        if size:
            _put(out, ends[pick], _rows(block, pick)[:, width - size:])


def _padded(out: np.ndarray, ends: np.ndarray, floor: np.ndarray, block: np.ndarray, length: np.ndarray,
            reach: int = 0) -> None:
    """Right-aligned, padded to the block's width (the padding lands on the left, on what is written
    later); rows whose padding would pass ``floor`` (their line's start) are written exactly. ``reach``:
    a bound below every ``ends - floor``, which spares looking when the block is no wider."""
    if block.shape[1] <= reach:
        _put(out, ends, block)
        return
    far = ends - block.shape[1] < floor
    if not far.any():
        _put(out, ends, block)
        return
    near = np.flatnonzero(~far)
    _put(out, ends[near], _rows(block, near))
    far = np.flatnonzero(far)
    _put_exact(out, ends[far], _rows(block, far), length[far])


def _classes(key: np.ndarray) -> list[tuple[int, np.ndarray | slice]]:
    """Rows grouped by a small non-negative key (a slice when all rows share it)."""
    if not len(key):
        return []
    low, high = int(key.min()), int(key.max())
    if low == high:
        return [(low, slice(None))]
    if high - low < 4:
        return [(k, np.flatnonzero(key == k)) for k in range(low, high + 1)]
    order = np.argsort(key if high >= 1 << 15 else key.astype(np.int16), kind="stable")  # a radix sort
    ordered = key[order]
    cut = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    return [(int(ordered[a]), order[a:b]) for a, b in zip([0, *cut.tolist()], [*cut.tolist(), len(key)])]


U16 = 1 << 16
U16_LEN = np.concatenate([DIGIT_LEN[:U16], [4]])  # by row of a ``_u16_then`` table
_CELL_LEN = (DIGIT_LEN[:U16] + 1).astype(np.uint8)  # a register's digits and comma: small, so it stays cached


def _u16_digits() -> np.ndarray:
    index = np.arange(U16 + 1)
    index[U16] = NULL
    return _rows(DIGITS, index)


@functools.cache
def _u16_then(suffix: bytes) -> np.ndarray:
    """Right-aligned digits of 0..65535, then ``suffix``; row 65536: null then ``suffix``. Made once (1 MiB)."""
    return _join(U16 + 1, _u16_digits(), suffix)


@functools.cache
def _quantity_table() -> np.ndarray:
    """``_u16_then`` for ``,"values":null``, then (rows + 65537) for ``,"values":[``."""
    digits = _u16_digits()
    return np.concatenate([_join(U16 + 1, digits, b',"values":null'), _join(U16 + 1, bytes(3), digits, b',"values":[')])


def _u16_index(v: np.ndarray) -> np.ndarray:
    """Rows of ``_u16_then`` tables: the value, or 65536 for NONE."""
    return v if not len(v) or v.min() >= 0 else np.where(v < 0, U16, v)


def _number(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned digits of non-negative integers (NONE gives null), and their lengths."""
    if not len(v):
        return np.zeros((0, 5), dtype=np.uint8), np.zeros(0, dtype=np.int64)
    low, top = int(v.min()), int(v.max())
    if top < _CHUNK:
        index = v if low >= 0 else np.where(v < 0, NULL, v)
        return _rows(DIGITS, index), DIGIT_LEN.take(index)
    if low >= 0 and top - low < len(v) // 4:  # few distinct values (a batch's seconds): digits of the range
        digits, length = _number(np.arange(low, top + 1))
        return _rows(digits, v - low), length.take(v - low)
    null = v < 0
    w = np.maximum(v, 0)
    parts, rest = [], w
    while True:
        above = rest // _CHUNK
        parts.append(rest - above * _CHUNK)
        rest = above
        if not rest.any():
            break
    chunks, length = [], DIGIT_LEN.take(parts[0])
    for i, part in enumerate(parts):  # a chunk with digits above it shows its leading zeros
        above = w >= _CHUNK ** (i + 1)
        if i == 0:
            chunks.append(np.where(null, NULL, np.where(above, part + _CHUNK + 1, part)))
        else:
            shown = w >= _CHUNK ** i
            chunks.append(np.where(above, part + _CHUNK + 1, np.where(shown, part, _EMPTY)))
            length = np.where(shown, 5 * i + DIGIT_LEN.take(part), length)
    return _join(len(v), *[_rows(DIGITS, c) for c in chunks[::-1]]), np.where(null, 4, length)


def _decimal(k: np.ndarray, fallback: list[tuple[int, str]], room: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """The repr of k·10⁻⁶ (k ≥ 0) for every row, then ``fallback``'s texts at their rows: a block (``room``
    more columns), and each row's first and last column in it (the text is ``block[i, first:last]``)."""
    whole = k // 1_000_000
    fraction = k - whole * 1_000_000
    digits, digits_len = _number(whole)
    high = fraction // 1000
    low = fraction - high * 1000
    high += 1000 * (low != 0)
    point = digits.shape[1]
    extra = max(0, max((len(text) for _, text in fallback), default=0) - 8) + room
    block = _join(len(k), digits, b".", _rows(FRACTION_HIGH, high), _rows(FRACTION_LOW, low), bytes(extra))
    first = point - digits_len
    last = point + 1 + FRACTION_HIGH_LEN.take(high) + FRACTION_LOW_LEN.take(low)
    tiny = np.flatnonzero((k > 0) & (k < 100))
    if len(tiny):
        block[tiny, point - 1:point + 7] = TINY[k[tiny]]
        first[tiny], last[tiny] = point - 1, point - 1 + TINY_LEN[k[tiny]]
    for i, text in fallback:
        block[i, point - 1:point - 1 + len(text)] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        first[i], last[i] = point - 1, point - 1 + len(text)
    return block, first, last


def _seconds(ts: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Microsecond counts of doubles that are the nearest to their microsecond decimal, and the repr of
    the others, by row."""
    with np.errstate(over="ignore", invalid="ignore"):
        k = np.rint(ts * 1e6)
        exact = (k / 1e6 == ts) & (ts >= 0) & ~np.signbit(ts) & (ts < 2.0 ** 33)
    bad = np.flatnonzero(~exact)
    k[bad] = 0
    return k.astype(np.int64), [(i, _json_float(x)) for i, x in zip(bad.tolist(), ts[bad].tolist())]


def _rounded(y: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Microsecond counts of ``round(y, 6)`` where the nearest is certain, and the repr of the others."""
    with np.errstate(over="ignore", invalid="ignore"):
        p = y * 1e6
        k = np.rint(p)
        sure = (np.abs(p - k) < 0.5 - np.spacing(np.abs(p))) & (y >= 0) & ~np.signbit(y) & (k < 2.0 ** 33 * 1e6)
    bad = np.flatnonzero(~sure)
    k[bad] = 0
    return k.astype(np.int64), [(i, _json_float(round(x, 6) if math.isfinite(x) else x))
                                for i, x in zip(bad.tolist(), y[bad].tolist())]


def _json_float(x: float) -> str:
    """What ``json.dumps`` writes for a float."""
    return repr(x) if math.isfinite(x) else "NaN" if x != x else "Infinity" if x > 0 else "-Infinity"


def _table(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Texts right-aligned in the rows of one array, and their lengths."""
    width = max(1, max(map(len, texts), default=1))
    table = np.zeros((len(texts), width), dtype=np.uint8)
    for i, text in enumerate(texts):
        if text:
            table[i, width - len(text):] = np.frombuffer(text, dtype=np.uint8)
    return table, np.array([len(t) for t in texts], dtype=np.int64)


def _grouped(texts: list[bytes], group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts as a right-aligned table, each row's text length, and each row's text."""
    table, length = _table(texts)
    return table, length[group], group


def _micros(k: np.ndarray, fallback: list[tuple[int, str]]) -> cells.Cell:
    """A time cell of microsecond counts (negative: none); below 1e-4, and at ``fallback``'s rows, the repr's
    text instead (repr writes 5e-05)."""
    texts, index = [], np.full(len(k), -1, dtype=np.int64)
    tiny = np.flatnonzero((k > 0) & (k < 100))
    for row, text in [*((r, repr(int(k[r]) / 1e6)) for r in tiny.tolist()), *fallback]:
        index[row] = len(texts)
        texts.append(text.encode("ascii"))
    return cells.micros(k, False, cells.table(texts, index))


CODES, EXCEPTIONS, BYTE_COUNTS = 128, 13, 257  # function codes, exception codes + 1, byte counts + 1
_READS = np.isin(np.arange(CODES), READ_BITS + READ_REGISTERS)
_REGISTERS = np.isin(np.arange(CODES), READ_REGISTERS + (WRITE_REGISTER, WRITE_REGISTERS))
_MULTIPLE = np.isin(np.arange(CODES), (WRITE_COILS, WRITE_REGISTERS))
_SINGLE = np.isin(np.arange(CODES), (WRITE_COIL, WRITE_REGISTER))
_UNIT_TEXT: dict[int, bytes] = {}
_TAIL_TEXT: dict[int, bytes] = {}


def _unit_text(key: int) -> bytes:
    """From the unit id to ``"address":``, for (unit, function code, exception + 1)."""
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
        tail += ',"request_frame":' if answered else "}\n"
        text = _TAIL_TEXT[key] = tail.encode()
    return text


class _Assembly:
    """The lines of one call: every row's fields and segment lengths, then the segments written a chunk of
    rows at a time, from each line's end towards its start.

    Segments from a line's start: 0 ``{"ts":``ts``,"frame":``frame (exact) | 1 ``,"file":..,"proto":"modbus",``
    and the ends and verb to ``"transaction_id":`` | 2 tid``,"unit_id":`` | 3 unit .. ``"address":`` |
    4 address``,"quantity":`` | 5 quantity``,"values":[`` or ``,"values":null`` | 6 the values and "]" |
    7 exception name, byte count, disputed, then ``,"request_frame":`` or (unanswered) ``}`` and the newline |
    8 request frame, ``,"response_time":``time, ``}`` and the newline. ``at[k + 1]`` is where segment k ends.
    """

    def __init__(self, mb: ModbusBatch, rows: np.ndarray) -> None:
        self.mb, self.rows = mb, rows
        self.n = n = len(rows)
        self.pick = pick = slice(int(rows[0]), int(rows[0]) + n) if rows[-1] - rows[0] == n - 1 else rows  # a view
        self.off = mb.adu_off[pick]
        self.fc = mb.function_code[pick]
        self.request = mb.is_request[pick]
        self.exception = mb.exception_code[pick]
        self.address, self.quantity = mb.address[pick].copy(), mb.quantity[pick].copy()
        self.byte8 = mb.data[self.off + MBAP_AND_FUNCTION].astype(np.int64)
        self.normal = self.exception == NONE
        self._context()

    def _context(self) -> None:
        """``byte_count``, and a response's request context (its address and quantity fill the response's)."""
        mb, rows, fc, normal, request = self.mb, self.rows, self.fc, self.normal, self.request
        n = self.n
        byte_count = np.full(n, NONE, dtype=np.int64)
        reads = normal & ~request & _READS[fc]
        byte_count[reads] = self.byte8[reads]
        multi = normal & request & _MULTIPLE[fc]
        byte_count[multi] = mb.data[self.off[multi] + 12]
        request_frame = np.full(n, NONE, dtype=np.int64)
        response_time = np.full(n, np.nan)
        pairing = mb.pairing
        address, quantity = self.address, self.quantity
        if pairing is not None:
            asked = pairing.request_row[self.pick]
            paired = np.flatnonzero(asked >= 0)
            source = asked[paired]
            request_frame[paired] = mb.frame[source]
            fill = paired[address[paired] == NONE]
            address[fill] = mb.address[asked[fill]]
            fill = paired[quantity[paired] == NONE]
            quantity[fill] = mb.quantity[asked[fill]]
            if pairing.carried:  # answers to requests of an earlier batch
                carried = np.array(sorted(pairing.carried), dtype=np.int64)
                at = np.minimum(np.searchsorted(rows, carried), n - 1)
                for k, row in zip(at.tolist(), carried.tolist()):
                    if rows[k] == row and asked[k] < 0:
                        _, _, carried_address, carried_quantity, request_frame[k] = pairing.carried[row]
                        if address[k] == NONE:
                            address[k] = carried_address
                        if quantity[k] == NONE:
                            quantity[k] = carried_quantity
            answered = request_frame >= 0
            response_time[answered] = pairing.response_time[rows[answered]]
        self.byte_count, self.request_frame, self.response_time = byte_count, request_frame, response_time

    def run(self) -> tuple[list[Text], np.ndarray]:
        """The lines' text in pieces, and where each line ends in it."""
        mb = self.mb
        self.answered = answered = self.request_frame != NONE
        self.timed = timed = answered & ~np.isnan(self.response_time)
        ts_k, ts_fallback = _seconds(mb.ts[self.pick])
        self.ts, ts_first, ts_last = _decimal(ts_k, ts_fallback)
        self.frame, frame_len = _number(mb.frame[self.pick])
        self.tid = _u16_index(mb.transaction_id[self.pick])
        self.addr = _u16_index(self.address)
        self.values = values = _Values(self)
        self.qty = _u16_index(self.quantity) + (U16 + 1) * ~values.null
        self.ends_table, ends_len, self.ends_group = _grouped(*self._ends_and_verb())
        self.unit_table, unit_len, self.unit_group = _grouped(*self._unit())
        self.tail_table, tail_len, self.tail_group = _grouped(*self._tail(answered))
        self.rf, self.rf_len = rf, rf_len = _number(np.where(answered, self.request_frame, 0))
        some = np.flatnonzero(timed)
        rt_k, rt_fallback = _rounded(self.response_time[some])
        self.rt, self.rt_first, rt_last = _decimal(rt_k, rt_fallback, room=2)
        end = np.arange(len(some)) * self.rt.shape[1] + rt_last  # each time's text is followed by "}\n"
        self.rt.reshape(-1)[end], self.rt.reshape(-1)[end + 1] = ord("}"), ord("\n")
        self.rt_row = np.cumsum(timed) - 1  # a timed row's row in ``rt``
        rt_len = np.zeros(self.n, dtype=np.int64)
        rt_len[some] = rt_last - self.rt_first
        ts_len = ts_last - ts_first
        self.head = (ts_first * 32 + ts_len) * 32 + frame_len  # the head's shape, for exact writes
        self.lengths = lengths = (
            15 + ts_len + frame_len, ends_len, U16_LEN.take(self.tid) + 11, unit_len,
            U16_LEN.take(self.addr) + 12, U16_LEN.take(self.qty % (U16 + 1)) + np.where(values.null, 14, 11),
            values.length, tail_len, np.where(answered, rf_len + 2 + np.where(timed, 17 + rt_len, 0), 0))
        self.reach = np.cumsum([int(length.min()) for length in lengths]).tolist()  # segment k ends past these
        line_len = sum(lengths)
        line_end = np.cumsum(line_len)
        self.at = at = [line_end - line_len]  # at[k + 1]: where segment k ends, at[0]: where the line starts
        for length in lengths:
            at.append(at[-1] + length)
        values.place(at[7])
        out = _buffer(int(line_end[-1]) + SLACK)
        for start in range(0, self.n, STEP):
            self._write(out, start, min(self.n, start + STEP))
        return [memoryview(out)[:int(line_end[-1])]], line_end

    def _write(self, out: np.ndarray, a: int, b: int) -> None:
        """The lines of rows [a, b), from their ends: every padding lands on a segment written after it."""
        s, at, lengths = slice(a, b), self.at, self.lengths
        floor = at[0][s]
        answered = np.flatnonzero(self.answered[s]) + a  # 8: request frame[, response time] and "}\n"
        timed = self.timed[answered]
        some = answered[~timed]
        _padded(out, at[9][some], at[0][some], _join(len(some), _rows(self.rf, some), b"}\n"), lengths[8][some],
                self.reach[7])
        timed = answered[timed]  # the frame right-aligned, the time left-aligned: padding on both sides, the
        # left one (less than the frame's width) on the tail's ',"request_frame":', the right one on the next
        # line's head, written last
        width = self.rf.shape[1]
        for first, pick in _classes(self.rt_first[self.rt_row[timed]]):
            some = timed[pick]
            block = _join(len(some), _rows(self.rf, some), b',"response_time":',
                          _rows(self.rt, self.rt_row[some])[:, first:])
            _put(out, at[8][some] + self.rf_len[some] - width + block.shape[1], block)
        _padded(out, at[8][s], floor, _rows(self.tail_table, self.tail_group[s]), lengths[7][s], self.reach[7])  # 7
        self.values.write(out, a, b, at[0], self.reach[6])  # 6
        _padded(out, at[6][s], floor, _rows(_quantity_table(), self.qty[s]), lengths[5][s], self.reach[5])  # 5
        _padded(out, at[5][s], floor, _rows(_u16_then(b',"quantity":'), self.addr[s]), lengths[4][s], self.reach[4])  # 4
        _padded(out, at[4][s], floor, _rows(self.unit_table, self.unit_group[s]), lengths[3][s], self.reach[3])  # 3
        _padded(out, at[3][s], floor, _rows(_u16_then(b',"unit_id":'), self.tid[s]), lengths[2][s], self.reach[2])  # 2
        _padded(out, at[2][s], floor, _rows(self.ends_table, self.ends_group[s]), lengths[1][s], self.reach[1])  # 1
        ts, frame = self.ts[s], self.frame[s]  # 0, exact: its left is the previous line
        frame_width = frame.shape[1]
        for shape, pick in _classes(self.head[s]):
            first, length, size = shape // 1024, shape // 32 % 32, shape % 32
            count = b - a if isinstance(pick, slice) else len(pick)
            _put(out, at[1][s][pick], _join(count, b'{"ts":', _rows(ts, pick)[:, first:first + length], b',"frame":',
                                            _rows(frame, pick)[:, frame_width - size:]))

    def _ends_and_verb(self) -> tuple[list[bytes], np.ndarray]:
        """``"src":..,"sport":..,"dst":..,"dport":..,"direction":..,"action":..,"transaction_id":`` by
        (flow, direction, function code): the texts, and each row's."""
        mb = self.mb
        flow = mb.flow[self.pick].astype(np.int64)
        key = (flow * 2 + self.request) * CODES + self.fc
        distinct, group = groups(key)
        file = ',"file":' + json.dumps(mb.file) + ',"proto":"modbus",'
        texts = []
        for k in distinct.tolist():
            rest, code = divmod(k, CODES)
            f, request = divmod(rest, 2)
            flow_ = mb.flows[f]
            ends = ((flow_.client, flow_.client_port), (flow_.server, flow_.server_port))
            (src, sport), (dst, dport) = ends if request else ends[::-1]
            texts.append((file + '"src":%s,"sport":%d,"dst":%s,"dport":%d,"direction":"%s","action":"%s",'
                          '"transaction_id":' % (json.dumps(src), sport, json.dumps(dst), dport,
                                                 "request" if request else "response",
                                                 action_of(function_name(code)))).encode())
        return texts, group

    def _unit(self) -> tuple[list[bytes], np.ndarray]:
        unit = self.mb.unit_id[self.pick]
        key = (unit * CODES + self.fc) * EXCEPTIONS + (self.exception + 1)
        distinct, group = groups(key)
        return [_unit_text(k) for k in distinct.tolist()], group

    def _tail(self, answered: np.ndarray) -> tuple[list[bytes], np.ndarray]:
        disputed = self.mb.disputed[self.pick].astype(np.int64)
        key = (((self.exception + 1) * BYTE_COUNTS + (self.byte_count + 1)) * 2 + disputed) * 2 + answered
        distinct, group = groups(key)
        return [_tail_text(k) for k in distinct.tolist()], group

    def compiled(self) -> tuple[list[Text], np.ndarray]:
        """``run``'s pieces and line ends, the lines joined by the compiled loop (``sensor.sinks.cells``) from
        the same columns and texts."""
        mb, pick, n = self.mb, self.pick, self.n
        answered = self.request_frame != NONE
        timed = answered & ~np.isnan(self.response_time)
        ts_k, ts_fallback = _seconds(mb.ts[pick])
        span = _value_spans(self)
        registers = span.registers & ~span.null
        coils = ~span.registers & ~span.null
        some = np.flatnonzero(timed)
        rt_k, rt_fallback = _rounded(self.response_time[some])
        rt = np.full(n, -1, dtype=np.int64)
        rt[some] = rt_k
        after_frame = np.where(timed, 2, answered.astype(np.int64))  # nothing, "}\n", or the response time
        text, ends = cells.join(n, [
            cells.const(b'{"ts":'), _micros(ts_k, ts_fallback), cells.const(b',"frame":'),
            cells.number(mb.frame[pick]), cells.table(*self._ends_and_verb()),
            cells.number(mb.transaction_id[pick]), cells.const(b',"unit_id":'), cells.table(*self._unit()),
            cells.number(self.address), cells.const(b',"quantity":'), cells.number(self.quantity),
            cells.table([b',"values":[', b',"values":null'], span.null),
            cells.words(mb.data, span.start, np.where(registers, span.count // 2, 0)),
            cells.bits(mb.data, span.start, np.where(coils, span.keep, 0), b"1", b"0"),
            cells.table([b"", b"]"], ~span.null), cells.table(*self._tail(answered)),
            cells.number(np.where(answered, self.request_frame, -1), b""),
            cells.table([b"", b"}\n", b',"response_time":'], after_frame),
            _micros(rt, [(int(some[i]), text) for i, text in rt_fallback]), cells.table([b"", b"}\n"], timed),
        ])
        return [text], ends


class ValueSpans(NamedTuple):
    """Where each row's values are: bytes from ``start`` (``count``), registers or bits, the bits kept."""

    null: np.ndarray
    registers: np.ndarray
    start: np.ndarray
    count: np.ndarray
    keep: np.ndarray  # bits: a coil write's quantity, one for a single coil, all of a read response's bytes


def _value_spans(a: _Assembly) -> ValueSpans:
    data, off, fc, request, normal = a.mb.data, a.off, a.fc, a.request, a.normal
    read_response = normal & ~request & _READS[fc]
    written = normal & request & _MULTIPLE[fc]
    single = normal & _SINGLE[fc]  # a coil's FF00/0000 is its high byte's bit 0
    count = np.where(read_response, a.byte8, np.where(single, 1 + (fc != WRITE_COIL), 0))
    some = np.flatnonzero(written)
    count[some] = data[off[some] + 12]
    start = off + np.where(read_response, 9, np.where(written, 13, 10))
    keep = np.where(fc == WRITE_COIL, 1, np.where(fc == WRITE_COILS, a.quantity, 8 * count))
    return ValueSpans(count == 0, _REGISTERS[fc], start, count, np.minimum(keep, 8 * count))


class _Values:
    """The ``values`` array of every row (``null`` where there is none): its length, and how to write it."""

    def __init__(self, a: _Assembly) -> None:
        data = a.mb.data
        spans = _value_spans(a)
        count, start, registers = spans.count, spans.start, spans.registers
        self.null = spans.null
        self.length = np.zeros(a.n, dtype=np.int64)  # from after "[" to "]" included
        # Registers: each value's digits and a comma (the last comma becomes "]").
        self.words = words = np.flatnonzero(registers & ~self.null)
        per_row = count[words] // 2
        self.word_first = np.zeros(a.n + 1, dtype=np.int64)  # row i's values: [first[i], first[i + 1])
        self.word_first[words + 1] = per_row
        np.cumsum(self.word_first, out=self.word_first)
        begins = self.word_first[words]
        total = int(self.word_first[-1])
        big_endian = np.ndarray((max(len(data) - 1, 0),), dtype=">u2", buffer=data, strides=(1,))  # at every byte
        self.word_values = big_endian[np.repeat(start[words] - 2 * begins, per_row) + 2 * np.arange(total)]
        self.through = np.cumsum(_CELL_LEN.take(self.word_values), dtype=np.int64)  # each comma's end, end to end
        self.length[words] = self.through[begins + per_row - 1] - self.through[begins] + _CELL_LEN.take(
            self.word_values[begins])
        self.per_row = per_row
        # Coils and inputs: "0," or "1," per bit kept (bits past a write's quantity are padding).
        self.coils = c = np.flatnonzero(~registers & ~self.null)
        per_row = count[c]
        begins = np.cumsum(per_row) - per_row
        index = np.repeat(start[c] - begins, per_row) + np.arange(int(per_row.sum()))
        bits = np.unpackbits(data[index], bitorder="little")
        self.keep = keep = spans.keep[c]
        self.first_bit = np.cumsum(keep) - keep
        self.bits = bits[np.repeat(8 * begins, keep) + _within(keep)] + np.uint16(ord(",") << 8 | ord("0"))  # "0,"/"1,"
        self.length[c] = 2 * keep

    def place(self, end: np.ndarray) -> None:
        """Where the values end (after "]"), by row."""
        self.end = end
        words = self.words
        if len(words):  # each value's comma's end in the buffer
            first = self.word_first[words]
            self.word_end = self.through + np.repeat(end[words] - self.through[first + self.per_row - 1], self.per_row)

    def write(self, out: np.ndarray, a: int, b: int, floor: np.ndarray, reach: int) -> None:
        """Rows [a, b): each value's digits and comma, the padding on the left, then each array's "]"."""
        first, last = int(self.word_first[a]), int(self.word_first[b])
        if last > first:  # the last value first: each one's padding lands on an earlier one
            cells = _rows(_u16_then(b","), self.word_values[first:last][::-1])
            _put(out, self.word_end[first:last][::-1], cells)
        some = slice(*np.searchsorted(self.coils, [a, b]).tolist())
        rows, keep, first_bit = self.coils[some], self.keep[some], self.first_bit[some]
        tier = keep // 64  # rows of similar lengths together, so that padding stays short
        for _, pick in _classes(tier):
            kept = keep[pick]
            if not len(kept):
                continue
            width = int(kept.max())
            cells = np.empty(len(kept) * width, dtype="<u2")  # "0," or "1,": the digit, then the comma
            within = _within(kept)
            cell = np.repeat(np.arange(len(kept)) * width + width - kept, kept) + within
            cells[cell] = self.bits[np.repeat(first_bit[pick], kept) + within]
            ends = self.end[rows[pick]]
            _padded(out, ends, floor[rows[pick]], cells.view(np.uint8).reshape(len(kept), 2 * width), 2 * kept,
                    reach)
        listed = np.flatnonzero(~self.null[a:b]) + a
        out[self.end[listed] - 1] = ord("]")


def _within(count: np.ndarray) -> np.ndarray:
    """0, 1, .., count - 1 for each row, end to end."""
    return np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
