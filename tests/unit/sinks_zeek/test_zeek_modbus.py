"""modbus.log and modbus_detailed.log, made from the batch columns, say what the events say, line for line."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from frames import FAST_MODBUS_EXCHANGES, Conversation, write_pcap  # noqa: E402
from zeek_expect import check_modbus, run, unset  # noqa: E402
from zeek_reader import read_json, read_tsv  # noqa: E402


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def shapes() -> list[tuple]:
    """Every function the fast path takes, exceptions, functions only the slow path parses (22, 23, 8, 43/14,
    24 with an empty FIFO), an ADU split over two segments, two ADUs in one, and a response without request."""
    c = Conversation(step=0.001)
    c.handshake()
    fast = list(FAST_MODBUS_EXCHANGES)
    slow = [
        (struct.pack(">BHHH", 22, 4, 0xF2F2, 0x0025), struct.pack(">BHHH", 22, 4, 0xF2F2, 0x0025)),
        (struct.pack(">BHHHHB", 23, 3, 2, 14, 1, 2) + struct.pack(">H", 0xFF), bytes([23, 4]) + struct.pack(">2H", 1, 2)),
        (struct.pack(">BHH", 8, 0, 0xA537), struct.pack(">BHH", 8, 0, 0xA537)),  # diagnostics: echo
        (bytes([43, 14, 1, 0]), bytes([43, 14, 1, 1, 0, 0, 2, 0, 4]) + b"Acme" + bytes([1, 3]) + b"PLC"),
        (struct.pack(">BH", 24, 5), struct.pack(">BHH", 24, 2, 0)),  # an empty FIFO
        (struct.pack(">BHH", 3, 1, 1), bytes([0x83, 0x0C])),  # an exception code the spec does not define
    ]
    tid = 0
    for request, response in fast + slow:
        tid += 1
        c.packet(True, adu(tid, 1 + tid % 3, request))
        c.packet(False, adu(tid, 1 + tid % 3, response))
    whole = adu(tid + 1, 1, struct.pack(">BHH", 3, 500, 2))
    c.packet(True, whole[:5])  # one request over two segments
    c.packet(True, whole[5:])
    c.packet(False, adu(tid + 1, 1, bytes([3, 4]) + struct.pack(">2H", 11, 12)) + adu(tid + 2, 1, bytes([0x83, 4])))
    c.packet(False, adu(999, 1, bytes([3, 2, 0, 5])))  # a response whose request was never seen
    c.close()
    return c.frames


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    return write_pcap(tmp_path_factory.mktemp("zeek") / "shapes.pcap", shapes())


@pytest.mark.parametrize("batch_frames", [65_536, 3])  # small batches: responses paired across batches
def test_logs_say_what_the_events_say(tmp_path, capture, batch_frames):
    events, flows = run([str(capture)], str(tmp_path / "db"), str(tmp_path / "z"), batch_frames=batch_frames)
    _, modbus = read_tsv(tmp_path / "z" / "modbus.log")
    _, detailed = read_tsv(tmp_path / "z" / "modbus_detailed.log")
    _, conn = read_tsv(tmp_path / "z" / "conn.log")
    assert check_modbus(events, modbus, detailed, conn) == 38
    values = [d.get("values") for d in detailed]
    assert "T,F,T,F,T,T,F,T,F,T,T,F,F,F,F,F" in values  # a read's response has every bit sent
    assert "T,T,T,T,T,T,T,T,T,T" in values  # FC15 its quantity
    assert "0,65535,1234" in values and "7,65000" in values and "ILLEGAL_DATA_ADDRESS" in values
    assert "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND" in values and "(empty)" not in values and "" in values
    exceptions = [m["exception"] for m in modbus if m["func"] == "READ_HOLDING_REGISTERS_EXCEPTION"]
    assert exceptions == ["ILLEGAL_DATA_ADDRESS", "unknown-12", "SLAVE_DEVICE_FAILURE"]  # fast, slow, split path
    assert len(conn) == len(flows) == 1 and conn[0]["conn_state"] == "SF" and conn[0]["history"] == "ShADadFf"
    assert conn[0]["orig_pkts"] == flows[0]["orig_packets"] and conn[0]["resp_ip_bytes"] == flows[0]["resp_bytes"]
    _, mask = read_tsv(tmp_path / "z" / "modbus_mask_write_register.log")
    assert [(r["request_response"], r["address"], r["and_mask"], r["or_mask"]) for r in mask] == [
        ("REQUEST", 4, 0xF2F2, 0x25), ("RESPONSE", 4, 0xF2F2, 0x25)]
    _, rw = read_tsv(tmp_path / "z" / "modbus_read_write_multiple_registers.log")
    assert [(r["write_start_address"], r["write_registers"], r["read_start_address"], r["read_quantity"],
             r["read_registers"]) for r in rw] == [(14, [255], 3, 2, None), (None, None, None, None, [1, 2])]


def test_json_says_what_tsv_says(tmp_path, capture):
    run([str(capture)], str(tmp_path / "a"), str(tmp_path / "tsv"), batch_frames=5)
    run([str(capture)], str(tmp_path / "b"), str(tmp_path / "json"), fmt="json", batch_frames=5)
    names = sorted(p.name for p in (tmp_path / "tsv").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "json").iterdir())
    assert names == ["conn.log", "modbus.log", "modbus_detailed.log", "modbus_mask_write_register.log",
                     "modbus_read_write_multiple_registers.log"]
    for name in names:
        tsv = [unset(r) for r in read_tsv(tmp_path / "tsv" / name)[1]]
        assert tsv == read_json(tmp_path / "json" / name), name


def test_reruns_are_identical(tmp_path, capture):
    for k in (1, 2):
        run([str(capture)], str(tmp_path / f"db{k}"), str(tmp_path / f"z{k}"), batch_frames=4)
    for path in (tmp_path / "z1").iterdir():
        assert path.read_bytes() == (tmp_path / "z2" / path.name).read_bytes(), path.name


def test_a_disabled_log_is_not_written(tmp_path, capture):
    import io

    from sensor.pipeline import Options, Pipeline
    from sensor.sinks.zeek import ZeekLogs
    from sensor.store import Store

    with pytest.raises(ValueError, match="no Zeek log nope"):
        ZeekLogs(str(tmp_path / "x"), disabled=["nope"])
    with Store.open(str(tmp_path / "db")) as store, ZeekLogs(str(tmp_path / "z"), disabled=["modbus_detailed"]) as zeek:
        Pipeline(store, Options(events=io.StringIO(), strict=True, logs=zeek)).run([str(capture)])
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == [
        "conn.log", "modbus.log", "modbus_mask_write_register.log", "modbus_read_write_multiple_registers.log"]
    assert len(read_tsv(tmp_path / "z" / "modbus.log")[1]) == 38
