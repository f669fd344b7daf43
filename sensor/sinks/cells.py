"""Output lines assembled from columns: each row's line is a run of *cells*, each cell a text per row.

The event and log writers compute their columns with numpy (values, table indexes) and leave the per-row
work, turning them into text, to ``join``. That is a loop over rows, so it is compiled
(``sensor/sinks/_lines.c``, built as ``sensor.sinks._lines`` when the package is installed); ``join_py`` below
is its pure-Python twin, with identical results, which the tests hold it to. ``COMPILED`` says whether the
compiled one is there (``OTSENSOR_PURE_PYTHON=1`` hides it); where it is not, the writers use their numpy
assembly instead (``modbus_lines``), since a Python loop over a million rows would be far slower than that.

The cells (every column is int64, one item per row; ``blob`` and ``data`` are bytes):

- ``const(text)``: the same text on every row.
- ``table(texts, index)``: ``texts[index[i]]``; nothing where the index is negative.
- ``number(values, null)``: the value in decimal; ``null`` where it is negative.
- ``micros(values, fixed, fallback)``: values·10⁻⁶ as a decimal with six places (``fixed``) or with trailing
  zeros stripped to one (the ``repr`` of a double nearest to that decimal); ``fallback`` is a ``table`` cell
  whose text replaces it where its index is not negative; nothing where both are negative.

Each cell costs the loop a few nanoseconds a row whatever it writes, so ``join`` first folds what it can: a
constant into the number or time after it (their ``prefix``) or into a neighbouring table that always writes,
and two such tables into one (``fold``).
- ``words(data, start, count, separator)``: ``count`` big-endian 16-bit words at ``start``, in decimal.
- ``bits(data, start, count, one, zero, separator)``: ``count`` bits from ``start``, least significant first.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence

import numpy as np

try:
    if os.environ.get("OTSENSOR_PURE_PYTHON", "") not in ("", "0"):
        raise ImportError("OTSENSOR_PURE_PYTHON is set")
    from ._lines import join as _c_join
except ImportError:
    _c_join = None

COMPILED: bool = _c_join is not None
CONST, TABLE, NUMBER, MICROS, WORDS, BITS = range(6)
Cell = tuple


def _column(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def const(text: bytes) -> Cell:
    return (CONST, text)


def table(texts: Sequence[bytes], index: np.ndarray) -> Cell:
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    return (TABLE, b"".join(texts), offsets, _column(index))


def number(values: np.ndarray, null: bytes = b"null") -> Cell:
    return (NUMBER, _column(values), null, b"")


def micros(values: np.ndarray, fixed: bool, fallback: Cell) -> Cell:
    _, blob, offsets, index = fallback
    return (MICROS, _column(values), fixed, blob, offsets, index, b"")


def words(data: np.ndarray, start: np.ndarray, count: np.ndarray, separator: bytes = b",") -> Cell:
    return (WORDS, data, _column(start), _column(count), separator)


def bits(data: np.ndarray, start: np.ndarray, count: np.ndarray, one: bytes, zero: bytes,
         separator: bytes = b",") -> Cell:
    return (BITS, data, _column(start), _column(count), one, zero, separator)


_scratch = threading.local()
def fold(cells: list[Cell]) -> list[Cell]:
    """The same lines from fewer cells: constants become the prefix of the number or time after them, or part of
    the texts of a neighbouring table whose every row has a text; two such tables side by side become one."""
    out: list[Cell] = []
    for cell in cells:
        last = out[-1] if out else None
        if last is not None and last[0] == CONST and cell[0] in (NUMBER, MICROS):
            out[-1] = (*cell[:-1], last[1] + cell[-1])
        elif last is not None and _solid(last) and _solid(cell):
            out[-1] = _side_by_side(last, cell)
        else:
            out.append(cell)
    return out


def _solid(cell: Cell) -> bool:
    """A constant, or a table that writes a text on every row."""
    return cell[0] == CONST or (cell[0] == TABLE and (not len(cell[3]) or int(cell[3].min()) >= 0))


def _texts(cell: Cell) -> tuple[list[bytes], np.ndarray | None]:
    if cell[0] == CONST:
        return [bytes(cell[1])], None
    _, blob, offsets, index = cell
    return [bytes(blob[a:b]) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())], index


def _side_by_side(a: Cell, b: Cell) -> Cell:
    if a[0] == CONST and b[0] == CONST:
        return const(bytes(a[1]) + bytes(b[1]))
    (left, i), (right, j) = _texts(a), _texts(b)
    index = i * len(right) + j if i is not None and j is not None else i * len(right) if j is None else j
    return table([x + y for x in left for y in right], index)


def join(n: int, cells: list[Cell]) -> tuple[memoryview, np.ndarray]:
    """The rows' lines end to end, and where each row's text ends. The text lies in a buffer that the next call
    reuses (a fresh one would cost a page fault every 4 KiB): write it out before calling again."""
    return _join(n, fold(cells), 0, n)


def chunks(n: int, cells: list[Cell], rows: int = 4096) -> Iterator[tuple[memoryview, int]]:
    """The rows' lines a few thousand at a time, with how many rows each text holds: written out at once, a
    chunk's text is still in the CPU's cache. Each text is valid until the next one is made."""
    cells = fold(cells)
    for first in range(0, n, rows):
        count = min(rows, n - first)
        yield _join(n, cells, first, count)[0], count


def _join(n: int, cells: list[Cell], first: int, count: int) -> tuple[memoryview, np.ndarray]:
    ends = np.empty(count, dtype=np.int64)
    out = getattr(_scratch, "buffer", None)
    if out is None:
        out = _scratch.buffer = np.empty(1 << 20, dtype=np.uint8)
    while (size := (_c_join or join_py)(n, cells, first, ends, out)) < 0:
        out = _scratch.buffer = np.empty(2 * len(out), dtype=np.uint8)
    return memoryview(out)[:size], ends


def join_py(n: int, cells: list[Cell], first: int, ends: np.ndarray, out: np.ndarray) -> int:
    """``join`` one row and one cell at a time into ``out``: the compiled loop's twin (-1: ``out`` is too small)."""
    if first < 0 or len(ends) > n - first:
        raise ValueError("join: the rows asked for are not all among the n rows")
    text = bytearray()
    for k in range(len(ends)):
        for cell in cells:
            text += _text(cell, first + k)
        ends[k] = len(text)
    if len(text) > len(out):
        return -1
    out[:len(text)] = np.frombuffer(bytes(text), dtype=np.uint8)
    return len(text)


def _from_table(blob: bytes, offsets: np.ndarray, k: int) -> bytes:
    if k >= len(offsets) - 1:
        raise IndexError("join: a table index past its texts")
    a, b = int(offsets[k]), int(offsets[k + 1])
    if a < 0 or a > b or b > len(blob):
        raise IndexError("join: a table's offsets lie outside its blob")
    return bytes(blob[a:b])


def _span(data: bytes | np.ndarray, start: int, size: int) -> memoryview:
    if start < 0 or size < 0 or start > len(data) or size > len(data) - start:
        raise IndexError("join: values outside the data buffer")
    return memoryview(data).cast("B")[start:start + size]


def _text(cell: Cell, i: int) -> bytes:
    kind = cell[0]
    if kind == CONST:
        return bytes(cell[1])
    if kind == TABLE:
        k = int(cell[3][i])
        return b"" if k < 0 else _from_table(cell[1], cell[2], k)
    if kind == NUMBER:
        v = int(cell[1][i])
        return bytes(cell[3]) + (bytes(cell[2]) if v < 0 else b"%d" % v)
    if kind == MICROS:
        _, values, fixed, blob, offsets, index, prefix = cell
        k = int(index[i])
        if k >= 0:
            return bytes(prefix) + _from_table(blob, offsets, k)
        v = int(values[i])
        if v < 0:
            return bytes(prefix)
        fraction = b"%06d" % (v % 1_000_000)
        return bytes(prefix) + b"%d.%s" % (v // 1_000_000, fraction if fixed else fraction.rstrip(b"0") or b"0")
    _, data, start, count = cell[:4]
    first, n = int(start[i]), int(count[i])
    if n <= 0:
        return b""
    if kind == WORDS:
        raw = _span(data, first, 2 * n)
        return bytes(cell[4]).join(b"%d" % (raw[2 * w] << 8 | raw[2 * w + 1]) for w in range(n))
    raw = _span(data, first, (n + 7) // 8)
    one, zero, separator = bytes(cell[4]), bytes(cell[5]), bytes(cell[6])
    return separator.join(one if raw[b >> 3] >> (b & 7) & 1 else zero for b in range(n))
