"""Cross-check against an independent encoder: pymodbus 3.x builds the frames, our parser reads them back.

pymodbus is a client/server library, so it is the encoder real devices and tools most often use in
tests. Every function code it implements is covered in both directions; the common ones are also
driven by hypothesis over their whole value ranges.
"""
from __future__ import annotations

import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pymodbus", minversion="3.6")

from pymodbus.framer import FramerSocket
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu import bit_message as bit
from pymodbus.pdu import diag_message as diag
from pymodbus.pdu import file_message as file
from pymodbus.pdu import mei_message as mei
from pymodbus.pdu import other_message as other
from pymodbus.pdu import register_message as reg

from protocols.modbus.codes import diagnostic_name
from protocols.modbus.wire import FileRecord, ModbusMessage, parse_adu

TID, UNIT = 0x1234, 7
_FRAMER = FramerSocket(DecodePDU(is_server=False))


def roundtrip(pdu: object, is_request: bool) -> ModbusMessage:
    """Frame a pymodbus PDU as Modbus/TCP and parse it; every byte must be used, nothing weird."""
    adu = _FRAMER.buildFrame(pdu)
    result = parse_adu(adu, 0, is_request)
    assert isinstance(result, tuple), (adu.hex(), result)
    message, used = result
    assert used == len(adu)
    assert (message.transaction_id, message.unit_id) == (pdu.transaction_id, pdu.dev_id)
    assert message.function_code == pdu.function_code & 0x7F
    assert message.weird is None, (adu.hex(), message.weird)
    return message


def ids() -> dict:
    return {"dev_id": UNIT, "transaction_id": TID}


# --- one explicit case per function code and direction ------------------------------------------

CASES = [
    # (pymodbus PDU, is_request, fields our parser must read back)
    (bit.ReadCoilsRequest(address=19, count=19, **ids()), True, {"address": 19, "quantity": 19}),
    (bit.ReadCoilsResponse(bits=[True, False, True, True] + [False] * 4, **ids()), False,
     {"byte_count": 1, "values": (1, 0, 1, 1, 0, 0, 0, 0)}),
    (bit.ReadDiscreteInputsRequest(address=196, count=22, **ids()), True, {"address": 196, "quantity": 22}),
    (bit.ReadDiscreteInputsResponse(bits=[True] * 9 + [False] * 7, **ids()), False,
     {"byte_count": 2, "values": (1,) * 9 + (0,) * 7}),
    (reg.ReadHoldingRegistersRequest(address=107, count=3, **ids()), True, {"address": 107, "quantity": 3}),
    (reg.ReadHoldingRegistersResponse(registers=[555, 0, 100], **ids()), False,
     {"byte_count": 6, "values": (555, 0, 100)}),
    (reg.ReadInputRegistersRequest(address=8, count=1, **ids()), True, {"address": 8, "quantity": 1}),
    (reg.ReadInputRegistersResponse(registers=[10], **ids()), False, {"values": (10,)}),
    (bit.WriteSingleCoilRequest(address=172, bits=[True], **ids()), True, {"address": 172, "values": (1,)}),
    (bit.WriteSingleCoilResponse(address=172, bits=[False], **ids()), False,
     {"address": 172, "values": (0,)}),
    (reg.WriteSingleRegisterRequest(address=1, registers=[3], **ids()), True, {"address": 1, "values": (3,)}),
    (reg.WriteSingleRegisterResponse(address=1, registers=[3], **ids()), False,
     {"address": 1, "values": (3,)}),
    (other.ReadExceptionStatusRequest(**ids()), True, {}),
    (other.ReadExceptionStatusResponse(status=0x6D, **ids()), False, {"output_data": 0x6D}),
    (other.GetCommEventCounterRequest(**ids()), True, {}),
    (other.GetCommEventCounterResponse(count=264, **ids()), False, {"status": 0, "event_count": 264}),
    (other.GetCommEventLogRequest(**ids()), True, {}),
    (other.GetCommEventLogResponse(message_count=289, event_count=264, events=[0x20, 0x00], **ids()), False,
     {"byte_count": 8, "event_count": 264, "message_count": 289, "events": b"\x20\x00"}),
    (bit.WriteMultipleCoilsRequest(address=19, bits=[bool(b) for b in (1, 0, 1, 1, 0, 0, 1, 1, 1, 0)],
                                   **ids()), True,
     {"address": 19, "quantity": 10, "byte_count": 2, "values": (1, 0, 1, 1, 0, 0, 1, 1, 1, 0)}),
    (bit.WriteMultipleCoilsResponse(address=19, count=10, **ids()), False, {"address": 19, "quantity": 10}),
    (reg.WriteMultipleRegistersRequest(address=1, registers=[10, 258], **ids()), True,
     {"address": 1, "quantity": 2, "byte_count": 4, "values": (10, 258)}),
    (reg.WriteMultipleRegistersResponse(address=1, count=2, **ids()), False, {"address": 1, "quantity": 2}),
    (other.ReportDeviceIdRequest(**ids()), True, {}),
    (other.ReportDeviceIdResponse(identifier=b"OTSENSOR", status=True, **ids()), False,
     {"server_id": b"OTSENSOR", "run_indicator": True}),
    (other.ReportDeviceIdResponse(identifier=b"\x2a", status=False, **ids()), False,
     {"server_id": b"\x2a", "run_indicator": False}),
    (file.ReadFileRecordRequest(records=[file.FileRecord(file_number=4, record_number=1, record_length=4),
                                         file.FileRecord(file_number=3, record_number=9, record_length=4)],
                                **ids()),
     True, {"file_records": (FileRecord(6, 4, 1, 2, None), FileRecord(6, 3, 9, 2, None))}),
    (file.ReadFileRecordResponse(records=[file.FileRecord(record_data=b"\x0d\xfe\x00\x20")], **ids()), False,
     {"file_records": (FileRecord(6, None, None, 2, b"\x0d\xfe\x00\x20"),)}),
    (file.WriteFileRecordRequest(records=[file.FileRecord(file_number=4, record_number=7,
                                                          record_data=bytes.fromhex("06af04be100d"))],
                                 **ids()), True,
     {"file_records": (FileRecord(6, 4, 7, 3, bytes.fromhex("06af04be100d")),)}),
    (file.WriteFileRecordResponse(records=[file.FileRecord(file_number=4, record_number=7,
                                                           record_data=bytes.fromhex("06af"))],
                                  **ids()), False,
     {"file_records": (FileRecord(6, 4, 7, 1, bytes.fromhex("06af")),)}),
    (reg.MaskWriteRegisterRequest(address=4, and_mask=0xF2, or_mask=0x25, **ids()), True,
     {"address": 4, "and_mask": 0xF2, "or_mask": 0x25}),
    (reg.MaskWriteRegisterResponse(address=4, and_mask=0xF2, or_mask=0x25, **ids()), False,
     {"address": 4, "and_mask": 0xF2, "or_mask": 0x25}),
    (reg.ReadWriteMultipleRegistersRequest(read_address=3, read_count=6, write_address=14,
                                           write_registers=[255, 255, 255], **ids()), True,
     {"address": 3, "quantity": 6, "write_address": 14, "write_quantity": 3, "values": (255, 255, 255)}),
    (reg.ReadWriteMultipleRegistersResponse(registers=[0xFE, 0x0ACD, 1], **ids()), False,
     {"byte_count": 6, "values": (0xFE, 0x0ACD, 1)}),
    (file.ReadFifoQueueRequest(address=1246, **ids()), True, {"address": 1246}),
    (file.ReadFifoQueueResponse(values=[440, 4740], **ids()), False,
     {"byte_count": 6, "fifo_count": 2, "values": (440, 4740)}),
    (mei.ReadDeviceInformationRequest(read_code=1, object_id=0, **ids()), True,
     {"mei_type": 14, "read_device_id_code": 1, "object_id": 0}),
    (mei.ReadDeviceInformationRequest(read_code=4, object_id=0x81, **ids()), True,
     {"read_device_id_code": 4, "read_device_id_name": "specific", "object_id": 0x81}),
]


@pytest.mark.parametrize(("pdu", "is_request", "expected"), CASES, ids=lambda c: type(c).__name__)
def test_pymodbus_pdu_reads_back(pdu: object, is_request: bool, expected: dict) -> None:
    message = roundtrip(pdu, is_request)
    for name, value in expected.items():
        assert getattr(message, name) == value, name


def test_every_pymodbus_function_code_is_covered() -> None:
    covered = {type(pdu).function_code for pdu, _, _ in CASES} | {8}  # diagnostics below
    assert set(DecodePDU(is_server=True).list_function_codes()) <= covered


def test_read_device_information_response() -> None:
    information = {0: b"Acme", 1: b"PLC-9", 2: b"1.0", 3: b"http://acme.example", 4: b"Press",
                   5: b"M9", 6: b"line 3", 0x80: b"private"}
    pdu = mei.ReadDeviceInformationResponse(read_code=3, information=information, **ids())
    message = roundtrip(pdu, False)
    assert (message.mei_type, message.read_device_id_code) == (14, 3)
    assert message.number_of_objects == len(information)
    assert (message.more_follows, message.next_object_id) == (False, 0)
    assert {o.object_id: o.value.encode() for o in message.objects} == information
    assert message.objects[-1].object_name == "private_0x80"


def _diagnostic_classes() -> list[type]:
    return [cls for name, cls in inspect.getmembers(diag, inspect.isclass)
            if cls.__module__ == diag.__name__ and name != "DiagnosticBase"]


@pytest.mark.parametrize("cls", _diagnostic_classes(), ids=lambda c: c.__name__)
def test_every_pymodbus_diagnostic(cls: type) -> None:
    is_request = cls.__name__.endswith("Request")
    message = roundtrip(cls(**ids()), is_request)
    assert message.sub_function == cls.sub_function_code
    assert message.sub_function_name == diagnostic_name(cls.sub_function_code)
    # pymodbus sends one zero data word, except for listen-only's response, which has none (it is never sent).
    assert message.values == (() if cls is diag.ForceListenOnlyModeResponse else (0,))


def test_return_query_data_carries_its_words() -> None:
    message = roundtrip(diag.ReturnQueryDataRequest(message=b"\xa5\x37\x00\x01", **ids()), True)
    assert message.values == (0xA537, 1)


@pytest.mark.parametrize("exception_code", [1, 2, 3, 4, 5, 6, 8, 10, 11])
@pytest.mark.parametrize("function_code", [1, 2, 3, 4, 5, 6, 15, 16, 23, 43])
def test_pymodbus_exception_responses(function_code: int, exception_code: int) -> None:
    pdu = ExceptionResponse(function_code, exception_code, UNIT, TID)
    pdu.dev_id, pdu.transaction_id = UNIT, TID
    message = roundtrip(pdu, False)
    assert (message.function_code, message.exception_code) == (function_code, exception_code)


# --- property-based: the common function codes over their whole ranges ---------------------------

addresses = st.integers(0, 0xFFFF)
registers = st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=123)
coils = st.lists(st.booleans(), min_size=1, max_size=0x7B0)
id_fields = st.fixed_dictionaries({"dev_id": st.integers(0, 255), "transaction_id": st.integers(0, 0xFFFF)})


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([bit.ReadCoilsRequest, bit.ReadDiscreteInputsRequest]), addresses,
       st.integers(1, 2000), id_fields)
def test_read_bits_requests(cls: type, address: int, count: int, extra: dict) -> None:
    message = roundtrip(cls(address=address, count=count, **extra), True)
    assert (message.address, message.quantity) == (address, count)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([reg.ReadHoldingRegistersRequest, reg.ReadInputRegistersRequest]), addresses,
       st.integers(1, 125), id_fields)
def test_read_register_requests(cls: type, address: int, count: int, extra: dict) -> None:
    message = roundtrip(cls(address=address, count=count, **extra), True)
    assert (message.address, message.quantity) == (address, count)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([bit.ReadCoilsResponse, bit.ReadDiscreteInputsResponse]),
       st.lists(st.booleans(), min_size=1, max_size=2000), id_fields)
def test_read_bits_responses(cls: type, bits: list[bool], extra: dict) -> None:
    message = roundtrip(cls(bits=bits, **extra), False)
    padded = len(bits) + (-len(bits) % 8)
    assert message.values == tuple(int(b) for b in bits) + (0,) * (padded - len(bits))
    assert message.byte_count == padded // 8


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([reg.ReadHoldingRegistersResponse, reg.ReadInputRegistersResponse,
                        reg.ReadWriteMultipleRegistersResponse]),
       st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=125), id_fields)
def test_read_register_responses(cls: type, values: list[int], extra: dict) -> None:
    message = roundtrip(cls(registers=values, **extra), False)
    assert message.values == tuple(values)


@settings(max_examples=60, deadline=None)
@given(addresses, st.booleans(), st.integers(0, 0xFFFF), id_fields, st.booleans())
def test_single_writes(address: int, on: bool, value: int, extra: dict, is_request: bool) -> None:
    coil_cls = bit.WriteSingleCoilRequest if is_request else bit.WriteSingleCoilResponse
    reg_cls = reg.WriteSingleRegisterRequest if is_request else reg.WriteSingleRegisterResponse
    coil = roundtrip(coil_cls(address=address, bits=[on], **extra), is_request)
    assert (coil.address, coil.quantity, coil.values) == (address, 1, (int(on),))
    register = roundtrip(reg_cls(address=address, registers=[value], **extra), is_request)
    assert (register.address, register.quantity, register.values) == (address, 1, (value,))


@settings(max_examples=60, deadline=None)
@given(addresses, coils, registers, id_fields)
def test_multiple_write_requests(address: int, bits: list[bool], values: list[int], extra: dict) -> None:
    coil = roundtrip(bit.WriteMultipleCoilsRequest(address=address, bits=bits, **extra), True)
    assert (coil.address, coil.quantity, coil.values) == (address, len(bits), tuple(int(b) for b in bits))
    register = roundtrip(reg.WriteMultipleRegistersRequest(address=address, registers=values, **extra), True)
    assert (register.address, register.quantity, register.values) == (address, len(values), tuple(values))


@settings(max_examples=60, deadline=None)
@given(addresses, st.integers(1, 0x7B0), st.integers(1, 0x7B), id_fields)
def test_multiple_write_responses(address: int, n_coils: int, n_registers: int, extra: dict) -> None:
    coil = roundtrip(bit.WriteMultipleCoilsResponse(address=address, count=n_coils, **extra), False)
    assert (coil.address, coil.quantity) == (address, n_coils)
    pdu = reg.WriteMultipleRegistersResponse(address=address, count=n_registers, **extra)
    register = roundtrip(pdu, False)
    assert (register.address, register.quantity) == (address, n_registers)


@settings(max_examples=60, deadline=None)
@given(addresses, st.integers(1, 125), addresses, st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=121),
       id_fields)
def test_read_write_requests(read_address: int, read_count: int, write_address: int, values: list[int],
                             extra: dict) -> None:
    pdu = reg.ReadWriteMultipleRegistersRequest(read_address=read_address, read_count=read_count,
                                                write_address=write_address, write_registers=values, **extra)
    message = roundtrip(pdu, True)
    assert (message.address, message.quantity) == (read_address, read_count)
    assert (message.write_address, message.write_quantity, message.values) == (write_address, len(values),
                                                                                tuple(values))
