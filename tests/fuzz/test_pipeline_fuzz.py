"""Fuzzing the whole pipeline (decode → flows → Modbus → inventory → events), strict: traffic never raises.

Two kinds of input: frames of random bytes under random link types, and well-formed Ethernet/IPv4/TCP
port-502 conversations carrying Modbus ADUs that are then mutated (bytes flipped, frames truncated,
link types relabelled, frames dropped, duplicated or swapped). Every weird and every message must name a
frame of the input, and the fast and slow Modbus paths must still agree on the mutated traffic.
"""
from __future__ import annotations

import io
import json
import struct
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensor.detect.engine import Detector
from sensor.detect.signatures import Signatures
from sensor.pipeline import Options, Pipeline
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from frames import Conversation, frame_batch

LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]
FILE = "fuzz.pcap"
SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=SUPPRESS)


def run(frames: list[tuple], batch_size: int, fast: bool = True) -> tuple[str, Pipeline]:
    """Strict pipeline over the frames in batches; the store lives in memory."""
    events = io.StringIO()
    store = Store.open(":memory:")
    try:
        pipeline = Pipeline(store, Options(events=events, strict=True, fast_path=fast,
                                           detector=Detector([Signatures()])))
        for start in range(0, len(frames), batch_size):
            pipeline._process(frame_batch(frames[start:start + batch_size], file=FILE, first=start + 1))
        pipeline._end_of_input(FILE)
        pipeline._flush(None)
        store.assets()
        store.points()
    finally:
        store.close()
    return events.getvalue(), pipeline


def check_events(text: str, n_frames: int) -> list[dict]:
    events = [json.loads(line) for line in text.splitlines()]
    for e in events:
        assert e["file"] == FILE
        assert 1 <= e["frame"] <= n_frames, e
        assert e["proto"] in ("weird", "modbus"), e
        if e["proto"] == "weird":
            assert e["name"] != "internal_error", e
            assert e["name"] and e["name"] == e["name"].lower() and " " not in e["name"], e
    return events


# --- random frames ---------------------------------------------------------------------------------------------

random_frame = st.tuples(st.binary(max_size=120), st.sampled_from(LINKTYPES),
                         st.floats(0, 1e6, allow_nan=False))


@fuzz(300)
@given(frames=st.lists(random_frame, min_size=1, max_size=30), batch_size=st.integers(1, 30))
def test_random_frames_never_raise(frames, batch_size):
    frames = sorted(frames, key=lambda f: f[2])
    text, pipeline = run(frames, batch_size)
    check_events(text, len(frames))
    assert pipeline.summary.packets == len(frames)
    assert pipeline.summary.internal_errors == 0


# --- mutated Modbus conversations ------------------------------------------------------------------------------

def adu(tid: int, unit: int, fc: int, data: bytes) -> bytes:
    return struct.pack(">HHHBB", tid, 0, len(data) + 2, unit, fc) + data


adus = st.builds(adu, st.integers(0, 0xFFFF), st.integers(0, 255),
                 st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 0x83, 0x90, 99]),
                 st.binary(max_size=30))


@st.composite
def conversations(draw) -> tuple[list[tuple], list[tuple[int, str, int]]]:
    """A handshake, then each side sends ADUs, some several per segment and some split across segments.

    Returns the frames and, per ADU, (frame of the segment holding its last byte, direction, transaction id).
    """
    c = Conversation(cport=draw(st.integers(1024, 65535)), isn=(draw(st.integers(0, 2**32 - 1)),
                                                                 draw(st.integers(0, 2**32 - 1))))
    if draw(st.booleans()):
        c.handshake()
    sent = []
    for _ in range(draw(st.integers(1, 8))):
        from_client = draw(st.booleans())
        units = draw(st.lists(adus, min_size=1, max_size=3))
        stream = b"".join(units)
        ends, pos = [], 0
        for u in units:
            pos += len(u)
            ends.append(pos)
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=3))))
        for a, b in zip([0, *cuts], [*cuts, len(stream)]):
            if a < b:
                frame = c.packet(from_client, stream[a:b])
                sent += [(frame, "request" if from_client else "response", struct.unpack(">H", u[:2])[0])
                         for u, end in zip(units, ends) if a < end <= b]
    if draw(st.booleans()):
        c.close()
    return c.frames, sent


@st.composite
def mutated(draw) -> list[tuple]:
    frames = [list(f) for f in draw(conversations())[0]]
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(frames) - 1))
        data = bytearray(frames[i][0])
        kind = draw(st.sampled_from(["flip", "truncate", "linktype", "drop", "duplicate", "swap", "extend",
                                     "fragment"]))
        if kind == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif kind == "linktype":
            frames[i][1] = draw(st.sampled_from(LINKTYPES))
        elif kind == "drop" and len(frames) > 1:
            del frames[i]
            continue
        elif kind == "duplicate":
            frames.insert(i, list(frames[i]))
        elif kind == "swap" and i + 1 < len(frames):
            frames[i][0], frames[i + 1][0] = frames[i + 1][0], frames[i][0]
            continue
        elif kind == "extend":
            data += draw(st.binary(min_size=1, max_size=20))
        elif kind == "fragment" and len(data) >= 22:  # IPv4 flags/fragment offset behind the Ethernet header
            data[20:22] = draw(st.sampled_from([0x2000, 0x0001, 0x2003, 0x0006, 0x3FFF])).to_bytes(2, "big")
        frames[i][0] = bytes(data)
    return [tuple(f) for f in frames]


@fuzz(250)
@given(frames=mutated(), batch_size=st.integers(1, 12))
def test_mutated_modbus_traffic_never_raises_and_both_paths_agree(frames, batch_size):
    fast, pipeline = run(frames, batch_size, fast=True)
    slow, _ = run(frames, batch_size, fast=False)
    check_events(fast, len(frames))
    assert pipeline.summary.internal_errors == 0
    assert fast.splitlines() == slow.splitlines()


@fuzz(80)
@given(conversation=conversations(), batch_size=st.integers(1, 12))
def test_clean_modbus_conversations_decode_every_adu(conversation, batch_size):
    """Unmutated: every ADU sent is one message at the frame that completed it, requests from the client."""
    frames, sent = conversation
    text, _ = run(frames, batch_size)
    events = check_events(text, len(frames))
    got = [(e["frame"], e["direction"], e["transaction_id"]) for e in events if e["proto"] == "modbus"]
    assert got == sent
    assert [e for e in events if e["proto"] == "weird" and e["name"].startswith("tcp")] == []
