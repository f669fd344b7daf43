"""Records -> Message: names, actions, directions, pairing, fields and facts."""
from __future__ import annotations

import json
import struct

from s7comm_frames import (
    CC,
    COLD_START,
    CR,
    HOT_START,
    IDENT_001C,
    IDENT_0011,
    PLC_STOP,
    READ_DB1,
    READ_DB1_ACK,
    SETUP_JOB,
    WRITE_M4,
    cr,
    dc,
    dr,
    dt,
    get_multi_variables,
    plus_request,
    plus_response,
    s7,
    s7any,
    set_operating_state,
    szl_request,
    tpkt,
    userdata,
)

from protocols.base import ACTIONS, Fact, Message, Point
from protocols.s7comm.codes import PlusFunction
from protocols.s7comm.message import cotp_message, plus_message, s7_message
from protocols.s7comm.plus import parse_pdu as parse_plus
from protocols.s7comm.wire import parse_cotp, parse_pdu, parse_tpkt


def cotp(frame: bytes):
    return parse_cotp(parse_tpkt(frame)[0])[0]


def s7msg(frame: bytes, is_request: bool = True, **kw) -> Message:
    result = parse_pdu(cotp(frame).user_data)
    assert isinstance(result, tuple)
    message = s7_message(result[0], is_request, **kw)
    check(message)
    return message


def check(message: Message) -> None:
    assert message.action in ACTIONS
    assert json.loads(json.dumps(message.fields)) == message.fields


def facts(message: Message, kind: str) -> list[Fact]:
    return [f for f in message.facts if f.kind == kind]


def test_connection_request_is_a_session_and_names_the_roles() -> None:
    m = cotp_message(cotp(CR), True)
    check(m)
    assert (m.function_code, m.function_name, m.action, m.direction) == (0xE0, "connection_request", "session",
                                                                          "request")
    assert m.fields["calling_tsap"] == {"hex": "0100"} and m.fields["called_tsap"] == {"hex": "0102"}
    assert (m.fields["connection_type"], m.fields["rack"], m.fields["slot"]) == ("pg", 0, 2)
    assert {(f.about, f.value) for f in facts(m, "role")} == {("client", "client"), ("server", "server"),
                                                               ("client", "engineering_station")}


def test_confirm_pairs_with_its_request_by_reference() -> None:
    request, confirm = cotp_message(cotp(CR), True), cotp_message(cotp(CC), False)
    assert confirm.direction == "response" and request.pair_key == confirm.pair_key
    down, done = cotp_message(cotp(tpkt(dr())), True), cotp_message(cotp(tpkt(dc(dst_ref=0x0001))), False)
    assert (down.function_name, down.fields["reason_name"], done.function_name) == \
        ("disconnect_request", "normal", "disconnect_confirm")
    assert down.pair_key == done.pair_key and down.action == done.action == "session"


def test_s7comm_plus_tsaps_name_hmi_and_engineering_roles() -> None:
    hmi = cotp_message(cotp(tpkt(cr(calling=b"\x06\x20", called=b"SIMATIC-ROOT-HMI"))), True)
    es = cotp_message(cotp(tpkt(cr(calling=b"\x06\x00", called=b"SIMATIC-ROOT-ES"))), True)
    assert hmi.fields["called_tsap"]["text"] == "SIMATIC-ROOT-HMI"
    assert ("client", "hmi") in {(f.about, f.value) for f in facts(hmi, "role")}
    assert ("client", "engineering_station") in {(f.about, f.value) for f in facts(es, "role")}
    op = cotp_message(cotp(tpkt(cr(called=b"\x02\x01"))), True)
    assert op.fields["connection_type"] == "op" and ("client", "hmi") in {(f.about, f.value) for f in facts(op, "role")}


def test_setup_communication() -> None:
    m = s7msg(SETUP_JOB)
    assert (m.function_code, m.function_name, m.action, m.direction, m.pair_key) == \
        (0xF0, "setup_communication", "session", "request", ("s7comm", 0x0100))
    assert (m.fields["pdu_length"], m.fields["max_amq_calling"]) == (480, 1)


def test_read_var_points_and_response_pairing() -> None:
    request, response = s7msg(READ_DB1), s7msg(READ_DB1_ACK, False)
    assert (request.function_name, request.action, response.direction) == ("read_var", "read", "response")
    assert request.pair_key == response.pair_key == ("s7comm", 2)
    assert facts(request, "point") == [Fact("point", "client", Point("DB1", 0, 4, "read"))]
    assert request.fields["items"][0]["address"] == "DB1.DBB0"
    assert response.fields["data_items"][0]["data"] == "10111213" and not facts(response, "point")


def test_write_var_points_carry_the_values() -> None:
    m = s7msg(WRITE_M4)
    assert (m.function_name, m.action) == ("write_var", "write")
    assert facts(m, "point") == [Fact("point", "client", Point("M", 4, 2, "write", values=(0xAA, 0xBB)))]
    assert m.fields["items"][0]["address"] == "MB4"


def test_point_units_bits_counters_and_dbread() -> None:
    items = [s7any(0x84, 7, 10, 3, tsize=0x01), s7any(0x83, 0, 100, tsize=0x04, length=3),
             s7any(0x1D, 0, 0, tsize=0x1D, length=2), bytes([0x12, 0x07, 0xB0, 1, 4, 0x00, 0x51, 0x01, 0x72])]
    items[2] = bytes([0x12, 0x0A, 0x10, 0x1D, 0, 2, 0, 0, 0x1D, 0, 0, 5])  # timers T5, T6
    m = s7msg(tpkt(dt(s7(1, 1, bytes([0x04, 4]) + b"".join(items)))))
    assert [f.value for f in facts(m, "point")] == [
        Point("DB7", 10, 1, "read"), Point("M", 100, 6, "read"), Point("T", 5, 2, "read"), Point("DB81", 370, 4, "read")]
    assert [i.get("address") for i in m.fields["items"]] == ["DB7.DBX10.3", "MW100", "T5", None]


def test_mode_changes_and_their_pi_services() -> None:
    stop, hot, cold = s7msg(PLC_STOP), s7msg(HOT_START), s7msg(COLD_START)
    assert (stop.function_name, stop.action) == ("plc_stop", "mode_change")
    assert (hot.function_name, hot.action, hot.fields["pi_service"], hot.fields["restart"]) == \
        ("pi_service", "mode_change", "P_PROGRAM", "warm")
    assert (cold.fields["argument"], cold.fields["restart"]) == ("C ", "cold")


def test_pi_service_actions_follow_the_service() -> None:
    def pi(service: bytes, block: bytes = b"") -> Message:
        param = b"\x28" + bytes(7) + struct.pack(">H", len(block)) + block + bytes([len(service)]) + service
        return s7msg(tpkt(dt(s7(1, 1, param))))

    assert pi(b"_INSE", b"\x01\x00" + b"0A00001P").action == "program_download"
    assert pi(b"_DELE", b"\x01\x00" + b"0A00001P").action == "other"
    assert pi(b"_MODU", b"EP").action == "other"
    assert pi(b"_N_F_DELE").action == "other"  # an NC service: unknown here, the function's own action


def test_block_transfers() -> None:
    download = s7msg(tpkt(dt(s7(1, 5, b"\x1a\x00\x01\x00" + bytes(4) + b"\x09_0A00002P"))))
    upload = s7msg(tpkt(dt(s7(1, 6, b"\x1d" + bytes(7) + b"\x09_0800001A"))))
    assert (download.function_name, download.action, download.fields["block"]) == \
        ("request_download", "program_download", "DB2")
    assert (upload.function_name, upload.action, upload.fields["block"]) == ("start_upload", "program_upload", "OB1")


def test_ack_without_parameter() -> None:
    m = s7msg(tpkt(dt(s7(2, 7, b"", error=(0x81, 0x04)))), False)
    assert (m.function_code, m.function_name, m.direction, m.fields["error_class_name"]) == \
        (2, "ack", "response", "application_relationship")


def test_read_szl_identity_is_about_the_sender() -> None:
    request = s7msg(szl_request(3, 0x001C), True)
    assert (request.function_code, request.function_name, request.action) == (0x0401, "read_szl", "read")
    assert (request.fields["szl_id"], request.direction, request.pair_key) == (0x001C, "request", ("s7comm_userdata", 3))
    response = s7msg(userdata(3, 8, 4, 1, IDENT_001C, unit=(0, 0)), False)
    [fact] = facts(response, "identity")
    assert fact.about == "server" and fact.value["name"] == "STATION_1" and response.pair_key == request.pair_key
    order = s7msg(userdata(4, 8, 4, 1, IDENT_0011, unit=(0, 0)), False)
    assert facts(order, "identity")[0].value["firmware"] == "V3.2.6"


def test_szl_fragments_are_not_decoded_until_joined() -> None:
    first = s7msg(userdata(3, 8, 4, 1, IDENT_001C[:100], unit=(6, 1)), False, fragment=True)
    assert first.fields["fragment"] is True and not facts(first, "identity")
    last = s7msg(userdata(4, 8, 4, 1, IDENT_001C[100:], unit=(6, 0)), False, szl_data=IDENT_001C)
    assert facts(last, "identity")[0].value["location"] == "HALL 3"


def test_userdata_push_is_unsolicited_and_unpaired() -> None:
    m = s7msg(userdata(0, 0, 4, 3, bytes(20)), False)
    assert (m.function_name, m.direction, m.pair_key, m.action) == ("diagnostic_message", "unsolicited", None,
                                                                     "diagnostics")
    mode = s7msg(tpkt(dt(bytes.fromhex("320700000000000800000100101000000200"))), False)
    assert (mode.function_name, mode.fields["current_mode"], mode.action) == ("mode_transition", "run", "diagnostics")


def test_unknown_userdata_degrades() -> None:
    m = s7msg(userdata(1, 4, 5, 0x44, b""), True)
    assert (m.function_code, m.function_name, m.action) == (0x0544, "unknown_0x544", "other")


def test_cyclic_subscription_points_are_reads() -> None:
    m = s7msg(userdata(1, 4, 2, 1, b"\x00\x01\x01\x05" + s7any(0x84, 3, 4, length=2)), True)
    assert (m.function_name, m.action, m.fields["interval"]) == ("cyclic_transfer", "read", 5)
    assert [f.value for f in facts(m, "point")] == [Point("DB3", 4, 2, "read")]


def test_clock() -> None:
    m = s7msg(userdata(1, 4, 7, 2, bytes.fromhex("0019240506070809000" "2")), True)
    assert (m.function_name, m.action, m.fields["time"]) == ("set_clock", "time_sync", "2024-05-06T07:08:09.000")


# --- S7comm-plus -------------------------------------------------------------------------------------


def plus(data: bytes, is_request: bool = True, version: int = 2) -> Message:
    m = plus_message(parse_plus(version, data), is_request)
    check(m)
    return m


def test_plus_start_stop_is_a_mode_change() -> None:
    stop = plus(set_operating_state(7, 0x390, 1))
    assert (stop.function_code, stop.function_name, stop.action, stop.fields["object"], stop.fields["value"]) == \
        (0x04F2, "set_variable", "mode_change", "operating_state", 1)
    assert stop.pair_key == ("s7comm_plus", 7) and stop.fields["session_id"] == 0x390


def test_plus_other_set_variable_is_a_write_and_subscription_credit_a_read() -> None:
    body = struct.pack(">I", 0x7000000A) + bytes([1]) + bytes([0x95, 0x17]) + bytes([0, 4, 1])
    assert plus(plus_request(PlusFunction.SET_VARIABLE, 1, 2, body)).action == "write"
    credit = struct.pack(">I", 0x70000E51) + bytes([1]) + bytes([0x88, 0x1D]) + bytes([0, 4, 0x81, 0x4E])
    assert plus(plus_request(PlusFunction.SET_VARIABLE, 1, 2, credit)).action == "read"


def test_plus_session_and_program_download() -> None:
    session = plus(plus_request(PlusFunction.CREATE_OBJECT, 1, 288, struct.pack(">I", 285) + bytes(8), 0x36))
    assert (session.action, session.fields["object"]) == ("session", "server_session")
    assert {(f.about, f.value) for f in facts(session, "role")} == {("client", "client"), ("server", "server")}
    block = plus(plus_request(PlusFunction.CREATE_OBJECT, 39, 960, struct.pack(">I", 3) + bytes(8)))
    assert (block.action, block.fields["object"]) == ("program_download", "plc_program")
    bye = plus(plus_request(PlusFunction.DELETE_OBJECT, 9, 904, struct.pack(">I", 904) + bytes(4)))
    assert (bye.action, bye.fields["object"]) == ("session", "server_session")


def test_plus_response_and_identity() -> None:
    body = b"\x00" * 10 + b"\x15\x1a1;6ES7 511-1AK00-0AB0;V1.0" + b"\x00" * 4
    m = plus(plus_response(PlusFunction.CREATE_OBJECT, 1, body), False, version=1)
    assert (m.direction, m.pair_key, m.fields["opcode_name"]) == ("response", ("s7comm_plus", 1), "response")
    assert facts(m, "identity") == [Fact("identity", "server", {"order_code": "6ES7 511-1AK00-0AB0",
                                                                "firmware": "V1.0", "vendor": "Siemens"})]


def test_plus_points_from_item_addresses() -> None:
    m = plus(get_multi_variables(4, 0x388, [(0x8A0E0002, 2550, [10]), (201, 1037, [1000])]))
    assert [f.value for f in facts(m, "point")] == [Point("DB2", None, 1, "read", name="8A0E0002.A")]
    assert [i["address"] for i in m.fields["items"]] == ["8A0E0002.A", "C9.3E8"]


def test_plus_keep_alive_and_notification() -> None:
    ka = plus_message(parse_plus(0xFF, b"", 3), False)
    assert (ka.function_code, ka.function_name, ka.direction, ka.action, ka.pair_key) == \
        (0, "keep_alive", "unsolicited", "session", None)
    note = plus(bytes([0x33]) + struct.pack(">I", 5) + bytes(4), False, version=3)
    assert (note.function_code, note.function_name, note.direction, note.action) == (0, "notification",
                                                                                      "unsolicited", "read")


def test_a_pdu_oddity_comes_first_but_the_identity_is_still_read() -> None:
    frame = userdata(3, 8, 4, 1, IDENT_001C, unit=(0, 0))
    frame = frame[:2] + (int.from_bytes(frame[2:4], "big") + 2).to_bytes(2, "big") + frame[4:] + b"\x00\x00"
    frame = frame[:15] + (int.from_bytes(frame[15:17], "big") + 2).to_bytes(2, "big") + frame[17:]  # data length
    m = s7msg(frame, False)
    assert m.weird == "s7comm_trailing_bytes"
    assert facts(m, "identity")[0].value["name"] == "STATION_1"
