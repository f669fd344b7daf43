"""TcpStream: one direction of a TCP connection put back in order, with gaps and duplicates made explicit."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.flows.reassembly import (
    MAX_PENDING_BYTES,
    MAX_PENDING_SEGMENTS,
    MAX_SEQ_JUMP,
    MAX_WINDOW,
    RETAINED_BYTES,
    SEQ_MOD,
    Disputed,
    Note,
    TcpStream,
    Window,
    seq_diff,
)


def stream_at(seq: int) -> TcpStream:
    s = TcpStream()
    s.syn(seq - 1)
    assert s.next_seq == seq % SEQ_MOD
    return s


def data_of(items) -> bytes:
    return b"".join(d for d, _ in items if isinstance(d, bytes))


def gaps_of(items) -> list[tuple[int, object]]:
    return [(d, tag) for d, tag in items if isinstance(d, int)]


def test_seq_diff_is_signed_and_wraps():
    assert seq_diff(5, 3) == 2
    assert seq_diff(3, 5) == -2
    assert seq_diff(2, SEQ_MOD - 2) == 4
    assert seq_diff(SEQ_MOD - 2, 2) == -4


def test_syn_sets_the_first_byte_once():
    s = TcpStream()
    s.syn(1000)
    s.syn(5000)  # a retransmitted or bogus later SYN does not move the stream
    assert s.next_seq == 1001


def test_in_order_segments_come_out_at_once_with_their_tags():
    s = stream_at(1001)
    assert s.deliver(1001, b"hello ", "f1") == [(b"hello ", "f1")]
    assert s.deliver(1007, b"world", "f2") == [(b"world", "f2")]
    assert s.next_seq == 1012
    assert (s.duplicate_bytes, s.gap_bytes) == (0, 0)


def test_first_segment_without_syn_is_trusted():
    s = TcpStream()
    assert s.deliver(777, b"abc", 1) == [(b"abc", 1)]
    assert s.next_seq == 780


def test_full_retransmission_is_dropped_and_counted():
    s = stream_at(10)
    s.deliver(10, b"abcdef", 1)
    assert s.deliver(10, b"abcdef", 2) == []
    assert s.deliver(12, b"cd", 3) == []
    assert s.duplicate_bytes == 8
    assert s.next_seq == 16


def test_partial_overlap_delivers_only_the_new_bytes():
    s = stream_at(10)
    s.deliver(10, b"abcdef", 1)
    assert s.deliver(13, b"defGHI", 2) == [(b"GHI", 2)]
    assert s.duplicate_bytes == 3
    assert s.next_seq == 19


def test_out_of_order_waits_then_drains_in_order():
    s = stream_at(100)
    assert s.deliver(110, b"second", 2) == []
    assert s.deliver(116, b"third", 3) == []
    assert s.pending_bytes == 11
    # the waiting bytes become readable when the hole fills: they carry that segment's tag
    assert s.deliver(100, b"first-----", 1) == [(b"first-----", 1), (b"second", 1), (b"third", 1)]
    assert s.pending == {} and s.pending_bytes == 0
    assert s.next_seq == 121


def test_overlapping_early_segments_are_trimmed_when_drained():
    stream = bytes(range(40))
    s = stream_at(0)
    assert s.deliver(5, stream[5:15], "a") == []
    assert s.deliver(10, stream[10:25], "b") == []
    out = s.deliver(0, stream[0:8], "c")
    assert data_of(out) == stream[:25]
    assert gaps_of(out) == []
    assert s.duplicate_bytes == (8 - 5) + (15 - 10)  # "a" repeats 3 bytes of "c", "b" repeats 5 of "a"
    assert s.pending_bytes == 0


def test_of_two_early_segments_at_one_byte_the_first_wins_and_the_longer_only_adds_its_tail():
    s = stream_at(0)
    s.deliver(4, b"xy", "short")
    s.deliver(4, b"xyzw", "long")
    s.deliver(4, b"x", "shorter")
    assert s.pending_bytes == 4
    assert s.deliver(0, b"abcd", "first") == [(b"abcd", "first"), (b"xy", "first"), (b"zw", "first")]
    assert s.pending_bytes == 0
    assert s.duplicate_bytes == 2 + 1


def test_too_many_early_segments_give_up_on_the_hole_with_its_size():
    s = stream_at(1000)
    hole = 37
    out = []
    for i in range(MAX_PENDING_SEGMENTS):
        out += s.deliver(1000 + hole + 10 * i, bytes([i]) * 10, i)
    assert out == []  # still waiting: exactly at the limit
    last = s.deliver(1000 + hole + 10 * MAX_PENDING_SEGMENTS, b"L" * 10, "last")
    assert last[0] == (hole, "last")  # given up on when "last" arrived: reported with that tag
    assert data_of(last) == b"".join(bytes([i]) * 10 for i in range(MAX_PENDING_SEGMENTS)) + b"L" * 10
    assert s.gap_bytes == hole
    assert s.pending == {}
    assert s.next_seq == 1000 + hole + 10 * (MAX_PENDING_SEGMENTS + 1)
    # the missing bytes arriving after all are old news
    assert s.deliver(1000, b"?" * hole, "late") == []


def test_too_many_early_bytes_give_up_on_the_hole():
    s = stream_at(0)
    chunk = MAX_PENDING_BYTES // 2
    assert s.deliver(5, b"a" * chunk, 1) == []
    assert s.deliver(5 + chunk, b"b" * chunk, 2) == []
    out = s.deliver(5 + 2 * chunk, b"c", 3)
    assert gaps_of(out) == [(5, 3)]  # given up on when segment 3 overflowed the buffer
    assert data_of(out) == b"a" * chunk + b"b" * chunk + b"c"


def test_flush_reports_each_hole_before_what_waits_behind_it():
    s = stream_at(0)
    s.deliver(0, b"0123", 1)
    s.deliver(10, b"ABCD", 2)
    s.deliver(20, b"WXYZ", 3)
    out = s.flush()
    assert out == [(6, 2), (b"ABCD", 2), (6, 3), (b"WXYZ", 3)]
    assert s.gap_bytes == 12
    assert s.next_seq == 24
    assert s.flush() == []


def test_sequence_numbers_wrap_at_2_32():
    start = SEQ_MOD - 3
    s = stream_at(start)
    assert s.deliver(start, b"abc", 1) == [(b"abc", 1)]
    assert s.next_seq == 0
    assert s.deliver(0, b"def", 2) == [(b"def", 2)]
    # out of order across the wrap
    s2 = stream_at(start)
    assert s2.deliver(1, b"EF", 2) == []
    assert s2.deliver(start, b"ABCD", 1) == [(b"ABCD", 1), (b"EF", 1)]
    assert s2.next_seq == 3
    # a retransmission from before the wrap is recognised as old
    assert s2.deliver(start, b"ABCD", 3) == []
    assert s2.duplicate_bytes == 4
    assert s2.gap_bytes == 0


def test_large_jump_forward_resyncs_with_a_gap():
    s = stream_at(5000)
    s.deliver(5000, b"abc", 1)
    far = 5003 + MAX_SEQ_JUMP + 1
    assert s.deliver(far, b"new", 2) == [(MAX_SEQ_JUMP + 1, 2), (b"new", 2)]
    assert s.next_seq == far + 3
    assert s.gap_bytes == MAX_SEQ_JUMP + 1
    assert s.deliver(far + 3, b"more", 3) == [(b"more", 3)]


def test_large_jump_backward_is_refused_not_a_resync():
    """A receiver discards data far behind what it has (repro/jump_back3m.pcap): no gap, no bytes."""
    s = stream_at(SEQ_MOD // 4)
    back = SEQ_MOD // 4 - MAX_SEQ_JUMP - 100
    out = s.deliver(back, b"zz", 7)
    assert [(type(item), tag) for item, tag in out] == [(Note, 7)]
    assert out[0][0].code == "tcp_out_of_window"
    assert s.next_seq == SEQ_MOD // 4
    assert s.deliver(SEQ_MOD // 4, b"ok", 8) == [(b"ok", 8)]


def test_large_jump_first_flushes_what_waited():
    """The gap after the flush is measured from where the flush left the stream (byte 14), not from 0:
    bytes 10..13 were delivered, so they are not missing."""
    s = stream_at(0)
    s.deliver(10, b"held", 1)
    out = s.deliver(MAX_SEQ_JUMP * 3, b"far", 2)
    assert out == [(10, 1), (b"held", 1), (MAX_SEQ_JUMP * 3 - 14, 2), (b"far", 2)]
    assert s.gap_bytes == MAX_SEQ_JUMP * 3 - 4


def test_a_jump_within_the_limit_is_out_of_order_not_a_resync():
    s = stream_at(0)
    assert s.deliver(MAX_SEQ_JUMP, b"x", 1) == []
    assert s.gap_bytes == 0
    assert s.pending_bytes == 1


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 3000), start=st.integers(0, SEQ_MOD - 1))
def test_any_segmentation_order_and_retransmission_rebuilds_the_stream(data, size, start):
    """Cut a byte stream into overlapping segments, reorder them a little and retransmit some:
    the in-order output is exactly the stream, with no gap, whatever the wrap point."""
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    stream = bytes(rng.randrange(256) for _ in range(size))
    segments = []
    pos = 0
    while pos < size:
        length = rng.randint(1, 200)
        back = rng.randint(0, min(pos, 20)) if rng.random() < 0.3 else 0
        segments.append((pos - back, stream[pos - back:pos + length]))
        pos += length
    segments += [segments[rng.randrange(len(segments))] for _ in range(rng.randint(0, 5))]  # retransmissions
    order = sorted(range(len(segments)), key=lambda i: i + rng.uniform(0, 8))  # local reordering only
    s = stream_at(start)
    out = []
    for i in order:
        off, chunk = segments[i]
        out += s.deliver((start + off) % SEQ_MOD, chunk, i)
    assert gaps_of(out) == []
    assert data_of(out) == stream
    assert s.pending == {}
    assert s.next_seq == (start + size) % SEQ_MOD


def notes_of(items) -> list[tuple[str, object, object]]:
    return [(item.code, tag, item.other) for item, tag in items if isinstance(item, Note)]


def test_beyond_the_receivers_window_is_refused():
    s = stream_at(1000)
    window = Window(ack=1000, edge=1000 + 100)
    assert s.deliver(1000, b"a" * 10, 1, window) == [(b"a" * 10, 1)]
    out = s.deliver(1100, b"forged", 2, window)
    assert notes_of(out) == [("tcp_out_of_window", 2, None)]
    assert data_of(out) == b"" and s.pending == {}
    # a segment that straddles the edge keeps the part the receiver has room for
    out = s.deliver(1095, b"0123456789", 3, window)
    assert notes_of(out) == [("tcp_out_of_window", 3, None)]
    assert s.pending == {1095: (b"01234", 3)}


def test_far_behind_what_the_receiver_acknowledged_is_refused():
    s = stream_at(5000)
    s.deliver(5000, b"x" * 50, 1)
    window = Window(ack=5050, edge=5050 + 1000)
    out = s.deliver(5050 - 3 * (1 << 20), b"write 9999", 2, window)
    assert notes_of(out) == [("tcp_out_of_window", 2, None)]
    # an ordinary retransmission just behind the ACK is a duplicate, not a weird
    assert s.deliver(5040, b"x" * 10, 3, window) == []
    assert s.duplicate_bytes == 10


def test_mid_stream_the_first_segment_must_fit_the_largest_window():
    s = TcpStream()
    out = s.deliver(10 + MAX_WINDOW, b"far", 1, Window(ack=10, edge=10 + MAX_WINDOW))
    assert notes_of(out) == [("tcp_out_of_window", 1, None)]
    assert s.next_seq is None  # a refused segment does not start the stream
    assert s.deliver(10, b"real", 2, Window(ack=10, edge=10 + MAX_WINDOW)) == [(b"real", 2)]


def test_a_differing_retransmission_of_delivered_bytes_is_a_conflict_and_the_first_copy_stands():
    """repro/overlap_before.pcap: the first copy arrived first and was delivered."""
    s = stream_at(0)
    assert s.deliver(0, b"FORGED", (4, 0.0)) == [(b"FORGED", (4, 0.0))]
    out = s.deliver(0, b"REALLY", (5, 0.1))
    assert notes_of(out) == [("tcp_overlap_conflict", (5, 0.1), (4, 0.0))]
    assert data_of(out) == b""
    assert "frame 4" in out[0][0].detail
    assert s.deliver(0, b"FORGED", (6, 0.2)) == []  # an equal copy is just a retransmission


def test_a_conflict_with_waiting_bytes_marks_them_disputed():
    s = stream_at(0)
    s.deliver(4, b"abcd", "early")
    out = s.deliver(6, b"XY", "late")
    assert notes_of(out) == [("tcp_overlap_conflict", "late", "early")]
    out = s.deliver(0, b"0123", "fill")
    assert data_of(out) == b"0123abcd"
    assert [type(item) for item, _ in out] == [bytes, Disputed]


def test_only_the_last_bytes_are_kept_for_comparison():
    s = stream_at(0)
    for i in range(40):
        s.deliver(i * 256, bytes([i]) * 256, i)
    assert RETAINED_BYTES <= s.retained_bytes < RETAINED_BYTES + 256
    assert notes_of(s.deliver(0, b"?" * 8, "old")) == []  # too old to compare: counted, not judged
    assert notes_of(s.deliver(39 * 256, b"?" * 8, "new")) == [("tcp_overlap_conflict", "new", 39)]


def test_mid_stream_a_keep_alive_starts_nothing():
    """The first payload of an idle connection picked up mid-stream is often a keep-alive: one old octet just
    below what the receiver acknowledged (icsnpp_s7comm_plus.pcap frame 14). It must not start the stream."""
    s = TcpStream()
    window = Window(ack=5000, edge=5000 + 8192)
    assert s.deliver(4999, b"\x00", 1, window) == []
    assert s.next_seq is None and s.duplicate_bytes == 1
    assert s.deliver(5000, b"\x03\x00\x00\x1f", 2, window) == [(b"\x03\x00\x00\x1f", 2)]
