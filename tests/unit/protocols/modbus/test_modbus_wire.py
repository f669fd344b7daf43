"""parse_adu on annotated byte arrays: every function code both ways, exceptions, weirds, the three outcomes.

Each array is a whole Modbus/TCP ADU with one comment per field (Suricata style), so a reader can
check it against the spec tables without decoding hex in their head.
"""
from __future__ import annotations

import json

import pytest

from protocols.base import Malformed, NeedMore
from protocols.modbus.wire import FileRecord, IdentificationObject, ModbusMessage, parse_adu


def parse(adu: bytes, is_request: bool) -> ModbusMessage:
    """Parse one whole ADU and insist it used every byte."""
    result = parse_adu(adu, 0, is_request)
    assert isinstance(result, tuple), result
    message, used = result
    assert used == len(adu)
    assert message.is_request is is_request
    json.dumps(message.event_fields())
    return message


# --- FC 1 read coils ---------------------------------------------------------------------------

READ_COILS_REQ = bytes([
    0x00, 0x01,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x11,        # unit id
    0x01,        # function code: read coils
    0x00, 0x13,  # starting address 19
    0x00, 0x13,  # quantity of coils 19
])

READ_COILS_RESP = bytes([
    0x00, 0x01,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x11,        # unit id
    0x01,        # function code: read coils
    0x03,        # byte count
    0xCD,        # coils 27..20: 1100 1101 (LSB first on the wire: 1,0,1,1,0,0,1,1)
    0x6B,        # coils 35..28
    0x05,        # coils 38..36, padded with zeros
])


def test_read_coils_request() -> None:
    m = parse(READ_COILS_REQ, True)
    assert (m.transaction_id, m.unit_id, m.function_code, m.function_name) == (1, 0x11, 1, "read_coils")
    assert (m.address, m.quantity, m.values, m.exception_code, m.weird) == (19, 19, None, None, None)


def test_read_coils_response_expands_every_bit_lsb_first() -> None:
    m = parse(READ_COILS_RESP, False)
    assert m.byte_count == 3
    assert m.values == (1, 0, 1, 1, 0, 0, 1, 1,  1, 1, 0, 1, 0, 1, 1, 0,  1, 0, 1, 0, 0, 0, 0, 0)
    assert m.address is None and m.quantity is None and m.weird is None


# --- FC 2 read discrete inputs -----------------------------------------------------------------

READ_DISCRETE_REQ = bytes([
    0x00, 0x02,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x02,        # function code: read discrete inputs
    0x00, 0xC4,  # starting address 196
    0x00, 0x16,  # quantity of inputs 22
])

READ_DISCRETE_RESP = bytes([
    0x00, 0x02,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x02,        # function code: read discrete inputs
    0x03,        # byte count
    0xAC,        # inputs 203..196
    0xDB,        # inputs 211..204
    0x35,        # inputs 217..212
])


def test_read_discrete_inputs_request() -> None:
    m = parse(READ_DISCRETE_REQ, True)
    assert (m.function_code, m.function_name, m.address, m.quantity) == (2, "read_discrete_inputs", 196, 22)


def test_read_discrete_inputs_response() -> None:
    m = parse(READ_DISCRETE_RESP, False)
    assert m.byte_count == 3
    assert m.values[:8] == (0, 0, 1, 1, 0, 1, 0, 1)  # 0xAC
    assert len(m.values) == 24


# --- FC 3 read holding registers ---------------------------------------------------------------

READ_HOLDING_REQ = bytes([
    0x00, 0x03,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x03,        # function code: read holding registers
    0x00, 0x6B,  # starting address 107
    0x00, 0x03,  # quantity of registers 3
])

READ_HOLDING_RESP = bytes([
    0x00, 0x03,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x09,  # length
    0x01,        # unit id
    0x03,        # function code: read holding registers
    0x06,        # byte count
    0x02, 0x2B,  # register 107 = 555
    0x00, 0x00,  # register 108 = 0
    0x00, 0x64,  # register 109 = 100
])


def test_read_holding_registers() -> None:
    q = parse(READ_HOLDING_REQ, True)
    assert (q.function_name, q.address, q.quantity) == ("read_holding_registers", 107, 3)
    r = parse(READ_HOLDING_RESP, False)
    assert (r.byte_count, r.values, r.weird) == (6, (555, 0, 100), None)


# --- FC 4 read input registers -----------------------------------------------------------------

READ_INPUT_REQ = bytes([
    0x00, 0x04,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0xFF,        # unit id (255: "no unit", typical for a directly connected TCP device)
    0x04,        # function code: read input registers
    0x00, 0x08,  # starting address 8
    0x00, 0x01,  # quantity 1
])

READ_INPUT_RESP = bytes([
    0x00, 0x04,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x05,  # length
    0xFF,        # unit id
    0x04,        # function code: read input registers
    0x02,        # byte count
    0x00, 0x0A,  # register 8 = 10
])


def test_read_input_registers() -> None:
    q = parse(READ_INPUT_REQ, True)
    assert (q.unit_id, q.function_name, q.address, q.quantity) == (255, "read_input_registers", 8, 1)
    r = parse(READ_INPUT_RESP, False)
    assert (r.byte_count, r.values) == (2, (10,))


# --- FC 5 write single coil --------------------------------------------------------------------

WRITE_COIL_REQ = bytes([
    0x00, 0x05,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x05,        # function code: write single coil
    0x00, 0xAC,  # output address 172
    0xFF, 0x00,  # output value: ON
])

WRITE_COIL_RESP = WRITE_COIL_REQ  # the normal response echoes the request (§6.5)

WRITE_COIL_OFF = bytes([
    0x00, 0x06,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x05,        # function code: write single coil
    0x00, 0xAD,  # output address 173
    0x00, 0x00,  # output value: OFF
])


@pytest.mark.parametrize("is_request", [True, False])
def test_write_single_coil(is_request: bool) -> None:
    m = parse(WRITE_COIL_REQ, is_request)
    assert (m.function_name, m.address, m.quantity, m.values) == ("write_single_coil", 172, 1, (1,))
    assert m.weird is None
    off = parse(WRITE_COIL_OFF, is_request)
    assert (off.address, off.values) == (173, (0,))


def test_write_single_coil_other_values_are_weird() -> None:
    adu = bytes([
        0x00, 0x07,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x06,  # length
        0x01,        # unit id
        0x05,        # function code: write single coil
        0x00, 0x01,  # output address 1
        0x00, 0x01,  # output value 0x0001: neither ON nor OFF (exception 03 territory)
    ])
    m = parse(adu, True)
    assert (m.address, m.values, m.weird) == (1, None, "modbus_bad_coil_value")


# --- FC 6 write single register ----------------------------------------------------------------

WRITE_REGISTER_REQ = bytes([
    0x00, 0x08,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x06,        # function code: write single register
    0x00, 0x01,  # register address 1
    0x00, 0x03,  # register value 3
])


@pytest.mark.parametrize("is_request", [True, False])
def test_write_single_register(is_request: bool) -> None:
    m = parse(WRITE_REGISTER_REQ, is_request)
    assert (m.function_name, m.address, m.quantity, m.values) == ("write_single_register", 1, 1, (3,))


# --- FC 7 read exception status ----------------------------------------------------------------

READ_EXCEPTION_STATUS_REQ = bytes([
    0x00, 0x09,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x02,  # length
    0x01,        # unit id
    0x07,        # function code: read exception status (no data)
])

READ_EXCEPTION_STATUS_RESP = bytes([
    0x00, 0x09,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x03,  # length
    0x01,        # unit id
    0x07,        # function code: read exception status
    0x6D,        # output data: 0110 1101
])


def test_read_exception_status() -> None:
    q = parse(READ_EXCEPTION_STATUS_REQ, True)
    assert (q.function_name, q.output_data, q.weird) == ("read_exception_status", None, None)
    r = parse(READ_EXCEPTION_STATUS_RESP, False)
    assert r.output_data == 0x6D


# --- FC 8 diagnostics --------------------------------------------------------------------------

DIAGNOSTICS_REQ = bytes([
    0x00, 0x0A,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x08,        # function code: diagnostics
    0x00, 0x00,  # sub-function: return query data
    0xA5, 0x37,  # data
])

DIAGNOSTICS_RESP = DIAGNOSTICS_REQ  # return query data echoes (§6.8.1 sub-function 00)

DIAGNOSTICS_COUNTER_RESP = bytes([
    0x00, 0x0B,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x08,        # function code: diagnostics
    0x00, 0x0E,  # sub-function: return server message count
    0x01, 0x2C,  # count 300
])

FORCE_LISTEN_ONLY_REQ = bytes([
    0x00, 0x0C,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x08,        # function code: diagnostics
    0x00, 0x04,  # sub-function: force listen only mode (no response is returned)
    0x00, 0x00,  # data
])


@pytest.mark.parametrize("is_request", [True, False])
def test_diagnostics_return_query_data(is_request: bool) -> None:
    m = parse(DIAGNOSTICS_REQ, is_request)
    assert (m.function_name, m.sub_function, m.sub_function_name) == ("diagnostics", 0, "return_query_data")
    assert m.values == (0xA537,)


def test_diagnostics_counter_and_listen_only() -> None:
    r = parse(DIAGNOSTICS_COUNTER_RESP, False)
    assert (r.sub_function_name, r.values) == ("return_server_message_count", (300,))
    q = parse(FORCE_LISTEN_ONLY_REQ, True)
    assert (q.sub_function, q.sub_function_name, q.values) == (4, "force_listen_only_mode", (0,))


def test_diagnostics_odd_data_is_weird() -> None:
    adu = bytes([
        0x00, 0x0D,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x05,  # length
        0x01,        # unit id
        0x08,        # function code: diagnostics
        0x00, 0x00,  # sub-function: return query data
        0xA5,        # data: half a word
    ])
    m = parse(adu, True)
    assert (m.values, m.weird) == ((), "modbus_trailing_bytes")


# --- FC 11 get comm event counter --------------------------------------------------------------

COMM_EVENT_COUNTER_REQ = bytes([
    0x00, 0x0E,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x02,  # length
    0x01,        # unit id
    0x0B,        # function code: get comm event counter
])

COMM_EVENT_COUNTER_RESP = bytes([
    0x00, 0x0E,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x0B,        # function code: get comm event counter
    0xFF, 0xFF,  # status: busy
    0x01, 0x08,  # event count 264
])


def test_get_comm_event_counter() -> None:
    q = parse(COMM_EVENT_COUNTER_REQ, True)
    assert q.function_name == "get_comm_event_counter" and q.status is None
    r = parse(COMM_EVENT_COUNTER_RESP, False)
    assert (r.status, r.event_count) == (0xFFFF, 264)


# --- FC 12 get comm event log ------------------------------------------------------------------

COMM_EVENT_LOG_REQ = bytes([
    0x00, 0x0F,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x02,  # length
    0x01,        # unit id
    0x0C,        # function code: get comm event log
])

COMM_EVENT_LOG_RESP = bytes([
    0x00, 0x0F,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x0B,  # length
    0x01,        # unit id
    0x0C,        # function code: get comm event log
    0x08,        # byte count: 6 + 2 events
    0x00, 0x00,  # status
    0x01, 0x08,  # event count 264
    0x01, 0x21,  # message count 289
    0x20,        # event 0 (newest)
    0x00,        # event 1
])


def test_get_comm_event_log() -> None:
    q = parse(COMM_EVENT_LOG_REQ, True)
    assert q.function_name == "get_comm_event_log"
    r = parse(COMM_EVENT_LOG_RESP, False)
    assert (r.byte_count, r.status, r.event_count, r.message_count, r.events) == (8, 0, 264, 289, b"\x20\x00")
    assert r.event_fields()["events"] == "2000"


# --- FC 15 write multiple coils ----------------------------------------------------------------

WRITE_COILS_REQ = bytes([
    0x00, 0x10,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x09,  # length
    0x01,        # unit id
    0x0F,        # function code: write multiple coils
    0x00, 0x13,  # starting address 19
    0x00, 0x0A,  # quantity of outputs 10
    0x02,        # byte count
    0xCD,        # outputs 26..19
    0x01,        # outputs 28..27 (6 padding bits)
])

WRITE_COILS_RESP = bytes([
    0x00, 0x10,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x0F,        # function code: write multiple coils
    0x00, 0x13,  # starting address 19
    0x00, 0x0A,  # quantity of outputs 10
])


def test_write_multiple_coils_request_has_exactly_quantity_bits() -> None:
    m = parse(WRITE_COILS_REQ, True)
    assert (m.function_name, m.address, m.quantity, m.byte_count) == ("write_multiple_coils", 19, 10, 2)
    assert m.values == (1, 0, 1, 1, 0, 0, 1, 1, 1, 0)


def test_write_multiple_coils_response() -> None:
    m = parse(WRITE_COILS_RESP, False)
    assert (m.address, m.quantity, m.values, m.byte_count) == (19, 10, None, None)


# --- FC 16 write multiple registers ------------------------------------------------------------

WRITE_REGISTERS_REQ = bytes([
    0x00, 0x11,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x0B,  # length
    0x01,        # unit id
    0x10,        # function code: write multiple registers
    0x00, 0x01,  # starting address 1
    0x00, 0x02,  # quantity of registers 2
    0x04,        # byte count
    0x00, 0x0A,  # register 1 = 10
    0x01, 0x02,  # register 2 = 258
])

WRITE_REGISTERS_RESP = bytes([
    0x00, 0x11,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x10,        # function code: write multiple registers
    0x00, 0x01,  # starting address 1
    0x00, 0x02,  # quantity of registers 2
])


def test_write_multiple_registers() -> None:
    q = parse(WRITE_REGISTERS_REQ, True)
    assert (q.function_name, q.address, q.quantity, q.byte_count, q.values) == (
        "write_multiple_registers", 1, 2, 4, (10, 258))
    r = parse(WRITE_REGISTERS_RESP, False)
    assert (r.address, r.quantity, r.values) == (1, 2, None)


# --- FC 17 report server id --------------------------------------------------------------------

REPORT_SERVER_ID_REQ = bytes([
    0x00, 0x12,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x02,  # length
    0x01,        # unit id
    0x11,        # function code: report server id
])

REPORT_SERVER_ID_RESP = bytes([  # libmodbus / FreeModbus layout
    0x00, 0x12,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x08,  # length
    0x01,        # unit id
    0x11,        # function code: report server id
    0x05,        # byte count
    0x2A,        # server id (one byte)
    0xFF,        # run indicator: ON
    0x4C, 0x4D, 0x42,  # additional data "LMB"
])

REPORT_SERVER_ID_RESP_TRAILING_RUN = bytes([  # pymodbus / Zeek trace layout
    0x00, 0x13,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x07,  # length
    0x01,        # unit id
    0x11,        # function code: report server id
    0x04,        # byte count
    0x50, 0x4C, 0x43,  # server id "PLC"
    0x00,        # run indicator: OFF
])


def test_report_server_id() -> None:
    q = parse(REPORT_SERVER_ID_REQ, True)
    assert q.function_name == "report_server_id"
    r = parse(REPORT_SERVER_ID_RESP, False)
    assert (r.byte_count, r.server_id, r.run_indicator, r.additional_data) == (5, b"\x2a", True, b"LMB")
    t = parse(REPORT_SERVER_ID_RESP_TRAILING_RUN, False)
    assert (t.server_id, t.run_indicator, t.additional_data) == (b"PLC", False, b"")
    assert t.event_fields()["server_id"] == "504c43"


def test_report_server_id_without_a_recognisable_run_indicator() -> None:
    adu = bytes([
        0x00, 0x14,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x05,  # length
        0x01,        # unit id
        0x11,        # function code: report server id
        0x02,        # byte count
        0x41, 0x42,  # "AB": neither byte is 0x00 or 0xFF
    ])
    m = parse(adu, False)
    assert (m.server_id, m.run_indicator, m.additional_data, m.weird) == (b"AB", None, None, None)


# --- FC 20 read file record --------------------------------------------------------------------

READ_FILE_REQ = bytes([
    0x00, 0x15,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x11,  # length
    0x01,        # unit id
    0x14,        # function code: read file record
    0x0E,        # byte count: two 7-byte sub-requests
    0x06,        # sub-request 1: reference type
    0x00, 0x04,  #   file number 4
    0x00, 0x01,  #   record number 1
    0x00, 0x02,  #   record length 2
    0x06,        # sub-request 2: reference type
    0x00, 0x03,  #   file number 3
    0x00, 0x09,  #   record number 9
    0x00, 0x02,  #   record length 2
])

READ_FILE_RESP = bytes([
    0x00, 0x15,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x0F,  # length
    0x01,        # unit id
    0x14,        # function code: read file record
    0x0C,        # response data length
    0x05,        # sub-response 1: file response length
    0x06,        #   reference type
    0x0D, 0xFE,  #   record data
    0x00, 0x20,
    0x05,        # sub-response 2: file response length
    0x06,        #   reference type
    0x33, 0xCD,  #   record data
    0x00, 0x40,
])


def test_read_file_record() -> None:
    q = parse(READ_FILE_REQ, True)
    assert (q.function_name, q.byte_count, q.weird) == ("read_file_record", 14, None)
    assert q.file_records == (FileRecord(6, 4, 1, 2, None), FileRecord(6, 3, 9, 2, None))
    r = parse(READ_FILE_RESP, False)
    assert r.file_records == (
        FileRecord(6, None, None, 2, b"\x0d\xfe\x00\x20"),
        FileRecord(6, None, None, 2, b"\x33\xcd\x00\x40"),
    )
    assert r.weird is None
    first = r.event_fields()["file_records"][0]
    assert first == {"reference_type": 6, "record_length": 2, "data": "0dfe0020"}


# --- FC 21 write file record -------------------------------------------------------------------

WRITE_FILE_REQ = bytes([
    0x00, 0x16,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x10,  # length
    0x01,        # unit id
    0x15,        # function code: write file record
    0x0D,        # request data length
    0x06,        # sub-request: reference type
    0x00, 0x04,  #   file number 4
    0x00, 0x07,  #   record number 7
    0x00, 0x03,  #   record length 3
    0x06, 0xAF,  #   record data
    0x04, 0xBE,
    0x10, 0x0D,
])

WRITE_FILE_RESP = WRITE_FILE_REQ  # the normal response echoes the request (§6.15)


@pytest.mark.parametrize("is_request", [True, False])
def test_write_file_record(is_request: bool) -> None:
    m = parse(WRITE_FILE_REQ, is_request)
    assert (m.function_name, m.byte_count, m.weird) == ("write_file_record", 13, None)
    assert m.file_records == (FileRecord(6, 4, 7, 3, bytes.fromhex("06af04be100d")),)


# --- FC 22 mask write register -----------------------------------------------------------------

MASK_WRITE_REQ = bytes([
    0x00, 0x17,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x08,  # length
    0x01,        # unit id
    0x16,        # function code: mask write register
    0x00, 0x04,  # reference address 4
    0x00, 0xF2,  # AND mask
    0x00, 0x25,  # OR mask
])


@pytest.mark.parametrize("is_request", [True, False])
def test_mask_write_register(is_request: bool) -> None:
    m = parse(MASK_WRITE_REQ, is_request)
    assert (m.function_name, m.address, m.quantity, m.and_mask, m.or_mask) == (
        "mask_write_register", 4, 1, 0x00F2, 0x0025)


# --- FC 23 read/write multiple registers -------------------------------------------------------

READ_WRITE_REQ = bytes([
    0x00, 0x18,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x11,  # length
    0x01,        # unit id
    0x17,        # function code: read/write multiple registers
    0x00, 0x03,  # read starting address 3
    0x00, 0x06,  # quantity to read 6
    0x00, 0x0E,  # write starting address 14
    0x00, 0x03,  # quantity to write 3
    0x06,        # write byte count
    0x00, 0xFF,  # write register 14
    0x00, 0xFF,  # write register 15
    0x00, 0xFF,  # write register 16
])

READ_WRITE_RESP = bytes([
    0x00, 0x18,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x0F,  # length
    0x01,        # unit id
    0x17,        # function code: read/write multiple registers
    0x0C,        # byte count
    0x00, 0xFE,  # read registers 3..8
    0x0A, 0xCD,
    0x00, 0x01,
    0x00, 0x03,
    0x00, 0x0D,
    0x00, 0xFF,
])


def test_read_write_multiple_registers() -> None:
    q = parse(READ_WRITE_REQ, True)
    assert (q.function_name, q.address, q.quantity) == ("read_write_multiple_registers", 3, 6)
    assert (q.write_address, q.write_quantity, q.byte_count, q.values) == (14, 3, 6, (255, 255, 255))
    r = parse(READ_WRITE_RESP, False)
    assert (r.byte_count, r.values) == (12, (0xFE, 0x0ACD, 1, 3, 0x0D, 0xFF))


# --- FC 24 read FIFO queue ---------------------------------------------------------------------

READ_FIFO_REQ = bytes([
    0x00, 0x19,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x04,  # length
    0x01,        # unit id
    0x18,        # function code: read FIFO queue
    0x04, 0xDE,  # FIFO pointer address 1246
])

READ_FIFO_RESP = bytes([
    0x00, 0x19,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x0A,  # length
    0x01,        # unit id
    0x18,        # function code: read FIFO queue
    0x00, 0x06,  # byte count: 2 + 2 * FIFO count
    0x00, 0x02,  # FIFO count 2
    0x01, 0xB8,  # FIFO value 440
    0x12, 0x84,  # FIFO value 4740
])


def test_read_fifo_queue() -> None:
    q = parse(READ_FIFO_REQ, True)
    assert (q.function_name, q.address) == ("read_fifo_queue", 1246)
    r = parse(READ_FIFO_RESP, False)
    assert (r.byte_count, r.fifo_count, r.values, r.weird) == (6, 2, (440, 4740), None)


def test_read_fifo_queue_over_31_is_bad_quantity() -> None:
    adu = bytes([
        0x00, 0x1A,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x06,  # length
        0x01,        # unit id
        0x18,        # function code: read FIFO queue
        0x00, 0x42,  # byte count
        0x00, 0x20,  # FIFO count 32: the spec allows at most 31
    ])
    assert parse(adu, False).weird == "modbus_bad_quantity"


# --- FC 43 encapsulated interface transport ----------------------------------------------------

READ_DEVICE_ID_REQ = bytes([
    0x00, 0x1B,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x05,  # length
    0x01,        # unit id
    0x2B,        # function code: encapsulated interface transport
    0x0E,        # MEI type: read device identification
    0x01,        # read device id code: basic
    0x00,        # object id: vendor name
])

READ_DEVICE_ID_RESP = bytes([
    0x00, 0x1B,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x26,  # length
    0x01,        # unit id
    0x2B,        # function code: encapsulated interface transport
    0x0E,        # MEI type: read device identification
    0x03,        # read device id code: extended
    0x83,        # conformity level: extended, stream and individual access
    0xFF,        # more follows: yes
    0x81,        # next object id
    0x04,        # number of objects
    0x00, 0x07,  # object 0x00 vendor name, length 7
    *b"Company",
    0x01, 0x05,  # object 0x01 product code, length 5
    *b"PC-01",
    0x02, 0x04,  # object 0x02 major minor revision, length 4
    *b"V2.1",
    0x80, 0x06,  # object 0x80 (private), length 6
    *b"\xb5C-7\xff\x00",  # not UTF-8: shown as Latin-1, never an error
])

CANOPEN_REQ = bytes([
    0x00, 0x1C,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x2B,        # function code: encapsulated interface transport
    0x0D,        # MEI type: CANopen general reference
    0x01, 0x02, 0x03,  # MEI data (CiA DS 309-2, opaque here)
])


def test_read_device_identification_request() -> None:
    m = parse(READ_DEVICE_ID_REQ, True)
    assert (m.function_name, m.mei_type, m.mei_type_name) == (
        "encapsulated_interface_transport", 14, "read_device_identification")
    assert (m.read_device_id_code, m.read_device_id_name, m.object_id) == (1, "basic", 0)


def test_read_device_identification_response_with_private_objects_and_more_follows() -> None:
    m = parse(READ_DEVICE_ID_RESP, False)
    assert (m.read_device_id_code, m.conformity_level, m.conformity_level_name) == (
        3, 0x83, "extended_stream_and_individual")
    assert (m.more_follows, m.next_object_id, m.number_of_objects, m.weird) == (True, 0x81, 4, None)
    assert m.objects == (
        IdentificationObject(0x00, "vendor_name", "Company"),
        IdentificationObject(0x01, "product_code", "PC-01"),
        IdentificationObject(0x02, "major_minor_revision", "V2.1"),
        IdentificationObject(0x80, "private_0x80", "\xb5C-7\xff\x00"),
    )
    fields = m.event_fields()
    assert fields["objects"][0] == {"id": 0, "name": "vendor_name", "value": "Company"}
    assert fields["objects"][3]["name"] == "private_0x80"
    assert fields["more_follows"] is True


def test_read_device_identification_last_page() -> None:
    adu = bytes([
        0x00, 0x1D,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x0D,  # length
        0x01,        # unit id
        0x2B,        # function code: encapsulated interface transport
        0x0E,        # MEI type: read device identification
        0x04,        # read device id code: one specific object
        0x81,        # conformity level: basic, stream and individual
        0x00,        # more follows: no
        0x00,        # next object id
        0x01,        # number of objects
        0x05, 0x03,  # object 0x05 model name, length 3
        *b"M\xc3\xa9",  # UTF-8 "Mé"
    ])
    m = parse(adu, False)
    assert (m.read_device_id_name, m.more_follows) == ("specific", False)
    assert m.objects == (IdentificationObject(5, "model_name", "Mé"),)


def test_read_device_identification_object_past_the_end_is_too_short() -> None:
    adu = bytes([
        0x00, 0x1E,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x0C,  # length
        0x01,        # unit id
        0x2B,        # function code: encapsulated interface transport
        0x0E,        # MEI type: read device identification
        0x01,        # read device id code
        0x01,        # conformity level
        0x00,        # more follows
        0x00,        # next object id
        0x02,        # number of objects: 2, but only one fits
        0x00, 0x05,  # object 0x00, length 5 ...
        *b"Ac",      # ... of which 2 bytes arrived
    ])
    m = parse(adu, False)
    assert m.weird == "modbus_pdu_too_short"
    assert m.objects == (IdentificationObject(0, "vendor_name", "Ac"),)


@pytest.mark.parametrize("is_request", [True, False])
def test_canopen_general_reference_is_kept_raw(is_request: bool) -> None:
    m = parse(CANOPEN_REQ, is_request)
    assert (m.mei_type, m.mei_type_name) == (13, "canopen_general_reference")
    assert (m.data, m.weird) == (b"\x01\x02\x03", None)
    assert m.event_fields()["data"] == "010203"


# --- user-defined and unknown function codes ---------------------------------------------------

UMAS_REQ = bytes([
    0x00, 0x1F,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x05,  # length
    0x00,        # unit id
    0x5A,        # function code 90: Schneider UMAS
    0x00,        # UMAS session
    0x02,        # UMAS function: read PLC info
    0x00,        # padding
])

UMAS_RESP = bytes([
    0x00, 0x1F,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x00,        # unit id
    0x5A,        # function code 90: Schneider UMAS
    0x00,        # UMAS session
    0xFE,        # UMAS status: OK
    0x12, 0x34,  # opaque
])


@pytest.mark.parametrize(("adu", "is_request", "data"), [
    (UMAS_REQ, True, b"\x00\x02\x00"), (UMAS_RESP, False, b"\x00\xfe\x12\x34"),
])
def test_umas_is_kept_raw_without_weird(adu: bytes, is_request: bool, data: bytes) -> None:
    m = parse(adu, is_request)
    assert (m.function_code, m.function_name, m.data, m.weird) == (90, "umas", data, None)


@pytest.mark.parametrize(("code", "name"), [
    (0x41, "user_defined_0x41"), (0x6E, "user_defined_0x6e"),
    (0x09, "unknown_0x09"), (0x7F, "unknown_0x7f"), (0x00, "unknown_0x00"),
])
def test_user_defined_and_unknown_codes(code: int, name: str) -> None:
    adu = bytes([
        0x00, 0x20,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x04,  # length
        0x01,        # unit id
        code,        # function code
        0xDE, 0xAD,  # opaque data
    ])
    for is_request in (True, False):
        m = parse(adu, is_request)
        assert (m.function_code, m.function_name, m.data, m.weird) == (code, name, b"\xde\xad", None)


def test_function_code_alone() -> None:
    adu = bytes([
        0x00, 0x21,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x02,  # length: unit id + function code, the minimum
        0x01,        # unit id
        0x42,        # function code 66, user-defined, no data
    ])
    assert parse(adu, True).data == b""


# --- exception responses -----------------------------------------------------------------------

EXCEPTION_NAMES = {
    1: "illegal_function", 2: "illegal_data_address", 3: "illegal_data_value", 4: "server_device_failure",
    5: "acknowledge", 6: "server_device_busy", 7: "negative_acknowledge", 8: "memory_parity_error",
    10: "gateway_path_unavailable", 11: "gateway_target_device_failed_to_respond",
}


def exception_adu(function_code: int, exception_code: int) -> bytes:
    return bytes([
        0x00, 0x22,             # transaction id
        0x00, 0x00,             # protocol id
        0x00, 0x03,             # length
        0x0A,                   # unit id
        function_code | 0x80,   # function code with the exception bit
        exception_code,         # exception code
    ])


@pytest.mark.parametrize(("code", "name"), sorted(EXCEPTION_NAMES.items()))
def test_every_exception_code(code: int, name: str) -> None:
    m = parse(exception_adu(3, code), False)
    assert (m.function_code, m.function_name) == (3, "read_holding_registers")
    assert (m.exception_code, m.exception_name, m.weird) == (code, name, None)
    assert m.address is None and m.values is None
    assert m.event_fields()["exception_code"] == code


@pytest.mark.parametrize("code", [0, 9, 12, 0x80, 0xFF])
def test_unknown_exception_codes_are_weird(code: int) -> None:
    m = parse(exception_adu(1, code), False)
    assert (m.exception_code, m.exception_name, m.weird) == (code, f"unknown_0x{code:02x}",
                                                             "modbus_unknown_exception_code")


@pytest.mark.parametrize("fc", [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 90, 0x41])
def test_exception_for_every_function_code(fc: int) -> None:
    m = parse(exception_adu(fc, 1), False)
    assert (m.function_code, m.exception_code, m.exception_name) == (fc, 1, "illegal_function")


def test_exception_bit_in_a_request_is_still_an_exception() -> None:
    # tshark decodes it the same way; the pairing layer decides whether it is an anomaly.
    m = parse(exception_adu(3, 2), True)
    assert (m.function_code, m.exception_code) == (3, 2)


def test_exception_pdu_without_code_or_with_extra_bytes() -> None:
    short = bytes([
        0x00, 0x23,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x02,  # length
        0x01,        # unit id
        0x83,        # function code 3 + exception bit, and no exception code
    ])
    m = parse(short, False)
    assert (m.function_code, m.exception_code, m.weird) == (3, None, "modbus_pdu_too_short")
    long = bytes([
        0x00, 0x24,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0x04,  # length
        0x0A,        # unit id
        0x81,        # function code 1 + exception bit
        0x06,        # exception code: server device busy
        0x00,        # one byte too many (seen in the suricata-verify capture)
    ])
    m = parse(long, False)
    assert (m.exception_code, m.weird) == (6, "modbus_trailing_bytes")


# --- PDU-level weirds: the message survives with what could be read ------------------------------


def adu_with_pdu(pdu: bytes, transaction_id: int = 0x30, unit_id: int = 1) -> bytes:
    """MBAP header + pdu; for weird-case tables where the header is not the point."""
    length = (len(pdu) + 1).to_bytes(2, "big")
    return transaction_id.to_bytes(2, "big") + b"\x00\x00" + length + bytes([unit_id]) + pdu


WEIRDS = [
    # (pdu hex, is_request, weird, fields that must still be read)
    ("0100010000", True, "modbus_bad_quantity", {"address": 1, "quantity": 0}),          # read 0 coils
    ("01000007d1", True,   "modbus_bad_quantity", {"quantity": 2001}),                  # > 2000 coils
    ("03000a007e", True, "modbus_bad_quantity", {"address": 10, "quantity": 126}),       # > 125 registers
    ("0300010001ff", True, "modbus_trailing_bytes", {"address": 1, "quantity": 1}),
    ("0300", True, "modbus_pdu_too_short", {"address": None}),
    ("030001", True, "modbus_pdu_too_short", {"address": 1, "quantity": None}),
    ("0302000a000b", False, "modbus_bad_byte_count", {"byte_count": 2, "values": (10,)}),  # 4 bytes follow
    ("030400", False, "modbus_bad_byte_count", {"byte_count": 4, "values": ()}),          # 1 byte follows
    ("0303000a00", False, "modbus_bad_byte_count", {"byte_count": 3, "values": (10,)}),   # odd
    ("0100", False, "modbus_bad_byte_count", {"byte_count": 0, "values": ()}),
    ("01", False, "modbus_pdu_too_short", {"byte_count": None}),
    ("0f0001000a0101", True, "modbus_bad_byte_count", {"quantity": 10, "values": (1, 0, 0, 0, 0, 0, 0, 0)}),
    ("0f00010000", True, "modbus_pdu_too_short", {"address": 1, "quantity": 0}),
    ("0f000107b1f7", True, "modbus_bad_quantity", {"quantity": 0x7B1}),
    ("10000100020400010002ff", True, "modbus_bad_byte_count", {"values": (1, 2)}),
    ("1000010002020001", True, "modbus_bad_byte_count", {"quantity": 2, "values": (1,)}),
    ("10000100000000", True, "modbus_bad_quantity", {"quantity": 0}),
    ("100001007c", False, "modbus_bad_quantity", {"quantity": 124}),
    ("0f0001000aff", False, "modbus_trailing_bytes", {"quantity": 10}),
    ("060001", True, "modbus_pdu_too_short", {"address": 1, "values": None}),
    ("0600010002ffff", False, "modbus_trailing_bytes", {"values": (2,)}),
    ("160004", True, "modbus_pdu_too_short", {"address": 4, "and_mask": None}),
    ("1700010001", True, "modbus_pdu_too_short", {"address": 1, "quantity": 1, "write_address": None}),
    ("1700010080000100010200ff", True, "modbus_bad_quantity", {"quantity": 0x80}),
    ("17000100010002000102ff", True, "modbus_bad_byte_count", {"write_quantity": 1, "values": ()}),
    ("0700", True, "modbus_trailing_bytes", {}),
    ("0b0000", True, "modbus_trailing_bytes", {}),
    ("0c0600000001000203", False, "modbus_bad_byte_count", {"byte_count": 6, "events": b""}),  # 7 follow
    ("0c0500000001", False, "modbus_pdu_too_short", {"byte_count": 5}),
    ("1400", True, "modbus_bad_byte_count", {"byte_count": 0, "file_records": ()}),
    ("1408060001000200030000", True, "modbus_bad_byte_count", {"byte_count": 8}),  # not a multiple of 7
    ("1404050600", False, "modbus_bad_byte_count", {}),  # sub-response claims 5 bytes, 3 left
    ("1500", True, "modbus_bad_byte_count", {"file_records": ()}),
    ("1509060001000200030001", True, "modbus_bad_byte_count", {}),  # 3 registers promised, 1 sent
    ("1800000000", False, "modbus_bad_byte_count", {"fifo_count": 0, "values": ()}),
    ("18", True, "modbus_pdu_too_short", {"address": None}),
    ("2b0e01", True, "modbus_pdu_too_short", {"read_device_id_code": 1, "object_id": None}),
    ("2b0e010000", True, "modbus_trailing_bytes", {"object_id": 0}),
    ("2b0e0100", False, "modbus_pdu_too_short", {"conformity_level": 0, "objects": None}),
    ("2b0e018300000000", False, "modbus_trailing_bytes", {"number_of_objects": 0, "objects": ()}),
    ("2b", True, "modbus_pdu_too_short", {"mei_type": None}),
    ("1100", False, "modbus_bad_byte_count", {"byte_count": 0, "server_id": b""}),
    ("05000a", True, "modbus_pdu_too_short", {"address": 10}),
    ("0800", True, "modbus_pdu_too_short", {"sub_function": None}),
]


@pytest.mark.parametrize(("pdu_hex", "is_request", "weird", "fields"), WEIRDS)
def test_pdu_weirds_keep_the_message(pdu_hex: str, is_request: bool, weird: str, fields: dict) -> None:
    m = parse(adu_with_pdu(bytes.fromhex(pdu_hex)), is_request)
    assert m.weird == weird
    assert m.function_code == bytes.fromhex(pdu_hex)[0] & 0x7F
    for name, value in fields.items():
        assert getattr(m, name) == value, name


# --- the three outcomes at the MBAP level ------------------------------------------------------

VALID = [
    (READ_COILS_REQ, True), (READ_COILS_RESP, False), (READ_DISCRETE_REQ, True), (READ_DISCRETE_RESP, False),
    (READ_HOLDING_REQ, True), (READ_HOLDING_RESP, False), (READ_INPUT_REQ, True), (READ_INPUT_RESP, False),
    (WRITE_COIL_REQ, True), (WRITE_COIL_RESP, False), (WRITE_REGISTER_REQ, True),
    (READ_EXCEPTION_STATUS_REQ, True), (READ_EXCEPTION_STATUS_RESP, False),
    (DIAGNOSTICS_REQ, True), (DIAGNOSTICS_COUNTER_RESP, False),
    (COMM_EVENT_COUNTER_REQ, True), (COMM_EVENT_COUNTER_RESP, False),
    (COMM_EVENT_LOG_REQ, True), (COMM_EVENT_LOG_RESP, False),
    (WRITE_COILS_REQ, True), (WRITE_COILS_RESP, False),
    (WRITE_REGISTERS_REQ, True), (WRITE_REGISTERS_RESP, False),
    (REPORT_SERVER_ID_REQ, True), (REPORT_SERVER_ID_RESP, False),
    (READ_FILE_REQ, True), (READ_FILE_RESP, False), (WRITE_FILE_REQ, True), (MASK_WRITE_REQ, True),
    (READ_WRITE_REQ, True), (READ_WRITE_RESP, False), (READ_FIFO_REQ, True), (READ_FIFO_RESP, False),
    (READ_DEVICE_ID_REQ, True), (READ_DEVICE_ID_RESP, False), (CANOPEN_REQ, True),
    (UMAS_REQ, True), (UMAS_RESP, False), (exception_adu(3, 2), False),
]


@pytest.mark.parametrize(("adu", "is_request"), VALID)
def test_valid_adus_have_no_weird(adu: bytes, is_request: bool) -> None:
    assert parse(adu, is_request).weird is None


@pytest.mark.parametrize(("adu", "is_request"), VALID)
def test_need_more_at_every_truncation(adu: bytes, is_request: bool) -> None:
    for cut in range(len(adu)):
        result = parse_adu(adu[:cut], 0, is_request)
        assert isinstance(result, NeedMore), cut
        assert result.needed >= 1
        assert cut + result.needed <= len(adu)  # never asks for more than the ADU holds
        if cut >= 6:
            assert cut + result.needed == len(adu)  # the length field is known: exact


@pytest.mark.parametrize(("adu", "is_request"), VALID)
def test_parse_at_an_offset_and_from_a_memoryview(adu: bytes, is_request: bool) -> None:
    prefix = b"\xaa" * 5
    buf = prefix + adu + READ_HOLDING_REQ
    expected = parse(adu, is_request)
    for view in (buf, memoryview(buf), bytearray(buf)):
        message, used = parse_adu(view, len(prefix), is_request)  # type: ignore[misc]
        assert (message, used) == (expected, len(adu))


def test_need_more_then_whole_at_an_offset() -> None:
    buf = READ_HOLDING_REQ + READ_HOLDING_RESP[:8]
    assert parse_adu(buf, 12, False) == NeedMore(len(READ_HOLDING_RESP) - 8)


BAD_PROTOCOL_ID = bytes([
    0x00, 0x01,  # transaction id
    0x00, 0x01,  # protocol id 1: not Modbus
    0x00, 0x06,  # length
    0x01,        # unit id
    0x03,        # function code
    0x00, 0x00,  # address
    0x00, 0x01,  # quantity
])


def test_bad_protocol_id_is_malformed_as_soon_as_it_is_seen() -> None:
    for cut in (4, 5, 6, 7, len(BAD_PROTOCOL_ID)):
        with pytest.raises(Malformed) as err:
            parse_adu(BAD_PROTOCOL_ID[:cut], 0, True)
        assert (err.value.code, err.value.offset) == ("modbus_bad_protocol_id", 0)
    assert isinstance(parse_adu(BAD_PROTOCOL_ID[:3], 0, True), NeedMore)


def test_malformed_reports_the_adu_offset() -> None:
    buf = READ_HOLDING_REQ + BAD_PROTOCOL_ID
    with pytest.raises(Malformed) as err:
        parse_adu(buf, len(READ_HOLDING_REQ), True)
    assert err.value.offset == len(READ_HOLDING_REQ)


@pytest.mark.parametrize("length", [0, 1, 255, 256, 0xFFFF])
def test_bad_length_is_malformed(length: int) -> None:
    adu = bytes([
        0x00, 0x01,  # transaction id
        0x00, 0x00,  # protocol id
        *length.to_bytes(2, "big"),  # length outside 2..254
        0x01,        # unit id
        0x03,        # function code
    ])
    for cut in (6, len(adu)):
        with pytest.raises(Malformed) as err:
            parse_adu(adu[:cut], 0, False)
        assert err.value.code == "modbus_bad_length"


def test_largest_legal_adu() -> None:
    adu = bytes([
        0x00, 0x01,  # transaction id
        0x00, 0x00,  # protocol id
        0x00, 0xFE,  # length 254: unit id + a 253-byte PDU
        0x01,        # unit id
        0x03,        # function code: read holding registers
        0xFA,        # byte count 250 (125 registers)
    ]) + bytes(250) + b"\x00"  # one byte past the byte count: 253-byte PDU
    m = parse(adu, False)
    assert len(m.values) == 125 and m.weird == "modbus_bad_byte_count"


def test_negative_or_past_the_end_offsets_are_caller_bugs() -> None:
    with pytest.raises(ValueError):
        parse_adu(READ_HOLDING_REQ, -1, True)
    with pytest.raises(ValueError):
        parse_adu(READ_HOLDING_REQ, len(READ_HOLDING_REQ) + 1, True)
    assert parse_adu(READ_HOLDING_REQ, len(READ_HOLDING_REQ), True) == NeedMore(7)


# --- event fields --------------------------------------------------------------------------------

CONTRACT = ["transaction_id", "unit_id", "function_code", "function_name", "exception_code", "address",
            "quantity", "values"]


@pytest.mark.parametrize(("adu", "is_request"), VALID)
def test_event_fields_hold_the_contract_and_are_json(adu: bytes, is_request: bool) -> None:
    fields = parse(adu, is_request).event_fields()
    assert list(fields)[: len(CONTRACT)] == CONTRACT
    assert "is_request" not in fields  # the writer states it as "direction"
    assert all(value is not None for key, value in fields.items() if key not in CONTRACT)
    assert json.loads(json.dumps(fields)) == fields


def test_event_fields_of_a_read_response() -> None:
    assert parse(READ_HOLDING_RESP, False).event_fields() == {
        "transaction_id": 3, "unit_id": 1, "function_code": 3, "function_name": "read_holding_registers",
        "exception_code": None, "address": None, "quantity": None, "values": [555, 0, 100], "byte_count": 6,
    }


def test_event_fields_of_an_exception() -> None:
    assert parse(exception_adu(16, 4), False).event_fields() == {
        "transaction_id": 0x22, "unit_id": 10, "function_code": 16,
        "function_name": "write_multiple_registers",
        "exception_code": 4, "address": None, "quantity": None, "values": None,
        "exception_name": "server_device_failure",
    }


def test_event_fields_carry_the_weird() -> None:
    fields = parse(adu_with_pdu(bytes.fromhex("0100010000")), True).event_fields()
    assert fields["weird"] == "modbus_bad_quantity"


def test_messages_are_frozen_and_hashable() -> None:
    m = parse(READ_HOLDING_RESP, False)
    with pytest.raises(AttributeError):
        m.address = 5  # type: ignore[misc]
    assert hash(m) == hash(parse(READ_HOLDING_RESP, False))
