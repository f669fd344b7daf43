"""The compiled join (sensor/sinks/_lines.c) gives the bytes of its pure-Python twin, cell kind by cell kind, on
random columns; bad indexes are errors, never reads outside a buffer; a small output buffer grows."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.sinks import cells


def test_the_compiled_join_is_built() -> None:
    assert cells.COMPILED, "sensor.sinks._lines did not build or import: run scripts/bootstrap (needs a C compiler)"


def both(n: int, specs: list, first: int = 0, count: int | None = None) -> bytes:
    """The compiled and the Python join of rows [first, first + count): the same text and ends, or the same error."""
    count = n - first if count is None else count
    results = []
    for join in (cells._c_join, cells.join_py):
        ends = np.zeros(count, dtype=np.int64)
        out = np.zeros(1 << 16, dtype=np.uint8)
        try:
            size = join(n, specs, first, ends, out)
            results.append(("ok", size, bytes(out[:max(size, 0)]) if size >= 0 else b"", ends.tolist()))
        except (IndexError, ValueError) as error:
            results.append(("error", type(error).__name__))
    assert results[0] == results[1]
    return results[0][2] if results[0][0] == "ok" else b""


texts = st.lists(st.binary(max_size=6), min_size=1, max_size=5)


@st.composite
def columns(draw) -> tuple[int, list]:
    n = draw(st.integers(0, 12))
    ints = st.lists(st.integers(-3, 2 ** 40), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int64))
    data = np.frombuffer(draw(st.binary(max_size=40)), dtype=np.uint8)
    small = st.lists(st.integers(-2, 8), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int64))
    specs = []
    for kind in draw(st.lists(st.integers(0, 5), max_size=6)):
        if kind == cells.CONST:
            specs.append(cells.const(draw(st.binary(max_size=5))))
        elif kind == cells.TABLE:
            specs.append(cells.table(draw(texts), draw(small)))
        elif kind == cells.NUMBER:
            specs.append(cells.number(draw(ints), draw(st.binary(max_size=4))))
        elif kind == cells.MICROS:
            specs.append(cells.micros(draw(ints), draw(st.booleans()), cells.table(draw(texts), draw(small))))
        elif kind == cells.WORDS:
            specs.append(cells.words(data, draw(small), draw(small), draw(st.binary(max_size=2))))
        else:
            specs.append(cells.bits(data, draw(small), draw(small), b"T", b"F", draw(st.binary(max_size=2))))
    return n, specs


@settings(max_examples=400, deadline=None)
@given(columns(), st.data())
def test_compiled_and_python_joins_agree(case, data) -> None:
    n, specs = case
    first = data.draw(st.integers(0, n))
    count = data.draw(st.integers(0, n - first))
    assert both(n, cells.fold(specs), first, count) == both(n, specs, first, count)  # folded: fewer cells, same text


def test_each_cell_writes_what_it_says() -> None:
    data = np.frombuffer(bytes([0x01, 0x02, 0xFF, 0xFF, 0b0000_0101]), dtype=np.uint8)
    text = both(3, [
        cells.const(b"<"), cells.table([b"a", b"bc"], np.array([1, -1, 0])), cells.number(np.array([0, -1, 65535]), b"null"),
        cells.const(b"|"), cells.micros(np.array([1_700_000_000_500_000, 5, -1]), False,
                                        cells.table([b"5e-06"], np.array([-1, 0, -1]))),
        cells.const(b"|"), cells.micros(np.array([1_000_000, 0, 7]), True, cells.table([], np.array([-1, -1, -1]))),
        cells.const(b"|"), cells.words(data, np.array([0, 2, 0]), np.array([2, 1, 0])),
        cells.const(b"|"), cells.bits(data, np.array([4, 4, 0]), np.array([3, 0, 1]), b"T", b"F"), cells.const(b">\n"),
    ])
    assert text.decode().splitlines() == [
        "<bc0|1700000000.5|1.000000|258,65535|T,F,T>",
        "<null|5e-06|0.000000|65535|>",
        "<a65535||0.000007||T>",
    ]


def test_python_repr_of_microsecond_doubles() -> None:
    """``micros`` unfixed is the repr of k·10⁻⁶ from 1e-4 up (what json.dumps writes for such doubles)."""
    k = np.array([100, 123_456, 1_000_000, 1_795_972_308_872_646, 2 ** 33 * 10 ** 6 - 1], dtype=np.int64)
    text = both(len(k), [cells.micros(k, False, cells.table([], np.full(len(k), -1))), cells.const(b"\n")])
    assert text.decode().splitlines() == [repr(int(v) / 1e6) for v in k]


@pytest.mark.parametrize("spec", [
    cells.table([b"a"], np.array([1])),  # past the texts
    cells.words(np.zeros(3, np.uint8), np.array([2]), np.array([1])),  # a word past the data
    cells.bits(np.zeros(1, np.uint8), np.array([0]), np.array([9]), b"1", b"0"),  # a bit past the data
])
def test_a_bad_index_is_an_error_not_a_stray_read(spec) -> None:
    with pytest.raises(IndexError):
        cells._c_join(1, [spec], 0, np.zeros(1, np.int64), np.zeros(64, np.uint8))


def test_a_small_output_buffer_grows() -> None:
    cells._scratch.buffer = np.empty(16, dtype=np.uint8)
    n = 5000
    text, ends = cells.join(n, [cells.number(np.arange(n) * 10 ** 12), cells.const(b"\n")])
    assert bytes(text).decode().splitlines() == [str(v * 10 ** 12) for v in range(n)]
    assert ends[-1] == len(text)
