"""protocols.bacnet on hand-built datagrams: names, directions, pairing keys, fields and facts, per layer."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bacnet_frames as bf  # noqa: E402

from protocols.bacnet import SPEC, complete, datagram, probe  # noqa: E402
from protocols.base import ANNOUNCE, REQUEST, RESPONSE, Fact, Malformed, Point, Verdict  # noqa: E402


def one(payload: bytes, is_request: bool = True):
    [message] = datagram(payload, is_request)
    return message


def test_who_is_and_i_am_name_the_device_and_its_vendor() -> None:
    who = one(bf.who_is(10, 20))
    assert (who.function_name, who.direction, who.action, who.pair_key) == ("who_is", REQUEST, "discovery", None)
    assert (who.fields["low_limit"], who.fields["high_limit"]) == (10, 20)
    iam = one(bf.i_am(1234, 5))
    assert (iam.function_name, iam.direction) == ("i_am", ANNOUNCE)
    assert iam.fields["object"] == "device,1234" and iam.fields["vendor"] == "Johnson Controls, Inc."
    identity = next(f for f in iam.facts if f.kind == "identity")
    assert identity.about == "src" and identity.value["device_instance"] == 1234 and identity.value["vendor_id"] == 5
    assert identity.value["segmentation_supported"] == "no-segmentation"
    assert Fact("role", "src", "device") in iam.facts


def test_a_device_behind_a_router_is_an_address_of_its_own() -> None:
    mstp = one(bf.i_am(77, 260, snet=5, sadr=b"\x2a"))
    [identity] = [f for f in mstp.facts if f.kind == "identity"]
    assert (identity.about, identity.address) == ("address", "bacnet:5:2a")
    assert identity.value["bacnet_network"] == 5
    bip = one(bf.i_am(78, 260, snet=6, sadr=bytes([10, 0, 0, 9, 0xBA, 0xC0])))
    assert {(f.about, f.address) for f in bip.facts} == {("address", "10.0.0.9")}


def test_a_forwarded_npdu_speaks_for_its_original_source() -> None:
    message = one(bf.forwarded(bytes([192, 168, 1, 7]), 47808, bf.i_am(9, 8)))
    assert message.fields["original_source"] == "192.168.1.7:47808"
    assert {(f.about, f.address) for f in message.facts} == {("address", "192.168.1.7")}


def test_read_property_is_a_point_and_its_ack_of_the_device_object_an_identity() -> None:
    request = one(bf.read_property(2, 3, 85, invoke=7))
    assert (request.function_name, request.action, request.direction) == ("read_property", "read", REQUEST)
    assert request.fields["references"] == [{"object": "analog-value,3", "object_type": 2, "instance": 3,
                                             "property_id": 85, "property": "present-value"}]
    assert [f.value for f in request.facts if f.kind == "point"] == [Point("analog-value", 3, 1, "read",
                                                                           "present-value")]
    ack = one(bf.read_property_ack(8, 1234, 70, bf.app_string("CX-9000"), invoke=7), is_request=False)
    assert ack.direction == RESPONSE and ack.pair_key == request.pair_key
    assert ack.fields["references"][0]["values"] == ["CX-9000"]
    [identity] = [f.value for f in ack.facts if f.kind == "identity"]
    assert identity == {"device_instance": 1234, "model": "CX-9000"}


def test_pairing_keeps_the_requester_side_apart() -> None:
    """The same invoke id from both ends of one flow names two transactions."""
    a = one(bf.read_property(2, 3, 85, invoke=7), is_request=True)
    b = one(bf.read_property(2, 3, 85, invoke=7), is_request=False)
    assert a.pair_key != b.pair_key
    assert one(bf.simple_ack(15, invoke=7), is_request=True).pair_key == b.pair_key


def test_write_property_carries_the_value_written() -> None:
    message = one(bf.write_property(1, 4, 85, bf.app_real(21.5), priority=8))
    assert (message.function_name, message.action) == ("write_property", "write")
    assert message.fields["references"][0]["values"] == [21.5] and message.fields["references"][0]["priority"] == 8
    assert [f.value for f in message.facts if f.kind == "point"] == [
        Point("analog-output", 4, 1, "write", "present-value", (21.5,))]


def test_read_property_multiple_lists_every_reference() -> None:
    message = one(bf.read_property_multiple([(8, 1, [77, 121]), (0, 2, [85])]))
    refs = [(r["object"], r["property"]) for r in message.fields["references"]]
    assert refs == [("device,1", "object-name"), ("device,1", "vendor-name"), ("analog-input,2", "present-value")]
    assert len([f for f in message.facts if f.kind == "point"]) == 3


def test_reinitialize_device_action_follows_the_state() -> None:
    assert one(bf.reinitialize_device(0, "secret")).action == "restart"
    backup = one(bf.reinitialize_device(2))
    assert backup.fields["reinitialized_state_name"] == "start-backup" and backup.action == "program_upload"
    assert one(bf.reinitialize_device(4)).action == "program_download"


def test_device_communication_control_is_a_mode_change() -> None:
    message = one(bf.device_communication_control(1, minutes=30))
    assert message.action == "mode_change"
    assert message.fields["enable_disable_name"] == "disable" and message.fields["time_duration"] == 30


def test_error_and_reject_name_what_went_wrong() -> None:
    err = one(bf.error(12, 2, 32), is_request=False)
    assert (err.function_name, err.direction) == ("read_property", RESPONSE)
    assert (err.fields["error_class_name"], err.fields["error_code_name"]) == ("property", "unknown-property")
    request = one(bf.read_property(2, 3, 85))
    rejected = complete(request, one(bf.reject(9), is_request=False))
    assert rejected.fields["reject_reason_name"] == "unrecognized-service"
    assert rejected.fields["service"] == "read_property"


def test_network_and_bvlc_messages() -> None:
    router = one(bf.who_is_router(5, 6))
    assert (router.function_name, router.fields["networks"]) == ("who_is_router_to_network", [5, 6])
    bbmd = one(bf.register_foreign_device(300))
    assert (bbmd.function_name, bbmd.fields["time_to_live"], bbmd.action) == ("register_foreign_device", 300,
                                                                            "session")


def test_bad_headers_are_malformed_with_documented_codes() -> None:
    for payload, code in ((b"\x81\x0a", "bacnet_bvlc_truncated"), (b"\x82\x0a\x00\x06\x01\x00", "bacnet_bvlc_bad_type"),
                          (bf.bvlc(0x0A, b"\x02\x00\x10\x08"), "bacnet_npdu_bad_version"),
                          (bf.bvlc(0x0A, b"\x01\x20\x00"), "bacnet_npdu_truncated"),
                          (bf.bvlc(0x0A, b"\x01\x00"), "bacnet_apdu_truncated"),
                          (bf.bvlc(0x0A, b"\x01\x00\x90\x00"), "bacnet_apdu_unknown_type")):
        with pytest.raises(Malformed) as bad:
            datagram(payload, True)
        assert bad.value.code == code and code in SPEC.weirds


def test_a_wrong_bvlc_length_is_a_weird_on_a_decoded_message() -> None:
    payload = bytearray(bf.who_is())
    payload[3] += 2
    message = one(bytes(payload))
    assert message.function_name == "who_is" and message.weird == "bacnet_bvlc_bad_length"


def test_bad_service_parameters_keep_the_header() -> None:
    message = one(bf.unicast(bf.confirmed(12, b"\x0c\x00"), expecting_reply=True))
    assert message.function_name == "read_property" and message.weird == "bacnet_bad_service_data"


def test_probe() -> None:
    assert probe(bf.who_is()) is Verdict.ACCEPT
    assert probe(b"\x81") is Verdict.REJECT
    assert probe(b"\x45\x00\x00\x04") is Verdict.REJECT
    assert probe(bf.who_is()[:-1]) is Verdict.REJECT  # the length must be the datagram's


def test_segments_are_reported_and_only_the_first_decoded() -> None:
    params = bf.tag(0, bf.objid(8, 1), True) + bf.ctx(1, 76) + bf.opening(3) + bf.tag(12, bf.objid(0, 1))
    first = one(bf.unicast(bytes([0x3C, 5, 0, 4, 12]) + params), is_request=False)
    assert (first.fields["segmented"], first.fields["more_follows"], first.fields["sequence_number"],
            first.fields["window_size"]) == (True, True, 0, 4)
    assert first.weird is None and first.fields["references"][0]["object"] == "device,1"
    later = one(bf.unicast(bytes([0x38, 5, 1, 4, 12]) + bf.tag(12, bf.objid(0, 2)) + bf.closing(3)), False)
    assert later.fields["sequence_number"] == 1 and "references" not in later.fields and later.weird is None
    ack = one(bf.unicast(bytes([0x40, 5, 1, 4])), is_request=True)
    assert (ack.function_name, ack.direction, ack.pair_key, ack.action) == ("segment_ack", REQUEST, None, "session")


def test_an_abort_from_the_client_pairs_with_nothing() -> None:
    client = one(bf.unicast(bytes([0x70, 5, 4])))
    server = one(bf.unicast(bytes([0x71, 5, 4])), is_request=False)
    assert (client.direction, client.pair_key) == (REQUEST, None)
    assert server.direction == RESPONSE and server.fields["abort_reason_name"] == "segmentation-not-supported"
    assert server.pair_key == one(bf.read_property(2, 3, 85, invoke=5)).pair_key


def test_who_am_i_describes_its_sender() -> None:
    message = one(bf.broadcast(bf.unconfirmed(13, bf.app_unsigned(8) + bf.app_string("M-1") + bf.app_string("S-9"))))
    [identity] = [f.value for f in message.facts if f.kind == "identity"]
    assert identity == {"vendor_id": 8, "vendor": "Delta Controls", "model": "M-1", "serial": "S-9"}


def test_too_many_references_are_cut_with_a_weird() -> None:
    from protocols.bacnet.services import MAX_ITEMS

    message = one(bf.read_property_multiple([(0, i, [85]) for i in range(MAX_ITEMS + 1)]))
    assert len(message.fields["references"]) == MAX_ITEMS and message.weird == "bacnet_too_many_items"
