"""Fuzzing the LLMNR package (the DNS wire parser with LLMNR's flags, UDP and TCP framing): the three outcomes only,
JSON-ready messages, hostname facts about addresses only."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dns"))
import dns_frames as f  # noqa: E402

from protocols.base import ACTIONS, ADDRESS, REQUEST, RESPONSE, Malformed, Message  # noqa: E402
from protocols.llmnr import SPEC, WEIRDS, datagram  # noqa: E402

fast = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANSWER = f.message(7, f.QR, (f.question(f.name("plc-7")),), (f.a("plc-7", "10.0.0.8"), f.aaaa("plc-7", "fe80::8")))


def check(payload: bytes) -> None:
    try:
        messages = datagram(payload, False)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    for message in messages:
        assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE)
        assert message.weird is None or message.weird in WEIRDS
        assert all(fact.kind == "hostname" and fact.about == ADDRESS for fact in message.facts)
        json.dumps(message.fields)


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=5), st.integers(0, 60))
def test_mutated_answers(edits: list[tuple[int, int]], cut: int) -> None:
    out = bytearray(ANSWER)
    for where, value in edits:
        out[where % len(out)] = value
    check(bytes(out[:len(out) - cut]))


@fast
@given(st.binary(max_size=60))
def test_tcp_junk(junk: bytes) -> None:
    for _, outcome in SPEC.framer(True).feed(junk, 0):
        assert isinstance(outcome, Message) or outcome.code in WEIRDS


def test_the_answer_names_both_addresses() -> None:
    (message,) = datagram(ANSWER, False)
    assert {(x.value, x.address) for x in message.facts} == {("plc-7", "10.0.0.8"), ("plc-7", "fe80::8")}
