"""Fuzzing the DHCPv6 package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Strategies: random bytes, random options (nested in IA_NA and relay chains) behind valid headers, and mutations
of valid messages, so every option decoder, the relay unwrapping and the limits are reached.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import edits as edit_lists  # noqa: E402
from mutations import mutate
from promises import one_message  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dhcp"))
from dhcp_frames import dhcpv6, duid_ll, duid_llt, ia_na, relay, v6_fqdn, v6_option  # noqa: E402

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Malformed  # noqa: E402
from protocols.dhcpv6 import datagram  # noqa: E402
from protocols.dhcpv6.codes import WEIRDS  # noqa: E402
from protocols.dhcpv6.wire import parse_dhcpv6  # noqa: E402

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOLICIT = dhcpv6(1, v6_option(1, duid_llt("00:1b:1b:00:00:01")), v6_option(6, struct.pack(">HH", 23, 24)),
                 v6_fqdn("ws.example"), ia_na(7))
REPLY = dhcpv6(7, v6_option(1, duid_ll("00:1b:1b:00:00:01")), ia_na(7, "2001:db8::7"))
SEEDS = [SOLICIT, REPLY, relay(12, SOLICIT), relay(13, relay(13, REPLY)),
         dhcpv6(11, v6_option(16, struct.pack(">IH", 311, 3) + b"abc"))]
CODES = st.sampled_from([1, 2, 3, 4, 5, 6, 8, 9, 13, 14, 15, 16, 23, 39, 0, 999])
FACT_KINDS = {"identity", "role", "hostname", "mac"}


def check(payload: bytes) -> None:
    try:
        record, used = parse_dhcpv6(payload)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
    else:
        assert used == len(payload)
    message = one_message(datagram, payload, WEIRDS, (REQUEST, RESPONSE, UNSOLICITED))
    if message is None:
        return
    for fact in message.facts:
        assert fact.kind in FACT_KINDS and fact.about in ("src", "dst", "address")
        assert fact.about != "address" or fact.address
    json.dumps(message.fields)
    json.dumps([f.value for f in message.facts])


@fast
@given(st.binary(max_size=200))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.integers(0, 20), st.lists(st.tuples(CODES, st.binary(max_size=40)), max_size=8),
       st.integers(0, 3), st.binary(max_size=6))
def test_random_options_in_valid_messages(message_type: int, options: list[tuple[int, bytes]], relays: int,
                                          tail: bytes) -> None:
    payload = dhcpv6(message_type, *(v6_option(code, data) for code, data in options)) + tail
    for _ in range(relays):
        payload = relay(12 + relays % 2, payload)
    check(payload)


@fast
@given(st.sampled_from(SEEDS), edit_lists(300))
def test_mutated_messages(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(mutate(seed, edits))


def test_every_seed_is_a_clean_message() -> None:
    for seed in SEEDS:
        (message,) = datagram(seed, True)
        assert message.weird is None, (seed, message.weird)
