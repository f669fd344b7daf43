"""Fuzzing the HTTP package: the head parser, the framer and the probe.

Only the three outcomes may happen (a record, NeedMore, Malformed with a documented code), never another
exception; messages are JSON-ready with actions from the vocabulary and weirds from SPEC.weirds. A pipelined
stream with every body framing (Content-Length, chunked with extensions and trailers, none, a HEAD response, an
interim 100) gives the same messages whatever its cut into TCP segments, and bodies are never buffered.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.base import ACTIONS, Malformed, Message, NeedMore, Verdict
from protocols.http import SPEC, probe
from protocols.http.codes import MAX_HEADERS
from protocols.http.stream import HttpStream
from protocols.http.wire import parse_head

WEIRDS = set(SPEC.weirds) | {None}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REQUESTS = (b"GET /index.html HTTP/1.1\r\nHost: plc1.plant.example:8080\r\nUser-Agent: probe/1.0\r\n\r\n"
            b"POST /cgi/write HTTP/1.1\r\nHost: 10.0.0.5\r\nContent-Length: 11\r\n\r\nvalue=12345"
            b"PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n"
            b"HEAD / HTTP/1.1\r\nHost: b\r\n\r\n"
            b"DELETE /x HTTP/1.0\n\n")
RESPONSES = (b"HTTP/1.1 100 Continue\r\n\r\n"
             b"HTTP/1.1 200 OK\r\nServer: Siemens S7-1200 web server\r\nContent-Length: 5\r\n\r\nHTTP/"
             b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
             b"HTTP/1.1 204 No Content\r\n\r\n"
             b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"  # a HEAD response: no body follows
             b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs to the close")


def view(outcomes: list) -> list:
    return [("malformed", x.code) if isinstance(x, Malformed) else
            (x.function_name, x.pair_key, json.dumps(x.fields, sort_keys=True), x.weird) for _, x in outcomes]


def feed(data: bytes, is_request: bool, cuts: list[int]) -> tuple[list, HttpStream]:
    framer, out, pos = HttpStream(is_request), [], 0
    for size in cuts:
        out += framer.feed(data[pos:pos + size], pos)
        pos += size
    out += framer.feed(data[pos:], pos)
    return out, framer


def check(outcomes: list) -> None:
    for _, item in outcomes:
        if isinstance(item, Malformed):
            assert item.code in SPEC.weirds, item.code
            continue
        assert isinstance(item, Message) and item.action in ACTIONS and item.weird in WEIRDS
        json.dumps(item.fields)


def test_the_streams_read_whole():
    requests, framer = feed(REQUESTS, True, [])
    assert [m.function_name for _, m in requests] == ["get", "post", "put", "head", "delete"]
    assert [m.pair_key for _, m in requests] == [1, 2, 3, 4, 5] and framer.pending == 0
    responses, framer = feed(RESPONSES, False, [])
    assert [m.fields["status_code"] for _, m in responses] == [100, 200, 201, 204, 200, 200]
    assert [m.pair_key for _, m in responses] == [None, 1, 2, 3, 4, 5]
    assert framer.done and framer.pending == 0  # the last body runs to the close


@FAST
@given(st.lists(st.integers(1, 60), max_size=40), st.booleans())
def test_any_segmentation_gives_the_same_messages(cuts, client):
    stream = REQUESTS if client else RESPONSES
    whole = view(HttpStream(client).feed(stream, 0))
    assert view(feed(stream, client, cuts)[0]) == whole


@FAST
@given(st.integers(1, 100_000))
def test_bodies_are_counted_not_buffered(size):
    framer = HttpStream(False)
    framer.feed(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode(), 0)
    framer.feed(b"x" * (size - 1), 1)
    assert framer.pending == 0
    out = framer.feed(b"xHTTP/1.1 304 Not Modified\r\n\r\n", 2)
    assert [m.fields["status_code"] for _, m in out] == [304]


def test_limits_are_weirds():
    many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 5)) + b"\r\n"
    (_, message), = HttpStream(True).feed(many, 0)
    assert message.weird == "http_too_many_headers"
    long = HttpStream(True).feed(b"GET / HTTP/1.1\r\nX: " + b"a" * 20_000, 0)
    assert [x.code for _, x in long] == ["http_head_too_long"]
    chunk = HttpStream(False).feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0)
    assert [getattr(x, "code", None) for _, x in chunk][-1] == "http_bad_chunk"


@FAST
@given(st.binary(max_size=1500), st.booleans(), st.lists(st.integers(1, 200), max_size=8))
def test_random_bytes(data, client, cuts):
    check(feed(data, client, cuts)[0])


@FAST
@given(st.integers(0, len(REQUESTS)), st.binary(max_size=30), st.booleans())
def test_damaged_streams(cut, junk, client):
    stream = REQUESTS if client else RESPONSES
    check(feed(stream[:cut] + junk + stream[cut:], client, [cut])[0])


@FAST
@given(st.binary(max_size=200), st.booleans())
def test_parse_head_outcomes(data, client):
    try:
        result = parse_head(data, 0, client)
    except Malformed as bad:
        assert bad.code in SPEC.weirds
        return
    assert isinstance(result, NeedMore) or result[1] <= len(data)


@FAST
@given(st.binary(max_size=60))
def test_probe_is_total(data):
    assert probe(data) in (Verdict.ACCEPT, Verdict.REJECT, Verdict.MORE)
