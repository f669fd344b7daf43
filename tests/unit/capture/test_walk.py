"""The pcap record walk: the compiled helper (sensor.capture._walk) and its pure-Python fallback agree.

Both walks are run on the same input and must return the same offsets and end offset; read_pcap must
yield the same FrameBatches and warnings with either (OTSENSOR_PURE_PYTHON=1 forces the fallback).
The compiled helper must be in use here: the test environment is installed the way users install
(scripts/bootstrap), so this proves the build works.
"""
from __future__ import annotations

import array
import contextlib
import importlib
import io
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO_ROOT, NonSeekable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensor.capture import walk
from sensor.capture.source import CaptureInput, open_inputs, open_stream

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_compiled_helper_is_in_use() -> None:
    assert os.environ.get("OTSENSOR_PURE_PYTHON", "") in ("", "0"), "unset OTSENSOR_PURE_PYTHON to test the build"
    assert walk.COMPILED, "sensor.capture._walk did not build or import: run scripts/bootstrap (needs a C compiler)"
    assert walk.walk_records(b"", 0, 16, "<")[0].dtype == np.int64


def test_environment_variable_forces_the_fallback() -> None:
    code = "import sensor.capture.walk as w; print(w.COMPILED)"
    env = {**os.environ, "OTSENSOR_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- the walk itself


def both(buf, start: int, hlen: int, order: str) -> tuple[np.ndarray, int]:
    """The walk by both implementations, checked equal; the (common) result."""
    c_offs, c_end = walk.walk_records_c(buf, start, hlen, order)
    p_offs, p_end = walk.walk_records_py(buf, start, hlen, order)
    assert c_offs.dtype == p_offs.dtype == np.int64
    assert c_offs.tolist() == p_offs.tolist()
    assert c_end == p_end
    assert type(c_end) is int
    return p_offs, p_end


@st.composite
def record_buffers(draw: st.DrawFn) -> tuple[bytes, int, int, str]:
    """Records with true, short, long and huge caplens, a garbage or truncated tail, and a start offset."""
    order = draw(st.sampled_from("<>"))
    hlen = draw(st.sampled_from([16, 16, 24, 12, 13, 40]))
    parts = [draw(st.binary(max_size=30))]  # whatever precedes start
    start = draw(st.integers(0, len(parts[0]) + 2))
    for body in draw(st.lists(st.binary(max_size=70), max_size=12)):
        caplen = draw(st.one_of(st.just(len(body)), st.just(len(body)), st.integers(0, 200),
                                st.sampled_from([2**31 - 1, 2**31, 2**32 - 1, 2**32 - hlen, 262145])))
        head = struct.pack(order + "IiI", draw(st.integers(0, 2**32 - 1)), 0, caplen)
        head += draw(st.binary(min_size=hlen - 12, max_size=hlen - 12))
        parts += [head, body]
    parts.append(draw(st.binary(max_size=2 * hlen)))  # garbage, or a cut header
    raw = b"".join(parts)
    cut = draw(st.integers(0, len(raw)))  # truncated anywhere
    return raw[: len(raw) - draw(st.sampled_from([0, 0, cut]))], start, hlen, order


@SETTINGS
@given(record_buffers(), st.sampled_from([bytes, bytearray, memoryview]))
def test_compiled_and_python_walks_agree(case: tuple[bytes, int, int, str], kind: type) -> None:
    raw, start, hlen, order = case
    offs, end = both(kind(raw), start, hlen, order)
    # what the walk means, independently of both implementations
    off = start
    for o in offs.tolist():
        assert o == off and o + hlen <= len(raw)
        off = o + hlen + struct.unpack_from(order + "I", raw, o + 8)[0]
    assert end == off and end > len(raw) - hlen


@SETTINGS
@given(st.binary(max_size=400), st.integers(0, 5000), st.integers(12, 30), st.sampled_from("<>"))
def test_walks_agree_on_arbitrary_bytes(raw: bytes, start: int, hlen: int, order: str) -> None:
    both(raw, start, hlen, order)


@pytest.mark.parametrize("order", "<>")
def test_walk_edges(order: str) -> None:
    rec = lambda caplen, body=b"": struct.pack(order + "IiII", 1, 2, caplen, caplen) + body
    assert both(b"", 0, 16, order)[1] == 0
    assert both(b"x" * 15, 0, 16, order)[1] == 0  # not a whole header
    assert both(b"x" * 10, 50, 16, order)[1] == 50  # start past the end
    assert both(b"x" * 10, 10**6, 16, order)[1] == 10**6
    assert both(b"x" * 40, 25, 16, order)[1] == 25  # no whole header after start
    raw = rec(3, b"abc") + rec(0) + rec(5, b"ab")  # the last body runs 3 bytes past the buffer
    offs, end = both(raw, 0, 16, order)
    assert offs.tolist() == [0, 19, 35] and end == len(raw) + 3
    offs, end = both(raw, 19, 16, order)
    assert offs.tolist() == [19, 35]
    offs, end = both(rec(2**32 - 1), 0, 16, order)  # the largest caplen: no overflow
    assert offs.tolist() == [0] and end == 16 + 2**32 - 1
    offs, end = both(rec(0) * 1000, 0, 16, order)
    assert offs.tolist() == list(range(0, 16000, 16)) and end == 16000


def test_bad_arguments_raise_the_same() -> None:
    for impl in (walk.walk_records_c, walk.walk_records_py):
        with pytest.raises(ValueError):
            impl(b"\0" * 64, 0, 11, "<")
        with pytest.raises(ValueError):
            impl(b"\0" * 64, -1, 16, "<")
        with pytest.raises(ValueError):
            impl(b"\0" * 64, 0, 16, "=")
        with pytest.raises(TypeError):
            impl("not bytes", 0, 16, "<")
        with pytest.raises(BufferError):
            impl(memoryview(b"\0" * 64)[::2], 0, 16, "<")


def test_any_contiguous_buffer_counts_in_bytes() -> None:
    recs = array.array("I", [1, 2, 0, 0] * 5)  # five empty records, native order
    order = "<" if sys.byteorder == "little" else ">"
    offs, end = both(recs, 0, 16, order)
    assert offs.tolist() == [0, 16, 32, 48, 64] and end == 80
    both(memoryview(np.zeros((4, 8), dtype=np.uint16)), 3, 16, order)  # 2-D, 64 bytes


def test_compiled_offsets_are_a_writable_array() -> None:
    offs, _ = walk.walk_records_c(struct.pack("<IiII", 0, 0, 0, 0) * 3, 0, 16, "<")
    assert offs.flags.writeable and offs.flags.c_contiguous
    offs[0] = 7  # owned by the array, not a view of the input


# ---------------------------------------------------------------- read_pcap with either walk


def batches_of(inp: CaptureInput, **kw) -> tuple[list[tuple], list[str]]:
    out = []
    for b in inp.batches(**kw):
        out.append((b.data.tobytes(), b.offset.tolist(), b.caplen.tolist(), b.wirelen.tolist(), b.ts.tolist(),
                    b.linktype.tolist(), b.frame.tolist(), b.file, b.clock))
        assert b.offset.dtype == b.caplen.dtype == b.frame.dtype == np.int64
    return out, list(inp.warnings)


READS = {  # how each file is read: whole-file chunks, and chunks small enough to split records often
    "default": {},
    "small": {"max_bytes": 1500, "max_frames": 7},
}


def read_file(path: Path, how: str) -> tuple[list[tuple], list[str]]:
    (inp,) = open_inputs([str(path)])
    return batches_of(inp, **READS[how])


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    """sensor.capture.walk re-imported with OTSENSOR_PURE_PYTHON=1 inside, then re-imported as before."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OTSENSOR_PURE_PYTHON", "1")
    try:
        importlib.reload(walk)
        assert not walk.COMPILED
        yield
    finally:
        mp.undo()
        importlib.reload(walk)
    assert walk.COMPILED


def read_both(paths: list[Path]) -> None:
    compiled = {(p, how): read_file(p, how) for p in paths for how in READS}
    with pure_python():
        fallback = {(p, how): read_file(p, how) for p in paths for how in READS}
    for key, want in compiled.items():
        assert fallback[key] == want, f"{key[0]} ({key[1]})"


def classic_pcaps(folder: Path) -> list[Path]:
    magics = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
              b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34"}
    found = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            with p.open("rb") as f:
                if f.read(4) in magics:
                    found.append(p)
    return found


def test_read_pcap_same_with_either_walk_on_repo_captures() -> None:
    paths = classic_pcaps(REPO_ROOT / "captures")
    assert paths, "captures/ holds classic pcap files"
    read_both(paths)


def test_read_pcap_same_with_either_walk_on_the_corpus(corpus: Path) -> None:
    paths = classic_pcaps(corpus)  # every one (about 3 s in all)
    if not paths:
        pytest.skip(f"no classic pcap files in {corpus}")
    read_both(paths)


@st.composite
def pcap_files(draw: st.DrawFn) -> bytes:
    """Valid pcaps of every magic, then maybe damaged: a caplen over the limit, a truncated tail."""
    order = draw(st.sampled_from("<>"))
    magic = draw(st.sampled_from([0xA1B2C3D4, 0xA1B23C4D, 0xA1B2CD34]))
    snaplen = draw(st.sampled_from([0, 64, 65535]))
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, 1)]
    for data in draw(st.lists(st.binary(max_size=120), max_size=10)):
        caplen = draw(st.one_of(st.just(len(data)), st.just(len(data)), st.just(len(data)),
                                st.sampled_from([300000, 2**32 - 1]), st.integers(0, 200)))
        out.append(struct.pack(order + "IIII", 1_600_000_000, 5, caplen, len(data) + 1))
        if magic == 0xA1B2CD34:
            out.append(b"\0" * 8)
        out.append(data)
    raw = b"".join(out)
    return raw[: len(raw) - draw(st.integers(0, 20))]


def read_stream(raw: bytes, seekable: bool, max_bytes: int, max_frames: int):
    stream = io.BufferedReader(io.BytesIO(raw)) if seekable else NonSeekable(raw, 97)
    return batches_of(open_stream(stream, "t"), max_bytes=max_bytes, max_frames=max_frames)


@SETTINGS
@given(pcap_files(), st.booleans(), st.sampled_from([64, 200, 1 << 20]), st.sampled_from([1, 3, 65536]))
def test_read_pcap_same_with_either_walk_on_generated_files(raw: bytes, seekable: bool, max_bytes: int,
                                                            max_frames: int) -> None:
    want = read_stream(raw, seekable, max_bytes, max_frames)
    saved = walk.walk_records
    walk.walk_records = walk.walk_records_py  # (the fixture's re-import per example would be slow)
    try:
        got = read_stream(raw, seekable, max_bytes, max_frames)
    finally:
        walk.walk_records = saved
    assert got == want
