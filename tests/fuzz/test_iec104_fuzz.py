"""Fuzzing the IEC 104 package: the APDU and ASDU parsers, the message builder, the framer and the probe.

Only the three outcomes may ever happen (a record and the octets used, NeedMore, Malformed with a documented
code), never another exception; messages are JSON-ready, with an action from the shared vocabulary and
weirds from SPEC.weirds; facts are about the ends of the flow. A framer fed any segmentation of a stream
reports the same outcomes as when fed it whole, and a well-formed ASDU built from random elements is read
back with exactly the objects it was built with.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "protocols" / "iec104"))
from iec104_frames import (  # noqa: E402
    STARTDT_ACT,
    STARTDT_CON,
    TESTFR_ACT,
    asdu,
    cp56,
    i_frame,
    interrogation,
    measured_float,
    s_frame,
    setpoint_float,
    single_command,
)

from protocols.base import ACTIONS, Malformed, Message, NeedMore, Verdict  # noqa: E402
from protocols.iec104 import SPEC, Iec104Stream, apdu_message, parse_apdu, parse_asdu, probe  # noqa: E402
from protocols.iec104.elements import LAYOUTS  # noqa: E402

WEIRDS = set(SPEC.weirds) | {None}
SEEDS = [STARTDT_ACT, STARTDT_CON, TESTFR_ACT, s_frame(5), i_frame(interrogation(), 0, 0),
         i_frame(interrogation(7), 0, 1), i_frame(single_command(1000, True, select=True), 1, 1),
         i_frame(setpoint_float(2000, 12.5), 2, 1), i_frame(measured_float(20, [(10, 1.5), (11, -2.0)]), 1, 3),
         i_frame(measured_float(3, [(700, 3.25)] * 5, sq=True), 2, 3),
         i_frame(asdu(103, 6, [(0, cp56(2024, 5, 6, 7, 8, 9010))]), 3, 3),
         i_frame(asdu(125, 13, [(5, b"\x01\x00\x01\x03abc")]), 4, 3)]

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_message(message: Message) -> None:
    assert isinstance(message, Message)
    assert message.action in ACTIONS
    assert message.weird in WEIRDS, message.weird
    assert message.direction in ("request", "response", "announce", "unsolicited")
    assert isinstance(message.function_code, int) and message.function_name
    assert json.loads(json.dumps(message.fields, allow_nan=False)) == message.fields
    for fact in message.facts:
        assert fact.about in ("client", "server")
        assert fact.kind in ("role", "point")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed with a few octets changed, inserted or cut."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
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
def random_asdu(draw: st.DrawFn) -> bytes:
    """Random octets after a type identification that the package may know: reaches every element decoder."""
    type_id = draw(st.one_of(st.sampled_from(sorted(LAYOUTS) + [125, 81, 0, 200]), st.integers(0, 255)))
    return bytes([type_id]) + draw(st.binary(max_size=120))


anything = st.one_of(st.binary(max_size=200), mutated(), random_asdu().map(lambda a: i_frame(a)))


@fast
@given(anything, st.integers(0, 6), st.booleans())
def test_parse_apdu_three_outcomes_and_messages(data: bytes, offset: int, is_request: bool) -> None:
    offset = min(offset, len(data))
    try:
        result = parse_apdu(data, offset)
    except Malformed as bad:
        assert bad.code in ("iec104_bad_start", "iec104_bad_length") and bad.offset == offset
        return
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return
    apdu, used = result
    assert used == 2 + apdu.length <= len(data) - offset and apdu.weird in WEIRDS
    check_message(apdu_message(apdu, is_request))
    check_message(apdu_message(apdu, is_request, max_objects=2))


@fast
@given(st.one_of(random_asdu(), st.binary(max_size=60)), st.integers(1, 127))
def test_parse_asdu_reads_or_says_why(data: bytes, max_objects: int) -> None:
    try:
        asdu_ = parse_asdu(data, max_objects)
    except Malformed as bad:
        assert bad.code == "iec104_short_asdu" and len(data) < 6
        return
    assert asdu_.weird in WEIRDS and len(asdu_.objects) <= min(asdu_.number, max_objects)
    assert all(0 <= o.ioa < 1 << 24 for o in asdu_.objects)


ELEMENT_TYPES = sorted(t for t, (size, _) in LAYOUTS.items() if size > 0)


@fast
@given(st.sampled_from(ELEMENT_TYPES), st.data(), st.booleans(), st.integers(0, 63))
def test_a_well_formed_asdu_is_read_back_whole(type_id: int, data: st.DataObject, sq: bool, cause: int) -> None:
    size = LAYOUTS[type_id][0]
    count = data.draw(st.integers(1, min(127, 240 // (size + 3))))
    first = data.draw(st.integers(0, (1 << 24) - 1 - count))
    addresses = [first + k for k in range(count)] if sq else data.draw(
        st.lists(st.integers(0, (1 << 24) - 1), min_size=count, max_size=count))
    elements = [data.draw(st.binary(min_size=size, max_size=size)) for _ in range(count)]
    parsed = parse_asdu(asdu(type_id, cause, list(zip(addresses, elements)), sq=sq))
    assert parsed.weird is None and parsed.number == count and parsed.sq == sq and parsed.cause == cause
    assert [o.ioa for o in parsed.objects] == addresses
    check_message(apdu_message(parse_apdu(i_frame(asdu(type_id, cause, list(zip(addresses, elements)), sq=sq)))[0],
                               True))


def outcomes(stream: Iec104Stream, chunks: list[bytes]) -> list:
    out = []
    for k, chunk in enumerate(chunks):
        for _, o in stream.feed(chunk, k):
            out.append((o.code, o.offset) if isinstance(o, Malformed) else
                       (o.function_code, o.function_name, o.direction, o.pair_key, o.weird, json.dumps(o.fields)))
    return out


@fast
@given(st.lists(st.one_of(st.sampled_from(SEEDS), mutated(), st.binary(max_size=12)), max_size=12), st.data(),
       st.booleans())
def test_framer_any_segmentation_same_outcomes(parts: list[bytes], data: st.DataObject, is_request: bool) -> None:
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    whole, cut = Iec104Stream(is_request), Iec104Stream(is_request)
    assert outcomes(cut, chunks) == outcomes(whole, [stream])
    assert cut.pending == whole.pending <= 257
    for _, o in Iec104Stream(is_request).feed(stream, 0):
        if isinstance(o, Malformed):
            assert o.code in SPEC.weirds
        else:
            check_message(o)


@fast
@given(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=10), st.booleans())
def test_framer_reads_a_clean_stream_without_a_weird(frames: list[bytes], is_request: bool) -> None:
    found = [o for _, o in Iec104Stream(is_request).feed(b"".join(frames), 0)]
    assert len(found) == len(frames) and all(isinstance(o, Message) and o.weird is None for o in found)


@fast
@given(st.one_of(anything, st.sampled_from(SEEDS)))
def test_probe_is_total_and_accepts_whole_seeds(data: bytes) -> None:
    verdict = probe(data)
    assert isinstance(verdict, Verdict)
    if data in SEEDS:  # each is a whole, well-formed APDU
        assert verdict is Verdict.ACCEPT
