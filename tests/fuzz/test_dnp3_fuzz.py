"""Fuzzing the DNP3 package: only the three outcomes, ever, and JSON-ready messages.

Random bytes rarely pass a link header CRC, so most strategies wrap random or mutated application
fragments in well-formed link frames (correct CRCs) to reach the transport and application layers.
"""
from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.base import ACTIONS, ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Malformed, Message, NeedMore, Point
from protocols.dnp3 import Dnp3Stream, datagram, detect, parse_datagram
from protocols.dnp3.codes import WEIRDS
from protocols.dnp3.crc import crc16
from protocols.dnp3.transport import Completed, Reassembler
from protocols.dnp3.wire import parse_fragment, parse_link_frame, parse_transport, probe

fast = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _crc(data: bytes) -> bytes:
    c = crc16(data)
    return bytes([c & 0xFF, c >> 8])


def link_frame(control: int, dst: int, src: int, user: bytes) -> bytes:
    head = b"\x05\x64" + bytes([5 + len(user), control]) + dst.to_bytes(2, "little") + src.to_bytes(2, "little")
    return head + _crc(head) + b"".join(user[i:i + 16] + _crc(user[i:i + 16]) for i in range(0, len(user), 16))


def frames(fragment: bytes, control: int = 0xC4, dst: int = 10, src: int = 1, seq: int = 0, size: int = 249) -> bytes:
    pieces = [fragment[i:i + size] for i in range(0, len(fragment), size)] or [b""]
    return b"".join(
        link_frame(control, dst, src, bytes([(0x80 if i == len(pieces) - 1 else 0) | (0x40 if i == 0 else 0)
                                             | ((seq + i) & 0x3F)]) + p)
        for i, p in enumerate(pieces))


SEED_FRAGMENTS = [bytes.fromhex(h) for h in (
    "c3013c02063c03063c04063c0106",                                      # read class 1, 2, 3, 0
    "c3810000" + "1e01000002" + "0100000000" * 3,                        # response g30v1 0-2
    "c3810000" + "01010000090f03",                                      # response g1v1 packed 0-9
    "d38200000201280200" + "0700810c0001",                               # unsolicited g2v1 events (cut)
    "c305" + "0c012801000300" + "030164000000640000000000",              # direct operate CROB
    "c305" + "29031701" + "04" + "0000c03f00",                           # direct operate g41v3
    "c302" + "3201070100e40b5407" + "0000",                              # write g50v1 time
    "c302" + "500100070700",                                             # write g80v1 clear restart
    "c30b" + "32020701" + "00" * 10 + "140000000003",                   # freeze at time
    "c319" + "46035b011e00" + "1a000400" + "00" * 22 + "2f746d70",       # open file /tmp
    "c3810000" + "00fc0000000104" + "41434d45" + "00f80000000103" + "534e31",  # attributes
    "c3810000" + "6f0b2801000500" + "68656c6c6f20776f726c64",            # octet string event
    "c3200000" + "780b5b011000" + "00" * 16,                             # auth request free format
    "c30d", "c30e", "c317", "c318", "c00000",                             # restarts, time, confirm
)]

MESSAGE_DIRECTIONS = {REQUEST, RESPONSE, ANNOUNCE, UNSOLICITED}


def check_message(message: Message) -> None:
    assert isinstance(message, Message)
    assert message.weird is None or message.weird in WEIRDS, message.weird
    assert message.action in ACTIONS
    assert message.direction in MESSAGE_DIRECTIONS
    assert isinstance(message.function_code, int) and message.function_name
    assert json.loads(json.dumps(message.fields)) == message.fields
    hash(message.pair_key)
    for fact in message.facts:
        assert fact.kind in ("role", "identity", "point")
        assert fact.about in ("client", "server")
        if fact.kind == "point":
            assert isinstance(fact.value, Point) and fact.value.access in ("read", "write")
            json.dumps(fact.value.values)
        elif fact.kind == "identity":
            json.dumps(fact.value)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few bytes flipped, inserted, deleted or cut."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if action == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif action == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=6))
        elif action == "delete" and data:
            del data[draw(st.integers(0, len(data) - 1))]
        elif action == "cut":
            del data[draw(st.integers(0, len(data))):]
    return bytes(data)


fragments = st.one_of(st.binary(max_size=300), mutated(SEED_FRAGMENTS))
controls = st.sampled_from([0xC4, 0x44, 0xC3, 0x53, 0xC0, 0x0B, 0xC9]) | st.integers(0, 255)


@st.composite
def framed(draw: st.DrawFn) -> bytes:
    """One or more well-formed link frames around a random or mutated fragment."""
    fragment = draw(fragments)
    return frames(fragment, draw(controls), draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)),
                  draw(st.integers(0, 63)), draw(st.integers(1, 249)))


SEED_STREAMS = [frames(f) for f in SEED_FRAGMENTS]
inputs = st.one_of(st.binary(max_size=400), framed(), mutated(SEED_STREAMS))


@fast
@given(inputs, st.integers(0, 6))
def test_parse_link_frame_has_three_outcomes(data: bytes, prefix: int) -> None:
    buf = bytes(prefix) + data
    for view in (buf, memoryview(buf)):
        try:
            result = parse_link_frame(view, prefix)
        except Malformed as bad:
            assert bad.code in ("dnp3_bad_start", "dnp3_bad_length") and bad.offset == prefix
            continue
        if isinstance(result, NeedMore):
            assert result.needed >= 1
            continue
        frame, used = result
        assert 10 <= used <= len(buf) - prefix and len(frame.data) == frame.length - 5


@fast
@given(fragments)
def test_parse_fragment_returns_a_record_or_raises_malformed(fragment: bytes) -> None:
    try:
        result, used = parse_fragment(fragment)
    except Malformed as bad:
        assert bad.code == "dnp3_fragment_too_short" and len(fragment) < 2
        return
    assert used == len(fragment)
    assert result.weird is None or result.weird in WEIRDS
    for o in result.objects:
        assert 0 <= o.group <= 255 and 0 <= o.variation <= 255 and o.quantity >= 0


@fast
@given(inputs)
def test_probe_and_detect_never_raise(data: bytes) -> None:
    assert probe(data) in (True, False, None)
    detect(data)


@fast
@given(st.integers(0, 255))
def test_every_transport_octet_is_a_header(octet: int) -> None:
    header = parse_transport(octet)
    assert 0 <= header.sequence < 64


@fast
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 255), st.binary(max_size=60)), max_size=30))
def test_reassembler_outcomes_are_fragments_or_weird_codes(segments: list[tuple[int, int, bytes]]) -> None:
    r = Reassembler(max_fragment=500, max_reassemblies=2)
    for key, octet, payload in segments:
        for outcome in r.add(key, parse_transport(octet), payload):
            assert isinstance(outcome, Completed) and len(outcome.fragment) <= 500 or outcome in WEIRDS
    assert r.partials <= 2 and r.pending <= 2 * 500


@fast
@given(inputs, st.booleans())
def test_datagram_has_messages_or_raises_malformed(data: bytes, is_request: bool) -> None:
    for outcome in parse_datagram(data, is_request):
        if isinstance(outcome, Malformed):
            assert outcome.code in WEIRDS
        else:
            check_message(outcome)
    try:
        messages = datagram(data, is_request)
    except Malformed as bad:
        assert bad.code in WEIRDS
        return
    for message in messages:
        check_message(message)


Segmented = tuple[bytes, list[bytes]]


@st.composite
def segmented(draw: st.DrawFn, pieces: st.SearchStrategy[bytes]) -> Segmented:
    data = b"".join(draw(st.lists(pieces, max_size=6)))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in pairwise(bounds)]


def run_stream(segments: list[bytes], is_request: bool, **limits: int) -> list:
    stream = Dnp3Stream(is_request, **limits)
    outcomes = []
    for tag, segment in enumerate(segments, start=1):
        for got, outcome in stream.feed(segment, tag):
            assert got == tag
            if isinstance(outcome, Malformed):
                assert outcome.code in WEIRDS
            else:
                check_message(outcome)
            outcomes.append(outcome)
        if tag % 4 == 0:
            stream.gap()
    assert stream.pending <= stream.max_buffer + limits.get("max_fragment", 65536) * 16
    return outcomes


@fast
@given(segmented(inputs), st.booleans())
def test_stream_feed_has_only_messages_and_malformed(case: Segmented, is_request: bool) -> None:
    run_stream(case[1], is_request)


@fast
@given(segmented(inputs), st.booleans(), st.integers(1, 300), st.integers(1, 600), st.integers(1, 3))
def test_stream_with_small_limits(case: Segmented, is_request: bool, buffer: int, fragment: int, pairs: int) -> None:
    run_stream(case[1], is_request, max_buffer=buffer, max_fragment=fragment, max_reassemblies=pairs)


valid_streams = st.lists(st.sampled_from(SEED_FRAGMENTS), min_size=1, max_size=5).map(
    lambda fs: b"".join(frames(f, seq=i * 7, size=1 + (i * 37) % 249) for i, f in enumerate(fs)))


@fast
@given(segmented(valid_streams), st.booleans())
def test_stream_framing_does_not_depend_on_segmentation(case: Segmented, is_request: bool) -> None:
    data, segments = case
    one_shot = [o for _, o in Dnp3Stream(is_request).feed(data, 1)]
    stream = Dnp3Stream(is_request)
    pieces = [o for tag, s in enumerate(segments, 1) for _, o in stream.feed(s, tag)]
    assert pieces == one_shot
    assert all(isinstance(o, Message) for o in pieces)
    assert stream.pending == 0


def test_a_nan_or_infinite_float_stays_json():
    """Found by the fuzzer: a float analog output (g41v3, g41v4) that is NaN or infinite must still make a JSON
    field, as its repr (JSON has no NaN)."""
    import struct

    from protocols.dnp3.objects import decode_value

    for variation, fmt in ((3, "<fB"), (4, "<dB")):
        for value in (float("nan"), float("inf"), float("-inf")):
            raw = struct.pack(fmt, value, 0)
            decoded = decode_value(41, variation, raw, 0, len(raw))
            assert decoded == repr(value) and json.loads(json.dumps(decoded)) == decoded
    assert decode_value(41, 3, struct.pack("<fB", 2.5, 0), 0, 5) == 2.5
