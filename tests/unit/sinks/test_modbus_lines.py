"""The columnar Modbus event lines are byte for byte what the per-message writer gives."""
from __future__ import annotations

import io
import json
import struct
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from frames import FAST_MODBUS_EXCHANGES, Conversation, write_pcap  # noqa: E402
from helpers import captures_dir  # noqa: E402

from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.sinks import modbus_lines  # noqa: E402
from sensor.store import Store  # noqa: E402


@pytest.fixture(scope="module", params=["compiled", "numpy"], autouse=True)
def assembly(request):
    """Every test once with the compiled join (sensor.sinks.cells) and once with the numpy assembly."""
    from sensor.sinks import cells

    if request.param == "compiled":
        assert cells.COMPILED, "sensor.sinks._lines did not build or import: run scripts/bootstrap (needs a C compiler)"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cells, "COMPILED", request.param == "compiled")
        yield request.param


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def every_fast_shape() -> list[tuple]:
    """Requests and answers of every function code the fast path takes, exceptions, and a lone response."""
    c = Conversation(step=0.001)
    c.handshake()
    exchanges = list(FAST_MODBUS_EXCHANGES)
    for tid, (request, response) in enumerate(exchanges, start=1):
        c.packet(True, adu(tid, 1 + tid % 3, request))
        c.packet(False, adu(tid, 1 + tid % 3, response))
    c.packet(False, adu(999, 1, bytes([3, 2, 0, 5])))  # a response whose request was never seen
    return c.frames


def events(path: Path, tmp_path: Path, batch_frames: int, columnar: bool, monkeypatch, decode_as=()) -> str:
    if not columnar:
        monkeypatch.setattr(modbus_lines, "fast_rows", lambda mb: modbus_lines.np.zeros(0, dtype=int))
    out = io.StringIO()
    db = tmp_path / f"{columnar}-{batch_frames}.db"
    with Store.open(str(db)) as store:
        Pipeline(store, Options(events=out, strict=True, batch_frames=batch_frames,
                                decode_as=frozenset(decode_as))).run([str(path)])
    monkeypatch.undo()
    return out.getvalue()


@pytest.mark.parametrize("batch_frames", [65_536, 3])  # small batches: responses paired across batches
def test_every_fast_shape_matches_the_message_writer(tmp_path, monkeypatch, batch_frames: int) -> None:
    path = write_pcap(tmp_path / "shapes.pcap", every_fast_shape())
    written = []
    lines = modbus_lines.lines
    monkeypatch.setattr(modbus_lines, "lines", lambda mb, rows: written.extend(rows.tolist()) or lines(mb, rows))
    columnar = events(path, tmp_path, batch_frames, True, monkeypatch)
    assert len(written) == 23  # every row here took the columns, none the message writer
    assert columnar == events(path, tmp_path, batch_frames, False, monkeypatch)
    assert columnar.count('"proto":"modbus"') == 23
    assert '"values":[1,0,1,0,1,1,0,1,0,1,1,0,0,0,0,0]' in columnar  # a read's response lists every bit sent
    assert '"values":[1,1,1,1,1,1,1,1,1,1]' in columnar  # FC15 lists its quantity, not the padding


def test_corpus_modbus_captures_match_the_message_writer(tmp_path, monkeypatch) -> None:
    folder = captures_dir() / "modbus"
    if not folder.is_dir():
        pytest.skip(f"the shared corpus is not at {folder} (set OTSENSOR_CAPTURES)")
    compared = 0
    for path in sorted(folder.glob("*.pcap")):
        columnar = events(path, tmp_path, 65_536, True, monkeypatch)
        assert columnar == events(path, tmp_path, 65_536, False, monkeypatch), path.name
        compared += columnar.count('"proto":"modbus"')
    assert compared > 10_000


# Random conversations: every fast shape, exceptions, lone answers, unanswered requests, timestamps of any
# microsecond (trailing zeros too), response times from 0 to seconds (below 1e-4 repr writes an exponent).
BITS_READ, REGISTERS_READ, EXCEPTIONS = (1, 2), (3, 4), (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)


@st.composite
def exchange(draw) -> tuple[bytes | None, bytes | None, int, int]:
    """A request and its answer (either may be missing), the gap before the answer and after it (µs)."""
    fc = draw(st.sampled_from((1, 2, 3, 4, 5, 6, 15, 16)))
    address = draw(st.integers(0, 0xFFFF))
    if fc in BITS_READ + REGISTERS_READ:
        quantity = draw(st.integers(1, 2000 if fc in BITS_READ else 125))
        request = struct.pack(">BHH", fc, address, quantity)
        size = (quantity + 7) // 8 if fc in BITS_READ else 2 * quantity
        response = bytes([fc, size]) + draw(st.binary(min_size=size, max_size=size))
    elif fc in (5, 6):
        value = draw(st.sampled_from((0, 0xFF00))) if fc == 5 else draw(st.integers(0, 0xFFFF))
        request = response = struct.pack(">BHH", fc, address, value)
    else:
        quantity = draw(st.integers(1, 1968 if fc == 15 else 123))
        size = (quantity + 7) // 8 if fc == 15 else 2 * quantity
        request = struct.pack(">BHHB", fc, address, quantity, size) + draw(st.binary(min_size=size, max_size=size))
        response = struct.pack(">BHH", fc, address, quantity)
    if draw(st.integers(0, 5)) == 0:  # an exception, for any function code
        code = fc if draw(st.booleans()) else draw(st.integers(1, 127))
        request = request if code == fc else bytes([code]) + request[1:]
        response = bytes([0x80 | code, draw(st.sampled_from(EXCEPTIONS))])
    shape = draw(st.integers(0, 9))  # 0: request only, 1: answer only
    gap = draw(st.one_of(st.integers(0, 120), st.integers(0, 3_000_000), st.integers(0, 300).map(lambda k: 10_000 * k)))
    pause = draw(st.integers(0, 2_000)) * draw(st.sampled_from((1, 10, 1000)))
    return None if shape == 1 else request, None if shape == 0 else response, gap, pause


@settings(max_examples=30, deadline=None)
@given(exchanges=st.lists(st.tuples(exchange(), st.integers(0, 255), st.integers(0, 0xFFFF)), min_size=1, max_size=40),
       start=st.one_of(st.integers(0, 10 ** 6), st.integers(10 ** 15, 2 * 10 ** 15), st.just(1_795_972_308_000_000)),
       batch_frames=st.sampled_from((3, 7, 65_536)))
def test_random_conversations_match_the_message_writer(exchanges, start: int, batch_frames: int) -> None:
    c = Conversation(step=0)
    c.t = start / 1e6
    c.handshake()
    for (request, response, gap, pause), unit, tid in exchanges:
        if request is not None:
            c.packet(True, adu(tid, unit, request))
        c.t = (round(c.t * 1e6) + gap) / 1e6
        if response is not None:
            c.packet(False, adu(tid, unit, response))
        c.t = (round(c.t * 1e6) + pause) / 1e6
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = write_pcap(Path(folder) / "random.pcap", c.frames)
        columnar = events(path, Path(folder), batch_frames, True, monkeypatch)
        assert columnar == events(path, Path(folder), batch_frames, False, monkeypatch)


def _texts(block, first, last) -> list[str]:
    return [bytes(block[i, a:b]).decode() for i, (a, b) in enumerate(zip(first.tolist(), last.tolist()))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2 ** 33 * 10 ** 6).map(lambda k: k / 1e6), st.floats(allow_nan=False),
                          st.floats(0, 1e-3), st.integers(0, 10 ** 9).map(lambda k: (k + 0.5) / 1e6)),
                min_size=1, max_size=50))
def test_floats_are_written_as_repr(values: list[float]) -> None:
    """Timestamps as ``repr``, response times as ``repr(round(x, 6))``: the vectorised texts, where their
    checks pass, and ``repr`` one at a time where not (exponents, nanoseconds, ties, negative values)."""
    x = modbus_lines.np.array(values + [float("nan"), float("inf"), -float("inf")])
    assert _texts(*modbus_lines._decimal(*modbus_lines._seconds(x))) == [json.dumps(v) for v in x.tolist()]
    assert _texts(*modbus_lines._decimal(*modbus_lines._rounded(x))) == [json.dumps(round(v, 6)) if v == v else "NaN"
                                                                         for v in x.tolist()]


@settings(max_examples=200, deadline=None)
@given(fast=st.lists(st.tuples(st.integers(0, 30), st.text("abc", max_size=3)), max_size=30),
       others=st.lists(st.tuples(st.integers(0, 31), st.integers(0, 1 << 31), st.text("xyz", max_size=3)), max_size=10),
       cut=st.integers(1, 5))
def test_merge_puts_other_lines_in_frame_order(fast, others, cut: int) -> None:
    """Fast lines (frame, text) at rows 0, 2, 4, ..; other lines (frame, order, text) go where (frame, order)
    sorts (orders are odd here: as in events.py, no order is a fast line's row); the fast text in pieces."""
    np = modbus_lines.np
    fast.sort(key=lambda f: f[0])
    texts = [f"{frame}:{text}\n" for frame, text in fast]
    pieces = [memoryview("".join(texts[i:i + cut]).encode()) for i in range(0, len(texts), cut)]
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    lines = modbus_lines.Lines(pieces, np.array([f for f, _ in fast], dtype=np.int64), 2 * np.arange(len(fast)), ends)
    assert list(lines) == [t[:-1] for t in texts] == [lines[i] for i in range(len(lines))]
    others = sorted((frame, 2 * order + 1, f"{frame}/{order}:{text}") for frame, order, text in others)
    expected = sorted([(frame, 2 * i, text[:-1]) for i, (frame, text) in enumerate(zip(lines.frames.tolist(), texts))]
                      + others)
    assert b"".join(modbus_lines.merge(lines, others)).decode() == "".join(line + "\n" for _, _, line in expected)
    assert b"".join(modbus_lines.merge(None, others)).decode() == "".join(line + "\n" for _, _, line in others)
