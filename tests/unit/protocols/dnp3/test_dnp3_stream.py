"""Dnp3Stream and the datagram seam: link frames out of TCP segments, transport reassembly, recovery."""
from __future__ import annotations

import pytest
from dnp3_builders import (
    CLASS_0123,
    MASTER,
    OUTSTATION,
    frames_for,
    header,
    link_frame,
    message_bytes,
    request,
    response,
    transport,
)

from protocols.base import Malformed, Message
from protocols.dnp3 import SPEC, datagram, parse_datagram
from protocols.dnp3.stream import MAX_BUFFER, Dnp3Stream

POLL = message_bytes(request(0x01, CLASS_0123, seq=1))
BIG = response(header(30, 1, 0x01, 0, 199, widths=2) + bytes(5 * 200), seq=1)  # 1011 octets: 5 segments
BIG_FRAMES = frames_for(BIG, from_master=False, seq=62)  # transport sequence wraps 62, 63, 0, 1, 2
RESET = link_frame(0xC0, OUTSTATION, MASTER)


def feed_all(stream: Dnp3Stream, segments: list[bytes]) -> list[tuple[int, Message | Malformed]]:
    out = []
    for tag, segment in enumerate(segments, start=1):
        out += stream.feed(segment, tag)
    return out


def test_one_segment_one_message() -> None:
    [(tag, message)] = Dnp3Stream(True).feed(POLL, 7)
    assert tag == 7 and isinstance(message, Message) and message.function_name == "read"


def test_several_frames_in_one_segment() -> None:
    out = Dnp3Stream(True).feed(RESET + POLL + RESET, "seg")
    assert [m.function_name for _, m in out] == ["link_reset_link_states", "read", "link_reset_link_states"]


def test_a_frame_split_across_segments_is_reported_with_the_completing_segment() -> None:
    stream = Dnp3Stream(True)
    assert stream.feed(POLL[:3], 1) == [] and stream.pending == 3
    assert stream.feed(POLL[3:12], 2) == [] and stream.pending == 12
    [(tag, message)] = stream.feed(POLL[12:], 3)
    assert tag == 3 and message.function_name == "read" and stream.pending == 0


def test_a_fragment_over_several_frames_with_a_sequence_wrap() -> None:
    stream = Dnp3Stream(False)
    out = feed_all(stream, BIG_FRAMES)
    [(tag, message)] = out
    assert tag == len(BIG_FRAMES) == 5
    assert message.function_name == "response" and message.fields["transport_segments"] == 5
    assert message.fields["objects"] == [{"group": 30, "variation": 1, "qualifier": 1, "start": 0, "stop": 199}]
    assert stream.pending == 0


def test_pending_counts_partial_fragments() -> None:
    stream = Dnp3Stream(False)
    stream.feed(BIG_FRAMES[0], 1)
    assert stream.pending == 249  # one segment of fragment data held by the transport layer


def test_a_missing_segment_drops_the_fragment_and_says_so() -> None:
    out = feed_all(Dnp3Stream(False), [BIG_FRAMES[0], BIG_FRAMES[2], BIG_FRAMES[3]])
    assert [(t, o.code) for t, o in out if isinstance(o, Malformed)] == [(2, "dnp3_transport_sequence"),
                                                                         (3, "dnp3_transport_no_first")]
    assert not [o for _, o in out if isinstance(o, Message)]


def test_a_repeated_segment_is_a_link_retry_and_is_ignored() -> None:
    out = feed_all(Dnp3Stream(False), [BIG_FRAMES[0], BIG_FRAMES[1], BIG_FRAMES[1], *BIG_FRAMES[2:]])
    assert [o.function_name for _, o in out] == ["response"]


def test_a_new_first_segment_over_an_incomplete_fragment() -> None:
    out = feed_all(Dnp3Stream(True), [frames_for(BIG)[0], POLL])
    assert [o.code if isinstance(o, Malformed) else o.function_name for _, o in out] == \
        ["dnp3_transport_sequence", "read"]


def test_garbage_loses_framing_until_the_next_segment() -> None:
    stream = Dnp3Stream(True)
    out = stream.feed(POLL + b"\x16\x03\x01\x00" + POLL, 1)
    assert [o.function_name if isinstance(o, Message) else o.code for _, o in out] == ["read", "dnp3_bad_start"]
    bad = out[1][1]
    assert isinstance(bad, Malformed) and bad.offset == len(POLL)
    assert stream.pending == 0
    [(tag, message)] = stream.feed(POLL, 2)
    assert tag == 2 and message.function_name == "read"


def test_malformed_offsets_count_the_octets_fed() -> None:
    stream = Dnp3Stream(True)
    stream.feed(POLL, 1)
    [(_, bad)] = stream.feed(b"\x05\x64\x01", 2)
    assert isinstance(bad, Malformed) and (bad.code, bad.offset) == ("dnp3_bad_length", len(POLL))


def test_gap_drops_partial_frames_and_fragments() -> None:
    stream = Dnp3Stream(False)
    stream.feed(BIG_FRAMES[0] + BIG_FRAMES[1][:7], 1)
    assert stream.pending > 0
    stream.gap()
    assert stream.pending == 0
    out = feed_all(stream, [BIG_FRAMES[2]])
    assert [o.code for _, o in out] == ["dnp3_transport_no_first"]


def test_buffer_limit_is_named_and_reported() -> None:
    stream = Dnp3Stream(True, max_buffer=8)
    [(tag, bad)] = stream.feed(POLL[:9], 1)
    assert isinstance(bad, Malformed) and bad.code == "dnp3_buffer_overflow" and stream.pending == 0
    assert MAX_BUFFER >= 292


def test_fragment_limit_drops_an_oversized_fragment() -> None:
    out = feed_all(Dnp3Stream(False, max_fragment=600), BIG_FRAMES)
    codes = [o.code for _, o in out if isinstance(o, Malformed)]
    assert codes[0] == "dnp3_fragment_too_long" and "dnp3_transport_no_first" in codes
    assert not [o for _, o in out if isinstance(o, Message)]


def test_reassembly_limit_evicts_the_oldest_address_pair() -> None:
    firsts = [frames_for(BIG, source=src)[0] for src in range(1, 4)]
    out = feed_all(Dnp3Stream(True, max_reassemblies=2), firsts)
    assert [(t, o.code) for t, o in out] == [(3, "dnp3_too_many_reassemblies")]


def test_fragments_of_two_address_pairs_interleave() -> None:
    a = frames_for(BIG, from_master=False, source=10)
    b = frames_for(BIG, from_master=False, source=11)
    out = feed_all(Dnp3Stream(False), [x for pair in zip(a, b) for x in pair])
    assert [(t, o.fields["source"]) for t, o in out] == [(9, 10), (10, 11)]


def test_link_frames_carrying_unexpected_or_missing_data() -> None:
    out = Dnp3Stream(True).feed(link_frame(0xC0, 10, 1, b"\x00") + link_frame(0xC4, 10, 1), 1)
    assert [(o.function_name, o.weird) for _, o in out] == [
        ("link_reset_link_states", "dnp3_link_data_unexpected"),
        ("link_unconfirmed_user_data", "dnp3_link_no_user_data")]


def test_crc_errors_are_weirds_on_the_message_they_belong_to() -> None:
    frames = frames_for(BIG, from_master=False)
    raw = frames[0][:8] + bytes([frames[0][8] ^ 1]) + frames[0][9:]  # header CRC of the first segment
    out = feed_all(Dnp3Stream(False), [raw, *frames[1:]])
    assert [(o.function_name, o.weird) for _, o in out] == [("response", "dnp3_bad_header_crc")]
    data = link_frame(0xC4, 10, 1, bytes([transport(True, True, 0)]) + request(0x01, CLASS_0123), bad_block=0)
    [(_, message)] = Dnp3Stream(True).feed(data, 1)
    assert (message.function_name, message.weird) == ("read", "dnp3_bad_data_crc")


def test_a_fragment_too_short_for_a_function_code() -> None:
    raw = link_frame(0xC4, 10, 1, bytes([transport(True, True, 0), 0xC0]))
    [(_, bad)] = Dnp3Stream(True).feed(raw, 1)
    assert isinstance(bad, Malformed) and bad.code == "dnp3_fragment_too_short"


# --- the datagram seam ----------------------------------------------------------------------------------------

def test_datagram_with_several_frames() -> None:
    messages = datagram(RESET + POLL, True)
    assert [m.function_name for m in messages] == ["link_reset_link_states", "read"]
    assert SPEC.datagram is datagram


def test_datagram_reassembles_within_one_datagram() -> None:
    [message] = datagram(b"".join(BIG_FRAMES), False)
    assert message.fields["transport_segments"] == 5


def test_datagram_without_messages_raises() -> None:
    with pytest.raises(Malformed) as bad:
        datagram(b"\x16\x03\x01\x00\x10", True)
    assert bad.value.code == "dnp3_bad_start"
    with pytest.raises(Malformed) as bad:
        datagram(BIG_FRAMES[0], False)
    assert bad.value.code == "dnp3_fragment_incomplete"


def test_datagram_trouble_after_messages_marks_the_last_message() -> None:
    [message] = datagram(POLL + POLL[:5], True)
    assert message.weird == "dnp3_frame_truncated"
    assert [getattr(o, "code", None) for o in parse_datagram(POLL + POLL[:5], True)] == [None, "dnp3_frame_truncated"]


def test_probe_verdicts() -> None:
    from protocols.base import Verdict

    assert SPEC.probe is not None
    assert SPEC.probe(POLL) is Verdict.ACCEPT
    assert SPEC.probe(POLL[:4]) is Verdict.MORE
    assert SPEC.probe(b"\x00\x01\x00\x00\x00\x06") is Verdict.REJECT
    assert SPEC.ports == frozenset({("tcp", 20000), ("udp", 20000)})
    assert SPEC.transports == frozenset({"tcp", "udp"})
    assert isinstance(SPEC.framer(True), Dnp3Stream)
