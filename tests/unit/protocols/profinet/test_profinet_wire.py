"""PROFINET DCP: frames to records (wire), records to messages (message), and the ``datagram`` seam."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dcp_frames import block, dcp, get_request, hello, identify_request, identify_response, info, set_ip, set_response  # noqa: E402

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, Malformed, NeedMore  # noqa: E402
from protocols.profinet import datagram  # noqa: E402
from protocols.profinet.codes import block_name, set_name  # noqa: E402
from protocols.profinet.wire import Block, block_fields, parse_dcp, parse_frame_id, valid_station_name  # noqa: E402


def one(payload: bytes):
    (message,) = datagram(payload, True)
    return message


def test_header_and_blocks_with_padding():
    frame, used = parse_dcp(identify_response("plc-1") + b"\0" * 20)  # Ethernet padding after DCPDataLength
    assert (frame.frame_id, frame.service_id, frame.service_type, frame.xid) == (0xFEFF, 5, 1, 0x1000001)
    assert [(b.option, b.suboption) for b in frame.blocks] == [(2, 1), (2, 2), (2, 3), (2, 4), (1, 2)]
    assert frame.blocks[1].data == b"\0\0plc-1" and used == len(identify_response("plc-1"))


def test_three_outcomes_on_short_input():
    assert parse_frame_id(b"\xfe") == NeedMore(1)
    assert isinstance(parse_dcp(identify_request()[:8]), NeedMore)
    assert isinstance(parse_dcp(dcp(0xFEFE, 5, 0, b"", length=10)), NeedMore)
    with pytest.raises(Malformed) as bad:
        parse_dcp(dcp(0xFEFF, 5, 1, struct.pack(">BBH", 2, 2, 40) + b"abc"))
    assert bad.value.code == "profinet_dcp_bad_block_length"


def test_get_request_blocks_are_bare_pairs():
    frame, _ = parse_dcp(get_request((1, 2), (2, 2)))
    assert [(b.option, b.suboption, b.data) for b in frame.blocks] == [(1, 2, b""), (2, 2, b"")]
    message = one(get_request((1, 2), (2, 2)))
    assert (message.function_name, message.action, message.direction) == ("get", "read", REQUEST)
    assert message.fields["blocks"] == ["ip/ip_parameter", "device/name_of_station"]


def test_identify_response_is_an_announcement_with_identity():
    message = one(identify_response("plc-1", 0x002A, 0x0E0A, "10.0.0.2", "255.255.255.0", "10.0.0.1", role=0x03))
    assert (message.function_code, message.function_name, message.action, message.direction) == \
        (5, "identify", "discovery", ANNOUNCE)
    f = message.fields
    assert (f["name_of_station"], f["vendor_id"], f["device_id"], f["device_vendor_value"]) == ("plc-1", 42, 0x0E0A, "S7-1500")
    assert (f["ip_address"], f["subnet_mask"], f["gateway"], f["ip_block_info"]) == \
        ("10.0.0.2", "255.255.255.0", "10.0.0.1", "ip_set")
    facts = {(fact.kind, fact.about): fact.value for fact in message.facts}
    identity = facts[("identity", "src")]
    assert (identity["vendor"], identity["product"], identity["name"], identity["ip_address"]) == \
        ("Siemens", "S7-1500", "plc-1", "10.0.0.2")
    assert sorted(f.value for f in message.facts if f.kind == "role") == ["io_controller", "io_device"]
    assert facts[("hostname", "src")] == "plc-1" and message.weird is None


def test_requests_teach_nothing_about_their_sender():
    message = one(identify_request(name="plc-1"))
    assert message.fields["name_of_station"] == "plc-1" and message.fields["response_delay"] == 1
    assert message.facts == () and message.direction == REQUEST


def test_set_is_named_after_what_it_sets():
    request, response = one(set_ip("10.0.0.9")), one(set_response((1, 2, 0)))
    assert (request.function_name, request.action, request.fields["ip_address"], request.fields["block_qualifier"]) == \
        ("set.ip", "write", "10.0.0.9", 1)
    assert (response.function_name, response.direction) == ("set.ip", RESPONSE)
    assert response.fields["results"] == [{"block": "ip/ip_parameter", "block_error": "ok"}]
    reset = one(dcp(0xFEFD, 4, 0, block(5, 6, b"\0\0")))
    signal = one(dcp(0xFEFD, 4, 0, block(5, 3, b"\0\0\x01\x00")))
    assert (reset.function_name, reset.action) == ("set.reset_to_factory", "restart")
    assert (signal.function_name, signal.action, signal.fields["signal_value"]) == ("set.signal", "diagnostics", 256)
    assert set_name([(5, 1), (2, 2), (5, 2)]) == "set.name_of_station" and set_name([]) == "set"


def test_hello_announces_its_sender():
    message = one(hello("io-7"))
    assert (message.function_name, message.direction, message.action) == ("hello", ANNOUNCE, "discovery")
    assert [f.value["name"] for f in message.facts if f.kind == "identity"] == ["io-7"]


def test_frames_that_are_not_dcp_give_no_message():
    assert datagram(struct.pack(">H", 0x8000) + b"\0" * 40, True) == []  # cyclic real-time data


def test_datagram_raises_with_a_stable_code():
    for payload, code in ((b"\xfe", "profinet_frame_truncated"), (identify_request()[:9], "profinet_dcp_truncated"),
                          (dcp(0xFEFF, 5, 1, b"\x02\x02\x00"), "profinet_dcp_bad_block_length")):
        with pytest.raises(Malformed) as bad:
            datagram(payload, True)
        assert bad.value.code == code


def test_oddities_keep_the_message_and_name_the_first():
    assert one(dcp(0xFEFE, 4, 0, b"")).weird == "profinet_dcp_service_mismatch"
    assert one(dcp(0xFEFE, 5, 2, b"")).weird == "profinet_dcp_unknown_service_type"
    assert one(dcp(0xFEFF, 5, 1, info(2, 3, b"\0"))).weird == "profinet_dcp_bad_block"
    assert one(identify_response("%n%n%n ")).weird == "profinet_dcp_bad_name_of_station"


def test_block_fields_and_names():
    assert block_fields(Block(1, 1, b"\0\0" + bytes(range(6))), "info") == {"ip_block_info": "ip_not_set",
                                                                         "mac_address": "00:01:02:03:04:05"}
    assert block_fields(Block(1, 2, b"\0\x81" + b"\0" * 12), "info")["ip_conflict"] is True
    assert block_name(3, 61) == "dhcp/option_61" and block_name(0x42, 1) == "unknown_0x42/unknown_0x01"
    assert block_name(0xFF, 0xFF) == "all_selector/all"


@pytest.mark.parametrize(("name", "valid"), [("plc-1", True), ("X208-BORD", True), ("a.b-c.d", True), ("", False),
                                             ("-a", False), ("a..b", False), ("%n%n%n ", False), ("a" * 241, False)])
def test_station_names(name, valid):
    assert valid_station_name(name) is valid
