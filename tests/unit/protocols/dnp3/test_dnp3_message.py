"""message: direction from DIR and function code, actions, pairing, fields, and the facts taught."""
from __future__ import annotations

import json
import struct

import pytest
from dnp3_builders import (
    CLASS_0123,
    MASTER,
    OUTSTATION,
    attribute,
    crob,
    header,
    link_frame,
    message_bytes,
    request,
    response,
)

from protocols.base import ACTIONS, REQUEST, RESPONSE, UNSOLICITED, Fact, Message, Point
from protocols.dnp3 import Dnp3Stream


def one(fragment: bytes, *, from_master: bool = True, is_request: bool | None = None) -> Message:
    stream = Dnp3Stream(from_master if is_request is None else is_request)
    [(_, message)] = stream.feed(message_bytes(fragment, from_master=from_master), 1)
    assert isinstance(message, Message)
    assert message.action in ACTIONS
    assert json.loads(json.dumps(message.fields)) == message.fields
    return message


def facts(message: Message, kind: str) -> list[Fact]:
    return [f for f in message.facts if f.kind == kind]


def test_a_read_request_from_the_master() -> None:
    m = one(request(0x01, CLASS_0123, seq=5))
    assert (m.function_code, m.function_name, m.action, m.direction) == (1, "read", "read", REQUEST)
    assert m.pair_key == ("app", MASTER, OUTSTATION, 5)
    assert m.fields["source"] == MASTER and m.fields["destination"] == OUTSTATION
    assert (m.fields["fir"], m.fields["fin"], m.fields["con"], m.fields["uns"], m.fields["sequence"]) == \
        (True, True, False, False, 5)
    assert [o["group"] for o in m.fields["objects"]] == [60, 60, 60, 60]
    assert "iin" not in m.fields and m.weird is None
    assert facts(m, "role") == [Fact("role", "client", "master"), Fact("role", "server", "outstation")]
    assert facts(m, "point") == []  # a class poll names no points; its response does


def test_the_response_pairs_with_its_request_and_carries_iin() -> None:
    m = one(response(header(30, 1, 0x00, 0, 3) + bytes(20), iin=0x9000, seq=5), from_master=False)
    assert (m.function_name, m.action, m.direction) == ("response", "read", RESPONSE)
    assert m.pair_key == ("app", MASTER, OUTSTATION, 5)
    assert m.fields["iin"] == 0x9000 and m.fields["iin_flags"] == ["device_restart", "need_time"]
    assert facts(m, "role") == [Fact("role", "server", "outstation"), Fact("role", "client", "master")]
    assert facts(m, "point") == [Fact("point", "client", Point("g30", 0, 4, "read"))]


def test_roles_follow_the_dir_bit_not_the_tcp_side() -> None:
    # an outstation that dialled out: it is the TCP client, and its frames have DIR = 0
    m = one(response(seq=1, function=0x82, uns=True), from_master=False, is_request=True)
    assert m.direction == UNSOLICITED and m.pair_key is None
    assert facts(m, "role") == [Fact("role", "client", "outstation"), Fact("role", "server", "master")]


def test_unsolicited_events_are_points_read_by_the_master() -> None:
    events = header(2, 1, 0x28, 3, widths=2) + b"".join(i.to_bytes(2, "little") + b"\x81" for i in (7, 8, 12))
    m = one(response(events, function=0x82, uns=True, con=True), from_master=False)
    assert (m.function_name, m.action, m.direction) == ("unsolicited_response", "read", UNSOLICITED)
    assert [f.value for f in facts(m, "point")] == [Point("g2", 7, 2, "read"), Point("g2", 12, 1, "read")]
    assert all(f.about == "client" for f in facts(m, "point"))


def test_confirm_and_no_ack_requests_do_not_pair() -> None:
    assert one(request(0x00, uns=True, seq=2)).pair_key is None
    m = one(request(0x06, header(12, 1, 0x17, 1) + b"\x02" + crob()))
    assert (m.function_name, m.action, m.pair_key) == ("direct_operate_nr", "operate", None)


@pytest.mark.parametrize(("function", "name"), [(0x03, "select"), (0x04, "operate"), (0x05, "direct_operate")])
def test_controls_write_points_with_the_operation(function: int, name: str) -> None:
    objects = header(12, 1, 0x28, 1, widths=2) + (9).to_bytes(2, "little") + crob(0x41)
    m = one(request(function, objects))
    assert (m.function_name, m.action) == (name, "operate")
    assert facts(m, "point") == [Fact("point", "client", Point("g12", 9, 1, "write", values=("close_pulse_on",)))]
    assert m.fields["objects"][0]["indexes"] == [9] and m.fields["objects"][0]["values"] == ["close_pulse_on"]


def test_the_response_to_an_operate_echoes_it_and_counts_no_point() -> None:
    objects = header(12, 1, 0x28, 1, widths=2) + (9).to_bytes(2, "little") + crob(0x41)
    m = one(response(objects), from_master=False)
    assert facts(m, "point") == []


def test_analog_output_values_are_the_points_written() -> None:
    objects = header(41, 3, 0x00, 2, 3) + struct.pack("<fBfB", 1.5, 0, -2.0, 0)
    m = one(request(0x05, objects))
    assert facts(m, "point") == [Fact("point", "client", Point("g41", 2, 2, "write", values=(1.5, -2.0)))]


def test_write_of_time_is_time_sync_and_no_point() -> None:
    m = one(request(0x02, header(50, 1, 0x07, 1) + (1_700_000_000_000).to_bytes(6, "little")))
    assert (m.function_name, m.action) == ("write", "time_sync")
    assert m.fields["objects"][0]["values"] == [1_700_000_000_000]
    assert facts(m, "point") == []


@pytest.mark.parametrize(("fragment", "name", "action"), [
    (request(0x0D), "cold_restart", "restart"),
    (request(0x0E), "warm_restart", "restart"),
    (request(0x17), "delay_measure", "time_sync"),
    (request(0x18), "record_current_time", "time_sync"),
    (request(0x07, header(20, 0, 0x06)), "immed_freeze", "operate"),
    (request(0x14, header(60, 2, 0x06)), "enable_unsolicited", "other"),
    (request(0x15, header(60, 2, 0x06)), "disable_unsolicited", "other"),
    (request(0x12), "stop_appl", "mode_change"),
    (request(0x1B), "delete_file", "file_transfer"),
    (request(0x02, header(80, 1, 0x00, 7, 7) + b"\x00"), "write", "write"),
    (request(0x5A), "unknown_0x5a", "other"),
])
def test_actions(fragment: bytes, name: str, action: str) -> None:
    m = one(fragment)
    assert (m.function_name, m.action, m.direction) == (name, action, REQUEST)


def test_device_attributes_are_the_outstation_identity() -> None:
    objects = (attribute(252, "ACME Corp") + attribute(250, "RTU-9") + attribute(242, "4.1.7")
               + attribute(248, "SN-0042") + attribute(247, "feeder-12") + attribute(246, "asset-77")
               + attribute(239, (16).to_bytes(2, "little"), data_type=2))
    m = one(response(objects), from_master=False)
    [identity] = facts(m, "identity")
    assert identity.about == "server"
    assert identity.value == {"vendor": "ACME Corp", "product": "RTU-9", "model": "RTU-9", "firmware": "4.1.7",
                              "serial": "SN-0042", "name": "feeder-12", "id_code": "asset-77"}
    assert {a["variation"]: a["value"] for a in m.fields["attributes"]}[239] == 16
    assert facts(m, "point") == []  # attributes are no data points


def test_a_request_sent_with_dir_0_is_a_weird() -> None:
    raw = link_frame(0x44, OUTSTATION, MASTER, b"\xc0" + request(0x01, CLASS_0123))
    [(_, m)] = Dnp3Stream(True).feed(raw, 1)
    assert m.direction == REQUEST and m.weird == "dnp3_bad_direction"


def test_link_messages() -> None:
    stream = Dnp3Stream(True)
    [(_, reset)] = stream.feed(link_frame(0xC0, OUTSTATION, MASTER), 1)
    [(_, status)] = Dnp3Stream(False).feed(link_frame(0x1B, MASTER, OUTSTATION), 2)
    assert (reset.function_code, reset.function_name, reset.action, reset.direction) == \
        (0, "link_reset_link_states", "session", REQUEST)
    assert (status.function_code, status.function_name, status.direction) == (11, "link_link_status", RESPONSE)
    assert reset.pair_key == status.pair_key == ("link", MASTER, OUTSTATION)
    assert facts(status, "role") == [Fact("role", "server", "outstation"), Fact("role", "client", "master")]
    assert status.fields == {"source": OUTSTATION, "destination": MASTER, "dir": False, "prm": False,
                             "reserved": False, "dfc": True}


@pytest.mark.parametrize("code", [int(f) for f in __import__("protocols.dnp3.codes", fromlist=["FunctionCode"])
                                  .FunctionCode])
def test_every_function_code_names_and_acts(code: int) -> None:
    from protocols.dnp3.codes import ACTIONS as TABLE
    from protocols.dnp3.codes import FunctionCode

    fragment = response(function=code) if code >= 0x81 else request(code)
    m = one(fragment, from_master=code < 0x80)
    assert m.function_code == code and m.function_name == FunctionCode(code).name.lower()
    assert m.action == TABLE[m.function_name]
    assert m.direction == (REQUEST if code < 0x80 else UNSOLICITED if code == 0x82 else RESPONSE)
    assert m.weird is None


def test_complete_gives_a_response_the_function_and_action_it_answers() -> None:
    from protocols.dnp3.message import complete

    req = one(request(0x0D, seq=4))
    rsp = one(response(header(52, 2, 0x07, 1) + b"\x10\x00", seq=4), from_master=False)
    assert rsp.pair_key == req.pair_key and rsp.action == "read"
    done = complete(req, rsp)
    assert (done.function_name, done.action, done.direction) == ("response", "restart", RESPONSE)
    assert (done.fields["request_function_code"], done.fields["request_function_name"]) == (0x0D, "cold_restart")
    assert "request_function_code" not in rsp.fields  # the original is left alone
    [(_, reset)] = Dnp3Stream(True).feed(link_frame(0xC0, OUTSTATION, MASTER), 1)
    assert complete(reset, rsp) is rsp
