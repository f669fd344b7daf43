"""pairing.complete: a reply renamed after its request, with the identity or module only the pair can tell."""
from __future__ import annotations

import struct

from enip_frames import IDENTITY_ATTRIBUTES, logical, reply, request, send_rr, send_unit, symbol, unconnected_send

from protocols.base import Fact, Message
from protocols.enip.messages import encapsulation_messages
from protocols.enip.pairing import complete
from protocols.enip.wire import parse_encapsulation

L61 = {"vendor": "Rockwell Automation/Allen-Bradley", "vendor_id": 1, "device_type": 0x0E,
       "device_type_name": "programmable_logic_controller", "product_code": 0x36, "revision": "20.11",
       "firmware": "20.11", "serial": "0x006c061a", "product": "1756-L61/B LOGIX5561", "order_code": "1756-L61/B",
       "state": "operational"}


def message(raw: bytes, is_request: bool) -> Message:
    [m] = encapsulation_messages(parse_encapsulation(raw, 0)[0], is_request)
    return m


def pair(request_raw: bytes, reply_raw: bytes) -> Message:
    return complete(message(request_raw, True), message(reply_raw, False))


def test_identity_from_get_attributes_all_of_the_identity_object():
    done = pair(send_rr(request(0x01, logical(0x01, 1))), send_rr(reply(0x01, IDENTITY_ATTRIBUTES)))
    assert Fact("identity", "server", L61) in done.facts
    assert done.fields["identity"]["product_name"] == "1756-L61/B LOGIX5561"
    assert done.fields["class_id"] == 1 and done.action == "read"


def test_identity_through_a_backplane_route_is_a_module_of_the_chassis():
    done = pair(send_rr(unconnected_send(request(0x01, logical(0x01, 1)), slot=3)),
                send_rr(reply(0x01, IDENTITY_ATTRIBUTES)))
    assert Fact("module", "server", {"slot": 3, **L61}) in done.facts
    assert not [f for f in done.facts if f.kind == "identity"]
    assert done.fields["route_path"] == [{"port": 1, "link": 3}]


def test_identity_from_single_attributes_and_lists():
    name = pair(send_rr(request(0x0E, logical(0x01, 1, 7))), send_rr(reply(0x0E, b"\x05PLC-1")))
    assert Fact("identity", "server", {"product": "PLC-1"}) in name.facts
    serial = pair(send_rr(request(0x0E, logical(0x01, 1, 6))), send_rr(reply(0x0E, b"\x78\x56\x34\x12")))
    assert Fact("identity", "server", {"serial": "0x12345678"}) in serial.facts
    revision = pair(send_rr(request(0x0E, logical(0x01, 1, 4))), send_rr(reply(0x0E, b"\x14\x0b")))
    assert Fact("identity", "server", {"revision": "20.11", "firmware": "20.11"}) in revision.facts
    listed = struct.pack("<HHHHHH", 2, 1, 0, 1, 7, 0) + b"\x03ABC"
    done = pair(send_rr(request(0x03, logical(0x01, 1), b"\x02\x00\x01\x00\x07\x00")), send_rr(reply(0x03, listed)))
    identity = [f.value for f in done.facts if f.kind == "identity"][0]
    assert identity["vendor_id"] == 1 and identity["product"] == "ABC"


def test_attribute_list_stops_at_a_failed_or_unknown_attribute():
    listed = struct.pack("<HHHH", 2, 1, 0x14, 0)  # attribute 1 not supported
    done = pair(send_rr(request(0x03, logical(0x01, 1), b"\x01\x00\x01\x00")), send_rr(reply(0x03, listed)))
    assert not [f for f in done.facts if f.kind == "identity"]


def test_no_identity_from_other_classes_or_errors():
    other = pair(send_rr(request(0x01, logical(0xF5, 1))), send_rr(reply(0x01, IDENTITY_ATTRIBUTES)))
    assert not [f for f in other.facts if f.kind in ("identity", "module")]
    failed = pair(send_rr(request(0x01, logical(0x01, 1))), send_rr(reply(0x01, IDENTITY_ATTRIBUTES, status=0x08)))
    assert not [f for f in failed.facts if f.kind == "identity"]


def test_reply_takes_the_request_name_and_action():
    req = message(send_unit(request(0x4C, logical(0x8E, 1) + logical(0x74, 1), b"\x00\x00"), sequence=4), True)
    rep = message(send_unit(reply(0x4C, b"\xc3\x00\x01\x00"), sequence=4), False)
    assert rep.function_name == "read_tag"  # the guess without the request
    done = complete(req, rep)
    assert (done.function_name, done.action, done.fields["service_name"]) == ("unknown_0x4c", "other", "unknown_0x4c")


def test_read_tag_reply_gets_its_tag():
    done = pair(send_unit(request(0x4C, symbol("SCADA", 2), b"\x01\x00")), send_unit(reply(0x4C, b"\xc3\x00\x2a\x00")))
    assert done.fields["tag"] == "SCADA[2]" and done.fields["values"] == [42]


def test_not_a_pair():
    req = message(send_rr(request(0x0E, logical(0x01, 1, 7))), True)
    rep = message(send_rr(reply(0x01, IDENTITY_ATTRIBUTES)), False)
    assert complete(req, rep) is rep
    assert complete(rep, req) is req
