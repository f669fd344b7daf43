"""The detection view agrees with the full parse of each message."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import Conversation, write_pcap  # noqa: E402

from sensor.detect.engine import Detector, Observed  # noqa: E402
from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.store import Store  # noqa: E402


class Keep:
    """A check that keeps every table it is shown."""

    def __init__(self) -> None:
        self.tables = []

    def check(self, batch: Observed) -> list:
        self.tables.append(batch.messages)
        return []


def fc16(tid: int, address: int, values: list[int]) -> bytes:
    pdu = struct.pack(">BHHB", 16, address, len(values), 2 * len(values)) + b"".join(struct.pack(">H", v) for v in values)
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu


@settings(max_examples=25, deadline=None)
@given(writes=st.lists(st.tuples(st.integers(0, 65000), st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=20)),
                       min_size=1, max_size=12), batch=st.integers(2, 40))
def test_registers_written_in_bulk_are_the_parsed_values(tmp_path_factory, writes, batch) -> None:
    c = Conversation()
    c.handshake()
    for tid, (address, values) in enumerate(writes, start=1):
        c.packet(True, fc16(tid, address, values))
        c.packet(False, struct.pack(">HHHBBHH", tid, 0, 6, 1, 16, address, len(values)))
    folder = tmp_path_factory.mktemp("view")
    keep = Keep()
    with Store.open(str(folder / "x.db")) as store:
        Pipeline(store, Options(strict=True, batch_frames=batch, detector=Detector([keep]))).run(
            [str(write_pcap(folder / "w.pcap", c.frames))])
    seen = []
    for m in keep.tables:
        for i in range(len(m)):
            if m.written_start[i] >= 0:
                start, count = int(m.written_start[i]), int(m.written_count[i])
                assert m.written[start:start + count].tolist() == list(m.fields(i)["values"])
                seen.append((int(m.address[i]), m.written[start:start + count].tolist()))
    assert seen == [(a, v) for a, v in writes]  # every write took the bulk path, in order
