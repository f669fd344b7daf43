"""Fuzzing the TLS package: the hello parsers, the certificate reader, the framer and the probe.

Only the three outcomes may happen (a record, NeedMore, Malformed with a documented code), never another
exception; messages are JSON-ready with actions from the vocabulary and weirds from SPEC.weirds. Real streams
come from Python's ssl in memory (``tls_frames``): any cut into TCP segments, and any re-cut of the handshake
into records (messages split over records, several in one), gives the same messages as the stream whole.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "protocols" / "tls"))
from tls_frames import handshake, records, refragment  # noqa: E402

from protocols.base import ACTIONS, Malformed, Message, Verdict  # noqa: E402
from protocols.tls import SPEC, probe  # noqa: E402
from protocols.tls.stream import TlsStream  # noqa: E402
from protocols.tls.wire import parse_client_hello, parse_server_hello  # noqa: E402
from protocols.tls.x509 import parse_certificate  # noqa: E402

WEIRDS = set(SPEC.weirds) | {None}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def view(outcomes: list) -> list:
    """What a framer reported, comparable across segmentations (tags dropped)."""
    out = []
    for _, item in outcomes:
        if isinstance(item, Malformed):
            out.append(("malformed", item.code))
        else:
            out.append((item.function_name, item.direction, json.dumps(item.fields, sort_keys=True),
                        tuple((f.kind, f.about, json.dumps(f.value, sort_keys=True)) for f in item.facts), item.weird))
    return out


def feed(data: bytes, is_request: bool, cuts: list[int]) -> list:
    framer, out, pos = TlsStream(is_request), [], 0
    for size in cuts:
        out += framer.feed(data[pos:pos + size], pos)
        pos += size
    out += framer.feed(data[pos:], pos)
    return out


def check(outcomes: list) -> None:
    for _, item in outcomes:
        if isinstance(item, Malformed):
            assert item.code in SPEC.weirds, item.code
            continue
        assert isinstance(item, Message)
        assert item.action in ACTIONS and item.weird in WEIRDS
        json.dumps(item.fields)
        json.dumps([f.value for f in item.facts])


def client_hello_body() -> bytes:
    first = records(handshake("1.2")[0])[0][1]
    return first[4:4 + int.from_bytes(first[1:4], "big")]


@FAST
@given(st.lists(st.integers(1, 400), max_size=30), st.sampled_from(["1.2", "1.3"]), st.booleans())
def test_any_segmentation_gives_the_same_messages(cuts, version, client):
    stream = handshake(version)[0 if client else 1]
    whole = view(TlsStream(client).feed(stream, 0))
    assert whole and view(feed(stream, client, cuts)) == whole


@FAST
@given(st.lists(st.integers(1, 300), min_size=1, max_size=8), st.lists(st.integers(1, 200), max_size=10),
       st.booleans())
def test_handshake_split_over_records_gives_the_same_messages(sizes, cuts, client):
    stream = handshake("1.2")[0 if client else 1]
    whole = view(TlsStream(client).feed(stream, 0))
    assert view(feed(refragment(stream, sizes), client, cuts)) == whole


@FAST
@given(st.integers(0, 600), st.binary(max_size=8))
def test_truncated_or_damaged_client_hellos(cut, junk):
    body = client_hello_body()
    for data in (body[:cut], body[:cut] + junk):
        try:
            hello = parse_client_hello(data)
        except Malformed as bad:
            assert bad.code == "tls_bad_handshake"
            continue
        assert hello.weird in WEIRDS
        hello.ja3_string  # noqa: B018 - must not raise


@FAST
@given(st.binary(max_size=300))
def test_server_hello_never_raises_otherwise(data):
    try:
        parse_server_hello(data)
    except Malformed as bad:
        assert bad.code == "tls_bad_handshake"


@FAST
@given(st.integers(0, 2000), st.integers(0, 255), st.integers(0, 2000))
def test_damaged_certificates(cut, value, where):
    server = records(handshake("1.2")[1])
    body = b"".join(f for k, f in server if k == 22)
    start = 0
    while body[start] != 11:  # walk the handshake messages to the Certificate
        start += 4 + int.from_bytes(body[start + 1:start + 4], "big")
    der_at = start + 4 + 3 + 3
    der = bytearray(body[der_at:der_at + int.from_bytes(body[der_at - 3:der_at], "big")])
    if where < len(der):
        der[where] = value
    try:
        names = parse_certificate(bytes(der[:cut]) if cut else bytes(der))
    except Malformed as bad:
        assert bad.code == "tls_bad_certificate"
    else:
        assert names.weird in WEIRDS


@FAST
@given(st.binary(max_size=2000), st.booleans(), st.lists(st.integers(1, 300), max_size=8))
def test_random_bytes(data, client, cuts):
    check(feed(data, client, cuts))


@FAST
@given(st.binary(max_size=600), st.booleans())
def test_records_with_random_fragments(fragment, client):
    data = b"".join(bytes([22, 3, 3]) + len(fragment[i:i + 90]).to_bytes(2, "big") + fragment[i:i + 90]
                    for i in range(0, len(fragment), 90))
    check(feed(data, client, []))


@FAST
@given(st.binary(max_size=40))
def test_probe_is_total(data):
    assert probe(data) in (Verdict.ACCEPT, Verdict.REJECT, Verdict.MORE)


def test_done_framer_drops_bulk_data():
    """After ChangeCipherSpec the framer is done: later bytes are dropped unseen, and nothing is held."""
    client, _ = handshake("1.2")
    framer = TlsStream(True)
    framer.feed(client, 0)
    assert framer.done and framer.pending == 0
    assert framer.feed(b"\x17\x03\x03" + b"\xff" * 5000, 1) == [] and framer.pending == 0
