"""ModbusStream: ADUs out of TCP segments, at the frame tshark would name, and recovery from garbage."""
from __future__ import annotations

from protocols.base import Malformed
from protocols.modbus.stream import MAX_BUFFER, ModbusStream
from protocols.modbus.wire import ModbusMessage

READ_REQ_1 = bytes([
    0x00, 0x01,  # transaction id 1
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x03,        # function code: read holding registers
    0x00, 0x00,  # starting address 0
    0x00, 0x02,  # quantity 2
])

READ_REQ_2 = bytes([
    0x00, 0x02,  # transaction id 2
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x04,        # function code: read input registers
    0x00, 0x10,  # starting address 16
    0x00, 0x01,  # quantity 1
])

READ_RESP_LONG = bytes([
    0x00, 0x03,  # transaction id 3
    0x00, 0x00,  # protocol id
    0x00, 0x17,  # length 23
    0x01,        # unit id
    0x03,        # function code: read holding registers
    0x14,        # byte count 20
]) + bytes(range(20))  # ten registers

GARBAGE = bytes([
    0x16, 0x03, 0x01,  # looks like a TLS record header: protocol id 0x0100 is not Modbus
    0x00, 0x10, 0xAA, 0xBB, 0xCC,
])


def messages(outcomes: list) -> list[tuple[int, int]]:
    """(frame, transaction id) of each message, failing on anything Malformed."""
    assert all(isinstance(o, ModbusMessage) for _, o in outcomes), outcomes
    return [(frame, o.transaction_id) for frame, o in outcomes]


def test_two_adus_in_one_segment_share_its_frame() -> None:
    stream = ModbusStream(is_request=True)
    assert messages(stream.feed(READ_REQ_1 + READ_REQ_2, 7)) == [(7, 1), (7, 2)]
    assert stream.pending == 0


def test_one_adu_over_three_segments_completes_at_the_last() -> None:
    stream = ModbusStream(is_request=False)
    assert stream.feed(READ_RESP_LONG[:3], 10) == []  # not even the length yet
    assert stream.feed(READ_RESP_LONG[3:15], 11) == []
    assert stream.pending == 15
    out = stream.feed(READ_RESP_LONG[15:], 12)
    assert messages(out) == [(12, 3)]
    assert out[0][1].values == tuple((2 * i) << 8 | (2 * i + 1) for i in range(10))
    assert stream.pending == 0


def test_a_segment_that_ends_one_adu_and_starts_the_next() -> None:
    stream = ModbusStream(is_request=True)
    assert messages(stream.feed(READ_REQ_1[:5], 1)) == []
    assert messages(stream.feed(READ_REQ_1[5:] + READ_REQ_2[:9], 2)) == [(2, 1)]
    assert messages(stream.feed(READ_REQ_2[9:], 3)) == [(3, 2)]


def test_every_split_point_gives_the_same_messages() -> None:
    data = READ_REQ_1 + READ_REQ_2 + READ_RESP_LONG
    whole = ModbusStream(is_request=False).feed(data, 1)
    for cut in range(1, len(data)):
        stream = ModbusStream(is_request=False)
        out = stream.feed(data[:cut], 1) + stream.feed(data[cut:], 2)
        assert [o for _, o in out] == [o for _, o in whole]


def test_garbage_is_reported_once_then_the_next_segment_resynchronises() -> None:
    stream = ModbusStream(is_request=True)
    out = stream.feed(GARBAGE + READ_REQ_1, 4)
    assert len(out) == 1
    frame, bad = out[0]
    assert frame == 4 and isinstance(bad, Malformed)
    assert (bad.code, bad.offset) == ("modbus_bad_protocol_id", 0)
    assert stream.pending == 0  # the rest of the segment is dropped with it
    assert messages(stream.feed(READ_REQ_2, 5)) == [(5, 2)]


def test_malformed_after_good_adus_keeps_them_and_counts_stream_offset() -> None:
    stream = ModbusStream(is_request=True)
    assert messages(stream.feed(READ_REQ_1, 1)) == [(1, 1)]
    out = stream.feed(READ_REQ_2 + b"\x00\x09\x00\x00\x00\x00\x01\x03", 2)  # length 0
    assert messages(out[:1]) == [(2, 2)]
    frame, bad = out[1]
    assert isinstance(bad, Malformed)
    assert (frame, bad.code, bad.offset) == (2, "modbus_bad_length", len(READ_REQ_1) + len(READ_REQ_2))


def test_bad_header_completed_by_a_later_segment() -> None:
    stream = ModbusStream(is_request=True)
    assert stream.feed(b"\x00\x01\x00", 1) == []
    out = stream.feed(b"\x07\x00\x06\x01\x03\x00\x00\x00\x01", 2)
    assert [(f, o.code) for f, o in out] == [(2, "modbus_bad_protocol_id")]


def test_gap_drops_the_partial_adu() -> None:
    stream = ModbusStream(is_request=True)
    stream.feed(READ_REQ_1[:8], 1)
    stream.gap()
    assert stream.pending == 0
    assert messages(stream.feed(READ_REQ_2, 3)) == [(3, 2)]


def test_without_the_gap_the_stale_prefix_would_corrupt_framing() -> None:
    # The reason gap() exists: the bytes after a hole do not continue the buffered ADU.
    stream = ModbusStream(is_request=True)
    stream.feed(READ_REQ_1[:8], 1)
    out = stream.feed(READ_REQ_2, 3)
    assert [o.transaction_id for _, o in out if isinstance(o, ModbusMessage)] != [2]


def test_buffer_limit_reports_overflow_and_discards() -> None:
    # A checked header never asks for more than 260 bytes, so use a small limit to reach the guard.
    stream = ModbusStream(is_request=False, max_buffer=16)
    out = stream.feed(READ_RESP_LONG[:20], 9)
    assert [(f, o.code) for f, o in out] == [(9, "modbus_buffer_overflow")]
    assert stream.pending == 0
    assert messages(stream.feed(READ_REQ_1, 10)) == [(10, 1)]


def test_default_limit_is_named_and_never_hit_by_legal_traffic() -> None:
    assert MAX_BUFFER == 8192
    stream = ModbusStream(is_request=False)
    assert stream.max_buffer == MAX_BUFFER
    big = READ_RESP_LONG * 1000  # 29 000 bytes in one segment: many ADUs, nothing left over
    assert len(stream.feed(big, 1)) == 1000
    assert stream.pending == 0


def test_direction_is_fixed_per_stream() -> None:
    # The same bytes mean different things: 4 bytes after FC 3 are address+quantity in a request.
    adu = READ_REQ_1
    request = ModbusStream(is_request=True).feed(adu, 1)[0][1]
    response = ModbusStream(is_request=False).feed(adu, 1)[0][1]
    assert (request.address, request.quantity) == (0, 2)
    assert response.address is None and response.weird == "modbus_bad_byte_count"


def test_empty_segment_is_harmless() -> None:
    stream = ModbusStream(is_request=True)
    assert stream.feed(b"", 1) == []
    stream.feed(READ_REQ_1[:4], 2)
    assert stream.feed(b"", 3) == []
    assert messages(stream.feed(READ_REQ_1[4:], 4)) == [(4, 1)]
