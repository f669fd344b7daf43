"""Modbus over the flow layer: the fast path and the slow path agree exactly; framing, retransmissions
and pairing on crafted connections; pairing across batch boundaries.

Crafted connections are built with scapy with a real handshake and consistent seq/ack (``frames.Conversation``);
expected fields come from the ADUs as built here, and the frames tshark finds PDUs in are the oracle for framing.
"""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sensor.pipeline import Options, Pipeline
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from frames import Conversation, analyze, batches, write_pcap
from helpers import REPO_ROOT, captures_dir

CORPUS = sorted((captures_dir() / "modbus").glob("*.pcap")) if (captures_dir() / "modbus").is_dir() else []
PYMODBUS = REPO_ROOT / "captures" / "scenarios" / "pymodbus_raw.pcap"  # recorded by record_pymodbus.py, port 5020
SMALL_MIXED = [p for p in CORPUS if p.stat().st_size < 50_000]


# --- ADU builders (Modbus Application Protocol V1.1b3 §6; MBAP per the TCP implementation guide §3.1.3) ----

def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read_holding(tid, address, quantity, unit=1):
    return adu(tid, unit, struct.pack(">BHH", 3, address, quantity))


def read_holding_response(tid, values, unit=1):
    return adu(tid, unit, struct.pack(">BB", 3, 2 * len(values)) + struct.pack(f">{len(values)}H", *values))


def write_registers(tid, address, values, unit=1):
    return adu(tid, unit, struct.pack(">BHHB", 16, address, len(values), 2 * len(values))
               + struct.pack(f">{len(values)}H", *values))


def write_registers_response(tid, address, quantity, unit=1):
    return adu(tid, unit, struct.pack(">BHH", 16, address, quantity))


# --- running the pipeline --------------------------------------------------------------------

def run_file(tmp_path: Path, path: Path, fast: bool, ports: frozenset[int] = frozenset()):
    """The whole ``analyze`` run over one file: events text, assets, points, communications, summary."""
    db = tmp_path / f"{'fast' if fast else 'slow'}.db"
    events = io.StringIO()
    with Store.open(str(db)) as store:
        summary = Pipeline(store, Options(events=events, strict=True, fast_path=fast,
                                          decode_as=frozenset(("modbus", "tcp", p) for p in ports))).run([str(path)])
        return events.getvalue(), store.assets(), store.points(), store.communications(), summary


def run_frames(tmp_path: Path, frames: list[tuple], fast: bool, size: int | None = None, name: str = "run",
               **options):
    """Crafted frames through the pipeline in batches of ``size``: (events as dicts, store rows, pipeline)."""
    with Store.open(str(tmp_path / f"{name}-{fast}-{size}.db")) as store:
        pipeline, text = analyze(store, batches(frames, size or len(frames)), fast_path=fast, **options)
        return [json.loads(line) for line in text.splitlines()], store.assets(), store.points(), pipeline


def modbus(events: list[dict]) -> list[dict]:
    return [e for e in events if e["proto"] == "modbus"]


def assert_same(a, b):
    """Both paths' outputs, compared whole (text first: the diff of the first differing line is shown)."""
    assert a[0].splitlines() == b[0].splitlines()
    assert a[1] == b[1]
    assert a[2] == b[2]
    assert a[3] == b[3]


# --- 1. the two paths agree --------------------------------------------------------------------------

@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_fast_and_slow_paths_agree_on_the_corpus(corpus, path, tmp_path):
    fast = run_file(tmp_path, path, True)
    slow = run_file(tmp_path, path, False)
    assert slow[4].fast_rows == 0
    assert fast[4].weirds == slow[4].weirds
    assert fast[4].protocols == slow[4].protocols
    assert_same(fast, slow)


def test_the_corpus_exercises_both_paths(corpus, tmp_path):
    """Without this the agreement above could hold because one path never ran."""
    for name in ("iti_modbus_test.pcap", "icsnpp_modbus_example.pcap"):
        (tmp_path / name).mkdir()
        summary = run_file(tmp_path / name, corpus / "modbus" / name, True)[4]
        assert summary.fast_rows > 0 and summary.slow_rows > 0, name


def test_fast_and_slow_paths_agree_on_the_pymodbus_capture(tmp_path):
    assert PYMODBUS.is_file(), "captures/scenarios/pymodbus_raw.pcap is committed with the repository"
    fast = run_file(tmp_path, PYMODBUS, True, frozenset({5020}))
    slow = run_file(tmp_path, PYMODBUS, False, frozenset({5020}))
    assert fast[4].fast_rows > 0 and slow[4].fast_rows == 0
    assert fast[4].protocols["modbus"] == slow[4].protocols["modbus"] > 0
    assert_same(fast, slow)


@pytest.mark.parametrize("path", SMALL_MIXED + [PYMODBUS], ids=[p.name for p in SMALL_MIXED + [PYMODBUS]])
def test_fast_and_slow_paths_agree_in_small_batches(path, tmp_path):
    """Batches of 5 frames put run boundaries everywhere: clean runs, buffered framers and carried requests
    must hand over between the paths exactly."""
    from sensor.capture.source import open_inputs

    ports = frozenset({5020}) if path == PYMODBUS else frozenset()
    out = []
    for fast in (True, False):
        events = io.StringIO()
        with Store.open(str(tmp_path / f"{fast}.db")) as store:
            pipeline = Pipeline(store, Options(events=events, strict=True, fast_path=fast,
                                                  decode_as=frozenset(("modbus", "tcp", p) for p in ports)))
            for source in open_inputs([str(path)]):
                for fb in source.batches(max_frames=5):
                    pipeline._process(fb)
                pipeline._end_of_input(source.name)
            pipeline._flush(None)
            out.append((events.getvalue(), store.assets(), store.points(), store.communications()))
    assert_same(out[0], out[1])


# --- 2. framing on crafted connections ----------------------------------------------------------------

def tshark_pdus(tmp_path: Path, frames: list[tuple]) -> list[tuple[int, int]]:
    """(frame, transaction id) of every Modbus/TCP PDU tshark finds, in order."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark is part of the test environment")
    pcap = write_pcap(tmp_path / "crafted.pcap", frames)
    out = subprocess.run(["tshark", "-r", str(pcap), "-Y", "mbtcp", "-T", "fields", "-e", "frame.number",
                          "-e", "mbtcp.trans_id"], capture_output=True, text=True, check=True).stdout
    pairs = []
    for line in out.splitlines():
        frame, tids = line.split("\t")
        pairs += [(int(frame), int(t)) for t in tids.split(",")]
    return pairs


def two_in_one_segment() -> tuple[Conversation, dict]:
    c = Conversation()
    c.handshake()
    both = c.packet(True, read_holding(1, 100, 2) + read_holding(2, 200, 3))
    r1 = c.packet(False, read_holding_response(1, [11, 12]))
    r2 = c.packet(False, read_holding_response(2, [21, 22, 23]))
    c.close()
    return c, {"both": both, "r1": r1, "r2": r2}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
def test_two_adus_in_one_segment(tmp_path, fast):
    c, f = two_in_one_segment()
    events, *_ = run_frames(tmp_path, c.frames, fast)
    got = [(e["frame"], e["direction"], e["transaction_id"], e["address"], e["quantity"], e["values"])
           for e in modbus(events)]
    assert got == [
        (f["both"], "request", 1, 100, 2, None), (f["both"], "request", 2, 200, 3, None),
        (f["r1"], "response", 1, 100, 2, [11, 12]), (f["r2"], "response", 2, 200, 3, [21, 22, 23]),
    ]
    assert [e.get("request_frame") for e in modbus(events)] == [None, None, f["both"], f["both"]]
    assert sorted((e["frame"], e["transaction_id"]) for e in modbus(events)) == sorted(tshark_pdus(tmp_path, c.frames))
    assert [e for e in events if e["proto"] == "weird"] == []


def split_in_three() -> tuple[Conversation, dict, list[int]]:
    values = list(range(1000, 1010))
    request = write_registers(9, 40, values, unit=7)
    c = Conversation()
    c.handshake()
    parts = [c.packet(True, request[:9]), c.packet(True, request[9:20]), c.packet(True, request[20:])]
    resp = c.packet(False, write_registers_response(9, 40, len(values), unit=7))
    c.close()
    return c, {"parts": parts, "resp": resp}, values


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
@pytest.mark.parametrize("size", [None, 1, 4], ids=["one-batch", "batch-1", "batch-4"])
def test_one_adu_split_across_three_segments(tmp_path, fast, size):
    c, f, values = split_in_three()
    events, _, points, _ = run_frames(tmp_path, c.frames, fast, size)
    mb = modbus(events)
    assert len(mb) == 2
    req, resp = mb
    assert (req["frame"], req["ts"]) == (f["parts"][2], c.frames[f["parts"][2] - 1][2])
    assert (req["direction"], req["transaction_id"], req["unit_id"], req["function_code"]) == ("request", 9, 7, 16)
    assert (req["address"], req["quantity"], req["values"]) == (40, 10, values)
    assert (resp["frame"], resp["request_frame"]) == (f["resp"], f["parts"][2])
    assert (req["src"], req["sport"], req["dst"], req["dport"]) == ("10.0.0.1", 40000, "10.0.0.2", 502)
    assert (resp["src"], resp["sport"], resp["dst"], resp["dport"]) == ("10.0.0.2", 502, "10.0.0.1", 40000)
    assert [(e["frame"], e["transaction_id"]) for e in mb] == tshark_pdus(tmp_path, c.frames)
    assert [(p["address"], p["quantity"], p["last_values"]) for p in points] == [(40, 10, values)]
    assert [e for e in events if e["proto"] == "weird"] == []


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
def test_an_adu_completed_out_of_order_belongs_to_the_frame_that_completed_it(tmp_path, fast):
    """Parts arrive 3, 1, 2: the request exists once part 2 is there, so it carries that frame and time
    (DESIGN: ``frame``/``ts`` are those of the segment that completed the ADU), and the response time runs
    from then."""
    values = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    request = write_registers(3, 0, values)
    c = Conversation()
    c.handshake()
    base = c.next[0]
    c.packet(True, request[14:], seq=base + 14)
    c.packet(True, request[:5], seq=base)
    completing = c.packet(True, request[5:14], seq=base + 5)
    resp = c.packet(False, write_registers_response(3, 0, len(values)))
    events, *_ = run_frames(tmp_path, c.frames, fast)
    req, response = modbus(events)
    assert req["values"] == values
    assert (req["frame"], req["ts"]) == (completing, c.frames[completing - 1][2])
    assert response["request_frame"] == completing
    assert response["response_time"] == round(c.frames[resp - 1][2] - c.frames[completing - 1][2], 6)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
@pytest.mark.parametrize("size", [None, 1, 6], ids=["one-batch", "batch-1", "batch-6"])
def test_retransmitted_segments_give_no_duplicate_message(tmp_path, fast, size):
    c = Conversation()
    c.handshake()
    first = c.next[0]
    q1 = c.packet(True, read_holding(1, 0, 1))
    c.packet(True, read_holding(1, 0, 1), seq=first)  # the request again, same bytes
    r1_seq = c.next[1]
    r1 = c.packet(False, read_holding_response(1, [42]))
    c.packet(False, read_holding_response(1, [42]), seq=r1_seq)  # the response again
    q2 = c.packet(True, read_holding(2, 5, 2))
    half = c.next[0]
    c.packet(True, read_holding(3, 9, 1)[:4], advance=True)
    c.packet(True, read_holding(3, 9, 1), seq=half)  # partial overlap: starts over, completes the ADU
    r2 = c.packet(False, read_holding_response(2, [1, 2]))
    events, *_ = run_frames(tmp_path, c.frames, fast, size)
    got = [(e["frame"], e["direction"], e["transaction_id"]) for e in modbus(events)]
    assert got == [(q1, "request", 1), (r1, "response", 1), (q2, "request", 2), (q2 + 2, "request", 3),
                   (r2, "response", 2)]
    assert [e["values"] for e in modbus(events) if e["direction"] == "response"] == [[42], [1, 2]]


# --- 3. pairing ------------------------------------------------------------------------------------------------

def polling(n: int = 4) -> tuple[Conversation, list[tuple[int, int, int]]]:
    """``n`` read requests, each answered; returns (conversation, [(tid, request frame, response frame)])."""
    c = Conversation(step=0.125)
    c.handshake()
    pairs = []
    for tid in range(1, n + 1):
        q = c.packet(True, read_holding(tid, 10 * tid, tid))
        c.t += 0.0625 * tid  # each server answers a little slower
        r = c.packet(False, read_holding_response(tid, list(range(tid))))
        pairs.append((tid, q, r))
    return c, pairs


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
@pytest.mark.parametrize("size", [None, 1, 2, 3, 4], ids=lambda s: f"batch-{s}")
def test_responses_pair_with_request_frame_and_time_across_batches(tmp_path, fast, size):
    c, pairs = polling()
    events, *_ = run_frames(tmp_path, c.frames, fast, size)
    by_frame = {e["frame"]: e for e in modbus(events)}
    assert len(by_frame) == 2 * len(pairs)
    for tid, q, r in pairs:
        request, response = by_frame[q], by_frame[r]
        assert (request["direction"], response["direction"]) == ("request", "response")
        assert request["transaction_id"] == response["transaction_id"] == tid
        assert response["request_frame"] == q
        assert response["response_time"] == round(c.frames[r - 1][2] - c.frames[q - 1][2], 6)
        # the response does not repeat the address: it comes from its request, even one from an earlier batch
        assert (response["address"], response["quantity"]) == (10 * tid, tid)
        assert response["values"] == list(range(tid))
        assert "request_frame" not in request


def test_request_answered_in_a_later_batch_pairs_with_the_fast_path(tmp_path):
    """Request as the last frame of one batch, response first of the next: both rows are fast-path rows."""
    c, pairs = polling(2)
    _, q, r = pairs[1]
    events, _, _, pipeline = run_frames(tmp_path, c.frames, True, size=q)
    assert pipeline.modbus.fast_rows == 4
    response = next(e for e in modbus(events) if e["frame"] == r)
    assert response["request_frame"] == q
    assert response["response_time"] == round(c.frames[r - 1][2] - c.frames[q - 1][2], 6)


def test_unanswered_request_and_unsolicited_response_are_not_paired(tmp_path):
    c = Conversation()
    c.handshake()
    c.packet(True, read_holding(1, 0, 1))
    stray = c.packet(False, read_holding_response(99, [5]))
    events, *_ = run_frames(tmp_path, c.frames, True)
    response = next(e for e in modbus(events) if e["frame"] == stray)
    assert "request_frame" not in response and "response_time" not in response
    assert response["address"] is None


def test_same_transaction_id_on_two_connections_pairs_per_connection(tmp_path):
    a, b = Conversation(cport=40001), Conversation(cport=40002, t0=1000.005)
    for c in (a, b):
        c.handshake()
    qa = a.packet(True, read_holding(5, 1, 1))
    qb = b.packet(True, read_holding(5, 2, 1))
    a.packet(False, read_holding_response(5, [1]))
    b.packet(False, read_holding_response(5, [2]))
    # interleave the two connections by time
    frames = sorted(a.frames + b.frames, key=lambda f: f[2])
    number = {f[0]: i + 1 for i, f in enumerate(frames)}
    events, *_ = run_frames(tmp_path, frames, True)
    responses = {e["dport"]: e for e in modbus(events) if e["direction"] == "response"}
    assert responses[40001]["request_frame"] == number[a.frames[qa - 1][0]]
    assert responses[40002]["request_frame"] == number[b.frames[qb - 1][0]]
    assert (responses[40001]["address"], responses[40002]["address"]) == (1, 2)
    assert (responses[40001]["values"], responses[40002]["values"]) == ([1], [2])
