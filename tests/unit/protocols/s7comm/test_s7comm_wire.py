"""TPKT, COTP and S7comm records from crafted bytes: each function's three outcomes, and the weirds."""
from __future__ import annotations

import struct

import pytest
from s7comm_frames import (
    COLD_START,
    CR,
    HOT_START,
    PLC_STOP,
    READ_DB1,
    READ_DB1_ACK,
    SETUP_ACK,
    SETUP_JOB,
    WRITE_M4,
    WRITE_M4_ACK,
    cc,
    data_item,
    dc,
    dr,
    dt,
    s7,
    s7any,
    tpkt,
    userdata,
)

from protocols.base import Malformed, NeedMore
from protocols.s7comm.codes import Tpdu
from protocols.s7comm.wire import Cotp, S7Pdu, data_item_bytes, parse_cotp, parse_pdu, parse_tpkt


def cotp_of(frame: bytes) -> Cotp:
    payload, used = parse_tpkt(frame)
    assert used == len(frame)
    cotp, n = parse_cotp(payload)
    assert n == len(payload)
    return cotp


def pdu_of(frame: bytes) -> S7Pdu:
    result = parse_pdu(cotp_of(frame).user_data)
    assert isinstance(result, tuple), result
    pdu, used = result
    return pdu


# --- TPKT ------------------------------------------------------------------------------------------


def test_tpkt_returns_the_tpdu_and_its_length() -> None:
    payload, used = parse_tpkt(SETUP_JOB + b"\x03\x00")
    assert used == len(SETUP_JOB)
    assert payload == SETUP_JOB[4:]


@pytest.mark.parametrize("cut", range(0, 24))
def test_tpkt_cut_short_needs_more(cut: int) -> None:
    result = parse_tpkt(SETUP_JOB[:cut])
    assert isinstance(result, NeedMore) and result.needed == (4 - cut if cut < 4 else len(SETUP_JOB) - cut)


@pytest.mark.parametrize(("data", "code"), [
    (b"\x04\x00\x00\x07", "s7comm_bad_tpkt_version"),
    (b"\x16", "s7comm_bad_tpkt_version"),  # a TLS record: refused from its first octet
    (b"\x03\x01", "s7comm_bad_tpkt_reserved"),
    (b"\x03\x00\x00\x06\x02\xf0", "s7comm_bad_tpkt_length"),
    (b"GET / HTTP/1.1\r\n", "s7comm_bad_tpkt_version"),
])
def test_tpkt_header_errors_are_malformed(data: bytes, code: str) -> None:
    with pytest.raises(Malformed) as bad:
        parse_tpkt(b"xx" + data, 2)
    assert (bad.value.code, bad.value.offset) == (code, 2)


# --- COTP ------------------------------------------------------------------------------------------


def test_connection_request_with_tsaps() -> None:
    cotp = cotp_of(CR)
    assert (cotp.code, cotp.dst_ref, cotp.src_ref, cotp.class_option, cotp.credit) == (Tpdu.CONNECTION_REQUEST, 0, 1, 0, 0)
    assert (cotp.calling_tsap, cotp.called_tsap, cotp.tpdu_size) == (b"\x01\x00", b"\x01\x02", 1024)
    assert cotp.weird is None and cotp.user_data == b""


def test_connection_confirm_disconnect_request_and_confirm() -> None:
    confirm = cotp_of(tpkt(cc(dst_ref=7, src_ref=9)))
    assert (confirm.code, confirm.dst_ref, confirm.src_ref) == (Tpdu.CONNECTION_CONFIRM, 7, 9)
    request = cotp_of(tpkt(dr(dst_ref=9, src_ref=7, reason=0x80)))
    assert (request.code, request.dst_ref, request.src_ref, request.reason) == (Tpdu.DISCONNECT_REQUEST, 9, 7, 0x80)
    confirm = cotp_of(tpkt(dc(dst_ref=7, src_ref=9)))
    assert (confirm.code, confirm.dst_ref, confirm.src_ref) == (Tpdu.DISCONNECT_CONFIRM, 7, 9)


def test_data_tpdu_eot_and_number() -> None:
    last = cotp_of(tpkt(dt(b"\x32", eot=True, nr=5)))
    more = cotp_of(tpkt(dt(b"\x32", eot=False)))
    assert (last.code, last.eot, last.tpdu_nr, last.user_data) == (Tpdu.DATA, True, 5, b"\x32")
    assert (more.eot, more.user_data) == (False, b"\x32")


def test_data_tpdu_of_classes_2_to_4_carries_a_destination_reference() -> None:
    cotp = cotp_of(tpkt(bytes([4, 0xF0, 0x12, 0x34, 0x80]) + b"xy"))
    assert (cotp.dst_ref, cotp.eot, cotp.user_data) == (0x1234, True, b"xy")


def test_tpdu_error_carries_its_cause() -> None:
    cotp = cotp_of(tpkt(bytes([4, 0x70, 0, 1, 0x02])))
    assert (cotp.code, cotp.dst_ref, cotp.reason) == (Tpdu.TPDU_ERROR, 1, 2)


def test_unknown_tpdu_code_degrades_to_a_weird() -> None:
    cotp = cotp_of(tpkt(bytes([2, 0x30, 0x00])))
    assert (cotp.code, cotp.weird) == (0x30, "s7comm_unknown_tpdu")


def test_parameter_past_the_header_is_weird() -> None:
    cotp = cotp_of(tpkt(bytes([9, 0xE0, 0, 0, 0, 1, 0, 0xC1, 9, 1])))
    assert cotp.weird == "s7comm_bad_cotp_parameter"


@pytest.mark.parametrize("tpdu", [b"", b"\x02", bytes([9, 0xF0, 0x80]), bytes([0, 0xF0]), bytes([2, 0xE0, 0])])
def test_cotp_length_indicator_that_does_not_fit_is_malformed(tpdu: bytes) -> None:
    with pytest.raises(Malformed) as bad:
        parse_cotp(tpdu)
    assert bad.value.code == "s7comm_bad_cotp_length"


# --- S7comm: header ----------------------------------------------------------------------------------


def test_header_fields() -> None:
    pdu = pdu_of(READ_DB1_ACK)
    h = pdu.header
    assert (h.rosctr, h.pdu_ref, h.parameter_length, h.data_length, h.error_class, h.error_code) == (3, 2, 2, 8, 0, 0)


@pytest.mark.parametrize(("data", "code"), [
    (b"\x33\x01", "s7comm_bad_protocol_id"),
    (b"\x32\x04", "s7comm_bad_rosctr"),
    (b"\x32\x09", "s7comm_bad_rosctr"),
])
def test_not_s7comm_is_malformed(data: bytes, code: str) -> None:
    with pytest.raises(Malformed) as bad:
        parse_pdu(data + bytes(10))
    assert bad.value.code == code


def test_cut_pdu_needs_more() -> None:
    data = cotp_of(READ_DB1).user_data
    for cut in range(1, len(data)):
        assert isinstance(parse_pdu(data[:cut]), NeedMore), cut


def test_setup_communication() -> None:
    job, ack = pdu_of(SETUP_JOB), pdu_of(SETUP_ACK)
    assert job.function == 0xF0 and (job.setup.max_amq_calling, job.setup.max_amq_called, job.setup.pdu_length) == \
        (1, 1, 480)
    assert ack.setup.pdu_length == 240 and ack.weird is None


def test_read_var_job_items() -> None:
    pdu = pdu_of(read_var_job_two())
    assert pdu.function == 0x04 and pdu.item_count == 2
    db, m = pdu.items
    assert (db.syntax_id, db.area, db.db, db.address >> 3, db.address & 7, db.transport_size, db.length) == \
        (0x10, 0x84, 1, 10, 3, 0x01, 1)
    assert (m.area, m.db, m.address >> 3, m.transport_size, m.length) == (0x83, 0, 100, 0x04, 2)
    assert pdu.weird is None


def read_var_job_two() -> bytes:
    return tpkt(dt(s7(1, 9, bytes([0x04, 2]) + s7any(0x84, 1, 10, 3, tsize=0x01) + s7any(0x83, 0, 100, tsize=0x04,
                                                                                          length=2))))


def test_read_var_response_items_with_fill_octets() -> None:
    data = data_item(b"\x01", tsize=0x03, last=False) + data_item(b"\xde\xad\xbe\xef") + b""
    pdu = pdu_of(tpkt(dt(s7(3, 9, b"\x04\x02", data))))
    bit, words = pdu.data_items
    assert (bit.return_code, bit.transport_size, bit.length, bit.data) == (0xFF, 0x03, 8, b"\x01")
    assert (words.length, words.data) == (32, b"\xde\xad\xbe\xef")
    assert pdu.weird is None


def test_read_var_response_error_item_has_no_data() -> None:
    pdu = pdu_of(tpkt(dt(s7(3, 9, b"\x04\x02", b"\x0a\x00\x00\x00" + data_item(b"\x07\x08")))))
    missing, ok = pdu.data_items
    assert (missing.return_code, missing.data) == (0x0A, b"") and ok.data == b"\x07\x08"


def test_write_var_job_and_ack() -> None:
    job, ack = pdu_of(WRITE_M4), pdu_of(WRITE_M4_ACK)
    assert job.function == 0x05 and job.items[0].area == 0x83 and job.data_items[0].data == b"\xaa\xbb"
    assert ack.return_codes == (0xFF,) and ack.weird is None


def test_write_var_ack_with_wrong_count_is_weird() -> None:
    assert pdu_of(tpkt(dt(s7(3, 3, b"\x05\x02", b"\xff")))).weird == "s7comm_item_count_mismatch"


@pytest.mark.parametrize(("param", "weird"), [
    (b"\x04\x02" + s7any(0x84, 1, 0), "s7comm_item_count_mismatch"),
    (b"\x04\x01" + b"\x11\x0a" + bytes(10), "s7comm_bad_item"),
    (b"\x04\x01" + s7any(0x84, 1, 0)[:8], "s7comm_bad_item"),
    (b"\x04\x01" + s7any(0x84, 1, 0) + b"\x00", "s7comm_trailing_bytes"),
])
def test_bad_items_are_weird_not_fatal(param: bytes, weird: str) -> None:
    pdu = pdu_of(tpkt(dt(s7(1, 1, param))))
    assert pdu.function == 0x04 and pdu.weird == weird


def test_other_syntaxes_are_kept_raw_and_dbread_is_decoded() -> None:
    symbolic = bytes([0x12, 0x06, 0xB2, 1, 2, 3, 4, 5])
    dbread = bytes([0x12, 0x0C, 0xB0, 2, 2, 0x00, 0x4A, 0x00, 0x6C, 4, 0x00, 0x4C, 0x01, 0x94])
    pdu = pdu_of(tpkt(dt(s7(1, 1, b"\x04\x02" + symbolic + dbread))))
    raw, areas = pdu.items
    assert (raw.syntax_id, raw.raw, raw.area) == (0xB2, bytes([1, 2, 3, 4, 5]), None)
    assert areas.db_areas == ((74, 108, 2), (76, 404, 4))


@pytest.mark.parametrize(("transport_size", "length", "octets"), [
    (0x03, 1, 1), (0x04, 16, 2), (0x04, 12, 2), (0x05, 32, 4), (0x09, 7, 7), (0x07, 4, 4), (0x00, 0, 0)])
def test_data_item_length_units(transport_size: int, length: int, octets: int) -> None:
    assert data_item_bytes(transport_size, length) == octets


def test_ack_without_parameter_is_named_by_its_rosctr() -> None:
    pdu = pdu_of(tpkt(dt(s7(2, 7, b"", error=(0x81, 0x04)))))
    assert (pdu.function, pdu.header.error_class, pdu.header.error_code, pdu.weird) == (None, 0x81, 0x04, None)


def test_job_without_parameter_is_weird() -> None:
    assert pdu_of(tpkt(dt(s7(1, 7, b"")))).weird == "s7comm_no_parameter"


def test_plc_stop_and_pi_services() -> None:
    stop, hot, cold = pdu_of(PLC_STOP), pdu_of(HOT_START), pdu_of(COLD_START)
    assert (stop.function, stop.pi.service) == (0x29, "P_PROGRAM")
    assert (hot.function, hot.pi.service, hot.pi.argument) == (0x28, "P_PROGRAM", None)
    assert (cold.pi.service, cold.pi.argument) == ("P_PROGRAM", "C ")


def test_pi_service_inse_and_dele_list_their_blocks() -> None:
    block = b"\x02\x00" + b"0A00001P" + b"0C00005P"
    param = b"\x28" + bytes(7) + struct.pack(">H", len(block)) + block + b"\x05_INSE"
    pdu = pdu_of(tpkt(dt(s7(1, 1, param))))
    assert (pdu.pi.service, pdu.pi.blocks, pdu.weird) == ("_INSE", ("DB1", "FC5"), None)


@pytest.mark.parametrize("param", [b"\x28\x00\x00", b"\x28" + bytes(7) + b"\x00\x05ab", b"\x29\x00\x00",
                                   b"\x29" + bytes(5) + b"\x09P_PRO"])
def test_cut_pi_service_is_weird(param: bytes) -> None:
    assert pdu_of(tpkt(dt(s7(1, 1, param)))).weird == "s7comm_bad_pi_service"


def test_block_control_request_download_and_upload() -> None:
    download = b"\x1a\x00\x01\x00" + bytes(4) + b"\x09_0A00002P" + b"\x0d1000040000004"
    pdu = pdu_of(tpkt(dt(s7(1, 5, download))))
    b = pdu.block
    assert (b.block_type, b.block_number, b.destination_filesystem, b.load_memory_length, b.mc7_length) == \
        ("DB", 2, "P", 40, 4)
    start = pdu_of(tpkt(dt(s7(1, 6, b"\x1d\x00\x00\x00\x00\x00\x00\x00\x09_0800001A"))))
    assert (start.block.block_type, start.block.block_number) == ("OB", 1)
    started = pdu_of(tpkt(dt(s7(3, 6, b"\x1d\x00\x01\x00\x00\x00\x00\x07\x07" + b"0000100"))))
    assert (started.block.upload_id, started.block.block_length) == (7, 100)
    upload = pdu_of(tpkt(dt(s7(3, 7, b"\x1e\x00", b"\x00\x64\x00\xfb" + bytes(100)))))
    assert upload.block.block_data_length == 100


def test_block_filename_that_is_not_a_block_is_weird() -> None:
    pdu = pdu_of(tpkt(dt(s7(1, 6, b"\x1d" + bytes(7) + b"\x05hello"))))
    assert (pdu.block.filename, pdu.block.block_type, pdu.weird) == ("hello", None, "s7comm_bad_block_filename")


# --- userdata ------------------------------------------------------------------------------------


def test_userdata_request_and_response_heads() -> None:
    request = pdu_of(userdata(3, 4, 4, 1, b"\x00\x1c\x00\x00", seq=5))
    ud = request.userdata
    assert (ud.method, ud.type, ud.group, ud.subfunction, ud.sequence_number) == (0x11, 4, 4, 1, 5)
    assert (ud.data_unit_reference, ud.return_code, ud.data) == (None, 0xFF, b"\x00\x1c\x00\x00")
    response = pdu_of(userdata(3, 8, 4, 1, b"\x00\x1c\x00\x00", unit=(6, 1)))
    ud = response.userdata
    assert (ud.type, ud.data_unit_reference, ud.last_data_unit, ud.error_code) == (8, 6, False, 0)


def test_mode_transition_push_has_its_own_head() -> None:
    pdu = pdu_of(tpkt(dt(bytes.fromhex("320700000000000800000100101000000000"))))
    assert (pdu.userdata.group, pdu.userdata.subfunction, pdu.weird) == (0, 0, None)


def test_unknown_userdata_head_is_weird() -> None:
    frame = userdata(1, 4, 4, 1, b"\x00\x11\x00\x00")
    assert pdu_of(frame.replace(b"\x00\x01\x12", b"\x09\x09\x09", 1)).weird == "s7comm_bad_userdata_head"


def test_cyclic_subscription_items() -> None:
    body = b"\x00\x02\x01\x05" + s7any(0x84, 3, 0, length=2) + s7any(0x81, 0, 1)
    pdu = pdu_of(userdata(1, 4, 2, 1, body))
    ud = pdu.userdata
    assert (ud.timebase, ud.interval) == (1, 5)
    assert [(i.area, i.db, i.address >> 3) for i in ud.items] == [(0x84, 3, 0), (0x81, 0, 1)]
    assert pdu.weird is None


def test_userdata_data_shorter_than_announced_is_weird() -> None:
    frame = userdata(1, 4, 4, 1, b"\x00\x1c\x00\x00")
    pdu_bytes = cotp_of(frame).user_data
    cut = pdu_bytes[:-1]
    cut = cut[:8] + struct.pack(">H", len(cut) - 18) + cut[10:]  # header data length follows the cut
    result = parse_pdu(cut)
    assert isinstance(result, tuple) and result[0].weird == "s7comm_bad_item"
