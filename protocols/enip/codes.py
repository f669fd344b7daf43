"""EtherNet/IP and CIP numbers, their names, and the package's one action table.

Sources: The CIP Networks Library, Volume 1 (Common Industrial Protocol, edition 3.x: Appendix A
services, Appendix B status codes, Appendix C data types and EPATH, chapter 5 objects, chapter 6
device profiles) and Volume 2 (EtherNet/IP Adaptation of CIP: §2-3 encapsulation, §2-6 common
packet format, §2-4 commands). Logix tag services: Rockwell Automation publication 1756-PM020
("Logix 5000 Controllers Data Access"). PCCC: Allen-Bradley publication 1770-6.5.16 (DF1 protocol
and command set).

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..`` (or the spec's range
name) and never raise, because the values come straight off the wire.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

# --- encapsulation (Vol 2 §2-3) -----------------------------------------------------------------

class Command(IntEnum):
    """Encapsulation commands, Vol 2 §2-3.2 Table 2-3.2 (0x0001 is a legacy Rockwell command)."""

    NOP = 0x0000
    LIST_TARGETS = 0x0001
    LIST_SERVICES = 0x0004
    LIST_IDENTITY = 0x0063
    LIST_INTERFACES = 0x0064
    REGISTER_SESSION = 0x0065
    UNREGISTER_SESSION = 0x0066
    SEND_RR_DATA = 0x006F
    SEND_UNIT_DATA = 0x0070
    INDICATE_STATUS = 0x0072
    CANCEL = 0x0073
    START_DTLS = 0x00C8  # Vol 8 (CIP Security)


command_name = namer(Command, "an encapsulation command")
KNOWN_COMMANDS = frozenset(int(c) for c in Command)


class EncapStatus(IntEnum):
    """Encapsulation status codes, Vol 2 §2-3.3 Table 2-3.3."""

    SUCCESS = 0x0000
    INVALID_COMMAND = 0x0001
    INSUFFICIENT_MEMORY = 0x0002
    INCORRECT_DATA = 0x0003
    INVALID_SESSION_HANDLE = 0x0064
    INVALID_LENGTH = 0x0065
    UNSUPPORTED_PROTOCOL_REVISION = 0x0069
    ENCAPSULATED_CIP_SERVICE_NOT_ALLOWED = 0x006A  # Vol 8: on a port that requires TLS


encap_status_name = namer(EncapStatus, "an encapsulation status")


class ItemType(IntEnum):
    """Common Packet Format item type ids, Vol 2 §2-6.1 Table 2-6.3."""

    NULL_ADDRESS = 0x0000
    LIST_IDENTITY_RESPONSE = 0x000C
    CIP_SECURITY_INFORMATION = 0x0086
    ENIP_CAPABILITY = 0x0087
    ENIP_USAGE = 0x0088
    CONNECTED_ADDRESS = 0x00A1
    CONNECTED_DATA = 0x00B1
    UNCONNECTED_DATA = 0x00B2
    LIST_SERVICES_RESPONSE = 0x0100
    SOCKADDR_INFO_O_T = 0x8000
    SOCKADDR_INFO_T_O = 0x8001
    SEQUENCED_ADDRESS = 0x8002
    UNCONNECTED_MESSAGE_OVER_UDP = 0x8003


item_type_name = namer(ItemType, "a CPF item type")


# --- CIP services (Vol 1 Appendix A) --------------------------------------------------------------

class Service(IntEnum):
    """Common services, Vol 1 Appendix A Table A-3.1 (0x00-0x31; the rest are object-specific)."""

    GET_ATTRIBUTES_ALL = 0x01
    SET_ATTRIBUTES_ALL = 0x02
    GET_ATTRIBUTE_LIST = 0x03
    SET_ATTRIBUTE_LIST = 0x04
    RESET = 0x05
    START = 0x06
    STOP = 0x07
    CREATE = 0x08
    DELETE = 0x09
    MULTIPLE_SERVICE_PACKET = 0x0A
    APPLY_ATTRIBUTES = 0x0D
    GET_ATTRIBUTE_SINGLE = 0x0E
    SET_ATTRIBUTE_SINGLE = 0x10
    FIND_NEXT_OBJECT_INSTANCE = 0x11
    ERROR_RESPONSE = 0x14  # DeviceNet only
    RESTORE = 0x15
    SAVE = 0x16
    NO_OPERATION = 0x17
    GET_MEMBER = 0x18
    SET_MEMBER = 0x19
    INSERT_MEMBER = 0x1A
    REMOVE_MEMBER = 0x1B
    GROUP_SYNC = 0x1C
    GET_CONNECTION_POINT_MEMBER_LIST = 0x1D


class ConnectionManagerService(IntEnum):
    """Connection Manager (class 0x06) services, Vol 1 §3-5.5 Table 3-5.9."""

    FORWARD_CLOSE = 0x4E
    UNCONNECTED_SEND = 0x52
    FORWARD_OPEN = 0x54
    GET_CONNECTION_DATA = 0x56
    SEARCH_CONNECTION_DATA = 0x57
    GET_CONNECTION_OWNER = 0x5A
    LARGE_FORWARD_OPEN = 0x5B


class LogixService(IntEnum):
    """Logix tag services on a symbolic path or the Symbol object (0x6B), 1756-PM020 chapter 1."""

    READ_TAG = 0x4C
    WRITE_TAG = 0x4D
    READ_MODIFY_WRITE_TAG = 0x4E
    READ_TAG_FRAGMENTED = 0x52
    WRITE_TAG_FRAGMENTED = 0x53
    GET_INSTANCE_ATTRIBUTE_LIST = 0x55


class FileService(IntEnum):
    """File object (class 0x37) services, Vol 1 §5-42."""

    INITIATE_UPLOAD = 0x4B
    INITIATE_DOWNLOAD = 0x4C
    INITIATE_PARTIAL_READ = 0x4D
    INITIATE_PARTIAL_WRITE = 0x4E
    UPLOAD_TRANSFER = 0x4F
    DOWNLOAD_TRANSFER = 0x50
    CLEAR_FILE = 0x51


EXECUTE_PCCC = 0x4B  # PCCC object (class 0x67): one DF1 command inside a CIP request
READ_TEMPLATE = 0x4C  # Template object (class 0x6C), 1756-PM020
NVS_SERVICE_NAME = "non_volatile_storage_service"
"""Object-specific services of Rockwell's Non-Volatile Storage object (class 0xA1), the object
ControlFLASH writes new firmware through. Their codes are not public, so they share one name."""


class ObjectClass(IntEnum):
    """Object class codes, Vol 1 §5 Table 5-1.1, Vol 2 §5, and the Rockwell classes seen on Logix."""

    IDENTITY = 0x01
    MESSAGE_ROUTER = 0x02
    DEVICENET = 0x03
    ASSEMBLY = 0x04
    CONNECTION = 0x05
    CONNECTION_MANAGER = 0x06
    REGISTER = 0x07
    DISCRETE_INPUT_POINT = 0x08
    DISCRETE_OUTPUT_POINT = 0x09
    ANALOG_INPUT_POINT = 0x0A
    ANALOG_OUTPUT_POINT = 0x0B
    PRESENCE_SENSING = 0x0E
    PARAMETER = 0x0F
    PARAMETER_GROUP = 0x10
    GROUP = 0x12
    DISCRETE_INPUT_GROUP = 0x1D
    DISCRETE_OUTPUT_GROUP = 0x1E
    DISCRETE_GROUP = 0x1F
    ANALOG_INPUT_GROUP = 0x20
    ANALOG_OUTPUT_GROUP = 0x21
    ANALOG_GROUP = 0x22
    POSITION_SENSOR = 0x23
    POSITION_CONTROLLER_SUPERVISOR = 0x24
    POSITION_CONTROLLER = 0x25
    BLOCK_SEQUENCER = 0x26
    COMMAND_BLOCK = 0x27
    MOTOR_DATA = 0x28
    CONTROL_SUPERVISOR = 0x29
    AC_DC_DRIVE = 0x2A
    ACKNOWLEDGE_HANDLER = 0x2B
    OVERLOAD = 0x2C
    SOFTSTART = 0x2D
    SELECTION = 0x2E
    S_DEVICE_SUPERVISOR = 0x30
    S_ANALOG_SENSOR = 0x31
    S_ANALOG_ACTOR = 0x32
    S_SINGLE_STAGE_CONTROLLER = 0x33
    S_GAS_CALIBRATION = 0x34
    TRIP_POINT = 0x35
    FILE = 0x37
    S_PARTIAL_PRESSURE = 0x38
    SAFETY_SUPERVISOR = 0x39
    SAFETY_VALIDATOR = 0x3A
    SAFETY_DISCRETE_OUTPUT_POINT = 0x3B
    SAFETY_DISCRETE_OUTPUT_GROUP = 0x3C
    SAFETY_DISCRETE_INPUT_POINT = 0x3D
    SAFETY_DISCRETE_INPUT_GROUP = 0x3E
    SAFETY_DUAL_CHANNEL_OUTPUT = 0x3F
    S_SENSOR_CALIBRATION = 0x40
    EVENT_LOG = 0x41
    MOTION_AXIS = 0x42
    TIME_SYNC = 0x43
    MODBUS = 0x44
    ORIGINATOR_CONNECTION_LIST = 0x45
    MODBUS_SERIAL_LINK = 0x46
    DEVICE_LEVEL_RING = 0x47
    QOS = 0x48
    PCCC = 0x67  # Rockwell: Execute PCCC
    SYMBOL = 0x6B  # Rockwell Logix: tags by instance
    TEMPLATE = 0x6C  # Rockwell Logix: structure templates
    NON_VOLATILE_STORAGE = 0xA1  # Rockwell: firmware flashing (ControlFLASH)
    CONTROLNET = 0xF0
    CONTROLNET_KEEPER = 0xF1
    CONTROLNET_SCHEDULING = 0xF2
    CONNECTION_CONFIGURATION = 0xF3
    PORT = 0xF4
    TCP_IP_INTERFACE = 0xF5
    ETHERNET_LINK = 0xF6
    COMPONET_LINK = 0xF7
    COMPONET_REPEATER = 0xF8


_CLASS_NAMES = {int(c): c.name.lower() for c in ObjectClass}


def class_name(class_id: int) -> str:
    """snake_case name of an object class; 0x64-0xC7 and 0x300-0x4FF are vendor-specific (Vol 1 Table 5-1.1)."""
    name = _CLASS_NAMES.get(class_id)
    if name is not None:
        return name
    if 0x64 <= class_id <= 0xC7 or 0x300 <= class_id <= 0x4FF:
        return f"vendor_0x{class_id:02x}"
    return unknown_name(class_id)


_COMMON_NAMES = {int(s): s.name.lower() for s in Service}
_CM_NAMES = {int(s): s.name.lower() for s in ConnectionManagerService}
_LOGIX_NAMES = {int(s): s.name.lower() for s in LogixService}
_FILE_NAMES = {int(s): s.name.lower() for s in FileService}
_BY_CLASS: Mapping[int, Mapping[int, str]] = MappingProxyType({
    ObjectClass.CONNECTION_MANAGER: _CM_NAMES,
    ObjectClass.SYMBOL: _LOGIX_NAMES,
    ObjectClass.FILE: _FILE_NAMES,
    ObjectClass.PCCC: {EXECUTE_PCCC: "execute_pccc"},
    ObjectClass.TEMPLATE: {READ_TEMPLATE: "read_template"},
})
# A reply does not repeat its request's path. Without the request, an object-specific reply code is
# named after its most common meaning on EtherNet/IP (Logix controllers and their ENBT/EN2T cards);
# pairing (``protocols.enip.pairing``) replaces the guess with the request's name.
_REPLY_GUESS: Mapping[int, str] = MappingProxyType({
    0x4B: "execute_pccc", 0x4C: "read_tag", 0x4D: "write_tag", 0x4E: "forward_close",
    0x52: "unconnected_send", 0x53: "write_tag_fragmented", 0x54: "forward_open",
    0x55: "get_instance_attribute_list", 0x56: "get_connection_data", 0x57: "search_connection_data",
    0x5A: "get_connection_owner", 0x5B: "large_forward_open",
})


def service_name(service: int, class_id: int | None, symbolic: bool = False) -> str:
    """snake_case name of a CIP service (without the reply bit) as the object it is sent to defines it.

    ``class_id`` is the request path's first class (None when unknown, as for a reply without its
    request); ``symbolic`` says the path names a Logix tag, where 0x4C-0x55 are the tag services.
    """
    common = _COMMON_NAMES.get(service)
    if common is not None:
        return common
    if service < 0x32:
        return f"reserved_0x{service:02x}"
    if symbolic:
        name = _LOGIX_NAMES.get(service)
        return name if name is not None else unknown_name(service)
    if class_id is None:
        name = _REPLY_GUESS.get(service)
        return name if name is not None else unknown_name(service)
    if class_id == ObjectClass.NON_VOLATILE_STORAGE:
        return NVS_SERVICE_NAME
    name = _BY_CLASS.get(class_id, {}).get(service)
    return name if name is not None else unknown_name(service)


class GeneralStatus(IntEnum):
    """General status codes of a CIP reply, Vol 1 Appendix B Table B-1.1."""

    SUCCESS = 0x00
    CONNECTION_FAILURE = 0x01
    RESOURCE_UNAVAILABLE = 0x02
    INVALID_PARAMETER_VALUE = 0x03
    PATH_SEGMENT_ERROR = 0x04
    PATH_DESTINATION_UNKNOWN = 0x05
    PARTIAL_TRANSFER = 0x06
    CONNECTION_LOST = 0x07
    SERVICE_NOT_SUPPORTED = 0x08
    INVALID_ATTRIBUTE_VALUE = 0x09
    ATTRIBUTE_LIST_ERROR = 0x0A
    ALREADY_IN_REQUESTED_MODE_STATE = 0x0B
    OBJECT_STATE_CONFLICT = 0x0C
    OBJECT_ALREADY_EXISTS = 0x0D
    ATTRIBUTE_NOT_SETTABLE = 0x0E
    PRIVILEGE_VIOLATION = 0x0F
    DEVICE_STATE_CONFLICT = 0x10
    REPLY_DATA_TOO_LARGE = 0x11
    FRAGMENTATION_OF_A_PRIMITIVE_VALUE = 0x12
    NOT_ENOUGH_DATA = 0x13
    ATTRIBUTE_NOT_SUPPORTED = 0x14
    TOO_MUCH_DATA = 0x15
    OBJECT_DOES_NOT_EXIST = 0x16
    SERVICE_FRAGMENTATION_SEQUENCE_NOT_IN_PROGRESS = 0x17
    NO_STORED_ATTRIBUTE_DATA = 0x18
    STORE_OPERATION_FAILURE = 0x19
    ROUTING_FAILURE_REQUEST_PACKET_TOO_LARGE = 0x1A
    ROUTING_FAILURE_RESPONSE_PACKET_TOO_LARGE = 0x1B
    MISSING_ATTRIBUTE_LIST_ENTRY_DATA = 0x1C
    INVALID_ATTRIBUTE_VALUE_LIST = 0x1D
    EMBEDDED_SERVICE_ERROR = 0x1E
    VENDOR_SPECIFIC_ERROR = 0x1F
    INVALID_PARAMETER = 0x20
    WRITE_ONCE_VALUE_OR_MEDIUM_ALREADY_WRITTEN = 0x21
    INVALID_REPLY_RECEIVED = 0x22
    BUFFER_OVERFLOW = 0x23
    MESSAGE_FORMAT_ERROR = 0x24
    KEY_FAILURE_IN_PATH = 0x25
    PATH_SIZE_INVALID = 0x26
    UNEXPECTED_ATTRIBUTE_IN_LIST = 0x27
    INVALID_MEMBER_ID = 0x28
    MEMBER_NOT_SETTABLE = 0x29
    GROUP_2_ONLY_SERVER_GENERAL_FAILURE = 0x2A
    UNKNOWN_MODBUS_ERROR = 0x2B
    ATTRIBUTE_NOT_GETTABLE = 0x2C
    INSTANCE_NOT_DELETABLE = 0x2D
    SERVICE_NOT_SUPPORTED_FOR_SPECIFIED_PATH = 0x2E


general_status_name = namer(GeneralStatus, "a CIP general status")


class DataType(IntEnum):
    """Elementary data type codes, Vol 1 Appendix C-6.1 Table C-6.1 (as Logix tag services carry them)."""

    BOOL = 0xC1
    SINT = 0xC2
    INT = 0xC3
    DINT = 0xC4
    LINT = 0xC5
    USINT = 0xC6
    UINT = 0xC7
    UDINT = 0xC8
    ULINT = 0xC9
    REAL = 0xCA
    LREAL = 0xCB
    STIME = 0xCC
    DATE = 0xCD
    TIME_OF_DAY = 0xCE
    DATE_AND_TIME = 0xCF
    STRING = 0xD0
    BYTE = 0xD1
    WORD = 0xD2
    DWORD = 0xD3
    LWORD = 0xD4
    STRING2 = 0xD5
    FTIME = 0xD6
    LTIME = 0xD7
    ITIME = 0xD8
    STRINGN = 0xD9
    SHORT_STRING = 0xDA
    TIME = 0xDB
    EPATH = 0xDC
    ENGUNIT = 0xDD
    STRINGI = 0xDE


STRUCTURE = 0x02A0  # Logix: "abbreviated structure type", a 16-bit structure handle follows (1756-PM020)
_TYPE_NAMES = {int(t): t.name for t in DataType}


def data_type_name(code: int) -> str:
    """The spec's name of a data type code (upper case, as Appendix C writes them); unknown -> ``unknown_0x..``."""
    if code == STRUCTURE:
        return "STRUCT"
    name = _TYPE_NAMES.get(code)
    return name if name is not None else unknown_name(code)


# struct format (little-endian) of the fixed-size elementary types whose values are worth reporting.
VALUE_FORMATS: Mapping[int, str] = MappingProxyType({
    DataType.BOOL: "B", DataType.SINT: "b", DataType.INT: "h", DataType.DINT: "i", DataType.LINT: "q",
    DataType.USINT: "B", DataType.UINT: "H", DataType.UDINT: "I", DataType.ULINT: "Q",
    DataType.REAL: "f", DataType.LREAL: "d", DataType.BYTE: "B", DataType.WORD: "H",
    DataType.DWORD: "I", DataType.LWORD: "Q",
})


class DeviceType(IntEnum):
    """Device profiles (Identity attribute 2), Vol 1 chapter 6 Table 6-7.1."""

    GENERIC_DEVICE = 0x00
    AC_DRIVE = 0x02
    MOTOR_OVERLOAD = 0x03
    LIMIT_SWITCH = 0x04
    INDUCTIVE_PROXIMITY_SWITCH = 0x05
    PHOTOELECTRIC_SENSOR = 0x06
    GENERAL_PURPOSE_DISCRETE_IO = 0x07
    RESOLVER = 0x09
    COMMUNICATIONS_ADAPTER = 0x0C
    PROGRAMMABLE_LOGIC_CONTROLLER = 0x0E
    POSITION_CONTROLLER = 0x10
    DC_DRIVE = 0x13
    CONTACTOR = 0x15
    MOTOR_STARTER = 0x16
    SOFT_START = 0x17
    HUMAN_MACHINE_INTERFACE = 0x18
    MASS_FLOW_CONTROLLER = 0x1A
    PNEUMATIC_VALVE = 0x1B
    VACUUM_PRESSURE_GAUGE = 0x1C
    PROCESS_CONTROL_VALVE = 0x1D
    RESIDUAL_GAS_ANALYZER = 0x1E
    DC_POWER_GENERATOR = 0x1F
    RF_POWER_GENERATOR = 0x20
    TURBOMOLECULAR_VACUUM_PUMP = 0x21
    ENCODER = 0x22
    SAFETY_DISCRETE_IO_DEVICE = 0x23
    FLUID_FLOW_CONTROLLER = 0x24
    CIP_MOTION_DRIVE = 0x25
    COMPONET_REPEATER = 0x26
    MASS_FLOW_CONTROLLER_ENHANCED = 0x27
    CIP_MODBUS_DEVICE = 0x28
    CIP_MODBUS_TRANSLATOR = 0x29
    SAFETY_ANALOG_IO_DEVICE = 0x2A
    GENERIC_DEVICE_KEYABLE = 0x2B
    MANAGED_ETHERNET_SWITCH = 0x2C


device_type_name = namer(DeviceType, "a device profile")


class IdentityState(IntEnum):
    """Identity attribute 8 (State), Vol 1 §5-2.2.1."""

    NONEXISTENT = 0
    DEVICE_SELF_TESTING = 1
    STANDBY = 2
    OPERATIONAL = 3
    MAJOR_RECOVERABLE_FAULT = 4
    MAJOR_UNRECOVERABLE_FAULT = 5
    DEFAULT_FOR_GET_ATTRIBUTES_ALL = 255


identity_state_name = namer(IdentityState, "an Identity state")


# --- PCCC inside Execute PCCC (1770-6.5.16) ------------------------------------------------------------

PCCC_FUNCTIONS: Mapping[tuple[int, int], str] = MappingProxyType({
    (0x06, 0x00): "echo", (0x06, 0x01): "read_diagnostic_counters", (0x06, 0x02): "set_variables",
    (0x06, 0x03): "diagnostic_status", (0x06, 0x04): "set_timeout", (0x06, 0x05): "set_naks",
    (0x06, 0x06): "set_enqs", (0x06, 0x07): "reset_diagnostic_counters", (0x06, 0x08): "set_data_table_size",
    (0x06, 0x09): "read_link_parameters", (0x06, 0x0A): "set_link_parameters",
    (0x07, 0x00): "disable_outputs", (0x07, 0x01): "enable_outputs", (0x07, 0x03): "enable_plc_scanning",
    (0x07, 0x04): "enter_download_mode", (0x07, 0x05): "exit_download_upload_mode",
    (0x07, 0x06): "enter_upload_mode",
    (0x0F, 0x00): "word_range_write", (0x0F, 0x01): "word_range_read", (0x0F, 0x02): "bit_write",
    (0x0F, 0x03): "file_write", (0x0F, 0x04): "file_read", (0x0F, 0x05): "download_request",
    (0x0F, 0x06): "upload", (0x0F, 0x07): "shutdown", (0x0F, 0x08): "physical_write",
    (0x0F, 0x09): "physical_read", (0x0F, 0x0A): "restart_request", (0x0F, 0x11): "get_edit_resource",
    (0x0F, 0x12): "return_edit_resource", (0x0F, 0x17): "read_bytes_physical",
    (0x0F, 0x18): "write_bytes_physical", (0x0F, 0x26): "read_modify_write", (0x0F, 0x29): "read_section_size",
    (0x0F, 0x3A): "set_cpu_mode", (0x0F, 0x41): "disable_forces", (0x0F, 0x50): "download_all_request",
    (0x0F, 0x52): "download_completed", (0x0F, 0x53): "upload_all_request", (0x0F, 0x55): "upload_completed",
    (0x0F, 0x57): "initialize_memory", (0x0F, 0x5E): "modify_plc_2_compatibility_file",
    (0x0F, 0x67): "typed_write", (0x0F, 0x68): "typed_read", (0x0F, 0x79): "read_modify_write_n",
    (0x0F, 0x80): "change_cpu_mode", (0x0F, 0x81): "open_file", (0x0F, 0x82): "close_file",
    (0x0F, 0x88): "execute_multiple_commands", (0x0F, 0x8F): "apply_port_configuration",
    (0x0F, 0xA1): "protected_typed_logical_read_2_address", (0x0F, 0xA2): "protected_typed_logical_read_3_address",
    (0x0F, 0xA7): "protected_typed_file_read", (0x0F, 0xA9): "protected_typed_logical_write_2_address",
    (0x0F, 0xAA): "protected_typed_logical_write_3_address",
    (0x0F, 0xAB): "protected_typed_logical_masked_write_3_address", (0x0F, 0xAF): "protected_typed_file_write",
})
PCCC_WITH_FUNCTION = frozenset({0x06, 0x07, 0x0F})  # commands whose next byte after TNS is a function code


def pccc_function_name(command: int, function: int | None) -> str:
    """Name of a PCCC command (and function code, for commands 06, 07 and 0F)."""
    if function is None:
        return f"command_0x{command:02x}"
    name = PCCC_FUNCTIONS.get((command, function))
    return name if name is not None else f"command_0x{command:02x}_function_0x{function:02x}"


# --- the package's one action table (DESIGN.md "Control actions") -----------------------------------------

IO_DATA = "io_data"  # class 0/1 implicit I/O over UDP 2222 (Vol 2 §3-2)

ACTION_TABLE: Mapping[str, str] = MappingProxyType({
    # encapsulation commands (Vol 2 §2-4): discovery and session handling
    "nop": "session",
    "list_targets": "discovery",
    "list_services": "discovery",
    "list_identity": "discovery",
    "list_interfaces": "discovery",
    "register_session": "session",
    "unregister_session": "session",
    "send_rr_data": "other",  # only named when it carries no CIP message
    "send_unit_data": "other",
    "indicate_status": "other",
    "cancel": "other",
    "start_dtls": "session",
    # CIP common services (Vol 1 Appendix A)
    "get_attributes_all": "read",
    "set_attributes_all": "write",
    "get_attribute_list": "read",
    "set_attribute_list": "write",
    "reset": "restart",  # on the Identity object a device reset (power cycle / factory defaults)
    "start": "mode_change",  # Logix controller object 0x8E: remote Run
    "stop": "mode_change",  # Logix controller object 0x8E: remote Program
    "create": "write",
    "delete": "write",
    "multiple_service_packet": "other",  # only named when it carries no service; otherwise unpacked
    "apply_attributes": "write",
    "get_attribute_single": "read",
    "set_attribute_single": "write",
    "find_next_object_instance": "read",
    "error_response": "other",
    "restore": "write",
    "save": "write",
    "no_operation": "other",
    "get_member": "read",
    "set_member": "write",
    "insert_member": "write",
    "remove_member": "write",
    "group_sync": "other",
    "get_connection_point_member_list": "read",
    # Connection Manager (Vol 1 §3-5.5)
    "forward_open": "session",
    "large_forward_open": "session",
    "forward_close": "session",
    "unconnected_send": "other",  # only named for its own error replies; otherwise unpacked
    "get_connection_data": "diagnostics",
    "search_connection_data": "diagnostics",
    "get_connection_owner": "diagnostics",
    # Logix tags and templates (1756-PM020)
    "read_tag": "read",
    "read_tag_fragmented": "read",
    "write_tag": "write",
    "write_tag_fragmented": "write",
    "read_modify_write_tag": "write",
    "get_instance_attribute_list": "read",
    "read_template": "read",
    # File object (Vol 1 §5-42): EDS files, and Logix program files on some controllers
    "initiate_upload": "file_transfer",
    "initiate_download": "file_transfer",
    "initiate_partial_read": "file_transfer",
    "initiate_partial_write": "file_transfer",
    "upload_transfer": "file_transfer",
    "download_transfer": "file_transfer",
    "clear_file": "file_transfer",
    # firmware flashing
    NVS_SERVICE_NAME: "firmware_update",
    # implicit I/O: outputs drive the process, so it is never read-only
    IO_DATA: "operate",
    # PCCC carried by Execute PCCC: the DF1 function decides (sub-function keys "execute_pccc.<function>")
    "execute_pccc": "other",
    "execute_pccc.echo": "diagnostics",
    "execute_pccc.read_diagnostic_counters": "diagnostics",
    "execute_pccc.diagnostic_status": "diagnostics",
    "execute_pccc.reset_diagnostic_counters": "diagnostics",
    "execute_pccc.read_link_parameters": "diagnostics",
    "execute_pccc.set_variables": "write",
    "execute_pccc.set_timeout": "write",
    "execute_pccc.set_naks": "write",
    "execute_pccc.set_enqs": "write",
    "execute_pccc.set_data_table_size": "write",
    "execute_pccc.set_link_parameters": "write",
    "execute_pccc.disable_outputs": "operate",
    "execute_pccc.enable_outputs": "operate",
    "execute_pccc.enable_plc_scanning": "mode_change",
    "execute_pccc.enter_download_mode": "program_download",
    "execute_pccc.exit_download_upload_mode": "mode_change",
    "execute_pccc.enter_upload_mode": "program_upload",
    "execute_pccc.word_range_write": "write",
    "execute_pccc.word_range_read": "read",
    "execute_pccc.bit_write": "write",
    "execute_pccc.file_write": "write",
    "execute_pccc.file_read": "read",
    "execute_pccc.download_request": "program_download",
    "execute_pccc.upload": "program_upload",
    "execute_pccc.shutdown": "mode_change",
    "execute_pccc.physical_write": "write",
    "execute_pccc.physical_read": "read",
    "execute_pccc.restart_request": "restart",
    "execute_pccc.get_edit_resource": "program_download",
    "execute_pccc.return_edit_resource": "program_download",
    "execute_pccc.read_bytes_physical": "read",
    "execute_pccc.write_bytes_physical": "write",
    "execute_pccc.read_modify_write": "write",
    "execute_pccc.read_section_size": "read",
    "execute_pccc.set_cpu_mode": "mode_change",
    "execute_pccc.disable_forces": "write",
    "execute_pccc.download_all_request": "program_download",
    "execute_pccc.download_completed": "program_download",
    "execute_pccc.upload_all_request": "program_upload",
    "execute_pccc.upload_completed": "program_upload",
    "execute_pccc.initialize_memory": "program_download",
    "execute_pccc.modify_plc_2_compatibility_file": "write",
    "execute_pccc.typed_write": "write",
    "execute_pccc.typed_read": "read",
    "execute_pccc.read_modify_write_n": "write",
    "execute_pccc.change_cpu_mode": "mode_change",
    "execute_pccc.open_file": "file_transfer",
    "execute_pccc.close_file": "file_transfer",
    "execute_pccc.execute_multiple_commands": "other",
    "execute_pccc.apply_port_configuration": "write",
    "execute_pccc.protected_typed_logical_read_2_address": "read",
    "execute_pccc.protected_typed_logical_read_3_address": "read",
    "execute_pccc.protected_typed_file_read": "read",
    "execute_pccc.protected_typed_logical_write_2_address": "write",
    "execute_pccc.protected_typed_logical_write_3_address": "write",
    "execute_pccc.protected_typed_logical_masked_write_3_address": "write",
    "execute_pccc.protected_typed_file_write": "write",
})
"""Function name (or ``function.sub_function``) -> action. Names not listed (``unknown_0x..``,
``reserved_0x..``, unlisted PCCC functions) are ``other``, which no read-only conduit admits."""


def action_of(function_name: str, sub_function: str | None = None) -> str:
    """The action of a function (refined by its sub-function where that changes the meaning)."""
    if sub_function is not None:
        refined = ACTION_TABLE.get(f"{function_name}.{sub_function}")
        if refined is not None:
            return refined
    return ACTION_TABLE.get(function_name, "other")


# --- weird codes (README, `SPEC.weirds`) ------------------------------------------------------------

WEIRDS: Mapping[str, str] = MappingProxyType({
    # framing lost (Malformed): the bytes cannot be an encapsulation header
    "enip_unknown_command": "encapsulation command is not one Vol 2 §2-3.2 defines: not EtherNet/IP, or framing lost",
    "enip_bad_length": "encapsulation length field above the 65511 bytes Vol 2 §2-3.1 allows",
    "enip_truncated": "a datagram ends before the length its encapsulation header announces",
    "enip_buffer_overflow": "more bytes pending for one encapsulation message than the framer keeps (MAX_BUFFER)",
    "enip_bad_io_packet": "a UDP datagram that is neither an encapsulation message nor a class 0/1 I/O packet",
    # oddities in a readable message
    "enip_nonzero_options": "encapsulation options field is not 0 (Vol 2 §2-3.1: the receiver shall discard it)",
    "enip_bad_cpf": "common packet format items overrun their command data, or an item count/length is wrong",
    "enip_missing_item": "SendRRData/SendUnitData without the data item that carries the CIP message",
    "enip_trailing_bytes": "bytes after the last item or field the command defines",
    "cip_truncated": "a CIP message router request or reply shorter than its header or path says",
    "cip_bad_path": "an EPATH segment that does not parse (reserved type, size past the end)",
    "cip_bad_service_data": "service data that does not fit its service (tag services, Forward Open, Multiple "
                            "Service Packet offsets, Unconnected Send sizes, Identity attributes, PCCC header)",
    "cip_unexpected_direction": "a CIP request sent by the server side, or a reply by the client side",
})
