"""Fuzzing the DNS wire parser (shared by mDNS, LLMNR and NBNS) and the DNS package: the three outcomes only,
bounded work on compression pointers (loops, chains, pointers past the end), truncation anywhere, and messages
that serialise to JSON with facts of the documented kinds.

Random bytes rarely get past a name, so most strategies build a header with small counts and a body of octets
drawn mostly from the ones that matter to names (pointer octets 0xC0-0xFF, label lengths, zero), or cut and
mutate valid messages.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dns"))
import dns_frames as f  # noqa: E402

from protocols.base import ACTIONS, ADDRESS, REQUEST, RESPONSE, Malformed, Message  # noqa: E402
from protocols.dns import SPEC, datagram  # noqa: E402
from protocols.dns.codes import MAX_NAME, MAX_POINTERS, MAX_RECORDS, WEIRDS, WIRE_WEIRDS  # noqa: E402
from protocols.dns.rdata import decode_rdata  # noqa: E402
from protocols.dns.wire import parse_message, read_labels  # noqa: E402

fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [f.query(), f.answer(), f.query("4.3.2.1.in-addr.arpa", 12),
         f.message(9, f.QR, (f.question(f.name("www.example.com")),),
                   (f.cname("www.example.com", "web.example.com"), f.a("web.example.com", "10.0.0.9"),
                    f.srv("_x._tcp.example.com", "web.example.com", 80), f.txt("web.example.com", "a=b"),
                    f.hinfo("web.example.com", "PLC", "RTOS"), f.ptr("9.0.0.10.in-addr.arpa", "web.example.com")))]
NAME_OCTETS = st.one_of(st.sampled_from([0x00, 0x01, 0x03, 0x3F, 0x40, 0x80, 0xC0, 0xC0, 0xFF, 0x0C, 0x41]),
                        st.integers(0, 255))


def check(payload: bytes) -> None:
    """Whatever the bytes: a record or a documented Malformed, and JSON-ready messages with sane facts."""
    try:
        wire, used = parse_message(payload, decode_rdata)
    except Malformed as bad:
        assert bad.code in WIRE_WEIRDS, bad.code
    else:
        assert 12 <= used <= len(payload)
        assert wire.problem is None or wire.problem in WIRE_WEIRDS
        assert len(wire.questions) + len(wire.records) <= MAX_RECORDS
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    assert len(messages) == 1
    for message in messages:
        assert isinstance(message, Message)
        assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE)
        assert message.weird is None or message.weird in WEIRDS
        for fact in message.facts:
            assert (fact.kind, fact.about) == ("hostname", ADDRESS), fact
            assert fact.about != ADDRESS or fact.address
        json.dumps(message.fields)


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.tuples(*[st.integers(0, 3)] * 4), st.integers(0, 0xFFFF), st.lists(NAME_OCTETS, max_size=120))
def test_counted_body_of_name_octets(counts: tuple[int, ...], flags: int, body: list[int]) -> None:
    check(f.header(1, flags, *counts) + bytes(body))


@fast
@given(st.sampled_from(SEEDS), st.data())
def test_every_cut_of_a_valid_message(seed: bytes, data: st.DataObject) -> None:
    check(seed[:data.draw(st.integers(0, len(seed)))])


@fast
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_messages(seed: bytes, edits: list[tuple[int, int]]) -> None:
    out = bytearray(seed)
    for where, value in edits:
        out[where % len(out)] = value
    check(bytes(out))


@fast
@given(st.lists(st.integers(12, 40), min_size=1, max_size=40))
def test_pointer_chains_end_or_are_loops(targets: list[int]) -> None:
    """A body of pointers only (their second octets read as labels when a pointer lands on them): decoding ends,
    in a documented fault or a name, never in a hang."""
    body = b"".join(f.pointer(t) for t in targets)
    msg = f.header(1, 0, 1) + body + b"\0" * 4
    wire, _ = parse_message(msg, decode_rdata)
    assert wire.problem is None or wire.problem in WIRE_WEIRDS
    assert targets.count(12) < len(targets) or wire.problem == "dns_pointer_loop"  # only self pointers: a loop


def test_a_pointer_to_itself_is_a_loop() -> None:
    msg = f.header(1, 0, 1) + f.pointer(12) + b"\0\x01\0\x01"
    wire, _ = parse_message(msg, decode_rdata)
    assert wire.problem == "dns_pointer_loop" and wire.questions == ()
    try:
        read_labels(msg, 12)
    except Malformed as bad:
        assert bad.code == "dns_pointer_loop" and f"{MAX_POINTERS + 1} pointers" in bad.detail
    else:
        raise AssertionError("a self pointer must raise")


def test_long_names_stop_at_the_limit() -> None:
    long = ".".join(["a" * 63] * 5)  # 321 octets in wire form
    wire, _ = parse_message(f.header(1, 0, 1) + f.name(long) + b"\0\x01\0\x01", decode_rdata)
    assert wire.problem == "dns_name_too_long"
    fits = ".".join(["a" * 63] * 3 + ["b" * 61])  # 255 octets exactly
    assert len(f.name(fits)) == MAX_NAME
    wire, _ = parse_message(f.header(1, 0, 1) + f.name(fits) + b"\0\x01\0\x01", decode_rdata)
    assert wire.problem is None and wire.questions[0].name == fits


def test_the_record_count_is_bounded() -> None:
    records = tuple(f.a("h.example", "10.0.0.1") for _ in range(MAX_RECORDS + 5))
    wire, _ = parse_message(f.message(1, f.QR, (), records), decode_rdata)
    assert wire.problem == "dns_too_many_records" and len(wire.answers) == MAX_RECORDS


@fast
@given(st.sampled_from(SEEDS), st.lists(st.integers(1, 30), max_size=8), st.binary(max_size=20))
def test_tcp_framing_in_any_chunks(seed: bytes, cuts: list[int], junk: bytes) -> None:
    """Length-prefixed messages fed in arbitrary pieces: each complete message comes out once; junk only costs
    documented Malformed outcomes."""
    stream = len(seed).to_bytes(2, "big") + seed + len(seed).to_bytes(2, "big") + seed
    framer = SPEC.framer(True)
    out = []
    pos = 0
    for cut in cuts + [len(stream)]:
        out += framer.feed(stream[pos:pos + cut], pos)
        pos += cut
        if pos >= len(stream):
            break
    assert sum(isinstance(o, Message) for _, o in out) == 2 and framer.pending == 0
    for _, outcome in framer.feed(junk, -1):
        assert isinstance(outcome, Message) or outcome.code in WEIRDS
