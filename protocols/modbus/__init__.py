"""Modbus/TCP (Modbus Application Protocol V1.1b3; Modbus Messaging on TCP/IP Implementation Guide V1.0b).

``wire`` decodes one ADU, ``stream`` frames ADUs out of one direction of a TCP flow, ``codes``
names the numbers. Registration is this ``SPEC``, listed in ``protocols/__init__.py``.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec, Verdict
from protocols.modbus import wire
from protocols.modbus.codes import ACTIONS
from protocols.modbus.stream import MAX_BUFFER, ModbusStream
from protocols.modbus.wire import MBAP_SIZE, FileRecord, IdentificationObject, ModbusMessage, parse_adu, probe

WEIRDS = {
    "modbus_bad_protocol_id": "MBAP protocol id is not 0: not Modbus, or framing is lost",
    "modbus_bad_length": "MBAP length outside 2..254",
    "modbus_buffer_overflow": "more bytes waiting for one ADU than any ADU can have",
    wire.WEIRD_PDU_TOO_SHORT: "the PDU ends before the fields its function code requires",
    wire.WEIRD_BAD_BYTE_COUNT: "a byte count that disagrees with the quantity or the length",
    wire.WEIRD_BAD_QUANTITY: "a quantity outside the range the spec allows for the function",
    wire.WEIRD_BAD_COIL_VALUE: "a single-coil write of neither 0xFF00 nor 0x0000",
    wire.WEIRD_UNKNOWN_EXCEPTION_CODE: "an exception code the spec does not define",
    wire.WEIRD_TRAILING_BYTES: "bytes after the last field the function defines",
    "modbus_request_table_full": "unanswered requests forgotten: the pairing table is full",
}


def detect(data: bytes) -> Verdict:
    """The probe as the dispatcher asks it: a header and function code decide."""
    if len(data) <= MBAP_SIZE:
        return Verdict.MORE
    return Verdict.ACCEPT if probe(data) else Verdict.REJECT


SPEC = ProtocolSpec(name="modbus", ports=frozenset({("tcp", 502)}), probe=detect, framer=ModbusStream,
                    actions=ACTIONS, weirds=WEIRDS)

__all__ = [
    "MAX_BUFFER",
    "SPEC",
    "FileRecord",
    "IdentificationObject",
    "ModbusMessage",
    "ModbusStream",
    "parse_adu",
    "probe",
]
