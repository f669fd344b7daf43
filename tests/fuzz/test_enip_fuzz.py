"""Fuzzing the EtherNet/IP package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Random bytes rarely pass the encapsulation header (a known command and a sane length), so most strategies
mutate valid messages (flip, insert, delete, cut, then fix the length field) or wrap random CIP bytes in a
valid SendRRData/SendUnitData to reach the CIP decoders. The framer must give the same messages for any
segmentation of a valid stream.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "enip"))
from enip_frames import (  # noqa: E402
    IDENTITY_ATTRIBUTES,
    cpf,
    encap,
    forward_open,
    list_identity_reply,
    logical,
    multiple,
    pccc,
    reply,
    request,
    send_rr,
    send_unit,
    symbol,
    unconnected_send,
)

from protocols.base import ACTIONS, ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Fact, Malformed, Message, NeedMore, Point  # noqa: E402
from protocols.enip import datagram, detect  # noqa: E402
from protocols.enip.cip import (  # noqa: E402
    parse_attribute_list,
    parse_forward_close,
    parse_forward_open,
    parse_forward_open_reply,
    parse_message,
    parse_pccc_reply,
    parse_pccc_request,
    parse_tag_reply,
    parse_tag_request,
    split_multiple,
    split_unconnected_send,
)
from protocols.enip.codes import WEIRDS  # noqa: E402
from protocols.enip.epath import EPath, parse_epath  # noqa: E402
from protocols.enip.messages import TCP, UDP, encapsulation_messages  # noqa: E402
from protocols.enip.pairing import complete  # noqa: E402
from protocols.enip.stream import EnipStream  # noqa: E402
from protocols.enip.wire import parse_cpf, parse_encapsulation, parse_identity_item, parse_io  # noqa: E402

FRAMING_CODES = {"enip_unknown_command", "enip_bad_length"}
DATAGRAM_CODES = FRAMING_CODES | {"enip_truncated", "enip_bad_io_packet"}
STREAM_CODES = FRAMING_CODES | {"enip_buffer_overflow"}
FACT_KINDS = {"identity", "role", "point", "hostname", "module"}

SEEDS = [
    encap(0x63), list_identity_reply(), list_identity_reply(IDENTITY_ATTRIBUTES, IDENTITY_ATTRIBUTES),
    encap(0x65, b"\x01\x00\x00\x00"), encap(0x66), encap(0x04, cpf((0x0100, struct.pack("<HH16s", 1, 0x120, b"Com")))),
    send_rr(request(0x0E, logical(0x01, 1, 7))), send_rr(reply(0x0E, b"\x05PLC-1")),
    send_rr(request(0x01, logical(0x01, 1))), send_rr(reply(0x01, IDENTITY_ATTRIBUTES)),
    send_rr(unconnected_send(request(0x01, logical(0x01, 1)), slot=2)),
    send_rr(unconnected_send(request(0x0A, logical(0x02, 1), multiple(request(0x0E, logical(1, 1, 1)),
                                                                     request(0x4C, symbol("A"), b"\x01\x00"))))),
    send_unit(request(0x4C, symbol("SCADA", 1), b"\x04\x00")), send_unit(reply(0x4C, b"\xc3\x00\x01\x00\x02\x00")),
    send_unit(request(0x4D, symbol("Tank", 3), b"\xca\x00\x01\x00\x00\x00\xac\x41")),
    send_unit(request(0x52, symbol("BIG"), b"\x10\x00\x00\x00\x00\x00")), send_unit(reply(0x52, b"\xc4\x00\x01\x00\x00\x00", 6)),
    send_unit(request(0x0A, logical(0x02, 1), multiple(request(0x03, logical(1, 1), b"\x01\x00\x01\x00"),
                                                       request(0x4D, symbol("B"), b"\xc1\x00\x01\x00\x01")))),
    send_unit(reply(0x0A, multiple(reply(0x03, b"\x01\x00\x01\x00\x00\x00\x01\x00"), reply(0x4D)))),
    send_rr(forward_open(bytes([0x01, 0x00]) + logical(0x02, 1))), send_rr(forward_open(logical(0x04, 1), 0x01, True)),
    send_rr(reply(0x54, struct.pack("<IIHHIIIBx", 1, 2, 3, 4, 5, 6, 7, 0))),
    send_rr(request(0x4E, logical(0x06, 1), struct.pack("<BBHHIBx", 1, 2, 3, 4, 5, 2) + logical(2, 1))),
    send_unit(request(0x4B, logical(0x67, 1), pccc(0x0F, 0xA2, b"\x02\x07\x89\x00\x00"))),
    send_unit(reply(0x4B, pccc(0x4F, None, b"\x01\x02"))),
    send_unit(request(0x07, logical(0x8E, 1))), send_rr(request(0x05, logical(0x01, 1), b"\x00")),
    send_rr(request(0x10, logical(0xF5, 1, 3), b"\x02\x00\x00\x00")),
]
IO_SEED = cpf((0x8002, struct.pack("<II", 0x004B0603, 4166875)), (0x00B1, b"\x01\x00" + bytes(10)))
STREAM = b"".join(SEEDS)

fast = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_message(m: Message) -> None:
    assert isinstance(m, Message)
    assert m.action in ACTIONS
    assert m.direction in (REQUEST, RESPONSE, ANNOUNCE, UNSOLICITED)
    assert m.weird is None or m.weird in WEIRDS
    assert isinstance(m.function_code, int) and m.function_name
    hash(m.pair_key)
    assert json.loads(json.dumps(m.fields)) == m.fields
    for fact in m.facts:
        assert isinstance(fact, Fact) and fact.kind in FACT_KINDS
        assert fact.about in ("client", "server", "src", "dst")
        if fact.kind == "point":
            assert isinstance(fact.value, Point) and fact.value.access in ("read", "write")
        else:
            json.dumps(fact.value)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes] = SEEDS) -> bytes:
    """A valid seed with a few bytes flipped, inserted, deleted or cut; the length field fixed or not."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "fix_length"]))
        if action == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif action == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and data:
            del data[draw(st.integers(0, len(data) - 1))]
        elif action == "cut":
            del data[draw(st.integers(0, len(data))):]
        elif action == "fix_length" and len(data) >= 24:
            data[2:4] = min(len(data) - 24, 0xFFFF).to_bytes(2, "little")
    return bytes(data)


@st.composite
def wrapped_cip(draw: st.DrawFn) -> bytes:
    """Random CIP bytes (a plausible service first) inside a valid SendRRData or SendUnitData."""
    service = draw(st.sampled_from([0x01, 0x03, 0x05, 0x0A, 0x0E, 0x10, 0x4B, 0x4C, 0x4D, 0x4E, 0x52, 0x53, 0x54,
                                    0x5B]))
    if draw(st.booleans()):
        service |= 0x80
    body = bytes([service]) + draw(st.binary(max_size=80))
    return send_rr(body) if draw(st.booleans()) else send_unit(body, sequence=draw(st.integers(0, 0xFFFF)))


inputs = st.one_of(st.binary(max_size=200), mutated(), wrapped_cip())


def check_parse(buf: bytes, offset: int) -> None:
    try:
        result = parse_encapsulation(buf, offset)
    except Malformed as bad:
        assert bad.code in FRAMING_CODES and bad.offset == offset
        return
    if isinstance(result, NeedMore):
        assert result.needed >= 1
        return
    encap_record, used = result
    assert 24 <= used <= len(buf) - offset
    for is_request in (True, False):
        for transport in (TCP, UDP):
            messages = encapsulation_messages(encap_record, is_request, transport)
            assert messages
            for m in messages:
                check_message(m)


@fast
@given(inputs, st.integers(0, 6))
def test_parse_and_decode_have_three_outcomes(data: bytes, prefix: int) -> None:
    buf = bytes(prefix) + data
    check_parse(buf, prefix)
    check_parse(memoryview(buf), prefix)  # type: ignore[arg-type]


@fast
@given(st.one_of(inputs, mutated([IO_SEED]), st.binary(max_size=40)), st.booleans())
def test_datagram_returns_messages_or_raises_malformed(payload: bytes, is_request: bool) -> None:
    try:
        messages = datagram(payload, is_request)
    except Malformed as bad:
        assert bad.code in DATAGRAM_CODES
        return
    assert messages
    for m in messages:
        check_message(m)


@fast
@given(inputs)
def test_probe_is_total(data: bytes) -> None:
    detect(data)


@fast
@given(st.binary(max_size=300), st.booleans())
def test_framer_on_arbitrary_bytes(data: bytes, is_request: bool) -> None:
    s = EnipStream(is_request)
    cuts = sorted({0, len(data), *range(0, len(data), 37)})
    for a, b in zip(cuts, cuts[1:]):
        for _, out in s.feed(data[a:b], a):
            if isinstance(out, Malformed):
                assert out.code in STREAM_CODES
            else:
                check_message(out)
    assert 0 <= s.pending <= len(data)


def _signature(items: list) -> list:
    return [(m.function_name, m.direction, m.pair_key, json.dumps(m.fields, sort_keys=True)) for _, m in items]


@fast
@given(st.lists(st.integers(1, len(STREAM) - 1), max_size=40, unique=True), st.booleans())
def test_any_segmentation_gives_the_same_messages(cuts: list[int], is_request: bool) -> None:
    whole = EnipStream(is_request).feed(STREAM, 0)
    assert not [m for _, m in whole if isinstance(m, Malformed)]
    s = EnipStream(is_request)
    pieces = []
    bounds = [0, *sorted(cuts), len(STREAM)]
    for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
        pieces += s.feed(STREAM[a:b], k)
    assert _signature(pieces) == _signature(whole) and s.pending == 0


@fast
@given(st.binary(max_size=64))
def test_epath_never_raises(raw: bytes) -> None:
    path = parse_epath(raw, 0, len(raw))
    assert isinstance(path, EPath)
    json.dumps(path.fields())


@fast
@given(st.binary(max_size=120), st.booleans())
def test_cip_decoders_raise_only_malformed(raw: bytes, flag: bool) -> None:
    decoders = [parse_message, split_multiple, split_unconnected_send, lambda d: parse_forward_open(d, flag),
                lambda d: parse_forward_open_reply(d, flag), parse_forward_close, parse_tag_reply,
                lambda d: parse_tag_request(0x4C + (raw[0] % 8 if raw else 0), d), parse_attribute_list,
                parse_pccc_request, parse_pccc_reply, parse_cpf, parse_identity_item, parse_io]
    for decode in decoders:
        try:
            result = decode(raw)
        except Malformed as bad:
            assert bad.code in WEIRDS or bad.code in DATAGRAM_CODES
            continue
        json.dumps(result, default=repr)


@fast
@given(mutated(), mutated())
def test_complete_never_raises(a: bytes, b: bytes) -> None:
    found = []
    for raw, is_request in ((a, True), (b, False)):
        try:
            result = parse_encapsulation(raw, 0)
        except Malformed:
            return
        if isinstance(result, NeedMore):
            return
        found.append(encapsulation_messages(result[0], is_request))
    for req in found[0]:
        for rep in found[1]:
            check_message(complete(req, rep))
            check_message(complete(rep, req))
