"""Fuzzing the NBNS package (the DNS wire parser with NBNS's record data and first-level encoded names): the three
outcomes only, JSON-ready messages, facts of the documented kinds, on random bytes and mutated registrations and
node status responses."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "protocols" / "dns"))
import dns_frames as f  # noqa: E402

from protocols.base import ACTIONS, ADDRESS, REQUEST, RESPONSE, Malformed  # noqa: E402
from protocols.nbns import WEIRDS, datagram  # noqa: E402
from protocols.nbns.names import decode_label  # noqa: E402

fast = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [f.nb_registration("HMI-01", "10.0.0.3"), f.nb_registration("PLANT", "10.0.0.3", 0x1C, group=True),
         f.nb_status_response([("HMI-01", 0x00, False), ("PLANT", 0x00, True), ("HMI-01", 0x20, False)],
                              bytes.fromhex("001122334455"))]
FACTS = {"hostname", "identity", "role"}


def check(payload: bytes) -> None:
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in WEIRDS, bad.code
        return
    for message in messages:
        assert message.action in ACTIONS and message.direction in (REQUEST, RESPONSE)
        assert message.weird is None or message.weird in WEIRDS
        for fact in message.facts:  # only names may be about an address (a name never makes an asset)
            assert fact.kind in FACTS and (fact.about == "src" or (fact.about, fact.kind) == (ADDRESS, "hostname"))
        json.dumps(message.fields)
        json.dumps([fact.value for fact in message.facts])


@fast
@given(st.binary(max_size=80))
def test_random_bytes(payload: bytes) -> None:
    check(payload)


@fast
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(0, 120))
def test_mutated_messages(seed: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    out = bytearray(seed)
    for where, value in edits:
        out[where % len(out)] = value
    check(bytes(out[:max(0, len(out) - cut)]))


@fast
@given(st.binary(min_size=32, max_size=32))
def test_any_label_decodes_or_is_refused(label: bytes) -> None:
    raw = decode_label(label)
    assert raw is None or len(raw) == 16
