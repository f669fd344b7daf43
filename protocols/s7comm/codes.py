"""S7comm and S7comm-plus numbers, their names, and the package's one action table.

Siemens publishes no specification of S7comm or S7comm-plus. The reference for every number here
is the Wireshark dissectors by Thomas Wiens: ``epan/dissectors/packet-s7comm.c`` and
``packet-s7comm.h`` (in Wireshark since 1.12) and the ``s7comm_plus`` plugin
(``packet-s7comm_plus.c``, sourceforge/github "s7commwireshark"); names are theirs in snake_case.
The transport below is ISO-on-TCP: TPKT (RFC 1006 §6) carrying COTP class 0 (ISO 8073 / X.224
§13), whose TPDU codes are listed here too.

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..`` and never raise,
because the values come straight off the wire.

``function_code`` namespaces, one per layer (the event's ``pdu`` field says which):

- ``cotp``: the TPDU code, credit bits masked (``0xE0`` connection request);
- ``s7comm`` job/ack_data: the function byte of the parameter part (``0x04`` read var); a PDU
  without a parameter part takes its ROSCTR as code and name (``2``, ``ack``);
- ``s7comm`` userdata: ``function group << 8 | subfunction`` (``0x0401`` read SZL);
- ``s7comm_plus``: the 16-bit function code (``0x04CA`` CreateObject); keep-alives,
  system events and notifications, which carry none, use ``0``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import ACTIONS as VOCABULARY

TSAP_PORT = 102  # RFC 1006 §5: ISO transport services on top of TCP, port 102


def _unknown(code: int, width: int = 2) -> str:
    return f"unknown_0x{code:0{width}x}" if code >= 0 else f"unknown_{code}"


def _names(codes: type[IntEnum]) -> dict[int, str]:
    return {int(c): c.name.lower() for c in codes}


# --- COTP (ISO 8073 §13.1 table 8: TPDU codes) ------------------------------------------------------


class Tpdu(IntEnum):
    """TPDU codes, high nibble of octet 2 of the header (§13.2.2.2); CR and CC carry CDT below."""

    EXPEDITED_DATA = 0x10
    EXPEDITED_DATA_ACKNOWLEDGEMENT = 0x20
    REJECT = 0x50
    DATA_ACKNOWLEDGEMENT = 0x60
    TPDU_ERROR = 0x70
    DISCONNECT_REQUEST = 0x80
    DISCONNECT_CONFIRM = 0xC0
    CONNECTION_CONFIRM = 0xD0
    CONNECTION_REQUEST = 0xE0
    DATA = 0xF0


_TPDU_NAMES = _names(Tpdu)


def tpdu_name(code: int) -> str:
    """snake_case name of a TPDU code (credit bits already masked)."""
    return _TPDU_NAMES.get(code) or _unknown(code)


class CotpParameter(IntEnum):
    """Variable-part parameter codes of CR/CC/DR/ER, §13.3.4 and §13.12.3."""

    TPDU_SIZE = 0xC0
    CALLING_TSAP = 0xC1  # in ER the same code carries the invalid TPDU (§13.12.3)
    CALLED_TSAP = 0xC2
    CHECKSUM = 0xC3
    VERSION_NUMBER = 0xC4
    PROTECTION = 0xC5
    ADDITIONAL_OPTIONS = 0xC6
    ALTERNATIVE_CLASSES = 0xC7
    ACKNOWLEDGEMENT_TIME = 0x85
    PREFERRED_MAX_TPDU_SIZE = 0xF0
    INACTIVITY_TIMER = 0xF2



class DisconnectReason(IntEnum):
    """DR reason codes, §13.5.3 d)."""

    NORMAL = 0x80
    CONGESTION = 0x81
    CONNECTION_NEGOTIATION_FAILED = 0x82
    DUPLICATE_SOURCE_REFERENCE = 0x83
    MISMATCHED_REFERENCES = 0x84
    PROTOCOL_ERROR = 0x85
    REFERENCE_OVERFLOW = 0x87
    CONNECTION_REQUEST_REFUSED = 0x88
    HEADER_OR_PARAMETER_LENGTH_INVALID = 0x8A
    NOT_SPECIFIED = 0x00
    CONGESTION_AT_TSAP = 0x01
    SESSION_ENTITY_NOT_ATTACHED = 0x02
    ADDRESS_UNKNOWN = 0x03


_DR_NAMES = _names(DisconnectReason)


def disconnect_reason_name(code: int) -> str:
    return _DR_NAMES.get(code) or _unknown(code)


class ConnectionType(IntEnum):
    """S7 connection resource, the first octet of a classic S7 called TSAP (packet-s7comm.c, snap7)."""

    PG = 0x01  # programming device: an engineering station
    OP = 0x02  # operator panel: an HMI
    S7_BASIC = 0x03


_CONNECTION_NAMES = _names(ConnectionType)


def connection_type_name(code: int) -> str:
    return _CONNECTION_NAMES.get(code) or _unknown(code)


# --- S7comm header (packet-s7comm.c: rosctr_names, errcls_names) -----------------------------------

PROTOCOL_ID = 0x32
PLUS_PROTOCOL_ID = 0x72


class Rosctr(IntEnum):
    """PDU types (ROSCTR, header octet 1)."""

    JOB = 0x01
    ACK = 0x02
    ACK_DATA = 0x03
    USERDATA = 0x07


_ROSCTR_NAMES = _names(Rosctr)


def rosctr_name(code: int) -> str:
    return _ROSCTR_NAMES.get(code) or _unknown(code)


class ErrorClass(IntEnum):
    """Header error classes of ack/ack_data (packet-s7comm.c errcls_names)."""

    NO_ERROR = 0x00
    APPLICATION_RELATIONSHIP = 0x81
    OBJECT_DEFINITION = 0x82
    NO_RESOURCES_AVAILABLE = 0x83
    ERROR_ON_SERVICE_PROCESSING = 0x84
    ERROR_ON_SUPPLIES = 0x85
    ACCESS_ERROR = 0x87


_ERROR_CLASS_NAMES = _names(ErrorClass)


def error_class_name(code: int) -> str:
    return _ERROR_CLASS_NAMES.get(code) or _unknown(code)


# --- S7comm job functions (packet-s7comm.c param_functionnames) ------------------------------------


class Function(IntEnum):
    """Function codes of the job/ack_data parameter part."""

    CPU_SERVICES = 0x00
    MODE_TRANSITION = 0x01
    READ_VAR = 0x04
    WRITE_VAR = 0x05
    REQUEST_DOWNLOAD = 0x1A
    DOWNLOAD_BLOCK = 0x1B
    DOWNLOAD_ENDED = 0x1C
    START_UPLOAD = 0x1D
    UPLOAD = 0x1E
    END_UPLOAD = 0x1F
    PI_SERVICE = 0x28
    PLC_STOP = 0x29
    SETUP_COMMUNICATION = 0xF0


_FUNCTION_NAMES = _names(Function)


def function_name(code: int) -> str:
    """snake_case name of a job function code."""
    return _FUNCTION_NAMES.get(code) or _unknown(code)


BLOCK_CONTROL = frozenset({
    Function.REQUEST_DOWNLOAD, Function.DOWNLOAD_BLOCK, Function.DOWNLOAD_ENDED,
    Function.START_UPLOAD, Function.UPLOAD, Function.END_UPLOAD,
})


class Area(IntEnum):
    """Memory areas of an S7ANY item address (packet-s7comm.c item_areanames)."""

    DATA_RECORD = 0x01
    SYSTEM_INFO_200 = 0x03
    SYSTEM_FLAGS_200 = 0x05
    ANALOG_INPUTS_200 = 0x06
    ANALOG_OUTPUTS_200 = 0x07
    COUNTER = 0x1C
    TIMER = 0x1D
    IEC_COUNTER_200 = 0x1E
    IEC_TIMER_200 = 0x1F
    PERIPHERAL = 0x80
    INPUTS = 0x81
    OUTPUTS = 0x82
    FLAGS = 0x83
    DATA_BLOCKS = 0x84
    INSTANCE_DATA_BLOCKS = 0x85
    LOCAL_DATA = 0x86
    PREVIOUS_LOCAL_DATA = 0x87


_AREA_NAMES = _names(Area)
_AREA_SHORT = {  # packet-s7comm.c item_areanames_short: the S7 mnemonic of each area
    0x01: "RECORD", 0x03: "SI200", 0x05: "SF200", 0x06: "AI200", 0x07: "AO", 0x1C: "C", 0x1D: "T",
    0x1E: "C200", 0x1F: "T200", 0x80: "P", 0x81: "I", 0x82: "Q", 0x83: "M", 0x84: "DB", 0x85: "DI",
    0x86: "L", 0x87: "V",
}
NUMBERED_AREAS = frozenset({Area.DATA_BLOCKS, Area.INSTANCE_DATA_BLOCKS})  # the DB field names the block
COUNTED_AREAS = frozenset({Area.COUNTER, Area.TIMER, Area.IEC_COUNTER_200, Area.IEC_TIMER_200})


def area_name(code: int) -> str:
    return _AREA_NAMES.get(code) or _unknown(code)


def area_space(area: int, db: int) -> str:
    """The point space of an item: ``DB1``, ``DI3``, ``M``, ``I``, ``Q``, ``C``, ``T``... (``area_0x..`` if unknown)."""
    short = _AREA_SHORT.get(area)
    if short is None:
        return f"area_0x{area:02x}"
    return f"{short}{db}" if area in NUMBERED_AREAS else short


class TransportSize(IntEnum):
    """Transport sizes of an item's variable specification (packet-s7comm.c item_transportsizenames)."""

    BIT = 0x01
    BYTE = 0x02
    CHAR = 0x03
    WORD = 0x04
    INT = 0x05
    DWORD = 0x06
    DINT = 0x07
    REAL = 0x08
    DATE = 0x09
    TOD = 0x0A
    TIME = 0x0B
    S5TIME = 0x0C
    DATE_AND_TIME = 0x0F
    COUNTER = 0x1C
    TIMER = 0x1D
    IEC_TIMER = 0x1E
    IEC_COUNTER = 0x1F
    HS_COUNTER = 0x20


_TRANSPORT_NAMES = _names(TransportSize)
ELEMENT_BYTES: Mapping[int, int] = MappingProxyType({  # bytes per element; BIT counts one byte per bit
    1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4, 8: 4, 9: 2, 10: 4, 11: 4, 12: 2, 15: 8,
    28: 2, 29: 2, 30: 4, 31: 4, 32: 4,
})


def transport_size_name(code: int) -> str:
    return _TRANSPORT_NAMES.get(code) or _unknown(code)


class DataTransportSize(IntEnum):
    """Transport sizes of a data item (packet-s7comm.c data_transportsizenames)."""

    NULL = 0x00
    BIT = 0x03  # length in bits
    BYTE_WORD_DWORD = 0x04  # length in bits
    INTEGER = 0x05  # length in bits
    DINTEGER = 0x06  # length in bytes
    REAL = 0x07  # length in bytes
    OCTET_STRING = 0x09  # length in bytes
    NCK_ADDRESS1 = 0x11
    NCK_ADDRESS2 = 0x12


LENGTH_IN_BITS = frozenset({DataTransportSize.BIT, DataTransportSize.BYTE_WORD_DWORD, DataTransportSize.INTEGER})


class SyntaxId(IntEnum):
    """Syntax ids of a variable specification (packet-s7comm.c item_syntaxid_names)."""

    S7ANY = 0x10
    PARAMETER_SHORT = 0x11
    PARAMETER_EXTENDED = 0x12
    PBC_R_ID = 0x13
    ALARM_LOCKFREE = 0x15
    ALARM_IND = 0x16
    ALARM_ACK = 0x19
    ALARM_QUERYREQ = 0x1A
    NOTIFY_IND = 0x1C
    NCK = 0x82
    NCK_METRIC = 0x83
    NCK_INCH = 0x84
    DRIVEESANY = 0xA2
    DBREAD = 0xB0
    SYMBOLIC_1200 = 0xB2


_SYNTAX_NAMES = _names(SyntaxId)


def syntax_id_name(code: int) -> str:
    return _SYNTAX_NAMES.get(code) or _unknown(code)


class ReturnCode(IntEnum):
    """Return codes of a data item (packet-s7comm.h S7COMM_ITEM_RETVAL_*)."""

    RESERVED = 0x00
    HARDWARE_ERROR = 0x01
    ACCESSING_THE_OBJECT_NOT_ALLOWED = 0x03
    INVALID_ADDRESS = 0x05
    DATA_TYPE_NOT_SUPPORTED = 0x06
    DATA_TYPE_INCONSISTENT = 0x07
    OBJECT_DOES_NOT_EXIST = 0x0A
    SUCCESS = 0xFF


_RETURN_NAMES = _names(ReturnCode)


def return_code_name(code: int) -> str:
    return _RETURN_NAMES.get(code) or _unknown(code)


BLOCK_TYPES: Mapping[str, str] = MappingProxyType({  # two ASCII hex digits in file names (blocktype_names)
    "08": "OB", "09": "CMod", "0A": "DB", "0B": "SDB", "0C": "FC", "0D": "SFC", "0E": "FB", "0F": "SFB",
})
SUBBLOCK_TYPES: Mapping[int, str] = MappingProxyType({  # one binary octet (subblktype_names)
    0x08: "OB", 0x0A: "DB", 0x0B: "SDB", 0x0C: "FC", 0x0D: "SFC", 0x0E: "FB", 0x0F: "SFB",
})


def block_type_name(code: str) -> str:
    return BLOCK_TYPES.get(code.upper()) or f"unknown_{code.encode('latin-1', 'replace').hex()}"


# --- PI services (packet-s7comm.c pi_service_names) --------------------------------------------------

PI_SERVICES: Mapping[str, str] = MappingProxyType({
    "_INSE": "activate a downloaded block (insert)",
    "_DELE": "delete blocks",
    "P_PROGRAM": "program invocation: start (hot/cold restart) or stop of the PLC program",
    "_GARB": "compress PLC memory",
    "_MODU": "copy RAM to ROM",
    "_EXEC": "execute",
})


def pi_service_key(service: str) -> str:
    """A PI service name as an action-table suffix: ``P_PROGRAM`` -> ``p_program``, ``_INSE`` -> ``inse``."""
    return service.strip().strip("_").lower() or "empty"


# --- userdata (packet-s7comm.c userdata_* tables; packet-s7comm.h) ---------------------------------


class UserdataType(IntEnum):
    """High nibble of userdata parameter octet 5, as tshark 4.0 decodes it."""

    PUSH = 0x0
    NC_PUSH = 0x3
    REQUEST = 0x4
    NC_REQUEST = 0x7
    RESPONSE = 0x8
    NC_RESPONSE = 0xB


_UD_TYPE_NAMES = _names(UserdataType)


def userdata_type_name(code: int) -> str:
    return _UD_TYPE_NAMES.get(code) or _unknown(code, 1)


class FunctionGroup(IntEnum):
    """Low nibble of userdata parameter octet 5 (userdata_functiongroup_names)."""

    MODE_TRANSITION = 0x0  # pushed by the CPU; the subfunction octet is the mode it is now in
    PROGRAMMER_COMMANDS = 0x1
    CYCLIC_SERVICES = 0x2
    BLOCK_FUNCTIONS = 0x3
    CPU_FUNCTIONS = 0x4
    SECURITY = 0x5
    PBC_BSEND = 0x6
    TIME_FUNCTIONS = 0x7
    NC_PROGRAMMING = 0xF


_GROUP_NAMES = _names(FunctionGroup)


def function_group_name(code: int) -> str:
    return _GROUP_NAMES.get(code) or _unknown(code, 1)


_SUBFUNCTIONS: dict[int, dict[int, str]] = {
    FunctionGroup.PROGRAMMER_COMMANDS: {  # userdata_tis_subfunc_names
        0x01: "block_status", 0x02: "variable_status", 0x03: "output_istack", 0x04: "output_bstack",
        0x05: "output_lstack", 0x06: "time_measurement", 0x07: "force_selection", 0x08: "modify_variable",
        0x09: "force", 0x0A: "breakpoint", 0x0B: "exit_hold", 0x0C: "memory_reset", 0x0D: "disable_job",
        0x0E: "enable_job", 0x0F: "delete_job", 0x10: "read_job_list", 0x11: "read_job", 0x12: "replace_job",
        0x13: "block_status_v2", 0x16: "flash_led",
    },
    FunctionGroup.CYCLIC_SERVICES: {  # userdata_cyclic_subfunc_names
        0x01: "cyclic_transfer", 0x04: "unsubscribe", 0x05: "change_driven_transfer",
        0x07: "change_driven_transfer_modify", 0x08: "rdrec",
    },
    FunctionGroup.BLOCK_FUNCTIONS: {0x01: "list_blocks", 0x02: "list_blocks_of_type", 0x03: "get_block_info"},
    FunctionGroup.CPU_FUNCTIONS: {  # userdata_cpu_subfunc_names, values from packet-s7comm.h
        0x01: "read_szl", 0x02: "message_service", 0x03: "diagnostic_message", 0x05: "alarm_8_indication",
        0x06: "notify_indication", 0x07: "alarm_8_lock", 0x08: "alarm_8_unlock", 0x09: "scan_indication",
        0x0B: "alarm_ack", 0x0C: "alarm_ack_indication", 0x0D: "alarm_lock_indication",
        0x0E: "alarm_unlock_indication", 0x10: "ar_send_indication", 0x11: "alarm_sq_indication",
        0x12: "alarm_s_indication", 0x13: "alarm_query", 0x16: "notify_8_indication",
    },
    FunctionGroup.SECURITY: {0x01: "plc_password", 0x02: "clear_plc_password"},
    FunctionGroup.PBC_BSEND: {0x01: "bsend"},
    FunctionGroup.TIME_FUNCTIONS: {0x01: "read_clock", 0x02: "set_clock", 0x03: "read_clock_following",
                                   0x04: "set_clock"},
    FunctionGroup.NC_PROGRAMMING: {  # userdata_ncprg_subfunc_names, prefixed: they are not the job functions
        0x01: "nc_request_download", 0x02: "nc_download_block", 0x03: "nc_continue_download",
        0x04: "nc_download_ended", 0x06: "nc_start_upload", 0x07: "nc_upload", 0x08: "nc_continue_upload",
    },
}

READ_SZL = FunctionGroup.CPU_FUNCTIONS << 8 | 0x01

CPU_MODES: Mapping[int, str] = MappingProxyType({  # packet-s7comm.c modetrans_param_subfunc_names
    0: "stop", 1: "warm_restart", 2: "run", 3: "hot_restart", 4: "hold", 6: "cold_restart", 9: "run_r",
    11: "link_up", 12: "update",
})


def cpu_mode_name(code: int) -> str:
    return CPU_MODES.get(code) or _unknown(code)


def userdata_code(group: int, subfunction: int) -> int:
    """The function code of a userdata PDU: ``group << 8 | subfunction``."""
    return (group & 0xF) << 8 | (subfunction & 0xFF)


def userdata_function_name(group: int, subfunction: int) -> str:
    """snake_case name of a userdata (group, subfunction); unknown ones are ``unknown_0xgss``.

    Group 0 is the CPU's mode transition report, whatever mode its subfunction octet names.
    """
    if group == FunctionGroup.MODE_TRANSITION:
        return "mode_transition"
    name = _SUBFUNCTIONS.get(group, {}).get(subfunction)
    return name if name is not None else f"unknown_0x{group & 0xF:x}{subfunction:02x}"


# --- SZL (System Status List; packet-s7comm_szl_ids.c) --------------------------------------------

SZL_MODULE_IDENTIFICATION = 0x11  # partial list xy11: order number, hardware and firmware versions
SZL_COMPONENT_IDENTIFICATION = 0x1C  # partial list xy1C: station, module, plant, serial, copyright

SZL_0011_INDEX: Mapping[int, str] = MappingProxyType({  # szl_0111_index_names
    0x0001: "module", 0x0006: "basic_hardware", 0x0007: "basic_firmware", 0x0081: "boot_loader",
})
SZL_001C_INDEX: Mapping[int, str] = MappingProxyType({  # s7comm.szl.001c.000x fields
    0x0001: "as_name", 0x0002: "module_name", 0x0003: "plant_id", 0x0004: "copyright",
    0x0005: "serial", 0x0007: "module_type_name", 0x0008: "memory_card_serial",
    0x0009: "manufacturer_and_profile", 0x000A: "oem_id", 0x000B: "location",
})
SZL_001C_ORDER = (1, 2, 3, 4, 5, 7, 8, 9, 10, 11)  # the order a CPU lists the records in (SZL doc)
SZL_RECORD_LENGTH: Mapping[int, int] = MappingProxyType({  # LENTHDR a CPU announces (SZL doc)
    SZL_MODULE_IDENTIFICATION: 28, SZL_COMPONENT_IDENTIFICATION: 34,
})


# --- S7comm-plus (packet-s7comm_plus.c) -----------------------------------------------------------


class PlusVersion(IntEnum):
    """Protocol version octet of the S7comm-plus header (protocolversion_names)."""

    V1 = 0x01
    V2 = 0x02
    V3 = 0x03
    SYSTEM_EVENT = 0xFE
    KEEP_ALIVE = 0xFF


_PLUS_VERSION_NAMES = _names(PlusVersion)


def plus_version_name(code: int) -> str:
    return _PLUS_VERSION_NAMES.get(code) or _unknown(code)


class PlusOpcode(IntEnum):
    """Opcodes of the S7comm-plus data part (opcode_names)."""

    REQUEST = 0x31
    RESPONSE = 0x32
    NOTIFICATION = 0x33
    RESPONSE2 = 0x02


_PLUS_OPCODE_NAMES = _names(PlusOpcode)


def plus_opcode_name(code: int) -> str:
    return _PLUS_OPCODE_NAMES.get(code) or _unknown(code)


class PlusFunction(IntEnum):
    """Function codes of the S7comm-plus data part (data_functioncode_names)."""

    ERROR = 0x04B1
    EXPLORE = 0x04BB
    CREATE_OBJECT = 0x04CA
    DELETE_OBJECT = 0x04D4
    SET_VARIABLE = 0x04F2
    GET_VARIABLE = 0x04FC
    ADD_LINK = 0x0506
    REMOVE_LINK = 0x051A
    GET_LINK = 0x0524
    SET_MULTI_VARIABLES = 0x0542
    GET_MULTI_VARIABLES = 0x054C
    BEGIN_SEQUENCE = 0x0556
    END_SEQUENCE = 0x0560
    INVOKE = 0x056B
    SET_VAR_SUB_STREAMED = 0x057C
    GET_VAR_SUB_STREAMED = 0x0586
    GET_VARIABLES_ADDRESS = 0x0590
    ABORT = 0x059A
    ERROR_2 = 0x05A9
    INIT_SSL = 0x05B3


_PLUS_FUNCTION_NAMES = _names(PlusFunction)
PLUS_KEEP_ALIVE, PLUS_SYSTEM_EVENT, PLUS_NOTIFICATION = "keep_alive", "system_event", "notification"


def plus_function_name(code: int) -> str:
    return _PLUS_FUNCTION_NAMES.get(code) or _unknown(code, 4)


class PlusId(IntEnum):
    """Object and attribute ids the package looks at (packet-s7comm_plus.c id_number_names;
    S7CommPlusDriver Core/Ids.cs)."""

    THE_PLC_PROGRAM = 3
    THE_CPU_EXEC_UNIT = 52
    THE_I_AREA = 80
    THE_Q_AREA = 81
    THE_M_AREA = 82
    THE_S7_COUNTERS = 83
    THE_S7_TIMERS = 84
    OBJECT_SERVER_SESSION_CONTAINER = 285
    OBJECT_NULL_SERVER_SESSION = 288
    SERVER_SESSION_VERSION = 306
    CLASS_SUBSCRIPTION = 1001  # 1001-1082: the subscription class and its attributes
    SUBSCRIPTION_FUNCTION_CLASS_ID = 1082
    CPU_EXEC_UNIT_OPERATING_STATE_REQ = 2167
    DB_ACCESS_AREA_BASE = 0x8A0E0000  # + DB number: the access area of a data block


PLUS_AREA_SPACES: Mapping[int, str] = MappingProxyType({
    PlusId.THE_I_AREA: "I", PlusId.THE_Q_AREA: "Q", PlusId.THE_M_AREA: "M",
    PlusId.THE_S7_COUNTERS: "C", PlusId.THE_S7_TIMERS: "T",
})


# --- the one action table: function name -> action (base.ACTIONS) ---------------------------------
# "function/sub" keys refine a function by its sub-function where the meaning changes (see action_of).

ACTIONS: Mapping[str, str] = MappingProxyType({
    # COTP (ISO 8073): opening and closing the transport connection
    "connection_request": "session",
    "connection_confirm": "session",
    "disconnect_request": "session",
    "disconnect_confirm": "session",
    "tpdu_error": "other",
    "data": "other",
    "expedited_data": "other",
    "expedited_data_acknowledgement": "other",
    "data_acknowledgement": "other",
    "reject": "other",
    # S7comm PDUs without a parameter part are named after their ROSCTR
    "job": "other",
    "ack": "other",
    "ack_data": "other",
    "userdata": "other",
    # S7comm job functions
    "cpu_services": "other",
    "mode_transition": "diagnostics",  # the CPU reports a change of its operating mode
    "setup_communication": "session",
    "read_var": "read",
    "write_var": "write",
    "request_download": "program_download",
    "download_block": "program_download",
    "download_ended": "program_download",
    "start_upload": "program_upload",
    "upload": "program_upload",
    "end_upload": "program_upload",
    "plc_stop": "mode_change",
    "pi_service": "other",
    "pi_service/p_program": "mode_change",  # PLC start: hot (warm) or cold restart
    "pi_service/inse": "program_download",  # activates the blocks just downloaded
    "pi_service/dele": "other",  # deletes blocks
    "pi_service/garb": "other",  # compresses memory
    "pi_service/modu": "other",  # copies RAM to ROM
    # userdata, group 1: programmer commands (test and installation functions)
    "block_status": "diagnostics",
    "variable_status": "read",
    "output_istack": "diagnostics",
    "output_bstack": "diagnostics",
    "output_lstack": "diagnostics",
    "time_measurement": "diagnostics",
    "force_selection": "diagnostics",
    "modify_variable": "write",
    "force": "write",
    "breakpoint": "mode_change",  # halts the program: the CPU goes to HOLD
    "exit_hold": "mode_change",
    "memory_reset": "diagnostics",
    "disable_job": "diagnostics",
    "enable_job": "diagnostics",
    "delete_job": "diagnostics",
    "read_job_list": "diagnostics",
    "read_job": "diagnostics",
    "replace_job": "diagnostics",
    "block_status_v2": "diagnostics",
    "flash_led": "diagnostics",
    # group 2: cyclic services (subscriptions to data)
    "cyclic_transfer": "read",
    "unsubscribe": "read",
    "change_driven_transfer": "read",
    "change_driven_transfer_modify": "read",
    "rdrec": "read",
    # group 3: block functions
    "list_blocks": "discovery",
    "list_blocks_of_type": "discovery",
    "get_block_info": "discovery",
    # group 4: CPU functions
    "read_szl": "read",
    "message_service": "read",
    "diagnostic_message": "diagnostics",
    "alarm_8_indication": "read",
    "notify_indication": "read",
    "alarm_8_lock": "write",
    "alarm_8_unlock": "write",
    "scan_indication": "read",
    "alarm_ack": "write",
    "alarm_ack_indication": "read",
    "alarm_lock_indication": "read",
    "alarm_unlock_indication": "read",
    "ar_send_indication": "read",
    "alarm_sq_indication": "read",
    "alarm_s_indication": "read",
    "alarm_query": "read",
    "notify_8_indication": "read",
    # group 5: security (the PLC password is the session's authentication)
    "plc_password": "session",
    "clear_plc_password": "session",
    # group 6, 7, 15
    "bsend": "other",
    "read_clock": "read",
    "set_clock": "time_sync",
    "read_clock_following": "read",
    "nc_request_download": "file_transfer",
    "nc_download_block": "file_transfer",
    "nc_continue_download": "file_transfer",
    "nc_download_ended": "file_transfer",
    "nc_start_upload": "file_transfer",
    "nc_upload": "file_transfer",
    "nc_continue_upload": "file_transfer",
    # S7comm-plus
    "keep_alive": "session",
    "system_event": "other",
    "notification": "read",  # data of a subscription, pushed by the PLC
    "error": "other",
    "error_2": "other",
    "explore": "discovery",
    "create_object": "other",
    "create_object/server_session": "session",  # the client opens its session object
    "create_object/plc_program": "program_download",  # a block created in thePLCProgram (object 3)
    "delete_object": "other",
    "delete_object/server_session": "session",  # the client deletes its own session object
    "set_variable": "write",
    "set_variable/operating_state": "mode_change",  # CPUexecUnit.operatingStateREQ: start/stop
    "set_variable/subscription": "read",  # credit and cycle of a subscription: flow control of reads
    "get_variable": "read",
    "add_link": "other",
    "remove_link": "other",
    "get_link": "read",
    "set_multi_variables": "write",
    "set_multi_variables/server_session": "session",  # the client answers the session challenge
    "set_multi_variables/subscription": "read",
    "get_multi_variables": "read",
    "begin_sequence": "other",
    "end_sequence": "other",
    "invoke": "operate",
    "set_var_sub_streamed": "program_download",  # streamed attribute writes carry block bodies
    "get_var_sub_streamed": "read",
    "get_variables_address": "read",
    "abort": "session",
    "init_ssl": "session",
})
"""Function name (and ``name/sub`` refinements) -> action. Unknown names act as ``other``."""

assert set(ACTIONS.values()) <= set(VOCABULARY), "every action must be in the shared vocabulary"


def action_of(name: str, sub: str | None = None) -> str:
    """The action of a function, refined by a sub-function key where the table has one; ``other`` if unknown."""
    if sub is not None:
        refined = ACTIONS.get(f"{name}/{sub}")
        if refined is not None:
            return refined
    return ACTIONS.get(name, "other")


# --- weird codes: the first oddity of a message that is still readable, and the framer's codes -----

WEIRDS: Mapping[str, str] = MappingProxyType({
    # framing (raised as Malformed: the bytes are not TPKT/COTP/S7, or framing is lost)
    "s7comm_bad_tpkt_version": "TPKT version is not 3 (RFC 1006 §6): not ISO-on-TCP, framing lost",
    "s7comm_bad_tpkt_reserved": "TPKT reserved octet is not 0 (RFC 1006 §6): framing lost",
    "s7comm_bad_tpkt_length": "TPKT length below 7, the smallest TPKT with a COTP header: framing lost",
    "s7comm_bad_cotp_length": "COTP length indicator does not fit the TPKT or the TPDU's fixed part",
    "s7comm_bad_protocol_id": "COTP data is neither S7comm (0x32) nor S7comm-plus (0x72)",
    "s7comm_bad_rosctr": "S7comm PDU type (ROSCTR) is not job, ack, ack_data or userdata",
    "s7comm_bad_length": "S7comm header or parameter lengths exceed the PDU",
    "s7comm_plus_bad_length": "S7comm-plus data length exceeds the frame",
    "s7comm_buffer_overflow": "more bytes pending than the framer keeps (MAX_BUFFER)",
    "s7comm_reassembly_overflow": "a fragmented COTP or S7comm-plus PDU grew past MAX_PDU",
    # weirds of readable messages
    "s7comm_unknown_tpdu": "COTP TPDU code not in ISO 8073 table 8",
    "s7comm_bad_cotp_parameter": "a COTP variable-part parameter runs past the header",
    "s7comm_trailing_bytes": "bytes after the S7comm parameter and data parts",
    "s7comm_no_parameter": "a job, ack_data or userdata PDU without a parameter part",
    "s7comm_bad_item": "a variable specification or data item is cut short or inconsistent",
    "s7comm_item_count_mismatch": "the item count disagrees with the items present",
    "s7comm_bad_userdata_head": "the userdata parameter head is neither 00 01 12 nor 01 00 10",
    "s7comm_bad_szl_header": "SZL partial list header unreadable or zero: records read at the standard length",
    "s7comm_szl_truncated": "an SZL partial list announces more records than its data units carry",
    "s7comm_szl_short_record": "an SZL record shorter than its layout (xy11: 28 octets, xy1C: 34)",
    "s7comm_bad_block_filename": "a block control file name that is not _TTNNNNNF",
    "s7comm_bad_pi_service": "a PI service or PLC stop parameter cut short",
    "s7comm_plus_bad_data": "S7comm-plus data part cut short before its function header",
    "s7comm_plus_unknown_opcode": "S7comm-plus opcode not request, response, response2 or notification",
    "s7comm_plus_bad_trailer": "S7comm-plus trailer is not 72 <version> 00 00",
})
"""Weird code -> one-line meaning (SPEC.weirds, documented in the README)."""
