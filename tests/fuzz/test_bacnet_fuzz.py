"""Fuzzing the BACnet/IP package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Random bytes rarely carry a BVLC header, so most strategies mutate valid datagrams (flip, insert, delete, cut,
with the BVLC length kept right or not) or put random tags behind a valid header for each decoded service, to reach
the tag reader and the service decoders.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import edits as edit_lists  # noqa: E402
from mutations import mutate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "bacnet"))
import bacnet_frames as bf  # noqa: E402

from protocols.bacnet import complete, datagram, probe  # noqa: E402
from protocols.bacnet.codes import WEIRDS  # noqa: E402
from protocols.bacnet.services import COMPLEX_ACKS, CONFIRMED_REQUESTS, UNCONFIRMED_REQUESTS  # noqa: E402
from protocols.bacnet.wire import parse_apdu, parse_bvlc, parse_npdu  # noqa: E402
from protocols.base import (  # noqa: E402
    ACTIONS,
    ANNOUNCE,
    REQUEST,
    RESPONSE,
    UNSOLICITED,
    Malformed,
    Message,
    Point,
    Verdict,
)

fast = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [bf.who_is(1, 9), bf.i_am(7, 5), bf.i_am(7, 5, snet=3, sadr=b"\x01"), bf.read_property(2, 3, 85),
         bf.read_property_ack(8, 7, 77, bf.app_string("dev")), bf.write_property(1, 4, 85, bf.app_real(2.0), 8),
         bf.read_property_multiple([(8, 1, [77, 121]), (0, 2, [85])]), bf.reinitialize_device(1, "pw"),
         bf.device_communication_control(1, 5), bf.error(12, 2, 32), bf.reject(3), bf.simple_ack(15),
         bf.who_is_router(1, 2), bf.register_foreign_device(60), bf.forwarded(b"\x0a\x00\x00\x01", 47808, bf.who_is())]
FACT_KINDS = {"identity", "role", "hostname", "point"}


def check(payload: bytes) -> None:
    """``datagram`` gives one message or raises a documented Malformed; the header parsers likewise."""
    assert probe(payload) in tuple(Verdict)
    for parse in (lambda b: parse_bvlc(b), lambda b: parse_npdu(b, 4), lambda b: parse_apdu(b, 6)):
        try:
            record, used = parse(payload)
        except Malformed as bad:
            assert bad.code in WEIRDS, bad.code
        else:
            assert 0 < used <= len(payload)
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    [message] = messages
    assert isinstance(message, Message)
    assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE, ANNOUNCE, UNSOLICITED)
    assert message.weird is None or message.weird in WEIRDS
    for fact in message.facts:
        assert fact.kind in FACT_KINDS and fact.about in ("src", "address")
        assert fact.about != "address" or fact.address
        if fact.kind == "point":
            assert isinstance(fact.value, Point) and fact.value.access in ("read", "write")
    json.loads(json.dumps(message.fields, allow_nan=False))
    json.dumps([f.value for f in message.facts if f.kind != "point"], allow_nan=False)
    complete(message, message)


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.binary(max_size=60))
def test_random_bytes_behind_a_bvlc_header(body: bytes) -> None:
    check(bf.bvlc(0x0A, body))


@fast
@given(st.sampled_from([(0x00, 0x05, 1, c) for c in CONFIRMED_REQUESTS] + [(0x30, 1, c) for c in COMPLEX_ACKS]
                       + [(0x10, c) for c in UNCONFIRMED_REQUESTS] + [(0x50, 1, 12)]),
       st.lists(st.one_of(st.builds(bf.ctx, st.integers(0, 5), st.integers(0, 255)),
                          st.builds(bf.tag, st.integers(0, 14), st.binary(max_size=8), st.booleans()),
                          st.builds(bf.opening, st.integers(0, 5)), st.builds(bf.closing, st.integers(0, 5)),
                          st.just(bf.tag(12, bf.objid(8, 1))), st.just(bf.app_string("x"))), max_size=10))
def test_random_tags_behind_each_service(header: tuple[int, ...], tags: list[bytes]) -> None:
    check(bf.unicast(bytes(header) + b"".join(tags)))


@fast
@given(st.sampled_from(SEEDS), edit_lists(200), st.booleans())
def test_mutated_datagrams(seed: bytes, edits: list[tuple[str, int, int]], fix_length: bool) -> None:
    data = bytearray(mutate(seed, edits))
    if fix_length and len(data) >= 4:
        data[2:4] = len(data).to_bytes(2, "big")
    check(bytes(data))


def test_every_seed_is_a_clean_message() -> None:
    for seed in SEEDS:
        [message] = datagram(seed, True)
        assert message.weird is None, (seed.hex(), message.weird)
