"""IEC 104 APDUs into messages: formats, directions, roles, pairing, points, elements and every weird code."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iec104_frames import (  # noqa: E402
    STARTDT_ACT,
    STARTDT_CON,
    STOPDT_ACT,
    TESTFR_ACT,
    TESTFR_CON,
    apdu,
    asdu,
    cp56,
    i_frame,
    interrogation,
    measured_float,
    s_frame,
    setpoint_float,
)

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Malformed, Message, NeedMore, Point, Verdict  # noqa: E402
from protocols.iec104 import SPEC, Iec104Stream, apdu_message, parse_apdu, parse_asdu, probe  # noqa: E402
from protocols.iec104.codes import cause_name, type_name  # noqa: E402


def one(data: bytes, is_request: bool = True, **kw) -> Message:
    apdu_, used = parse_apdu(data)
    assert used == len(data)
    return apdu_message(apdu_, is_request, **kw)


def roles(m: Message) -> set[tuple[str, str]]:
    return {(f.about, f.value) for f in m.facts if f.kind == "role"}


def points(m: Message) -> list[tuple[str, Point]]:
    return [(f.about, f.value) for f in m.facts if f.kind == "point"]


# --- APCI ----------------------------------------------------------------------------------------------------

def test_u_formats_name_their_function_and_pair_act_with_con() -> None:
    act, con = one(STARTDT_ACT), one(STARTDT_CON, is_request=False)
    assert (act.function_code, act.function_name, act.action, act.direction) == (0x107, "STARTDT_act", "session",
                                                                                 REQUEST)
    assert (con.function_name, con.direction, con.fields) == ("STARTDT_con", RESPONSE,
                                                               {"apci_type": "U", "u_function": 2})
    assert act.pair_key == con.pair_key and act.pair_key != one(TESTFR_ACT).pair_key
    assert roles(act) == {("client", "controlling_station"), ("server", "controlled_station")}
    assert roles(con) == roles(act)  # the con comes from the server: the controlled station
    assert roles(one(TESTFR_ACT)) == roles(one(TESTFR_CON, False)) == set()  # either side may test
    assert one(STOPDT_ACT).function_name == "STOPDT_act"


def test_s_format_acknowledges_with_its_receive_sequence() -> None:
    m = one(s_frame(1234), is_request=False)
    assert (m.function_code, m.function_name, m.direction, m.pair_key) == (0x101, "S_format", RESPONSE, None)
    assert m.fields == {"apci_type": "S", "receive_sequence": 1234} and m.weird is None


def test_i_format_sequence_numbers_use_all_fifteen_bits() -> None:
    m = one(i_frame(interrogation(), send=32767, receive=16385))
    assert (m.fields["send_sequence"], m.fields["receive_sequence"]) == (32767, 16385)


@pytest.mark.parametrize(("data", "weird"), [
    (apdu(b"\x47\x00\x00\x00"), "iec104_bad_u_function"),  # STARTDT act and TESTFR act at once
    (apdu(b"\x03\x00\x00\x00"), "iec104_bad_u_function"),  # no function bit
    (apdu(b"\x07\x01\x00\x00"), "iec104_bad_control_field"),
    (apdu(b"\x01\x02\x00\x00"), "iec104_bad_control_field"),
    (apdu(b"\x00\x00\x01\x00", interrogation()), "iec104_bad_control_field"),
    (apdu(b"\x07\x00\x00\x00", b"\x01"), "iec104_unexpected_asdu"),
    (apdu(b"\x01\x00\x00\x00", b"\x01\x02"), "iec104_unexpected_asdu"),
])
def test_control_field_oddities_are_weirds_of_a_message(data: bytes, weird: str) -> None:
    assert one(data).weird == weird


def test_an_apdu_length_above_253_is_read_with_a_weird() -> None:
    data = i_frame(asdu(1, 3, [(k, b"\x01") for k in range(61)]))  # 4 + 6 + 61 * 4 = 254 octets
    assert data[1] == 254
    m = one(data)
    assert m.weird == "iec104_apdu_too_long" and m.function_name == "M_SP_NA_1"


def test_parse_apdu_three_outcomes() -> None:
    assert parse_apdu(b"") == NeedMore(2) and parse_apdu(b"\x68") == NeedMore(1)
    assert parse_apdu(STARTDT_ACT[:5]) == NeedMore(1)
    with pytest.raises(Malformed) as bad:
        parse_apdu(b"\x00\x68\x04")
    assert bad.value.code == "iec104_bad_start"
    with pytest.raises(Malformed) as bad:
        parse_apdu(b"\x68\x02\x07\x00")
    assert bad.value.code == "iec104_bad_length"


# --- ASDU: direction, roles, pairing --------------------------------------------------------------------------

def test_interrogation_is_a_read_request_and_its_confirmation_pairs() -> None:
    act = one(i_frame(interrogation(qoi=20, common_address=47)))
    con = one(i_frame(interrogation(cause=7, common_address=47)), is_request=False)
    term = one(i_frame(interrogation(cause=10, common_address=47)), is_request=False)
    assert (act.function_code, act.function_name, act.action, act.direction) == (100, "C_IC_NA_1", "read", REQUEST)
    assert act.fields["objects"] == [{"ioa": 0, "qualifier": 20}] and act.fields["common_address"] == 47
    assert con.direction == term.direction == RESPONSE and act.pair_key == con.pair_key == term.pair_key
    assert roles(act) == roles(con) == {("client", "controlling_station"), ("server", "controlled_station")}
    assert points(act) == points(con) == []


@pytest.mark.parametrize(("cause", "direction"), [(1, UNSOLICITED), (2, UNSOLICITED), (3, UNSOLICITED),
                                                  (5, RESPONSE), (20, RESPONSE), (36, RESPONSE), (37, RESPONSE)])
def test_monitoring_data_direction_follows_the_cause(cause: int, direction: str) -> None:
    m = one(i_frame(measured_float(cause, [(1003, 21.5)])), is_request=False)
    assert (m.direction, m.action, m.pair_key) == (direction, "read", None)
    assert roles(m) == {("server", "controlled_station"), ("client", "controlling_station")}
    assert points(m) == [("client", Point("M_ME_NC_1", 1003, 1, "read"))]


def test_a_controlled_station_that_dialled_out_is_still_the_controlled_station() -> None:
    """Roles come from what the message is: spontaneous data sent by the flow's client make it the RTU."""
    m = one(i_frame(measured_float(3, [(7, 1.0)])), is_request=True)
    assert roles(m) == {("client", "controlled_station"), ("server", "controlling_station")}
    assert points(m) == [("server", Point("M_ME_NC_1", 7, 1, "read"))]


def test_command_select_then_execute_is_operate_and_writes_once() -> None:
    select = one(i_frame(setpoint_float(2002, 12.25, select=True)))
    execute = one(i_frame(setpoint_float(2002, 12.25)))
    con = one(i_frame(setpoint_float(2002, 12.25, cause=7)), is_request=False)
    assert select.action == execute.action == "operate" and select.direction == execute.direction == REQUEST
    assert select.fields["objects"] == [{"ioa": 2002, "value": 12.25, "qualifier": 0, "select": True}]
    assert points(select) == [] and points(con) == []
    assert points(execute) == [("client", Point("C_SE_NC_1", 2002, 1, "write", values=(12.25,)))]
    assert con.pair_key == execute.pair_key == ("ASDU", 50, 1, 2002)


def test_negative_confirmation_and_test_bit() -> None:
    m = one(i_frame(asdu(45, 47, [(9, b"\x01")], negative=True, test=True)), is_request=False)
    assert (m.fields["cause"], m.fields["cause_name"], m.fields["negative"], m.fields["test"]) == (
        47, "unknown_ioa", True, True)
    assert m.direction == RESPONSE and m.pair_key == ("ASDU", 45, 1, 9)


def test_single_command_time_tagged_lands_in_the_same_space() -> None:
    m = one(i_frame(asdu(58, 6, [(5, b"\x01" + cp56(2024, 2, 29, 23, 59, 59999, invalid=True))])))
    assert m.fields["objects"] == [{"ioa": 5, "value": 1, "qualifier": 0, "select": False,
                                    "time": "2024-02-29T23:59:59.999", "time_invalid": True}]
    assert points(m) == [("client", Point("C_SC_NA_1", 5, 1, "write", values=(1,)))]


@pytest.mark.parametrize(("type_id", "action"), [(103, "time_sync"), (105, "restart"), (107, "diagnostics"),
                                                 (101, "read"), (102, "read"), (110, "write"), (46, "operate")])
def test_actions_of_system_commands(type_id: int, action: str) -> None:
    assert SPEC.actions[type_name(type_id)] == action


def test_file_transfer_calls_are_requests_and_segments_responses() -> None:
    call = one(i_frame(asdu(122, 13, [(5, b"\x01\x00\x00\x01")])))
    segment = one(i_frame(asdu(125, 13, [(5, b"\x01\x00\x01\x03abc")])), is_request=False)
    assert (call.action, call.direction, segment.action, segment.direction) == (
        "file_transfer", REQUEST, "file_transfer", RESPONSE)
    assert segment.fields["objects"] == [{"ioa": 5, "file": 1, "section": 1, "length": 3, "segment": "616263"}]
    assert roles(call) == roles(segment) == set()


# --- information elements ---------------------------------------------------------------------------------------

def test_sequence_of_elements_counts_addresses_up() -> None:
    parsed = parse_asdu(asdu(1, 20, [(10010 + k, bytes([k & 1 | 0x80 * (k == 2)])) for k in range(4)], sq=True))
    assert [(o.ioa, o.elements["value"], o.elements["quality"]) for o in parsed.objects] == [
        (10010, 0, []), (10011, 1, []), (10012, 0, ["IV"]), (10013, 1, [])]


@pytest.mark.parametrize(("type_id", "elements", "expected"), [
    (3, b"\x42", {"value": 2, "quality": ["NT"]}),
    (5, b"\xc1\x01", {"value": -63, "transient": True, "quality": ["OV"]}),
    (7, b"\x78\x56\x34\x12\x00", {"value": 0x12345678, "quality": []}),
    (9, b"\x00\x40\x10", {"value": 0.5, "quality": ["BL"]}),
    (11, b"\x2e\xfb\x20", {"value": -1234, "quality": ["SB"]}),
    (13, struct.pack("<f", float("inf")) + b"\x00", {"value": "inf", "quality": []}),
    (15, b"\x92\x10\x00\x00\xe3", {"value": 4242, "sequence": 3, "quality": ["CY", "CA", "IV"]}),
    (2, b"\x01\x10\x27\x85", {"value": 1, "quality": [], "time": "05:10.000", "time_invalid": True}),
    (46, b"\x86", {"value": 2, "qualifier": 1, "select": True}),
    (70, b"\x82", {"value": 2, "parameter_change": True}),
    (101, b"\x45", {"qualifier": 5, "freeze": 1}),
])
def test_elements_in_the_standards_words(type_id: int, elements: bytes, expected: dict) -> None:
    [o] = parse_asdu(asdu(type_id, 3, [(1, elements)])).objects
    assert o.elements == expected


def test_cp56time2a_summer_time() -> None:
    [o] = parse_asdu(asdu(103, 6, [(0, cp56(2026, 11, 30, 5, 20, 36414, summer=True))])).objects
    assert o.elements == {"time": "2026-11-30T05:20:36.414", "summer_time": True}


# --- ASDU weirds -------------------------------------------------------------------------------------------------

def test_short_asdu_still_gives_what_it_has() -> None:
    m = one(i_frame(b"\x18\x18"))
    assert (m.function_code, m.weird, m.fields["number_of_objects"]) == (24, "iec104_short_asdu", 24)
    assert "cause" not in m.fields
    empty = one(i_frame(b""))
    assert (empty.function_code, empty.function_name, empty.weird) == (0x100, "I_format", "iec104_short_asdu")


@pytest.mark.parametrize(("data", "weird"), [
    (asdu(13, 3, [(1, b"\x00\x00\x80\x3f\x00")], number=2), "iec104_asdu_truncated"),
    (asdu(13, 3, [(1, b"\x00\x00\x80\x3f\x00")]) + b"\x00", "iec104_trailing_bytes"),
    (asdu(200, 3, [(1, b"\x00")]), "iec104_unknown_type"),
    (asdu(1, 0, [(1, b"\x00")]), "iec104_undefined_cause"),
    (asdu(1, 15, [(1, b"\x00")]), "iec104_undefined_cause"),
])
def test_asdu_oddities(data: bytes, weird: str) -> None:
    assert one(i_frame(data)).weird == weird


def test_too_many_objects_keeps_the_first() -> None:
    data = i_frame(asdu(1, 20, [(k, b"\x01") for k in range(10)]))
    m = one(data, max_objects=4)
    assert m.weird == "iec104_too_many_objects" and [o["ioa"] for o in m.fields["objects"]] == [0, 1, 2, 3]
    assert len(points(m)) == 4
    assert one(data).weird is None


def test_cause_names() -> None:
    assert [cause_name(c) for c in (3, 6, 7, 10, 20, 37, 44, 50, 0)] == [
        "spont", "act", "actcon", "actterm", "inrogen", "reqcogen", "unknown_type_id", "private_50", "unknown_0x00"]


# --- the framer and the probe -------------------------------------------------------------------------------------

def test_framer_resynchronises_on_the_next_start_octet_and_reports_once() -> None:
    stream = Iec104Stream(True)
    out = stream.feed(b"\x00\x01\x02" + STARTDT_ACT + b"\x05\x06" + b"\x68\x02\x07\x00" + TESTFR_ACT, "seg")
    kinds = [o.code if isinstance(o, Malformed) else o.function_name for _, o in out]
    assert kinds == ["iec104_bad_start", "STARTDT_act", "iec104_bad_start", "iec104_bad_length", "TESTFR_act"]
    assert [o.offset for _, o in out if isinstance(o, Malformed)] == [0, 9, 11]
    assert stream.feed(b"\x99" * 3, "a") != [] and stream.feed(b"\x99" * 3, "b") == []  # one report per run


def test_framer_waits_for_the_rest_and_reports_with_the_completing_tag() -> None:
    stream = Iec104Stream(False)
    data = i_frame(measured_float(3, [(1, 2.0)]))
    assert stream.feed(data[:7], 1) == [] and stream.pending == 7
    [(tag, m)] = stream.feed(data[7:], 2)
    assert tag == 2 and m.function_name == "M_ME_NC_1" and stream.pending == 0
    stream.feed(data[:5], 3)
    stream.gap()
    assert stream.pending == 0


def test_framer_buffer_bound_is_reported() -> None:
    stream = Iec104Stream(True, max_buffer=8)
    out = stream.feed(i_frame(measured_float(3, [(1, 2.0)]))[:12], 1)
    assert [o.code for _, o in out] == ["iec104_buffer_overflow"] and stream.pending == 0


@pytest.mark.parametrize(("data", "verdict"), [
    (STARTDT_ACT, Verdict.ACCEPT), (s_frame(3), Verdict.ACCEPT), (i_frame(interrogation()), Verdict.ACCEPT),
    (b"\x68", Verdict.MORE), (b"\x68\x04\x07", Verdict.MORE), (i_frame(interrogation())[:8], Verdict.MORE),
    (b"GET / HTTP/1.1\r\n", Verdict.REJECT), (b"\x68\x02\x07\x00\x00\x00", Verdict.REJECT),
    (apdu(b"\x47\x00\x00\x00"), Verdict.REJECT), (apdu(b"\x07\x00\x00\x00", b"\x00"), Verdict.REJECT),
    (i_frame(asdu(200, 3, [(1, b"\x00")])), Verdict.REJECT), (i_frame(asdu(1, 0, [(1, b"\x00")])), Verdict.REJECT),
    (b"hello world", Verdict.REJECT),
])
def test_probe(data: bytes, verdict: Verdict) -> None:
    assert probe(data) is verdict
