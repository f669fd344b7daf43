"""Connections through the whole pipeline: new connections on reused ports, and holes the receiver acknowledged.

Each case is built with scapy (tests/unit/frames.Conversation) as Modbus/TCP on port 502 and run at every batch
size, on the fast and the slow path: the events must not depend on either.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import Conversation, analyze, batches

Row = tuple[int, str, int]  # (frame, direction, transaction id)


def read_holding(tid: int, address: int = 0, quantity: int = 2) -> bytes:
    return struct.pack(">HHHBBHH", tid, 0, 6, 1, 3, address, quantity)


def read_holding_response(tid: int, values: tuple[int, ...] = (1, 2)) -> bytes:
    return struct.pack(">HHHBBB", tid, 0, 3 + 2 * len(values), 1, 3, 2 * len(values)) + struct.pack(
        f">{len(values)}H", *values)


def run(frames: list[tuple], size: int, fast: bool) -> list[dict]:
    store = Store.open(":memory:")
    try:
        _, text = analyze(store, batches(frames, size), fast_path=fast)
    finally:
        store.close()
    return [json.loads(line) for line in text.splitlines()]


def every_way(frames: list[tuple]) -> list[dict]:
    """The events, checked to be the same at every batch size and on both paths."""
    first = run(frames, len(frames), True)
    for size in range(1, len(frames) + 1):
        for fast in (True, False):
            assert run(frames, size, fast) == first, (size, fast)
    return first


def modbus(events: list[dict]) -> list[Row]:
    return [(e["frame"], e["direction"], e["transaction_id"]) for e in events if e["proto"] == "modbus"]


def weirds(events: list[dict]) -> list[tuple[int, str]]:
    return [(e["frame"], e["name"]) for e in events if e["proto"] == "weird"]


def later(c: Conversation, isn: tuple[int, int]) -> Conversation:
    """A second connection on the same addresses and ports, after ``c``."""
    return Conversation(isn=isn, t0=c.t + 1.0)


def test_a_new_connection_on_reused_ports_starts_the_streams_over():
    """An old session picked up mid-stream, then a new handshake on its ports with fresh initial sequence numbers
    (tshark: 'TCP port numbers reused'): both sessions' requests and the new one's response decode at their own
    frames. Applying the new SYN before the old request refused that request; keeping the old session's stream
    and ACKs refused the new one's response."""
    old = Conversation(isn=(3_000_000_000, 4_000_000_000))
    old.packet(True, read_holding(1))
    new = later(old, (1_000, 2_000_000_000))
    new.handshake()
    new.packet(True, read_holding(2))
    new.packet(False, read_holding_response(2))
    frames = old.frames + new.frames
    events = every_way(frames)
    assert modbus(events) == [(1, "request", 1), (5, "request", 2), (6, "response", 2)]
    assert weirds(events) == []


def test_after_a_close_a_syn_near_the_old_sequence_numbers_is_a_new_connection():
    """Port reuse after FIN (a BSD-style ISN just past the old one): the old connection's half request is dropped,
    not glued to the new connection's bytes, and the new request waits for nothing."""
    old = Conversation()
    old.handshake()
    old.packet(True, read_holding(1)[:5])
    old.close()
    new = later(old, (old.next[0] + 64_000, old.next[1] + 64_000))
    new.handshake()
    request = new.packet(True, read_holding(2))
    response = new.packet(False, read_holding_response(2))
    events = every_way(old.frames + new.frames)
    n = len(old.frames)
    assert modbus(events) == [(n + request, "request", 2), (n + response, "response", 2)]
    assert weirds(events) == []


def test_a_stray_syn_inside_a_live_connection_changes_nothing():
    """A SYN whose sequence number lies where the sender is (a forged or duplicated one) does not restart the
    stream: a receiver in a synchronized state answers it with an ACK only (RFC 9293 §3.10.7.4)."""
    c = Conversation()
    c.handshake()
    c.packet(True, read_holding(1))
    c.packet(False, read_holding_response(1))
    c.packet(True, flags="S", seq=c.next[0] + 100, advance=False)
    request = c.packet(True, read_holding(2))
    response = c.packet(False, read_holding_response(2))
    events = every_way(c.frames)
    assert modbus(events) == [(4, "request", 1), (5, "response", 1), (request, "request", 2),
                              (response, "response", 2)]
    assert weirds(events) == []


def polls_on_reused_ports(n: int) -> tuple[list[tuple], list[Row]]:
    """A client that connects for every poll and gets the same source port each time (Linux reuses a port in
    TIME-WAIT towards another port on loopback): n connections of handshake, request, response, close."""
    frames: list[tuple] = []
    expected: list[Row] = []
    c = Conversation(isn=(10_000, 7_000_000))
    for tid in range(1, n + 1):
        c.handshake()
        expected += [(len(frames) + c.packet(True, read_holding(tid)), "request", tid),
                     (len(frames) + c.packet(False, read_holding_response(tid)), "response", tid)]
        c.close()
        frames += c.frames
        c = later(c, (c.next[0] + 100_000, c.next[1] + 300_000))
    return frames, expected


def test_a_client_that_connects_for_every_poll_is_read_on_the_fast_path():
    """Each new connection on the reused ports restarts the streams. When it is the first thing of its ports in a
    batch and nothing of the old connection is held, the restart is applied before the batch's segments and its
    messages are parsed in place, as the slow path reads them. (A restart after the same ports' segments in one
    batch still takes the slow path, which applies it in order.)"""
    frames, expected = polls_on_reused_ports(4)
    events = every_way(frames)
    assert modbus(events) == expected
    assert weirds(events) == []
    store = Store.open(":memory:")
    try:  # a batch per connection, so that each restart comes before its ports' first segment of the batch
        pipeline, _ = analyze(store, batches(frames, len(frames) // 4))
    finally:
        store.close()
    assert pipeline.modbus.fast_rows == len(expected) and pipeline.modbus.slow_rows == 0


def test_a_new_connection_while_the_old_one_waits_behind_a_hole_delivers_the_old_bytes_first():
    """The old connection's last request arrived after a segment the capture missed: at the new connection's SYN
    it is delivered after a gap (the restart is not applied in place, since the stream holds it), then the new
    connection's exchange decodes."""
    old = Conversation(isn=(3_000_000_000, 4_000_000_000))
    old.handshake()
    old.packet(True, read_holding(1))
    missed = old.packet(True, read_holding(2))
    held = old.packet(True, read_holding(3))
    del old.frames[missed - 1]
    new = later(old, (1_000, 2_000_000_000))  # far from the old numbers: a new connection, FIN or not
    new.handshake()
    request = new.packet(True, read_holding(4))
    response = new.packet(False, read_holding_response(4))
    events = every_way(old.frames + new.frames)
    n = len(old.frames)
    assert modbus(events) == [(4, "request", 1), (held - 1, "request", 3), (n + request, "request", 4),
                              (n + response, "response", 4)]
    assert weirds(events) == [(held - 1, "tcp_gap")]


def lost_request_then_more() -> tuple[Conversation, dict[str, int]]:
    """The capture misses a request the server got (its ACK covers it); the next request and the responses
    follow."""
    c = Conversation()
    c.handshake()
    c.packet(True, read_holding(1))
    c.packet(False, read_holding_response(1))
    lost = c.packet(True, read_holding(2))
    del c.frames[lost - 1]
    f = {"req3": c.packet(True, read_holding(3))}
    f["resp2"] = c.packet(False, read_holding_response(2))  # acknowledges the lost request and request 3
    f["resp3"] = c.packet(False, read_holding_response(3))
    return c, f


def test_a_hole_the_receiver_acknowledged_is_not_waited_for():
    """Acknowledged bytes are never retransmitted: the request behind the hole is read at its own frame, after a
    gap, as soon as the server's ACK shows the hole will not be filled, so its response is paired with it.
    Waiting for the hole reported the request only at the end of the capture, after its response."""
    c, f = lost_request_then_more()
    events = every_way(c.frames)
    assert modbus(events) == [(4, "request", 1), (5, "response", 1), (f["req3"], "request", 3),
                              (f["resp2"], "response", 2), (f["resp3"], "response", 3)]
    assert weirds(events) == [(f["req3"], "tcp_gap")]
    assert [e.get("request_frame") for e in events if e["proto"] == "modbus"][-1] == f["req3"]


def test_an_ack_beyond_everything_the_sender_sent_ends_no_wait():
    """An ACK for bytes never seen from the sender acknowledges something not yet sent (fuzzed or forged; RFC 9293
    drops it): the hole is still waited for, and filled by the retransmission that comes later."""
    c = Conversation()
    c.handshake()
    first = read_holding(1)
    base = c.next[0]
    c.packet(True, first[6:], seq=base + 6)
    c.next[0] += 1_000  # the server acknowledges far past anything the client sent
    c.packet(False, b"", flags="A")
    c.next[0] -= 1_000
    filling = c.packet(True, first[:6], seq=base)
    events = every_way(c.frames)
    assert modbus(events) == [(filling, "request", 1)]
    assert weirds(events) == []


@pytest.mark.parametrize("acked", [False, True])
def test_a_hole_waits_only_while_unacknowledged(acked):
    """The same hole, with and without the receiver's ACK over it: without, the bytes behind it wait for the
    end of the capture (their own frame, after a gap); with, they come out at once, in capture order."""
    c = Conversation()
    c.handshake()
    c.packet(True, read_holding(1))
    lost = c.packet(True, read_holding(2))
    del c.frames[lost - 1]
    behind = c.packet(True, read_holding(3))
    if acked:
        c.packet(False, b"", flags="A")
    events = every_way(c.frames)
    assert modbus(events) == [(4, "request", 1), (behind, "request", 3)]
    assert weirds(events) == [(behind, "tcp_gap")]
