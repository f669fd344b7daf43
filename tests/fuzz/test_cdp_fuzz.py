"""Fuzzing the CDP package: only the three outcomes, ever, and JSON-ready, well-formed messages and facts.

Random bytes reach the header and the TLV walk; random TLVs of the decoded types behind a valid header reach every
value decoder (address lists with any count); mutated real-shaped frames reach the edges between them.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "cdp"))
from cdp_frames import addresses, cdp, switch, tlv  # noqa: E402

from protocols.base import ANNOUNCE, Malformed, NeedMore  # noqa: E402
from protocols.cdp import datagram  # noqa: E402
from protocols.cdp.codes import MAX_ADDRESSES, MAX_TLVS, WEIRDS  # noqa: E402
from protocols.cdp.wire import parse_cdp  # noqa: E402

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [switch(), switch("sw-2", "fd00::2"), cdp(tlv(1, b"r1"), tlv(2, addresses("10.0.0.1", "fd00::1")), version=1)]
TYPES = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 14, 16, 17, 20, 22, 23, 0x1001]


def check(payload: bytes) -> None:
    try:
        result = parse_cdp(payload)
    except Malformed as bad:
        raise AssertionError(f"parse_cdp raised {bad.code}") from bad
    assert isinstance(result, NeedMore) or 0 < result[1] <= len(payload)
    message = one_message(datagram, payload, WEIRDS, {ANNOUNCE})
    if message is None:
        return
    assert len(message.fields["tlvs"]) <= MAX_TLVS
    assert all(len(message.fields.get(k, ())) <= MAX_ADDRESSES for k in ("addresses", "management_addresses"))
    for fact in message.facts:
        assert fact.kind in ("hostname", "identity") and fact.about in ("src", "address")
        assert (fact.address is not None) == (fact.about == "address")
    json.dumps(message.fields)
    json.dumps([f.value for f in message.facts])


@fast
@given(st.binary(max_size=120))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


address_lists = st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=40)).map(
    lambda t: struct.pack(">I", t[0]) + t[1])


@fast
@given(st.integers(0, 255), st.lists(st.tuples(st.sampled_from(TYPES), st.one_of(st.binary(max_size=30), address_lists)),
                                     max_size=10))
def test_random_tlvs_behind_a_valid_header(version: int, tlvs: list[tuple[int, bytes]]) -> None:
    check(cdp(*[tlv(kind, value) for kind, value in tlvs], version=version))


@fast
@given(st.sampled_from(SEEDS), edit_lists(400))
def test_mutated_frames(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(mutate(seed, edits))


def test_every_seed_is_a_clean_message() -> None:
    for seed in SEEDS:
        (message,) = datagram(seed, True)
        assert message.weird is None, (seed, message.weird)
