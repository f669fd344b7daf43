"""Modbus numbers and their names (Modbus Application Protocol Specification V1.1b3).

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..`` (or the
spec's range name) and never raise, because the values come straight off the wire.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import NamedTuple

from protocols.base import namer, unknown_name


class FunctionCode(IntEnum):
    """Public function codes, §5.1 (table "Public Function Code Definition") and §6."""

    READ_COILS = 0x01
    READ_DISCRETE_INPUTS = 0x02
    READ_HOLDING_REGISTERS = 0x03
    READ_INPUT_REGISTERS = 0x04
    WRITE_SINGLE_COIL = 0x05
    WRITE_SINGLE_REGISTER = 0x06
    READ_EXCEPTION_STATUS = 0x07  # serial line only
    DIAGNOSTICS = 0x08  # serial line only
    GET_COMM_EVENT_COUNTER = 0x0B  # serial line only
    GET_COMM_EVENT_LOG = 0x0C  # serial line only
    WRITE_MULTIPLE_COILS = 0x0F
    WRITE_MULTIPLE_REGISTERS = 0x10
    REPORT_SERVER_ID = 0x11  # serial line only
    READ_FILE_RECORD = 0x14
    WRITE_FILE_RECORD = 0x15
    MASK_WRITE_REGISTER = 0x16
    READ_WRITE_MULTIPLE_REGISTERS = 0x17
    READ_FIFO_QUEUE = 0x18
    ENCAPSULATED_INTERFACE_TRANSPORT = 0x2B


UMAS = 0x5A
"""Schneider Electric UMAS (Unity/EcoStruxure engineering protocol) rides on function code 90.

§5.1 lists 90 as "reserved for legacy products"; in practice it is a vendor's own code, so we
name it and treat it as user-defined (its payload is opaque to the public spec).
"""

_USER_DEFINED_RANGES = (range(65, 73), range(100, 111))  # §5.1: 65–72 and 100–110


def is_user_defined(code: int) -> bool:
    """True for the §5.1 user-defined ranges, and for Schneider's UMAS (90)."""
    return code == UMAS or any(code in r for r in _USER_DEFINED_RANGES)




_FUNCTION_NAMES: dict[int, str] = {int(fc): fc.name.lower() for fc in FunctionCode}
_FUNCTION_NAMES[UMAS] = "umas"
for _r in _USER_DEFINED_RANGES:
    for _code in _r:
        _FUNCTION_NAMES[_code] = f"user_defined_0x{_code:02x}"


def function_name(code: int) -> str:
    """snake_case name of a function code (without the exception bit)."""
    name = _FUNCTION_NAMES.get(code)
    return name if name is not None else unknown_name(code)


class ExceptionCode(IntEnum):
    """Exception codes, §7 (7 is from the legacy PI-MBUS-300 spec; 9 was never assigned)."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    SERVER_DEVICE_BUSY = 0x06
    NEGATIVE_ACKNOWLEDGE = 0x07
    MEMORY_PARITY_ERROR = 0x08
    GATEWAY_PATH_UNAVAILABLE = 0x0A
    GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND = 0x0B


_EXCEPTION_NAMES: dict[int, str] = {int(c): c.name.lower() for c in ExceptionCode}


def exception_name(code: int) -> str:
    """snake_case name of an exception code; 9 and anything above 11 are ``unknown_0x..``."""
    name = _EXCEPTION_NAMES.get(code)
    return name if name is not None else unknown_name(code)


def is_known_exception(code: int) -> bool:
    """True when the exception code has a name (§7); the parser flags the others as weird."""
    return code in _EXCEPTION_NAMES


class DiagnosticSubFunction(IntEnum):
    """Sub-function codes of function 8 (Diagnostics), §6.8.1; 0x05–0x09, 0x13, 0x15+ are reserved."""

    RETURN_QUERY_DATA = 0x00
    RESTART_COMMUNICATIONS_OPTION = 0x01
    RETURN_DIAGNOSTIC_REGISTER = 0x02
    CHANGE_ASCII_INPUT_DELIMITER = 0x03
    FORCE_LISTEN_ONLY_MODE = 0x04
    CLEAR_COUNTERS_AND_DIAGNOSTIC_REGISTER = 0x0A
    RETURN_BUS_MESSAGE_COUNT = 0x0B
    RETURN_BUS_COMMUNICATION_ERROR_COUNT = 0x0C
    RETURN_BUS_EXCEPTION_ERROR_COUNT = 0x0D
    RETURN_SERVER_MESSAGE_COUNT = 0x0E
    RETURN_SERVER_NO_RESPONSE_COUNT = 0x0F
    RETURN_SERVER_NAK_COUNT = 0x10
    RETURN_SERVER_BUSY_COUNT = 0x11
    RETURN_BUS_CHARACTER_OVERRUN_COUNT = 0x12
    CLEAR_OVERRUN_COUNTER_AND_FLAG = 0x14


diagnostic_name = namer(DiagnosticSubFunction, "a Diagnostics (8) sub-function")


class MeiType(IntEnum):
    """MODBUS Encapsulated Interface types carried by function 43, §6.19–§6.21."""

    CANOPEN_GENERAL_REFERENCE = 0x0D
    READ_DEVICE_IDENTIFICATION = 0x0E


mei_type_name = namer(MeiType, "a MEI type")


class ReadDeviceIdCode(IntEnum):
    """Read Device ID codes of 43/14, §6.21: which category of objects, or one object."""

    BASIC = 0x01
    REGULAR = 0x02
    EXTENDED = 0x03
    SPECIFIC = 0x04  # one specific object (individual access)


read_device_id_name = namer(ReadDeviceIdCode, "a Read Device ID code")


class ConformityLevel(IntEnum):
    """Conformity levels a device reports in 43/14 responses, §6.21."""

    BASIC_STREAM_ONLY = 0x01
    REGULAR_STREAM_ONLY = 0x02
    EXTENDED_STREAM_ONLY = 0x03
    BASIC_STREAM_AND_INDIVIDUAL = 0x81
    REGULAR_STREAM_AND_INDIVIDUAL = 0x82
    EXTENDED_STREAM_AND_INDIVIDUAL = 0x83


conformity_level_name = namer(ConformityLevel, "a 43/14 conformity level")


class DeviceObject(IntEnum):
    """Device identification objects, §6.21: 0x00–0x02 basic, 0x03–0x06 regular, 0x07–0x7F reserved."""

    VENDOR_NAME = 0x00
    PRODUCT_CODE = 0x01
    MAJOR_MINOR_REVISION = 0x02
    VENDOR_URL = 0x03
    PRODUCT_NAME = 0x04
    MODEL_NAME = 0x05
    USER_APPLICATION_NAME = 0x06


_OBJECT_NAMES: dict[int, str] = {int(c): c.name.lower() for c in DeviceObject}


def object_name(object_id: int) -> str:
    """snake_case name of a device identification object; 0x80–0xFF are the extended, private ones."""
    name = _OBJECT_NAMES.get(object_id)
    if name is not None:
        return name
    if 0x07 <= object_id <= 0x7F:
        return f"reserved_0x{object_id:02x}"
    if 0x80 <= object_id <= 0xFF:
        return f"private_0x{object_id:02x}"
    return unknown_name(object_id)


class Table(StrEnum):
    """The data tables of the Modbus data model, §4.3 (plus files, FIFOs and device identity)."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"
    FILE_RECORD = "file_record"
    FIFO = "fifo"
    DEVICE_IDENTIFICATION = "device_identification"


class Access(NamedTuple):
    """Which table a function code reads and which it writes (None: it does not)."""

    read: Table | None
    write: Table | None


ACCESS: Mapping[int, Access] = MappingProxyType({
    FunctionCode.READ_COILS: Access(Table.COIL, None),
    FunctionCode.READ_DISCRETE_INPUTS: Access(Table.DISCRETE_INPUT, None),
    FunctionCode.READ_HOLDING_REGISTERS: Access(Table.HOLDING_REGISTER, None),
    FunctionCode.READ_INPUT_REGISTERS: Access(Table.INPUT_REGISTER, None),
    FunctionCode.WRITE_SINGLE_COIL: Access(None, Table.COIL),
    FunctionCode.WRITE_SINGLE_REGISTER: Access(None, Table.HOLDING_REGISTER),
    FunctionCode.WRITE_MULTIPLE_COILS: Access(None, Table.COIL),
    FunctionCode.WRITE_MULTIPLE_REGISTERS: Access(None, Table.HOLDING_REGISTER),
    FunctionCode.READ_FILE_RECORD: Access(Table.FILE_RECORD, None),
    FunctionCode.WRITE_FILE_RECORD: Access(None, Table.FILE_RECORD),
    FunctionCode.MASK_WRITE_REGISTER: Access(None, Table.HOLDING_REGISTER),
    FunctionCode.READ_WRITE_MULTIPLE_REGISTERS: Access(Table.HOLDING_REGISTER, Table.HOLDING_REGISTER),
    FunctionCode.READ_FIFO_QUEUE: Access(Table.FIFO, None),
    # 43 counts as a read because 43/14 (device identification) is what is seen in practice;
    # 43/13 (CANopen) can write a CANopen object dictionary, so check mei_type where that matters.
    FunctionCode.ENCAPSULATED_INTERFACE_TRANSPORT: Access(Table.DEVICE_IDENTIFICATION, None),
})
"""Function code → Access. Codes absent here (diagnostics, counters, user-defined) neither read
nor write a data table as far as the public spec says, so a read-only policy must not allow them."""


class UmasFunction(IntEnum):
    """Schneider UMAS function codes, carried in the second byte of an FC 90 request (after the pairing key).

    Names as Wireshark's Modbus/TCP dissector gives them (packet-mbtcp.h). UMAS calls the transfer of a
    project *to* the PLC an "upload" and the transfer *from* it a "download", the reverse of the words
    engineers use elsewhere; the action table below follows the direction of the code, not the word.
    """

    INIT_COMM = 0x01
    READ_ID = 0x02
    READ_PROJECT_INFO = 0x03
    READ_PLC_INFO = 0x04
    READ_CARD_INFO = 0x06
    REPEAT = 0x0A
    TAKE_PLC_RESERVATION = 0x10
    RELEASE_PLC_RESERVATION = 0x11
    KEEP_ALIVE = 0x12
    READ_MEMORY_BLOCK = 0x20
    READ_VARIABLES = 0x22
    WRITE_VARIABLES = 0x23
    READ_COILS_REGISTERS = 0x24
    WRITE_COILS_REGISTERS = 0x25
    DATA_DICTIONARY = 0x26
    INITIALIZE_UPLOAD = 0x30
    UPLOAD_BLOCK = 0x31
    END_STRATEGY_UPLOAD = 0x32
    INITIALIZE_DOWNLOAD = 0x33
    DOWNLOAD_BLOCK = 0x34
    END_STRATEGY_DOWNLOAD = 0x35
    START_PLC = 0x40
    STOP_PLC = 0x41


umas_function_name = namer(UmasFunction, "a UMAS function")

_PUBLIC_ACTIONS = {
    **dict.fromkeys(("read_coils", "read_discrete_inputs", "read_holding_registers", "read_input_registers",
                     "read_file_record", "read_fifo_queue"), "read"),
    **dict.fromkeys(("write_single_coil", "write_single_register", "write_multiple_coils",
                     "write_multiple_registers", "write_file_record", "mask_write_register",
                     "read_write_multiple_registers"), "write"),
    **dict.fromkeys(("read_exception_status", "diagnostics", "get_comm_event_counter", "get_comm_event_log"),
                    "diagnostics"),
    "diagnostics/restart_communications_option": "restart",
    "diagnostics/force_listen_only_mode": "mode_change",
    "report_server_id": "discovery",
    "encapsulated_interface_transport": "other",
    "encapsulated_interface_transport/read_device_identification": "discovery",
    "umas": "other",
}
_UMAS_ACTIONS = {
    **dict.fromkeys((UmasFunction.INITIALIZE_UPLOAD, UmasFunction.UPLOAD_BLOCK, UmasFunction.END_STRATEGY_UPLOAD),
                    "program_download"),
    **dict.fromkeys((UmasFunction.INITIALIZE_DOWNLOAD, UmasFunction.DOWNLOAD_BLOCK,
                     UmasFunction.END_STRATEGY_DOWNLOAD), "program_upload"),
    UmasFunction.START_PLC: "mode_change",
    UmasFunction.STOP_PLC: "mode_change",
}

ACTIONS: Mapping[str, str] = MappingProxyType({
    **_PUBLIC_ACTIONS,
    **{f"umas/{umas_function_name(code)}": action for code, action in _UMAS_ACTIONS.items()},
})
"""The one Modbus action table: function name (refined by sub-function where that changes the meaning)
-> action of the shared vocabulary (DESIGN.md). Every name not listed, user-defined codes and unknown
codes included, is ``other``."""


def action_name(function_code: int, sub_function: int | None = None, mei_type: int | None = None,
                umas_function: int | None = None) -> str:
    """The function's name, refined where the sub-function changes its meaning (the keys of ``ACTIONS``)."""
    name = function_name(function_code)
    if function_code == FunctionCode.DIAGNOSTICS and sub_function in (
            DiagnosticSubFunction.RESTART_COMMUNICATIONS_OPTION, DiagnosticSubFunction.FORCE_LISTEN_ONLY_MODE):
        return f"{name}/{diagnostic_name(sub_function)}"
    if function_code == FunctionCode.ENCAPSULATED_INTERFACE_TRANSPORT and mei_type == MeiType.READ_DEVICE_IDENTIFICATION:
        return f"{name}/{mei_type_name(mei_type)}"
    if function_code == UMAS and umas_function in _UMAS_ACTIONS:
        return f"{name}/{umas_function_name(umas_function)}"
    return name


def action_of(name: str) -> str:
    """The action of a (refined) function name; anything unlisted is ``other``."""
    return ACTIONS.get(name, "other")
