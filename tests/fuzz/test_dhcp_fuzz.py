"""Fuzzing the DHCPv4/BOOTP package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Random bytes are rarely 236 octets of BOOTP, so most strategies put random options behind a valid header and
cookie (to reach every option decoder, the overload and the limits) or mutate valid messages.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import edits as edit_lists  # noqa: E402
from mutations import mutate
from promises import one_message  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dhcp"))
from dhcp_frames import bootp, dhcp, fqdn, hostname, option  # noqa: E402

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Malformed  # noqa: E402
from protocols.dhcp import datagram  # noqa: E402
from protocols.dhcp.codes import WEIRDS  # noqa: E402
from protocols.dhcp.wire import parse_bootp  # noqa: E402

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [dhcp(1, hostname("ws-1"), option(55, bytes([1, 3, 6]))), dhcp(5, fqdn("a.b.example"), yiaddr="10.0.0.2"),
         dhcp(8, option(60, b"vendor"), ciaddr="10.0.0.3"), bootp(options=None),
         bootp(options=option(53, b"\x03") + option(52, b"\x03"), file=hostname("f") + b"\xff", sname=b"\xff")]
FACT_KINDS = {"identity", "role", "hostname", "mac"}


def check(payload: bytes) -> None:
    try:
        record, used = parse_bootp(payload)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
    else:
        assert used == len(payload)
    message = one_message(datagram, payload, WEIRDS, (REQUEST, RESPONSE, UNSOLICITED))
    if message is None:
        return
    for fact in message.facts:
        assert fact.kind in FACT_KINDS and fact.about in ("src", "address")
        assert fact.about != "address" or fact.address
    json.dumps(message.fields)
    json.dumps([f.value for f in message.facts])


@fast
@given(st.binary(max_size=400))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.integers(1, 2), st.lists(st.tuples(st.integers(1, 254), st.binary(max_size=30)), max_size=12),
       st.binary(max_size=8), st.binary(max_size=64), st.binary(max_size=128))
def test_random_options_behind_a_valid_header(op: int, options: list[tuple[int, bytes]], tail: bytes,
                                              sname: bytes, file: bytes) -> None:
    body = b"".join(option(code, data) for code, data in options) + tail
    check(bootp(op=op, options=body, sname=sname, file=file)[:-1])


@fast
@given(st.sampled_from(SEEDS), edit_lists(400))
def test_mutated_messages(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(mutate(seed, edits))


def test_every_seed_is_a_clean_message() -> None:
    for seed in SEEDS:
        (message,) = datagram(seed, True)
        assert message.weird is None, (seed, message.weird)
