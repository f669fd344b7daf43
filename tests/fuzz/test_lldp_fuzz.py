"""Fuzzing the LLDP package: only the three outcomes, ever, and JSON-ready, well-formed messages and facts.

Random bytes reach the TLV walk; random TLVs behind valid mandatory ones reach every value decoder (types and
organizationally specific OUIs and subtypes are drawn from the ones decoded); mutated real-shaped LLDPDUs reach
the edges between them.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "lldp"))
from lldp_frames import lldpdu, management, org, switch_port, tlv  # noqa: E402

from protocols.base import ANNOUNCE, Malformed, NeedMore  # noqa: E402
from protocols.lldp import datagram  # noqa: E402
from protocols.lldp.codes import MAX_TLVS, WEIRDS  # noqa: E402
from protocols.lldp.wire import parse_lldpdu  # noqa: E402

fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [switch_port(), lldpdu(), lldpdu("00:0e:8c:01:02:03", b"\x07port-001.plc-1", 0),
         lldpdu("00:0e:8c:01:02:03", b"\x07p", 20, management("fd00::1", 2, b"\x2b\x06\x01"), tlv(5, b"plc-1"))]
OUIS = [0x0080C2, 0x00120F, 0x000ECF, 0x0012BB, 0x000142, 0x123456]
ABOUT = {"src", "address"}


def check(payload: bytes) -> None:
    """``datagram`` gives one message or raises a documented Malformed; the TLV walk gives the three outcomes."""
    try:
        result = parse_lldpdu(payload)
    except Malformed as bad:
        raise AssertionError(f"parse_lldpdu raised {bad.code}") from bad
    assert isinstance(result, NeedMore) or 0 < result[1] <= len(payload)
    message = one_message(datagram, payload, WEIRDS, {ANNOUNCE})
    if message is None:
        return
    assert len(message.fields["tlvs"]) <= MAX_TLVS
    for fact in message.facts:
        assert fact.kind in ("hostname", "identity") and fact.about in ABOUT
        assert (fact.address is not None) == (fact.about == "address")
    json.dumps(message.fields)
    json.dumps([f.value for f in message.facts])


@fast
@given(st.binary(max_size=120))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


tlvs = st.one_of(
    st.tuples(st.integers(0, 127), st.binary(max_size=40)).map(lambda t: tlv(*t)),
    st.tuples(st.sampled_from(OUIS), st.integers(0, 12), st.binary(max_size=24)).map(lambda t: org(*t)),
)


@fast
@given(st.lists(tlvs, max_size=12), st.booleans())
def test_random_tlvs_behind_valid_mandatory_ones(rest: list[bytes], end: bool) -> None:
    check(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, *rest, end=end))


@fast
@given(st.sampled_from(SEEDS), edit_lists(400))
def test_mutated_lldpdus(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(mutate(seed, edits))


def test_every_seed_is_a_clean_message() -> None:
    for seed in SEEDS:
        (message,) = datagram(seed, True)
        assert message.weird is None, (seed, message.weird)
    assert struct.unpack(">H", SEEDS[0][:2])[0] >> 9 == 1  # the seeds start with a chassis ID
