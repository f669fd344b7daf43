"""The columnar Modbus event lines are byte for byte what the per-message writer gives."""
from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from frames import Conversation, write_pcap  # noqa: E402
from helpers import captures_dir  # noqa: E402

from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.sinks import modbus_lines  # noqa: E402
from sensor.store import Store  # noqa: E402


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def every_fast_shape() -> list[tuple]:
    """Requests and answers of every function code the fast path takes, exceptions, and a lone response."""
    c = Conversation(step=0.001)
    c.handshake()
    exchanges = [
        (struct.pack(">BHH", 1, 10, 11), bytes([1, 2, 0b10110101, 0b00000110])),  # 11 coils: 16 bits sent
        (struct.pack(">BHH", 2, 0, 3), bytes([2, 1, 0b101])),
        (struct.pack(">BHH", 3, 100, 3), bytes([3, 6]) + struct.pack(">3H", 0, 65535, 1234)),
        (struct.pack(">BHH", 4, 7, 1), bytes([4, 2]) + struct.pack(">H", 42)),
        (struct.pack(">BHH", 5, 9, 0xFF00), struct.pack(">BHH", 5, 9, 0xFF00)),
        (struct.pack(">BHH", 5, 9, 0), struct.pack(">BHH", 5, 9, 0)),
        (struct.pack(">BHH", 6, 40, 900), struct.pack(">BHH", 6, 40, 900)),
        (struct.pack(">BHHB", 15, 20, 10, 2) + bytes([0xFF, 0x03]), struct.pack(">BHH", 15, 20, 10)),
        (struct.pack(">BHHB", 16, 30, 2, 4) + struct.pack(">2H", 7, 65000), struct.pack(">BHH", 16, 30, 2)),
        (struct.pack(">BHH", 3, 9000, 1), bytes([0x83, 2])),  # illegal data address
        (struct.pack(">BHH", 1, 0, 1), bytes([0x81, 11])),
    ]
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
