"""EnipStream: encapsulation messages out of TCP segments, at the frame tshark would name, and recovery."""
from __future__ import annotations

from enip_frames import encap, logical, multiple, request, send_rr, send_unit, symbol

from protocols.base import Malformed, Message
from protocols.enip.stream import MAX_BUFFER, EnipStream

REGISTER = encap(0x65, b"\x01\x00\x00\x00", session=0)
READ = send_unit(request(0x4C, symbol("SCADA"), b"\x01\x00"))
MSP = send_unit(request(0x0A, logical(0x02, 1), multiple(request(0x0E, logical(1, 1, 1)),
                                                         request(0x0E, logical(1, 1, 7)))), sequence=8)


def names(out: list) -> list:
    return [(tag, m.function_name if isinstance(m, Message) else m.code) for tag, m in out]


def test_one_message_per_segment():
    s = EnipStream(True)
    assert names(s.feed(REGISTER, 1)) == [(1, "register_session")]
    assert names(s.feed(READ, 2)) == [(2, "read_tag")]
    assert s.pending == 0


def test_several_messages_in_one_segment_and_unpacked_services():
    s = EnipStream(True)
    assert names(s.feed(REGISTER + MSP + READ, 7)) == [(7, "register_session"), (7, "get_attribute_single"),
                                                       (7, "get_attribute_single"), (7, "read_tag")]


def test_a_message_split_across_segments_is_reported_at_the_completing_segment():
    s = EnipStream(True)
    assert s.feed(READ[:10], 1) == [] and s.pending == 10
    assert s.feed(READ[10:30], 2) == [] and s.pending == 30
    assert names(s.feed(READ[30:] + REGISTER[:5], 3)) == [(3, "read_tag")]
    assert s.pending == 5
    assert names(s.feed(REGISTER[5:], 4)) == [(4, "register_session")]


def test_byte_by_byte():
    s = EnipStream(True)
    out = []
    for i, b in enumerate(REGISTER + READ):
        out += s.feed(bytes([b]), i)
    assert names(out) == [(len(REGISTER) - 1, "register_session"), (len(REGISTER + READ) - 1, "read_tag")]


def test_garbage_drops_the_segment_and_framing_resumes_at_the_next():
    s = EnipStream(True)
    out = s.feed(REGISTER + b"\x42\x42garbage" + READ, 1)
    assert names(out) == [(1, "register_session"), (1, "enip_unknown_command")]
    assert out[1][1].offset == len(REGISTER) and s.pending == 0
    assert names(s.feed(READ, 2)) == [(2, "read_tag")]


def test_malformed_offsets_count_stream_bytes():
    s = EnipStream(True)
    s.feed(REGISTER, 1)
    s.feed(READ[:5], 2)
    out = s.feed(READ[5:] + b"\xff\xff", 3)
    assert isinstance(out[-1][1], Malformed) and out[-1][1].offset == len(REGISTER) + len(READ)


def test_gap_drops_a_partial_message():
    s = EnipStream(True)
    s.feed(READ[:20], 1)
    s.gap()
    assert s.pending == 0
    assert names(s.feed(READ, 2)) == [(2, "read_tag")]


def test_direction_is_the_framers():
    s = EnipStream(False)
    [(_, message)] = s.feed(send_rr(b"\x8e\x00\x00\x00\x01\x00"), 1)
    assert message.direction == "response" and message.weird is None


def test_bytearray_and_memoryview_segments():
    s = EnipStream(True)
    assert names(s.feed(bytearray(REGISTER), 1)) == [(1, "register_session")]
    assert names(s.feed(memoryview(READ), 2)) == [(2, "read_tag")]  # type: ignore[arg-type]


def test_buffer_limit_is_named_and_reported():
    assert MAX_BUFFER == 24 + 65511
    s = EnipStream(True, max_buffer=16)
    out = s.feed(READ[:-1], 1)
    assert names(out) == [(1, "enip_buffer_overflow")] and s.pending == 0
