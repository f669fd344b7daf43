"""Fuzzing the mDNS package (the DNS wire parser with mDNS's class bits and service facts): the three outcomes only,
JSON-ready messages, facts of the documented kinds, on random bytes and on mutated announcements."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dns"))
import dns_frames as f  # noqa: E402

from protocols.base import ACTIONS, ADDRESS, ANNOUNCE, REQUEST, RESPONSE, Malformed  # noqa: E402
from protocols.mdns import WEIRDS, datagram  # noqa: E402

fast = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANNOUNCEMENT = f.message(0, f.QR | f.AA, (), (
    f.ptr("_ipp._tcp.local", "Printer._ipp._tcp.local"), f.srv("Printer._ipp._tcp.local", "prn.local", 631),
    f.txt("Printer._ipp._tcp.local", "ty=Laser", "rp=ipp"), f.a("prn.local", "10.0.0.7"),
    f.hinfo("prn.local", "ARM", "Linux")))
FACTS = {("hostname", ADDRESS), ("announced_service", "src"), ("identity", "src")}  # only names about addresses


def check(payload: bytes) -> None:
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    for message in messages:
        assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE, ANNOUNCE)
        assert message.weird is None or message.weird in WEIRDS
        assert all((fact.kind, fact.about) in FACTS for fact in message.facts)
        json.dumps(message.fields)
        json.dumps([fact.value for fact in message.facts])


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=6), st.integers(0, 200))
def test_mutated_announcements(edits: list[tuple[int, int]], cut: int) -> None:
    out = bytearray(ANNOUNCEMENT)
    for where, value in edits:
        out[where % len(out)] = value
    check(bytes(out[:len(out) - cut]))


def test_the_announcement_itself_names_host_and_service() -> None:
    (message,) = datagram(ANNOUNCEMENT, True)
    kinds = {(fact.kind, fact.about, fact.address) for fact in message.facts}
    assert message.direction == ANNOUNCE
    assert ("hostname", ADDRESS, "10.0.0.7") in kinds and ("announced_service", "src", None) in kinds
