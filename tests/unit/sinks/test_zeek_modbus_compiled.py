"""modbus.log and modbus_detailed.log joined by the compiled loop (sensor.sinks.cells) are byte for byte the logs
of the object-array writer, in TSV and JSON: on every fast shape, on random conversations and on the corpus."""
from __future__ import annotations

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
from sensor.sinks import cells  # noqa: E402
from sensor.sinks.zeek import ZeekLogs  # noqa: E402
from sensor.store import Store  # noqa: E402

LOGS = ("modbus.log", "modbus_detailed.log")


def logs(inputs: list[Path], folder: Path, fmt: str, compiled: bool, batch_frames: int = 65_536) -> dict[str, bytes]:
    out = folder / f"{fmt}-{compiled}-{batch_frames}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cells, "COMPILED", compiled)
        with Store.open(str(out) + ".db") as store, ZeekLogs(str(out), fmt) as zeek:
            Pipeline(store, Options(logs=zeek, strict=True, batch_frames=batch_frames)).run([str(p) for p in inputs])
    return {name: (out / name).read_bytes() for name in LOGS if (out / name).exists()}


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def test_the_compiled_join_is_built() -> None:
    assert cells.COMPILED, "sensor.sinks._lines did not build or import: run scripts/bootstrap (needs a C compiler)"


@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_every_fast_shape_and_exceptions(tmp_path: Path, fmt: str) -> None:
    c = Conversation(step=0.001)
    c.handshake()
    for tid, (request, response) in enumerate(FAST_MODBUS_EXCHANGES, start=1):
        c.packet(True, adu(tid, 1 + tid % 3, request))
        c.packet(False, adu(tid, 1 + tid % 3, response))
    c.packet(True, adu(500, 1, bytes([3, 0, 0, 0, 2])))
    c.packet(False, adu(500, 1, bytes([0x83, 2])))  # an exception
    c.packet(True, adu(501, 1, bytes([22, 0, 1, 0xF2, 0xF2, 0x00, 0x25])))  # mask write: the slow path
    c.packet(False, adu(501, 1, bytes([22, 0, 1, 0xF2, 0xF2, 0x00, 0x25])))
    path = write_pcap(tmp_path / "shapes.pcap", c.frames)
    compiled = logs([path], tmp_path, fmt, True)
    assert compiled["modbus_detailed.log"].count(b"\n") > len(FAST_MODBUS_EXCHANGES)
    assert compiled == logs([path], tmp_path, fmt, False)


@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_corpus_modbus_captures(tmp_path: Path, fmt: str) -> None:
    folder = captures_dir() / "modbus"
    if not folder.is_dir():
        pytest.skip(f"the shared corpus is not at {folder} (set OTSENSOR_CAPTURES)")
    inputs = sorted(folder.glob("*.pcap"))
    compiled = logs(inputs, tmp_path, fmt, True)
    assert compiled["modbus_detailed.log"].count(b"\n") > 10_000
    assert compiled == logs(inputs, tmp_path, fmt, False)


@settings(max_examples=25, deadline=None)
@given(exchanges=st.lists(st.tuples(st.sampled_from(FAST_MODBUS_EXCHANGES), st.integers(0, 255),
                                    st.integers(0, 0xFFFF), st.integers(0, 3)), min_size=1, max_size=30),
       fmt=st.sampled_from(["tsv", "json"]), batch_frames=st.sampled_from((3, 65_536)))
def test_random_conversations(exchanges, fmt: str, batch_frames: int) -> None:
    """Any unit, transaction id, exchanges with a side missing, responses paired across batches."""
    c = Conversation(step=0.0005)
    c.handshake()
    for (request, response), unit, tid, shape in exchanges:
        if shape != 1:
            c.packet(True, adu(tid, unit, request))
        if shape != 0:
            c.packet(False, adu(tid, unit, response))
    with tempfile.TemporaryDirectory() as folder:
        path = write_pcap(Path(folder) / "random.pcap", c.frames)
        assert logs([path], Path(folder), fmt, True, batch_frames) == logs([path], Path(folder), fmt, False, batch_frames)
