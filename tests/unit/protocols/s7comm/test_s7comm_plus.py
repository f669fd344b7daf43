"""S7comm-plus frames and PDUs (layout: Wireshark's s7comm_plus plugin, S7CommPlusDriver)."""
from __future__ import annotations

import struct

import pytest
from s7comm_frames import get_multi_variables, plus_frame, plus_request, plus_response, set_operating_state, vlq

from protocols.base import Malformed, NeedMore
from protocols.s7comm.codes import PlusFunction, PlusOpcode
from protocols.s7comm.plus import address_space, parse_frame, parse_pdu, vlq_i32, vlq_u32


@pytest.mark.parametrize("value", [0, 1, 0x7F, 0x80, 2167, 0x3FFF, 0x4000, 0x70000E4D, 0x8A0E0002, 0xFFFFFFFF])
def test_vlq_round_trip(value: int) -> None:
    encoded = vlq(value)
    assert vlq_u32(encoded + b"\xaa", 0) == (value, len(encoded))


def test_vlq_known_encodings() -> None:
    assert vlq_u32(bytes.fromhex("88d0b88002"), 0)[0] == 0x8A0E0002  # DB2's access area
    assert vlq_u32(bytes.fromhex("878080" "9c4d"), 0)[0] == 0x70000E4D  # a session id from the corpus
    assert vlq_i32(bytes([0x7F]), 0) == (-1, 1)
    assert vlq_i32(bytes([0x03]), 0) == (3, 1)
    assert vlq_i32(bytes([0xC0, 0x00]), 0) == (-8192, 2)


def test_frame_with_trailer() -> None:
    data = plus_response(PlusFunction.GET_MULTI_VARIABLES, 3)
    frame, used = parse_frame(plus_frame(data, version=2))
    assert (frame.version, frame.data_length, frame.data, frame.has_trailer, frame.weird) == (2, len(data), data, True,
                                                                                             None)
    assert used == len(data) + 8


def test_v3_integrity_part_comes_first() -> None:
    data = plus_response(PlusFunction.SET_VARIABLE, 9)
    frame, _ = parse_frame(plus_frame(data, version=3, digest=bytes(range(32))))
    assert (frame.integrity, frame.data) == (bytes(range(32)), data)


def test_frame_without_trailer_is_a_fragment() -> None:
    frame, used = parse_frame(plus_frame(b"abc", trailer=False))
    assert (frame.has_trailer, frame.data, used) == (False, b"abc", 7)


def test_keep_alive() -> None:
    frame, used = parse_frame(bytes([0x72, 0xFF, 0x05, 0x00]))
    assert (frame.version, frame.keep_alive_sequence, frame.data_length, used) == (0xFF, 5, None, 4)
    assert parse_pdu(0xFF, b"", 5).keep_alive_sequence == 5


def test_bad_trailer_and_extra_octets_are_weird() -> None:
    frame, _ = parse_frame(plus_frame(b"ab")[:-1] + b"\x01")
    assert frame.weird == "s7comm_plus_bad_trailer"
    frame, used = parse_frame(plus_frame(b"ab") + b"zz")
    assert (frame.weird, used) == ("s7comm_trailing_bytes", 12)
    assert parse_frame(plus_frame(b"ab")[:-2])[0].weird == "s7comm_plus_bad_trailer"


def test_frame_outcomes() -> None:
    assert parse_frame(b"\x72\x02") == NeedMore(2)
    assert parse_frame(b"\x72\x02\x00\x10abc") == NeedMore(13)
    with pytest.raises(Malformed) as bad:
        parse_frame(b"\x32\x01\x00\x00")
    assert bad.value.code == "s7comm_bad_protocol_id"


def test_request_head() -> None:
    pdu = parse_pdu(2, plus_request(PlusFunction.EXPLORE, 28, 0x3C0, struct.pack(">I", 3) + b"\x00" * 6))
    assert (pdu.opcode, pdu.function, pdu.sequence_number, pdu.session_id, pdu.transport_flags, pdu.object_id) == \
        (PlusOpcode.REQUEST, PlusFunction.EXPLORE, 28, 0x3C0, 0x34, 3)
    assert pdu.weird is None


def test_response_and_notification_heads() -> None:
    response = parse_pdu(2, plus_response(PlusFunction.CREATE_OBJECT, 1))
    assert (response.opcode, response.function, response.sequence_number, response.session_id) == (0x32, 0x04CA, 1,
                                                                                                  None)
    note = parse_pdu(3, bytes([0x33]) + struct.pack(">I", 0x70000E51) + bytes(6))
    assert (note.opcode, note.function, note.object_id) == (0x33, 0, 0x70000E51)


def test_set_operating_state_stop_and_start() -> None:
    stop, start = parse_pdu(2, set_operating_state(5, 0x390, 1)), parse_pdu(2, set_operating_state(6, 0x390, 3))
    assert (stop.function, stop.object_id, stop.attribute, stop.value) == (PlusFunction.SET_VARIABLE, 52, 2167, 1)
    assert start.value == 3


def test_get_multi_variables_addresses() -> None:
    pdu = parse_pdu(2, get_multi_variables(4, 0x388, [(0x8A0E0002, 2550, [10]), (82, 3736, [9, 1])]))
    assert [(a.access_area, a.access_sub_area, a.lids) for a in pdu.addresses] == \
        [(0x8A0E0002, 2550, (10,)), (82, 3736, (9, 1))]
    assert [address_space(a.access_area) for a in pdu.addresses] == ["DB2", "M"]
    assert address_space(201) is None  # an object of the PLC, not process data


def test_session_version_string_in_the_clear() -> None:
    body = b"\x00" * 10 + b"\x15\x1c1;6ES7 214-1HE30-0XB0 ;V2.2" + b"\x00" * 4
    pdu = parse_pdu(1, plus_response(PlusFunction.CREATE_OBJECT, 1, body))
    assert pdu.strings == (("6ES7 214-1HE30-0XB0", "V2.2"),)


@pytest.mark.parametrize(("data", "weird"), [
    (b"", "s7comm_plus_bad_data"),
    (b"\x31\x00\x00\x04", "s7comm_plus_bad_data"),
    (b"\x99", "s7comm_plus_unknown_opcode"),
])
def test_short_or_unknown_data_is_weird(data: bytes, weird: str) -> None:
    assert parse_pdu(2, data).weird == weird


def test_cut_request_set_stops_quietly() -> None:
    full = set_operating_state(5, 1, 1)
    for cut in range(14, len(full)):
        pdu = parse_pdu(2, full[:cut])
        assert pdu.function == PlusFunction.SET_VARIABLE and pdu.weird is None
