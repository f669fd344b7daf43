"""Fuzzing the Modbus parser and stream: only the three outcomes, ever, and JSON-ready events.

Random bytes rarely get past the MBAP header, so most strategies build a plausible header
(protocol id 0, consistent length) around a random or mutated PDU to reach every decoder.
"""
from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.base import Malformed, NeedMore
from protocols.modbus.stream import ModbusStream
from protocols.modbus.wire import ModbusMessage, parse_adu

FRAMING_CODES = {"modbus_bad_protocol_id", "modbus_bad_length"}
STREAM_CODES = FRAMING_CODES | {"modbus_buffer_overflow"}
WEIRDS = {None, "modbus_pdu_too_short", "modbus_bad_byte_count", "modbus_bad_quantity",
          "modbus_bad_coil_value",
          "modbus_unknown_exception_code", "modbus_trailing_bytes"}
PUBLIC = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43]

SEEDS = [bytes.fromhex(h) for h in (
    "00010000000601030000000a",                          # FC3 request
    "000100000017010314" + "00ff" * 10,                  # FC3 response
    "00020000000501010200ff",                            # FC1 response
    "000300000009010f0013000a02cd01",                    # FC15 request
    "00040000000b01100001000204000a0102",                # FC16 request
    "000500000011011700030006000e00030600ff00ff00ff",    # FC23 request
    "000600000005012b0e0100",                            # 43/14 request
    "000700000010012b0e0183ff81020003414243800178",      # 43/14 response
    "00080000001101140e0600040001000206000300090002",    # FC20 request
    "00090000000c011509060004000700010a0b",              # FC21 request
    "000a0000000a01180006000201b81284",                  # FC24 response
    "000b00000003018302",                                # exception
    "000c000000060011036162ff",                          # FC17 response
)]

fast = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_outcome(buf: bytes, offset: int, is_request: bool) -> ModbusMessage | None:
    """Call parse_adu and insist on exactly one of the three outcomes."""
    try:
        result = parse_adu(buf, offset, is_request)
    except Malformed as bad:
        assert bad.code in FRAMING_CODES
        assert bad.offset == offset
        return None
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return None
    message, used = result
    assert isinstance(message, ModbusMessage)
    assert 0 < used <= len(buf) - offset
    assert message.is_request is is_request
    check_message(message)
    return message


def check_message(message: ModbusMessage) -> None:
    assert message.weird in WEIRDS
    assert 0 <= message.function_code <= 0x7F
    fields = message.event_fields()
    assert json.loads(json.dumps(fields)) == fields


@st.composite
def adu_around(draw: st.DrawFn, pdu: st.SearchStrategy[bytes]) -> bytes:
    """A header that passes the MBAP checks around ``pdu``."""
    body = draw(pdu)[:253]
    if not body:
        body = bytes([draw(st.integers(0, 255))])
    unit = draw(st.integers(0, 255))
    tid = draw(st.integers(0, 0xFFFF))
    return tid.to_bytes(2, "big") + b"\x00\x00" + (len(body) + 1).to_bytes(2, "big") + bytes([unit]) + body


public_pdus = st.builds(
    lambda fc, exc, rest: bytes([fc | (0x80 if exc else 0)]) + rest,
    st.sampled_from(PUBLIC), st.booleans() | st.just(False), st.binary(max_size=60),
)
any_pdus = st.binary(min_size=1, max_size=253)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid seed with a few bytes flipped, inserted, deleted or cut."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "fix_length"]))
        if action == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif action == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i]
        elif action == "cut":
            del data[draw(st.integers(0, len(data))):]
        elif action == "fix_length" and len(data) >= 8:
            data[4:6] = min(len(data) - 6, 0xFFFF).to_bytes(2, "big")
    return bytes(data)


inputs = st.one_of(st.binary(max_size=300), adu_around(public_pdus), adu_around(any_pdus), mutated())


@fast
@given(inputs, st.booleans(), st.integers(0, 8))
def test_parse_adu_has_three_outcomes(data: bytes, is_request: bool, prefix: int) -> None:
    buf = bytes(prefix) + data
    check_outcome(buf, prefix, is_request)
    check_outcome(memoryview(buf), prefix, is_request)  # type: ignore[arg-type]


@fast
@given(adu_around(public_pdus), st.booleans())
def test_well_framed_adus_always_parse_whole(adu: bytes, is_request: bool) -> None:
    # Once the MBAP header is right, PDU trouble is a weird, never a lost message.
    message = check_outcome(adu, 0, is_request)
    assert message is not None
    result = parse_adu(adu, 0, is_request)
    assert isinstance(result, tuple) and result[1] == len(adu)


Segmented = tuple[bytes, list[bytes]]  # the whole byte stream, and the segments it was cut into


@st.composite
def segmented(draw: st.DrawFn, pieces: st.SearchStrategy[bytes]) -> Segmented:
    data = b"".join(draw(st.lists(pieces, max_size=8)))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in pairwise(bounds)]


def run_stream(segments: list[bytes], is_request: bool, max_buffer: int | None = None) -> list:
    stream = ModbusStream(is_request) if max_buffer is None else ModbusStream(is_request, max_buffer)
    outcomes = []
    for frame, segment in enumerate(segments, start=1):
        out = stream.feed(segment, frame)
        for got_frame, outcome in out:
            assert got_frame == frame
            if isinstance(outcome, Malformed):
                assert outcome.code in STREAM_CODES
            else:
                assert isinstance(outcome, ModbusMessage)
                check_message(outcome)
        outcomes += out
        if frame % 3 == 0 and segment[:1] == b"\x00":
            stream.gap()
    assert stream.pending <= stream.max_buffer
    return outcomes


@fast
@given(segmented(inputs), st.booleans())
def test_stream_feed_has_only_messages_and_malformed(case: Segmented, is_request: bool) -> None:
    _, segments = case
    run_stream(segments, is_request)


@fast
@given(segmented(inputs), st.booleans(), st.integers(1, 64))
def test_stream_with_a_small_buffer_limit(case: Segmented, is_request: bool, limit: int) -> None:
    _, segments = case
    run_stream(segments, is_request, max_buffer=limit)


@fast
@given(segmented(adu_around(public_pdus)), st.booleans())
def test_stream_framing_does_not_depend_on_segmentation(case: Segmented, is_request: bool) -> None:
    data, segments = case
    one_shot = [o for _, o in ModbusStream(is_request).feed(data, 1)]
    stream = ModbusStream(is_request)
    pieces = [o for frame, s in enumerate(segments, 1) for _, o in stream.feed(s, frame)]
    assert pieces == one_shot
    assert all(isinstance(o, ModbusMessage) for o in pieces)
    assert stream.pending == 0
