"""Fuzzing the S7 package: every parser, the message builders, the framer and the probe.

Only the three outcomes may ever happen (a record and the bytes used, NeedMore, Malformed with a
documented code), never another exception; messages are JSON-ready, with an action from the shared
vocabulary and weirds from SPEC.weirds. And a framer fed any segmentation of a valid stream reports
the same messages as when fed the stream whole. Random bytes rarely get past the TPKT header, so
most strategies wrap random or mutated PDUs in valid TPKT/COTP layers to reach every decoder.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "protocols" / "s7comm"))
from s7comm_frames import (  # noqa: E402
    CC,
    COLD_START,
    CR,
    HOT_START,
    IDENT_001C,
    IDENT_0011,
    PLC_STOP,
    READ_DB1,
    READ_DB1_ACK,
    SETUP_ACK,
    SETUP_JOB,
    WRITE_M4,
    WRITE_M4_ACK,
    dc,
    dr,
    dt,
    get_multi_variables,
    plus_frame,
    plus_response,
    s7,
    set_operating_state,
    szl_request,
    tpkt,
    userdata,
)

from protocols.base import ACTIONS, Malformed, Message, NeedMore, Verdict  # noqa: E402
from protocols.s7comm import SPEC, probe  # noqa: E402
from protocols.s7comm.message import cotp_message, plus_message, s7_message  # noqa: E402
from protocols.s7comm.plus import parse_frame  # noqa: E402
from protocols.s7comm.plus import parse_pdu as parse_plus_pdu  # noqa: E402
from protocols.s7comm.stream import S7Stream  # noqa: E402
from protocols.s7comm.szl import identity, parse_szl  # noqa: E402
from protocols.s7comm.wire import parse_cotp, parse_pdu, parse_tpkt  # noqa: E402

TPKT_CODES = {"s7comm_bad_tpkt_version", "s7comm_bad_tpkt_reserved", "s7comm_bad_tpkt_length"}
WEIRDS = set(SPEC.weirds) | {None}

STREAM = [CR, SETUP_JOB, READ_DB1, WRITE_M4, PLC_STOP, HOT_START, COLD_START, szl_request(9, 0x001C),
          tpkt(dt(s7(1, 10, b"\x04\x01")[:12], eot=False)) + tpkt(dt(s7(1, 10, b"\x04\x01")[12:])),
          tpkt(dt(plus_frame(set_operating_state(3, 0x390, 1)))),
          tpkt(dt(plus_frame(get_multi_variables(4, 0x390, [(0x8A0E0002, 2550, [10])])[:20], trailer=False)))
          + tpkt(dt(plus_frame(get_multi_variables(4, 0x390, [(0x8A0E0002, 2550, [10])])[20:]))),
          tpkt(dr())]
REPLIES = [CC, SETUP_ACK, READ_DB1_ACK, WRITE_M4_ACK, userdata(9, 8, 4, 1, IDENT_001C[:120], unit=(3, 1)),
           userdata(10, 8, 4, 1, IDENT_001C[120:], unit=(3, 0)), userdata(11, 8, 4, 1, IDENT_0011, unit=(0, 0)),
           tpkt(dt(plus_frame(plus_response(0x04CA, 1, b"\x001;6ES7 511-1AK00-0AB0;V1.0\x00"), version=3,
                              digest=bytes(32)))),
           tpkt(dc())]
SEEDS = STREAM + REPLIES

fast = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_message(message: Message) -> None:
    assert isinstance(message, Message)
    assert message.action in ACTIONS
    assert message.weird in WEIRDS, message.weird
    assert message.direction in ("request", "response", "announce", "unsolicited")
    assert isinstance(message.function_code, int) and message.function_name
    assert json.loads(json.dumps(message.fields)) == message.fields
    for fact in message.facts:
        assert fact.about in ("client", "server")
        assert fact.kind in ("identity", "role", "point")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes] = SEEDS) -> bytes:
    """A seed with a few octets changed, inserted or cut."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and data:
            del data[pos]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@st.composite
def wrapped(draw: st.DrawFn) -> bytes:
    """Random user data in a valid TPKT and DT: reaches the S7 and S7comm-plus decoders."""
    first = draw(st.sampled_from([0x32, 0x72]))
    body = draw(st.binary(max_size=120))
    return tpkt(dt(bytes([first]) + body))


anything = st.one_of(st.binary(max_size=200), mutated(), wrapped())


@fast
@given(anything, st.integers(0, 8))
def test_parse_tpkt_three_outcomes(data: bytes, offset: int) -> None:
    offset = min(offset, len(data))
    try:
        result = parse_tpkt(data, offset)
    except Malformed as bad:
        assert bad.code in TPKT_CODES and bad.offset == offset
        return
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return
    payload, used = result
    assert 7 <= used <= len(data) - offset and len(payload) == used - 4


@fast
@given(st.one_of(st.binary(max_size=80), mutated().map(lambda b: b[4:])))
def test_parse_cotp_never_raises_anything_else(tpdu: bytes) -> None:
    try:
        cotp, used = parse_cotp(tpdu)
    except Malformed as bad:
        assert bad.code == "s7comm_bad_cotp_length"
        return
    assert used == len(tpdu) and cotp.weird in WEIRDS
    check_message(cotp_message(cotp, True))


def user_data_of(data: bytes) -> bytes:
    return data[7:] if len(data) > 7 else data


@fast
@given(st.one_of(st.binary(max_size=120).map(lambda b: b"\x32" + b), mutated().map(user_data_of),
                 wrapped().map(user_data_of)), st.booleans())
def test_parse_pdu_three_outcomes_and_messages(data: bytes, is_request: bool) -> None:
    try:
        result = parse_pdu(data)
    except Malformed as bad:
        assert bad.code in {"s7comm_bad_protocol_id", "s7comm_bad_rosctr", "s7comm_bad_length"}
        return
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return
    pdu, used = result
    assert 0 < used <= len(data) and pdu.weird in WEIRDS
    check_message(s7_message(pdu, is_request))
    check_message(s7_message(pdu, is_request, szl_data=pdu.data[4:]))
    check_message(s7_message(pdu, is_request, fragment=True))


@fast
@given(st.one_of(st.binary(max_size=200), mutated([IDENT_001C, IDENT_0011])))
def test_parse_szl_three_outcomes(data: bytes) -> None:
    result = parse_szl(data)
    if isinstance(result, NeedMore):
        assert result.needed >= 1 and len(data) < 8
        return
    szl, used = result
    assert 8 <= used <= len(data) and szl.weird in WEIRDS
    ident = identity(szl)
    assert json.loads(json.dumps(ident)) == ident


@fast
@given(st.one_of(st.binary(max_size=120).map(lambda b: b"\x72" + b), mutated().map(user_data_of),
                 wrapped().map(user_data_of)), st.booleans())
def test_s7comm_plus_frame_and_pdu(data: bytes, is_request: bool) -> None:
    try:
        result = parse_frame(data)
    except Malformed as bad:
        assert bad.code == "s7comm_bad_protocol_id"
        return
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return
    frame, used = result
    assert 0 < used <= len(data) and frame.weird in WEIRDS
    pdu = parse_plus_pdu(frame.version, frame.data, frame.keep_alive_sequence)
    assert pdu.weird in WEIRDS
    check_message(plus_message(pdu, is_request))


@fast
@given(st.binary(max_size=200), st.sampled_from(list(range(0, 0x100, 7)) + [1, 2, 3, 0xFE, 0xFF]), st.booleans())
def test_s7comm_plus_pdu_of_any_data(data: bytes, version: int, is_request: bool) -> None:
    pdu = parse_plus_pdu(version, data, 0)
    check_message(plus_message(pdu, is_request))


@st.composite
def chunks(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@fast
@given(st.lists(anything, max_size=6), st.booleans(), st.data())
def test_framer_reports_only_messages_and_documented_malformed(pieces: list[bytes], is_request: bool,
                                                              data: st.DataObject) -> None:
    stream = S7Stream(is_request, max_buffer=4096, max_pdu=2048)
    for i, chunk in enumerate(data.draw(chunks(b"".join(pieces)))):
        if data.draw(st.integers(0, 9)) == 0:
            stream.gap()
        for tag, item in stream.feed(chunk, i):
            assert tag == i
            if isinstance(item, Malformed):
                assert item.code in SPEC.weirds and item.offset >= 0
            else:
                check_message(item)
        assert stream.pending >= 0


def messages_of(stream_bytes: bytes, pieces: list[bytes], is_request: bool) -> list[Message]:
    framer = S7Stream(is_request)
    out = []
    for i, chunk in enumerate(pieces):
        for _, item in framer.feed(chunk, i):
            assert isinstance(item, Message), item
            out.append(item)
    assert framer.pending == 0
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_any_segmentation_of_a_valid_stream_gives_the_same_messages(data: st.DataObject, requests: bool) -> None:
    frames = STREAM if requests else REPLIES
    chosen = data.draw(st.lists(st.sampled_from(frames), min_size=1, max_size=8))
    whole = b"".join(chosen)
    expected = messages_of(whole, [whole], requests)
    assert expected
    assert messages_of(whole, data.draw(chunks(whole)), requests) == expected
    assert messages_of(whole, [bytes([b]) for b in whole], requests) == expected


@fast
@given(anything)
def test_probe_always_answers(data: bytes) -> None:
    assert isinstance(probe(data), Verdict)


def test_seeds_are_valid() -> None:
    """The segmentation property is only as strong as its seeds: every one must frame cleanly."""
    for frame in STREAM:
        assert messages_of(frame, [frame], True)
    assert messages_of(b"".join(REPLIES), [b"".join(REPLIES)], False)
