"""Fuzzing the OPC UA package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Random bytes rarely pass the header (a known type, a chunk type, a sane size), so most strategies mutate
valid messages (flip, insert, delete, then fix the size field) or put random bytes after a valid header
and symmetric header, to reach the service decoders. The framer must give the same messages for any
segmentation of a valid stream; the certificate walk and ``complete`` must never raise.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "opcua"))
import opcua_frames as f  # noqa: E402

from protocols.base import ACTIONS, ANNOUNCE, REQUEST, RESPONSE, Fact, Malformed, Message  # noqa: E402
from protocols.opcua import SPEC, OpcuaStream, complete, probe  # noqa: E402
from protocols.opcua.certs import subject  # noqa: E402

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SERVER = f.application("urn:s", "urn:p", "Server")
VALID = [
    f.hello("opc.tcp://plc.example:4840"), f.acknowledge(), f.error(0x80010000, "bad"),
    f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request())),
    f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_response())),
    f.opn(f.BASIC256SHA256, bytes(200), certificate=f.certificate("S", "O")),
    f.msg(f.read_request(2, [f.read_value_id(2261), f.read_value_id("T", ns=2)]), 2),
    f.msg(f.read_response(2, [f.data_value(f.variant_string("x"), 0), f.data_value(f.variant_double(1.0))]), 2),
    f.msg(f.write_request(3, [(f.node(5, ns=2), f.data_value(f.variant_double(2.0)))]), 3),
    f.msg(f.service(431, f.response_header(4), f.array([f.endpoint("opc.tcp://s:4840", SERVER)])), 4),
    f.msg(f.service(712, f.request_header(5), f.array([f.node(1, ns=2) + f.node(2, ns=2) + f.array(None)])), 5),
    f.msg(f.read_request(6, [f.read_value_id(1)]), 6, chunk=b"C"),
    f.msg(f.u32(0x80080000) + f.string("abort"), 6, chunk=b"A"),
]


def check(outcomes: list) -> None:
    for tag, outcome in outcomes:
        assert tag == 1
        if isinstance(outcome, Malformed):
            assert outcome.code in SPEC.weirds, outcome.code
            continue
        assert isinstance(outcome, Message)
        assert outcome.action in ACTIONS and outcome.direction in (REQUEST, RESPONSE, ANNOUNCE)
        assert outcome.weird is None or outcome.weird in SPEC.weirds
        json.dumps(outcome.fields)
        assert all(isinstance(x, Fact) for x in outcome.facts)
        json.dumps([x.value if x.kind != "point" else x.value.name for x in outcome.facts])


def fix_size(data: bytes) -> bytes:
    return data[:4] + struct.pack("<I", len(data)) + data[8:] if len(data) >= 8 else data


@FAST
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes(data: bytes, is_request: bool) -> None:
    probe(data)
    check(OpcuaStream(is_request).feed(data, 1))


@FAST
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       st.integers(0, 40), st.booleans())
def test_mutated_messages(base: bytes, flips: list[tuple[int, int]], cut: int, is_request: bool) -> None:
    data = bytearray(base)
    for at, value in flips:
        if 8 <= at < len(data):
            data[at] = value
    data = fix_size(bytes(data[:len(data) - cut] if cut < len(data) - 8 else data))
    stream = OpcuaStream(is_request)
    check(stream.feed(f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request())), 1))
    check(stream.feed(data, 1))


@FAST
@given(st.sampled_from([0x01, 0x02, 0x03]), st.binary(max_size=200), st.booleans())
def test_random_bodies_behind_a_valid_type_id(encoding: int, body: bytes, is_request: bool) -> None:
    type_ids = [631, 634, 673, 431, 461, 464, 467, 712, 715, 527, 664, 446, 449, 422, 425]
    for type_id in type_ids:
        head = f.u8(1) + f.u8(0) + f.u16(type_id) if encoding == 1 else f.u8(2) + f.u16(0) + f.u32(type_id)
        check(OpcuaStream(is_request).feed(f.msg(head + body, 1), 1))


@FAST
@given(st.lists(st.integers(1, 80), min_size=1, max_size=40))
def test_segmentation_does_not_matter(cuts: list[int]) -> None:
    stream_data = b"".join(VALID[:5] + VALID[6:11])
    whole = [(m.function_code, m.fields) for _, m in OpcuaStream(True).feed(stream_data, 1)]
    stream, pos, got = OpcuaStream(True), 0, []
    for size in cuts * (len(stream_data) // sum(cuts) + 1):
        if pos >= len(stream_data):
            break
        got += [(m.function_code, m.fields) for _, m in stream.feed(stream_data[pos:pos + size], 1)]
        pos += size
    assert got == whole


@FAST
@given(st.binary(max_size=400))
def test_certificate_walk_never_raises(data: bytes) -> None:
    assert isinstance(subject(data), dict)
    assert isinstance(subject(b"\x30\x82" + len(data).to_bytes(2, "big") + data), dict)


@FAST
@given(st.sampled_from(VALID[6:11]), st.sampled_from(VALID[6:11]))
def test_complete_never_raises(a: bytes, b: bytes) -> None:
    ma = [m for _, m in OpcuaStream(True).feed(a, 1)]
    mb = [m for _, m in OpcuaStream(False).feed(b, 1)]
    for x in ma:
        for y in mb:
            done = complete(x, y)
            json.dumps(done.fields)
