"""complete(): a response takes its request's action and context."""
from __future__ import annotations

from s7comm_frames import CC, CR, READ_DB1, READ_DB1_ACK, WRITE_M4_ACK, plus_response, set_operating_state

from protocols.s7comm import SPEC, S7Stream, complete
from protocols.s7comm.message import plus_message
from protocols.s7comm.plus import parse_pdu as parse_plus


def one(frame: bytes, is_request: bool):
    [(_, message)] = S7Stream(is_request).feed(frame, 1)
    return message


def test_spec_offers_complete() -> None:
    assert SPEC.complete is complete


def test_plus_response_takes_the_refined_action_of_its_request() -> None:
    request = plus_message(parse_plus(2, set_operating_state(5, 0x390, 1)), True)
    response = plus_message(parse_plus(2, plus_response(0x04F2, 5)), False)
    assert (request.action, response.action) == ("mode_change", "write")
    done = complete(request, response)
    assert (done.action, done.fields["object"], done.fields["attribute"]) == ("mode_change", "operating_state", 2167)
    assert response.action == "write"  # the original is not changed


def test_read_var_response_names_its_values() -> None:
    done = complete(one(READ_DB1, True), one(READ_DB1_ACK, False))
    assert done.fields["request_items"][0]["address"] == "DB1.DBB0"
    assert done.fields["data_items"][0]["data"] == "10111213"
    assert not [f for f in done.facts if f.kind == "point"]


def test_no_pair_no_change() -> None:
    read, write_ack = one(READ_DB1, True), one(WRITE_M4_ACK, False)
    assert complete(read, write_ack) is write_ack
    assert complete(one(CR, True), one(CC, False)).function_name == "connection_confirm"
    response = one(READ_DB1_ACK, False)
    assert complete(response, response) is response
