"""Modbus/TCP (Modbus Application Protocol V1.1b3; Modbus Messaging on TCP/IP Implementation Guide V1.0b).

``wire`` decodes one ADU, ``stream`` frames ADUs out of one direction of a TCP flow, ``codes``
names the numbers. Registration is this ``SPEC``, listed in ``protocols/__init__.py``.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec
from protocols.modbus.stream import MAX_BUFFER, ModbusStream
from protocols.modbus.wire import FileRecord, IdentificationObject, ModbusMessage, parse_adu, probe

SPEC = ProtocolSpec(name="modbus", transport="tcp", ports=frozenset({502}), probe=probe)

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
