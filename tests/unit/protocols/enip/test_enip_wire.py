"""wire: encapsulation header outcomes, CPF items, ListIdentity items and class 0/1 I/O datagrams."""
from __future__ import annotations

import struct

import pytest
from enip_frames import ENBT_IDENTITY, IDENTITY_ATTRIBUTES, cpf, encap, identity_item, send_rr

from protocols.base import Malformed, NeedMore
from protocols.enip.wire import (
    HEADER_SIZE,
    Encapsulation,
    looks_like_io,
    parse_cpf,
    parse_encapsulation,
    parse_identity_attributes,
    parse_identity_item,
    parse_io,
    parse_send_data,
    probe,
)


def test_header_fields_and_bytes_used():
    raw = encap(0x65, b"\x01\x00\x00\x00", session=0, context=b"ABCDEFGH")
    message, used = parse_encapsulation(raw + b"trailing", 0)
    assert used == HEADER_SIZE + 4
    assert message == Encapsulation(0x65, 4, 0, 0, b"ABCDEFGH", 0, b"\x01\x00\x00\x00")


def test_offset_into_a_buffer():
    raw = b"xx" + encap(0x66)
    message, used = parse_encapsulation(raw, 2)
    assert message.command == 0x66 and used == HEADER_SIZE


def test_need_more_until_header_and_data_are_there():
    raw = encap(0x63, b"\x00" * 10)
    for cut in range(len(raw)):
        result = parse_encapsulation(raw[:cut], 0)
        assert isinstance(result, NeedMore) and result.needed == (HEADER_SIZE - cut if cut < HEADER_SIZE
                                                                   else len(raw) - cut)


def test_unknown_command_is_refused_on_its_first_two_bytes():
    with pytest.raises(Malformed) as bad:
        parse_encapsulation(b"\x42\x42", 0)
    assert bad.value.code == "enip_unknown_command" and bad.value.offset == 0


def test_length_above_65511_is_refused_before_waiting_for_it():
    with pytest.raises(Malformed) as bad:
        parse_encapsulation(b"xx" + struct.pack("<HH", 0x6F, 65512), 2)
    assert bad.value.code == "enip_bad_length" and bad.value.offset == 2


def test_memoryview_and_bytearray():
    raw = encap(0x04)
    assert parse_encapsulation(memoryview(raw), 0)[1] == HEADER_SIZE
    assert parse_encapsulation(bytearray(raw), 0)[1] == HEADER_SIZE


def test_offset_outside_the_buffer_is_a_bug():
    with pytest.raises(ValueError):
        parse_encapsulation(b"", 3)


def test_probe():
    assert probe(encap(0x65, b"\x01\x00\x00\x00")) is True
    assert probe(encap(0x65, b"\x01\x00\x00\x00") + encap(0x6F)[:2]) is True
    assert probe(encap(0x65, b"\x01\x00\x00\x00") + b"GET ") is False
    assert probe(encap(0x65, options=1)) is False
    assert probe(b"GET / HTTP/1.1\r\n") is False
    assert probe(b"\x65\x00") is None


def test_cpf_items_and_oddities():
    data = cpf((0x0000, b""), (0x00B2, b"\x01\x02"))
    parsed = parse_cpf(data)
    assert [(i.type_id, i.data) for i in parsed.items] == [(0, b""), (0xB2, b"\x01\x02")] and parsed.weird is None
    assert parse_cpf(data + b"\x00").weird == "enip_trailing_bytes"
    assert parse_cpf(data[:-1]).weird == "enip_bad_cpf"
    assert parse_cpf(b"\x01").weird == "enip_bad_cpf"
    assert parsed.find(0xB2).data == b"\x01\x02" and parsed.find(0xB1) is None


def test_send_data():
    raw = send_rr(b"\x0e\x02\x20\x01\x24\x01")
    message, _ = parse_encapsulation(raw, 0)
    handle, timeout, parsed = parse_send_data(message.data)
    assert (handle, timeout) == (0, 5)
    assert parsed.find(0xB2).data == b"\x0e\x02\x20\x01\x24\x01"
    assert parse_send_data(b"\x00")[2].weird == "enip_bad_cpf"


def test_identity_item():
    identity, weird = parse_identity_item(identity_item(ENBT_IDENTITY, "192.168.1.10"))
    assert weird is None
    assert identity["sin_addr"] == "192.168.1.10" and identity["sin_port"] == 44818
    assert identity["vendor_id"] == 1 and identity["device_type"] == 0x0C and identity["product_code"] == 0x3A
    assert (identity["revision_major"], identity["revision_minor"]) == (4, 5)
    assert identity["serial_number"] == 0x00C0FFEE and identity["product_name"] == "1756-ENBT/A"
    assert identity["state"] == 3


def test_identity_item_too_short_or_name_cut():
    assert parse_identity_item(b"\x01\x00") == ({}, "cip_bad_service_data")
    identity, weird = parse_identity_item(identity_item()[:-5])
    assert weird == "cip_bad_service_data" and identity["product_name"].startswith("1756")


def test_identity_attributes_in_get_attributes_all_order():
    identity, weird = parse_identity_attributes(IDENTITY_ATTRIBUTES, 0)
    assert weird is None and identity["product_name"] == "1756-L61/B LOGIX5561" and identity["state"] == 3
    assert parse_identity_attributes(IDENTITY_ATTRIBUTES[:14], 0)[1] == "cip_bad_service_data"
    assert parse_identity_attributes(b"", 0) == ({}, "cip_bad_service_data")


IO = cpf((0x8002, struct.pack("<II", 0x004B0603, 4166875)), (0x00B1, b"\x01\x00" + b"\x00" * 10))


def test_io_packet():
    assert looks_like_io(IO)
    packet = parse_io(IO)
    assert (packet.connection_id, packet.sequence_number, packet.data_length, packet.weird) == \
        (0x004B0603, 4166875, 12, None)


def test_io_packet_without_data_item():
    packet = parse_io(cpf((0x8002, struct.pack("<II", 1, 2))))
    assert packet.weird == "enip_bad_cpf" and packet.data_length == 0


def test_not_io():
    assert not looks_like_io(encap(0x63))
    with pytest.raises(Malformed) as bad:
        parse_io(cpf((0x00B2, b"")))
    assert bad.value.code == "enip_bad_io_packet"
    with pytest.raises(Malformed):
        parse_io(cpf((0x8002, b"\x01")))
