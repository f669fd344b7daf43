"""cip: message router requests/replies and the service data decoders."""
from __future__ import annotations

import struct

import pytest
from enip_frames import forward_open, logical, multiple, pccc, reply, request, symbol, unconnected_send

from protocols.base import Malformed
from protocols.enip.cip import (
    MAX_VALUES,
    CipReply,
    CipRequest,
    decode_values,
    parse_attribute_list,
    parse_forward_close,
    parse_forward_close_reply,
    parse_forward_open,
    parse_forward_open_reply,
    parse_message,
    parse_pccc_reply,
    parse_pccc_request,
    parse_tag_reply,
    parse_tag_request,
    split_multiple,
    split_unconnected_send,
)


def test_request():
    message = parse_message(request(0x0E, logical(0x01, 1, 7)))
    assert isinstance(message, CipRequest)
    assert message.service == 0x0E and message.path.attribute_id == 7 and message.data == b"" and message.weird is None


def test_reply_with_additional_status():
    message = parse_message(reply(0x54, b"\x01\x02", status=0x01, additional=(0x0100,)))
    assert isinstance(message, CipReply)
    assert (message.service, message.general_status, message.additional_status, message.data) == \
        (0x54, 1, (0x0100,), b"\x01\x02")


def test_truncated_messages():
    with pytest.raises(Malformed) as bad:
        parse_message(b"\x0e")
    assert bad.value.code == "cip_truncated"
    with pytest.raises(Malformed):
        parse_message(b"\x8e\x00\x00")
    assert parse_message(b"\x0e\x05\x20\x01").weird == "cip_truncated"  # path size past the end
    assert parse_message(b"\x8e\x00\x00\x03\x01\x00").weird == "cip_truncated"  # additional status past the end
    assert parse_message(b"\x0e\x01\xe0\x00").weird == "cip_bad_path"


def test_split_multiple():
    parts = split_multiple(multiple(request(0x0E, logical(1, 1, 1)), request(0x0E, logical(1, 1, 7))))
    assert [parse_message(p).path.attribute_id for p in parts] == [1, 7]
    assert split_multiple(b"\x00\x00") == []


@pytest.mark.parametrize("raw", [b"", b"\x05\x00\x06\x00", b"\x02\x00\x06\x00\x04\x00", b"\x01\x00\x09\x00\x00"])
def test_split_multiple_bad_counts_and_offsets(raw):
    with pytest.raises(Malformed) as bad:
        split_multiple(raw)
    assert bad.value.code == "cip_bad_service_data"


def test_split_unconnected_send():
    embedded = request(0x01, logical(0x01, 1))
    params, inner, route = split_unconnected_send(parse_message(unconnected_send(embedded, slot=3)).data)
    assert params == {"priority_time_tick": 0x0A, "timeout_ticks": 0xF0}
    assert inner == embedded and route.route == ((1, 3),)


def test_split_unconnected_send_odd_embedded_is_padded():
    embedded = request(0x4C, symbol("A"), b"\x01\x00") + b"\x00"  # odd on purpose
    _, inner, route = split_unconnected_send(parse_message(unconnected_send(embedded, slot=2)).data)
    assert inner == embedded and route.route == ((1, 2),)


def test_split_unconnected_send_too_short():
    with pytest.raises(Malformed):
        split_unconnected_send(b"\x0a\xf0\x20\x00\x01")


def test_forward_open():
    message = parse_message(forward_open(bytes([0x01, 0x00]) + logical(0x02, 1)))
    fields, path = parse_forward_open(message.data, large=False)
    assert fields["t_o_connection_id"] == 0x80001234 and fields["connection_serial_number"] == 0x4242
    assert fields["originator_serial_number"] == 0x00DEC0DE and fields["o_t_rpi"] == 2_000_000
    assert fields["transport_class"] == 3 and fields["production_trigger"] == "application_object"
    assert fields["transport_direction"] == "server"
    assert fields["o_t_network_connection_parameters"] == {
        "connection_size": 500, "fixed_variable": "variable", "priority": "low",
        "connection_type": "point_to_point", "redundant_owner": False}
    assert path.route == ((1, 0),) and path.class_id == 2


def test_large_forward_open_has_32_bit_parameters():
    message = parse_message(forward_open(logical(0x02, 1), large=True))
    fields, _ = parse_forward_open(message.data, large=True)
    assert fields["o_t_network_connection_parameters"]["connection_size"] == 500
    assert fields["o_t_network_connection_parameters"]["connection_type"] == "point_to_point"


def test_forward_open_too_short():
    with pytest.raises(Malformed):
        parse_forward_open(b"\x00" * 20, large=False)


def test_forward_open_replies():
    ok = struct.pack("<IIHHIIIBx", 1, 2, 0x4242, 1, 0xDEC0DE, 2_000_000, 2_000_000, 0)
    assert parse_forward_open_reply(ok, True)["t_o_connection_id"] == 2
    failed = parse_forward_open_reply(struct.pack("<HHIBx", 0x4242, 1, 0xDEC0DE, 2), False)
    assert failed == {"connection_serial_number": 0x4242, "originator_vendor_id": 1,
                      "originator_serial_number": 0xDEC0DE, "remaining_path_size": 2}
    with pytest.raises(Malformed):
        parse_forward_open_reply(b"\x00" * 4, True)


def test_forward_close():
    data = struct.pack("<BBHHIBx", 0x0A, 0x0E, 0x4242, 1, 0xDEC0DE, 2) + bytes([1, 0]) + logical(2, 1)
    fields, path = parse_forward_close(data)
    assert fields["connection_serial_number"] == 0x4242 and path.route == ((1, 0),)
    with pytest.raises(Malformed):
        parse_forward_close(data[:9])


def test_forward_close_reply():
    assert parse_forward_close_reply(struct.pack("<HHIBx", 0x4242, 1, 0xDEC0DE, 0)) == {
        "connection_serial_number": 0x4242, "originator_vendor_id": 1, "originator_serial_number": 0xDEC0DE}
    assert parse_forward_close_reply(b"\x01") == {}


def test_tag_requests():
    assert parse_tag_request(0x4C, b"\x04\x00") == {"elements": 4}
    assert parse_tag_request(0x52, b"\x04\x00\x10\x00\x00\x00") == {"elements": 4, "offset": 16}
    write = parse_tag_request(0x4D, b"\xc3\x00\x02\x00\x63\x00\xff\xff")
    assert write == {"data_type": 0xC3, "data_type_name": "INT", "elements": 2, "values": [99, -1]}
    frag = parse_tag_request(0x53, b"\xca\x00\x01\x00\x00\x00\x00\x00" + struct.pack("<f", 21.5))
    assert frag["values"] == [21.5] and frag["offset"] == 0
    struct_write = parse_tag_request(0x4D, b"\xa0\x02\x34\x12\x01\x00" + b"\x00" * 8)
    assert struct_write["structure_handle"] == 0x1234 and struct_write["data_length"] == 8
    rmw = parse_tag_request(0x4E, b"\x01\x00\x0f\xf0")
    assert rmw == {"mask_size": 1, "or_mask": "0f", "and_mask": "f0"}


@pytest.mark.parametrize("service,data", [(0x4C, b""), (0x52, b"\x01\x00"), (0x4D, b"\xc3"), (0x4D, b"\xc3\x00"),
                                          (0x53, b"\xc3\x00\x01\x00"), (0x4D, b"\xa0\x02\x01"),
                                          (0x4E, b""), (0x4E, b"\x04\x00\x00")])
def test_tag_requests_too_short(service, data):
    with pytest.raises(Malformed) as bad:
        parse_tag_request(service, data)
    assert bad.value.code == "cip_bad_service_data"


def test_tag_reply():
    assert parse_tag_reply(b"\xc4\x00\x01\x00\x00\x00\x02\x00\x00\x00") == {
        "data_type": 0xC4, "data_type_name": "DINT", "values": [1, 2], "elements": 2}
    assert parse_tag_reply(b"\xd0\x00abc")["data_length"] == 3


def test_values_are_bounded_and_json_ready():
    values, count = decode_values(0xC2, bytes(200))
    assert count == 200 and len(values) == MAX_VALUES
    values, _ = decode_values(0xCA, struct.pack("<3f", float("nan"), float("inf"), 1.5))
    assert values == ["nan", "inf", 1.5]
    assert decode_values(0xD0, b"abc") == (None, None)


def test_attribute_list():
    assert parse_attribute_list(b"\x02\x00\x01\x00\x07\x00") == [1, 7]
    with pytest.raises(Malformed):
        parse_attribute_list(b"\x03\x00\x01\x00")


def test_pccc():
    fields = parse_pccc_request(pccc(0x0F, 0x80, b"\x01"))
    assert fields["pccc_command"] == 0x0F and fields["pccc_function_name"] == "change_cpu_mode"
    assert fields["requestor_vendor_id"] == 1 and fields["pccc_transaction"] == 0x55
    assert parse_pccc_request(pccc(0x01, None))["pccc_function"] is None
    answer = bytes([7]) + struct.pack("<HI", 1, 0x1234) + bytes([0x4F, 0xF0]) + struct.pack("<H", 0x55) + b"\x07"
    assert parse_pccc_reply(answer) == {"requestor_vendor_id": 1, "requestor_serial_number": 0x1234,
                                        "pccc_command": 0x0F, "pccc_status": 0xF0, "pccc_transaction": 0x55,
                                        "pccc_extended_status": 7}
    for bad in (b"", b"\x07\x01", pccc(0x0F, None)[:9], b"\x03" + b"\x00" * 9):
        with pytest.raises(Malformed):
            parse_pccc_request(bad)
