"""messages: what each encapsulation and CIP message becomes (function, action, direction, key, fields, facts)."""
from __future__ import annotations

import json
import struct

from enip_frames import (
    CONTEXT,
    IDENTITY_ATTRIBUTES,
    cpf,
    encap,
    forward_open,
    list_identity_reply,
    logical,
    multiple,
    pccc,
    reply,
    request,
    send_rr,
    send_unit,
    symbol,
    unconnected_send,
)

from protocols.base import ACTIONS, ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Fact, Message, Point
from protocols.enip.messages import TCP, UDP, encapsulation_messages, identity_fact, identity_fields, io_message
from protocols.enip.wire import IoPacket, parse_encapsulation


def decode(raw: bytes, is_request: bool = True, transport: str = TCP) -> list[Message]:
    encap_record, used = parse_encapsulation(raw, 0)
    assert used == len(raw)
    messages = encapsulation_messages(encap_record, is_request, transport)
    for m in messages:
        assert m.action in ACTIONS
        assert json.loads(json.dumps(m.fields)) == m.fields
    return messages


def one(raw: bytes, is_request: bool = True, transport: str = TCP) -> Message:
    messages = decode(raw, is_request, transport)
    assert len(messages) == 1
    return messages[0]


def kinds(message: Message, kind: str) -> list:
    return [f.value for f in message.facts if f.kind == kind]


# --- encapsulation commands -------------------------------------------------------------------------------

def test_list_identity_request_is_discovery():
    m = one(encap(0x63))
    assert (m.function_code, m.function_name, m.action, m.direction) == (0x63, "list_identity", "discovery", REQUEST)
    assert m.pair_key == (0x63, CONTEXT.hex()) and m.weird is None
    assert m.fields["command_name"] == "list_identity" and m.fields["sender_context"] == CONTEXT.hex()
    assert Fact("role", "client", "originator") in m.facts


def test_list_identity_reply_over_tcp_is_a_response_with_the_identity():
    m = one(list_identity_reply(), is_request=False)
    assert m.direction == RESPONSE and m.pair_key == (0x63, CONTEXT.hex()) and m.weird is None
    assert m.fields["identity"]["product_name"] == "1756-ENBT/A"
    assert m.fields["identity"]["vendor_name"] == "Rockwell Automation/Allen-Bradley"
    assert m.fields["identity"]["device_type_name"] == "communications_adapter"
    assert kinds(m, "identity") == [{
        "vendor": "Rockwell Automation/Allen-Bradley", "vendor_id": 1, "device_type": 0x0C,
        "device_type_name": "communications_adapter", "product_code": 0x3A, "revision": "4.5", "firmware": "4.5",
        "serial": "0x00c0ffee", "product": "1756-ENBT/A", "order_code": "1756-ENBT/A", "state": "operational"}]
    assert [f.about for f in m.facts if f.kind == "identity"] == ["server"]
    assert kinds(m, "role") == ["target"]


def test_list_identity_reply_over_udp_is_an_announcement_about_its_sender():
    m = one(list_identity_reply(), is_request=True, transport=UDP)  # the side is told by the data over UDP
    assert m.direction == ANNOUNCE
    assert {f.about for f in m.facts} == {"src"}


def test_list_identity_request_over_udp():
    m = one(encap(0x63), is_request=False, transport=UDP)
    assert m.direction == REQUEST


def test_list_identity_with_two_items():
    m = one(list_identity_reply(IDENTITY_ATTRIBUTES, IDENTITY_ATTRIBUTES), is_request=False)
    assert len(m.fields["identities"]) == 1 and len(kinds(m, "identity")) == 2


def test_list_services_reply():
    item = struct.pack("<HH16s", 1, 0x0120, b"Communications")
    m = one(encap(0x04, cpf((0x0100, item))), is_request=False)
    assert m.fields["services"] == [{"version": 1, "capability_flags": 0x0120, "name": "Communications"}]
    assert m.action == "discovery"


def test_register_session():
    m = one(encap(0x65, b"\x01\x00\x00\x00", session=0))
    assert (m.function_name, m.action) == ("register_session", "session")
    assert m.fields["protocol_version"] == 1 and m.fields["options_flags"] == 0
    assert one(encap(0x65, b"\x01\x00"), True).weird == "enip_bad_cpf"


def test_unregister_session_and_nop():
    assert one(encap(0x66)).action == "session"
    assert one(encap(0x00, b"any")).weird is None  # NOP data is ignored by definition
    assert one(encap(0x66, b"x")).weird == "enip_trailing_bytes"


def test_nonzero_options_is_weird():
    assert one(encap(0x66, options=4)).weird == "enip_nonzero_options"


def test_error_status_without_data():
    m = one(encap(0x6F, status=0x64), is_request=False)
    assert m.function_name == "send_rr_data" and m.fields["status_name"] == "invalid_session_handle"
    assert m.weird is None


def test_send_rr_data_without_cip_item():
    raw = encap(0x6F, struct.pack("<IH", 0, 5) + cpf((0x0000, b"")))
    assert one(raw).weird == "enip_missing_item"


def test_cip_too_short_for_a_header():
    assert one(send_rr(b"\x0e")).weird == "cip_truncated"


# --- CIP requests and replies ----------------------------------------------------------------------------------

def test_get_attribute_single_request_is_a_read_of_one_attribute():
    m = one(send_rr(request(0x0E, logical(0x01, 1, 7))))
    assert (m.function_code, m.function_name, m.action, m.direction) == (0x0E, "get_attribute_single", "read",
                                                                         REQUEST)
    assert m.pair_key == ("rr", CONTEXT.hex(), 0)
    assert (m.fields["class_id"], m.fields["class_name"], m.fields["instance_id"], m.fields["attribute_id"]) == \
        (1, "identity", 1, 7)
    assert kinds(m, "point") == [Point("class 0x01 instance 1", 7, 1, "read")]


def test_set_attribute_single_is_a_write_with_the_value():
    m = one(send_unit(request(0x10, logical(0xF5, 1, 3), b"\x02\x00\x00\x00"), sequence=9))
    assert m.action == "write" and m.pair_key == ("unit", 9, 0)
    assert m.fields["connection_id"] == 0x12345678 and m.fields["sequence_count"] == 9
    assert kinds(m, "point") == [Point("class 0xf5 instance 1", 3, 1, "write", values=("02000000",))]


def test_get_attribute_list_points():
    m = one(send_rr(request(0x03, logical(0x01, 1), b"\x02\x00\x01\x00\x07\x00")))
    assert m.fields["attributes"] == [1, 7]
    assert [p.address for p in kinds(m, "point")] == [1, 7]


def test_reply():
    m = one(send_rr(reply(0x0E, b"\x01\x00")), is_request=False)
    assert (m.function_code, m.direction, m.pair_key) == (0x0E, RESPONSE, ("rr", CONTEXT.hex(), 0))
    assert m.fields["general_status"] == 0 and m.fields["general_status_name"] == "success"
    assert m.fields["data"] == "0100" and kinds(m, "role") == ["target"]


def test_error_reply():
    m = one(send_rr(reply(0x4C, status=0x05, additional=(0x0000,))), is_request=False)
    assert m.fields["general_status_name"] == "path_destination_unknown" and m.fields["additional_status"] == [0]


def test_direction_mismatch_is_weird():
    assert one(send_rr(request(0x0E, logical(1, 1, 1))), is_request=False).weird == "cip_unexpected_direction"
    assert one(send_rr(reply(0x0E, b"")), is_request=True).weird == "cip_unexpected_direction"


def test_reset_of_the_identity_object_is_a_restart():
    m = one(send_rr(request(0x05, logical(0x01, 1), b"\x01")))
    assert (m.function_name, m.action, m.fields["reset_type"]) == ("reset", "restart", 1)


def test_start_and_stop_of_the_controller_are_mode_changes():
    for service, name in ((0x06, "start"), (0x07, "stop")):
        m = one(send_unit(request(service, logical(0x8E, 1))))
        assert (m.function_name, m.action, m.fields["class_name"]) == (name, "mode_change", "vendor_0x8e")


def test_firmware_update_through_the_non_volatile_storage_object():
    m = one(send_rr(request(0x4D, logical(0xA1, 1), b"\x00" * 16)))
    assert (m.function_name, m.action) == ("non_volatile_storage_service", "firmware_update")


def test_read_tag_request_is_a_named_point():
    m = one(send_unit(request(0x4C, symbol("SCADA", 1), b"\x04\x00")))
    assert (m.function_name, m.action, m.fields["tag"], m.fields["elements"]) == ("read_tag", "read", "SCADA[1]", 4)
    assert kinds(m, "point") == [Point("logix_tag", None, 4, "read", name="SCADA[1]")]


def test_write_tag_request_carries_the_values():
    m = one(send_unit(request(0x4D, symbol("SCADA", 1), b"\xc3\x00\x01\x00\x63\x00")))
    assert (m.function_name, m.action) == ("write_tag", "write")
    assert kinds(m, "point") == [Point("logix_tag", None, 1, "write", name="SCADA[1]", values=(99,))]


def test_fragmented_tag_services():
    read = one(send_unit(request(0x52, symbol("BIG"), b"\x10\x00\x00\x00\x00\x00")))
    assert (read.function_name, read.fields["offset"]) == ("read_tag_fragmented", 0)
    write = one(send_unit(request(0x53, symbol("BIG"), b"\xc4\x00\x01\x00\x04\x00\x00\x00\x05\x00\x00\x00")))
    assert (write.function_name, write.action, write.fields["values"]) == ("write_tag_fragmented", "write", [5])


def test_tag_by_symbol_instance():
    m = one(send_unit(request(0x4C, logical(0x6B, 0x1234), b"\x01\x00")))
    assert m.function_name == "read_tag"
    assert kinds(m, "point") == [Point("logix_tag", 0x1234, 1, "read")]


def test_bad_tag_request_is_weird_but_kept():
    m = one(send_unit(request(0x4D, symbol("X"), b"\xc3")))
    assert m.function_name == "write_tag" and m.weird == "cip_bad_service_data"


def test_read_tag_reply_values():
    m = one(send_unit(reply(0x4C, b"\xc3\x00\x00\x00\x63\x00")), is_request=False)
    assert m.function_name == "read_tag" and m.fields["values"] == [0, 99] and m.fields["data_type_name"] == "INT"


def test_read_tag_fragmented_reply_is_told_from_an_unconnected_send_failure():
    m = one(send_unit(reply(0x52, b"\xc3\x00\x01\x00", status=0x06)), is_request=False)
    assert m.function_name == "read_tag_fragmented" and m.fields["values"] == [1]
    failure = one(send_rr(reply(0x52, b"\x02\x00", status=0x01, additional=(0x0204,))), is_request=False)
    assert failure.function_name == "unconnected_send" and failure.fields["general_status"] == 1


def test_reply_data_that_does_not_fit_the_guessed_name_is_kept_not_flagged():
    m = one(send_unit(reply(0x4B, b"\x01\x02\x03")), is_request=False)  # 0x4B on a Logix class, not PCCC
    assert m.weird is None and m.fields["data"] == "010203"


def test_multiple_service_packet_is_unpacked():
    msp = request(0x0A, logical(0x02, 1), multiple(
        request(0x4C, symbol("A"), b"\x01\x00"), request(0x4D, symbol("B"), b"\xc1\x00\x01\x00\x01")))
    messages = decode(send_unit(msp, sequence=3))
    assert [(m.function_name, m.action) for m in messages] == [("read_tag", "read"), ("write_tag", "write")]
    assert [m.pair_key for m in messages] == [("unit", 3, 0), ("unit", 3, 1)]
    assert [m.fields["multiple_service_packet"] for m in messages] == [{"index": 0, "count": 2},
                                                                        {"index": 1, "count": 2}]


def test_multiple_service_packet_reply_is_unpacked():
    msp = reply(0x0A, multiple(reply(0x4C, b"\xc3\x00\x07\x00"), reply(0x4D)), status=0)
    messages = decode(send_unit(msp, sequence=3), is_request=False)
    assert [m.function_name for m in messages] == ["read_tag", "write_tag"]
    assert [m.pair_key for m in messages] == [("unit", 3, 0), ("unit", 3, 1)]
    assert messages[0].fields["values"] == [7]


def test_multiple_service_packet_with_bad_offsets_stays_one_message():
    m = one(send_unit(request(0x0A, logical(0x02, 1), b"\x02\x00\x06\x00\x50\x00")))
    assert m.function_name == "multiple_service_packet" and m.weird == "cip_bad_service_data"


def test_empty_multiple_service_packet_reply_is_the_container():
    m = one(send_unit(reply(0x0A, status=0x1E)), is_request=False)
    assert m.function_name == "multiple_service_packet"


def test_unconnected_send_is_unpacked_and_names_the_slot():
    m = one(send_rr(unconnected_send(request(0x01, logical(0x01, 1)), slot=2)))
    assert (m.function_code, m.function_name, m.action) == (0x01, "get_attributes_all", "read")
    assert m.fields["route_path"] == [{"port": 1, "link": 2}]
    assert m.fields["unconnected_send"] == {"priority_time_tick": 0x0A, "timeout_ticks": 0xF0}
    assert kinds(m, "module") == [{"slot": 2}]
    assert m.pair_key == ("rr", CONTEXT.hex(), 0)


def test_unconnected_send_through_another_network_is_not_a_module():
    m = one(send_rr(unconnected_send(request(0x01, logical(0x01, 1)), slot=5, port=2)))
    assert kinds(m, "module") == []


def test_unconnected_send_carrying_a_multiple_service_packet():
    inner = request(0x0A, logical(0x02, 1), multiple(request(0x0E, logical(1, 1, 1)), request(0x0E, logical(1, 1, 7))))
    messages = decode(send_rr(unconnected_send(inner, slot=0)))
    assert [m.pair_key[-1] for m in messages] == [0, 1]
    assert all(m.fields["route_path"] == [{"port": 1, "link": 0}] for m in messages)


def test_unconnected_send_with_a_bad_size_stays_one_message():
    bad = request(0x52, logical(0x06, 1), b"\x0a\xf0\x40\x00\x01")
    m = one(send_rr(bad))
    assert m.function_name == "unconnected_send" and m.weird == "cip_bad_service_data"


def test_forward_open_is_a_session_with_connection_parameters_and_the_slot():
    m = one(send_rr(forward_open(bytes([0x01, 0x00]) + logical(0x02, 1))))
    assert (m.function_name, m.action) == ("forward_open", "session")
    assert m.fields["connection_path"] == {"class_id": 2, "instance_id": 1, "route_path": [{"port": 1, "link": 0}]}
    assert m.fields["transport_class"] == 3
    assert kinds(m, "module") == [{"slot": 0}]
    assert set(kinds(m, "role")) == {"originator"}


def test_forward_open_of_an_io_connection_names_scanner_and_adapter():
    m = one(send_rr(forward_open(logical(0x04, 1), trigger=0x01)))
    roles = {(f.about, f.value) for f in m.facts if f.kind == "role"}
    assert {("client", "scanner"), ("server", "adapter")} <= roles


def test_large_forward_open():
    assert one(send_rr(forward_open(logical(0x02, 1), large=True))).function_name == "large_forward_open"


def test_forward_open_reply():
    data = struct.pack("<IIHHIIIBx", 0x11, 0x22, 0x4242, 1, 0xDEC0DE, 1000, 1000, 0)
    m = one(send_rr(reply(0x54, data)), is_request=False)
    assert m.fields["o_t_connection_id"] == 0x11 and m.action == "session"


def test_forward_close():
    data = struct.pack("<BBHHIBx", 0x0A, 0x0E, 0x4242, 1, 0xDEC0DE, 2) + logical(2, 1)
    m = one(send_rr(request(0x4E, logical(0x06, 1), data)))
    assert (m.function_name, m.action, m.fields["connection_serial_number"]) == ("forward_close", "session", 0x4242)


def test_sockaddr_items_are_reported():
    sa = struct.pack(">hH4s8s", 2, 2222, bytes([239, 192, 1, 1]), b"\0" * 8)
    raw = encap(0x6F, struct.pack("<IH", 0, 5) + cpf((0, b""), (0xB2, reply(0x54, b"\x00" * 26)), (0x8001, sa)))
    m = one(raw, is_request=False)
    assert m.fields["sockaddr_t_o"] == {"sin_family": 2, "sin_port": 2222, "sin_addr": "239.192.1.1"}


def test_execute_pccc_takes_the_action_of_its_function():
    m = one(send_unit(request(0x4B, logical(0x67, 1), pccc(0x0F, 0x80, b"\x01"))))
    assert (m.function_name, m.action, m.fields["pccc_function_name"]) == ("execute_pccc", "mode_change",
                                                                           "change_cpu_mode")
    read = one(send_unit(request(0x4B, logical(0x67, 1), pccc(0x0F, 0xA2, b"\x02\x07\x89\x00\x00"))))
    assert read.action == "read"
    assert one(send_unit(request(0x4B, logical(0x67, 1), b"\x07"))).weird == "cip_bad_service_data"


def test_file_object_services_are_file_transfers():
    m = one(send_unit(request(0x4F, logical(0x37, 0xC8), b"\x01")))
    assert (m.function_name, m.action) == ("upload_transfer", "file_transfer")


def test_unknown_vendor_service_is_other():
    m = one(send_unit(request(0x4C, logical(0x8E, 1) + logical(0x74, 1), b"\x00" * 6)))
    assert (m.function_name, m.action) == ("unknown_0x4c", "other")
    assert m.fields["logical_path"][2] == ["class_id", 0x74]


# --- I/O and identity helpers -------------------------------------------------------------------------------------

def test_io_message():
    m = io_message(IoPacket(0x004B0603, 17, 12))
    assert (m.function_code, m.function_name, m.action, m.direction, m.pair_key) == (0xB1, "io_data", "operate",
                                                                                      UNSOLICITED, None)
    assert m.fields == {"connection_id": 0x004B0603, "sequence_number": 17, "data_length": 12}


def test_identity_fields_name_the_numbers():
    fields = identity_fields({"vendor_id": 991, "device_type": 0x2C, "state": 4, "serial_number": 5})
    assert fields == {"vendor_id": 991, "vendor_name": "Moxa, Inc.", "device_type": 0x2C,
                      "device_type_name": "managed_ethernet_switch", "state": 4,
                      "state_name": "major_recoverable_fault", "serial_number": 5}


def test_identity_fact_only_derives_order_codes_for_rockwell():
    assert identity_fact({"vendor_id": 1, "product_name": "1756-L61/B LOGIX5561"})["order_code"] == "1756-L61/B"
    assert "order_code" not in identity_fact({"vendor_id": 47, "product_name": "1756-L61/B"})
    assert "order_code" not in identity_fact({"vendor_id": 1, "product_name": "PanelView Plus"})
