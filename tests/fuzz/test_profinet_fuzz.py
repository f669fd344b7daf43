"""Fuzzing the PROFINET DCP package: only the three outcomes, ever, and JSON-ready, well-formed messages.

Random bytes rarely carry a DCP FrameID, so most strategies mutate valid frames (flip, insert, delete, cut) or
wrap random blocks in a valid header with a correct DCPDataLength, to reach the block decoders.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "profinet"))
from dcp_frames import dcp, get_request, hello, identify_request, identify_response, set_ip, set_response  # noqa: E402

from protocols.base import ACTIONS, ANNOUNCE, REQUEST, RESPONSE, Malformed, Message, NeedMore  # noqa: E402
from protocols.profinet import datagram  # noqa: E402
from protocols.profinet.codes import WEIRDS  # noqa: E402
from protocols.profinet.wire import parse_dcp, parse_frame_id  # noqa: E402

fast = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [identify_request(), identify_request(name="plc-1"), identify_response("plc-1", ip="10.0.0.2"), hello("io-1"),
         set_ip("10.0.0.9"), set_response((1, 2, 0)), get_request((1, 2), (2, 2))]
FACT_KINDS = {"identity", "role", "hostname"}


def check(payload: bytes) -> None:
    """``datagram`` gives messages or raises a documented Malformed; the wire parsers give the three outcomes."""
    for parse in (parse_frame_id, parse_dcp):
        try:
            result = parse(payload)
        except Malformed as bad:
            assert bad.code in WEIRDS, bad.code
        else:
            assert isinstance(result, NeedMore) or (isinstance(result, tuple) and 0 < result[1] <= len(payload))
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    assert len(messages) <= 1
    for message in messages:
        assert isinstance(message, Message)
        assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE, ANNOUNCE)
        assert message.weird is None or message.weird in WEIRDS
        assert all(f.kind in FACT_KINDS and f.about == "src" for f in message.facts)
        json.dumps(message.fields)
        json.dumps([f.value for f in message.facts])


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.sampled_from([0xFEFC, 0xFEFD, 0xFEFE, 0xFEFF]), st.integers(0, 255), st.integers(0, 255),
       st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40)), max_size=6),
       st.booleans())
def test_random_blocks_in_a_valid_header(frame_id: int, service: int, service_type: int,
                                         blocks: list[tuple[int, int, bytes]], pad: bool) -> None:
    body = b"".join(struct.pack(">BBH", o, s, len(d)) + d + (b"\0" * (len(d) & 1) if pad else b"") for o, s, d in blocks)
    check(dcp(frame_id, service, service_type, body))


@fast
@given(st.sampled_from(SEEDS), edit_lists(200))
def test_mutated_frames(seed: bytes, edits: list[tuple[str, int, int]]) -> None:
    check(mutate(seed, edits))


def test_every_seed_is_a_message() -> None:
    for seed in SEEDS:
        (message,) = datagram(seed, True)
        assert message.weird is None, (seed, message.weird)
