"""DNP3 numbers and their names (IEEE 1815-2012), the package's one action table and its weird codes.

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..`` and never raise,
because the values come straight off the wire. Names are the spec's mnemonics in snake_case
(``direct_operate_nr``, ``immed_freeze``), as Table 4-2 and §9.2.4.1 spell them.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

# --- data link layer, §9.2.4.1 -------------------------------------------------------------------------------

class PrimaryFunction(IntEnum):
    """Link function codes of frames with PRM = 1 (§9.2.4.1.3, Table 9-1); 1 is obsolete in 1815-2012."""

    RESET_LINK_STATES = 0
    RESET_USER_PROCESS = 1
    TEST_LINK_STATES = 2
    CONFIRMED_USER_DATA = 3
    UNCONFIRMED_USER_DATA = 4
    REQUEST_LINK_STATUS = 9


class SecondaryFunction(IntEnum):
    """Link function codes of frames with PRM = 0 (§9.2.4.1.3, Table 9-2); 14 is obsolete in 1815-2012."""

    ACK = 0
    NACK = 1
    LINK_STATUS = 11
    NOT_FUNCTIONING = 14
    NOT_SUPPORTED = 15


primary_function_name = namer(PrimaryFunction, "a primary (PRM=1) link function code")
secondary_function_name = namer(SecondaryFunction, "a secondary (PRM=0) link function code")
USER_DATA_FUNCTIONS = frozenset({PrimaryFunction.CONFIRMED_USER_DATA, PrimaryFunction.UNCONFIRMED_USER_DATA})
"""The only primary functions whose frames carry a transport segment (§9.2.4.1.3)."""


def link_function_name(prm: bool, code: int) -> str:
    """snake_case name of a link function code, which depends on the PRM bit; prefixed ``link_``."""
    return "link_" + (primary_function_name(code) if prm else secondary_function_name(code))


# --- application layer, §4.2.2.5 ----------------------------------------------------------------------------

class FunctionCode(IntEnum):
    """Application layer function codes, §4.2.2.5 (Table 4-2); 0x0F and 0x13 are obsolete/deprecated."""

    CONFIRM = 0x00
    READ = 0x01
    WRITE = 0x02
    SELECT = 0x03
    OPERATE = 0x04
    DIRECT_OPERATE = 0x05
    DIRECT_OPERATE_NR = 0x06
    IMMED_FREEZE = 0x07
    IMMED_FREEZE_NR = 0x08
    FREEZE_CLEAR = 0x09
    FREEZE_CLEAR_NR = 0x0A
    FREEZE_AT_TIME = 0x0B
    FREEZE_AT_TIME_NR = 0x0C
    COLD_RESTART = 0x0D
    WARM_RESTART = 0x0E
    INITIALIZE_DATA = 0x0F
    INITIALIZE_APPL = 0x10
    START_APPL = 0x11
    STOP_APPL = 0x12
    SAVE_CONFIG = 0x13
    ENABLE_UNSOLICITED = 0x14
    DISABLE_UNSOLICITED = 0x15
    ASSIGN_CLASS = 0x16
    DELAY_MEASURE = 0x17
    RECORD_CURRENT_TIME = 0x18
    OPEN_FILE = 0x19
    CLOSE_FILE = 0x1A
    DELETE_FILE = 0x1B
    GET_FILE_INFO = 0x1C
    AUTHENTICATE_FILE = 0x1D
    ABORT_FILE = 0x1E
    ACTIVATE_CONFIG = 0x1F
    AUTHENTICATE_REQ = 0x20
    AUTH_REQ_NO_ACK = 0x21
    RESPONSE = 0x81
    UNSOLICITED_RESPONSE = 0x82
    AUTHENTICATE_RESP = 0x83


function_name = namer(FunctionCode, "an application layer function code")
RESPONSE_FUNCTIONS = frozenset({FunctionCode.RESPONSE, FunctionCode.UNSOLICITED_RESPONSE,
                                FunctionCode.AUTHENTICATE_RESP})
"""Function codes whose header carries the two IIN octets (§4.2.2.4): everything from an outstation."""

HEADERS_ONLY_REQUESTS = frozenset({
    FunctionCode.READ, FunctionCode.IMMED_FREEZE, FunctionCode.IMMED_FREEZE_NR, FunctionCode.FREEZE_CLEAR,
    FunctionCode.FREEZE_CLEAR_NR, FunctionCode.FREEZE_AT_TIME, FunctionCode.FREEZE_AT_TIME_NR,
    FunctionCode.INITIALIZE_DATA, FunctionCode.ENABLE_UNSOLICITED, FunctionCode.DISABLE_UNSOLICITED,
    FunctionCode.ASSIGN_CLASS,
})
"""Requests whose object headers name points without carrying object data (§4.4: READ, freeze,
unsolicited and class assignment); the one exception, the g50 time of FREEZE_AT_TIME, is handled
where objects are sized."""


class IIN(IntEnum):
    """Internal indication bits, §4.2.2.4 (Table 4-4), as one 16-bit value ``IIN1 << 8 | IIN2``
    (the order tshark's ``dnp3.al.iin`` prints)."""

    ALL_STATIONS = 0x0100
    CLASS_1_EVENTS = 0x0200
    CLASS_2_EVENTS = 0x0400
    CLASS_3_EVENTS = 0x0800
    NEED_TIME = 0x1000
    LOCAL_CONTROL = 0x2000
    DEVICE_TROUBLE = 0x4000
    DEVICE_RESTART = 0x8000
    NO_FUNC_CODE_SUPPORT = 0x0001
    OBJECT_UNKNOWN = 0x0002
    PARAMETER_ERROR = 0x0004
    EVENT_BUFFER_OVERFLOW = 0x0008
    ALREADY_EXECUTING = 0x0010
    CONFIG_CORRUPT = 0x0020
    RESERVED_2 = 0x0040
    RESERVED_1 = 0x0080


_IIN_BITS = tuple((int(bit), bit.name.lower()) for bit in sorted(IIN, reverse=True))


def iin_names(iin: int) -> list[str]:
    """The names of the IIN bits set, IIN1.7 first."""
    return [name for bit, name in _IIN_BITS if iin & bit]


# --- object headers, §4.2.2.7 -------------------------------------------------------------------------------

class PrefixCode(IntEnum):
    """Object prefix codes, the qualifier's bits 6-4 (§4.2.2.7.3.2, Table 4-5); 7 is reserved."""

    NONE = 0
    INDEX_1 = 1
    INDEX_2 = 2
    INDEX_4 = 3
    SIZE_1 = 4
    SIZE_2 = 5
    SIZE_4 = 6


class RangeCode(IntEnum):
    """Range specifier codes, the qualifier's bits 3-0 (§4.2.2.7.3.3, Table 4-6); 0xA, 0xC-0xF reserved."""

    START_STOP_1 = 0x0
    START_STOP_2 = 0x1
    START_STOP_4 = 0x2
    ADDRESS_1 = 0x3  # virtual addresses, obsolete
    ADDRESS_2 = 0x4
    ADDRESS_4 = 0x5
    ALL = 0x6
    COUNT_1 = 0x7
    COUNT_2 = 0x8
    COUNT_4 = 0x9
    FREE_FORMAT = 0xB  # count 1 octet, each object prefixed by its size


prefix_code_name = namer(PrefixCode, "an object prefix code")
range_code_name = namer(RangeCode, "a range specifier code")


class Group(IntEnum):
    """Object groups, §A (IEEE 1815-2012 Annex A); names as the annex titles them."""

    DEVICE_ATTRIBUTES = 0
    BINARY_INPUT = 1
    BINARY_INPUT_EVENT = 2
    DOUBLE_BIT_BINARY_INPUT = 3
    DOUBLE_BIT_BINARY_INPUT_EVENT = 4
    BINARY_OUTPUT = 10
    BINARY_OUTPUT_EVENT = 11
    BINARY_OUTPUT_COMMAND = 12
    BINARY_OUTPUT_COMMAND_EVENT = 13
    COUNTER = 20
    FROZEN_COUNTER = 21
    COUNTER_EVENT = 22
    FROZEN_COUNTER_EVENT = 23
    ANALOG_INPUT = 30
    FROZEN_ANALOG_INPUT = 31
    ANALOG_INPUT_EVENT = 32
    FROZEN_ANALOG_INPUT_EVENT = 33
    ANALOG_INPUT_DEADBAND = 34
    ANALOG_OUTPUT_STATUS = 40
    ANALOG_OUTPUT = 41
    ANALOG_OUTPUT_EVENT = 42
    ANALOG_OUTPUT_COMMAND_EVENT = 43
    TIME_AND_DATE = 50
    TIME_AND_DATE_CTO = 51
    TIME_DELAY = 52
    CLASS_OBJECTS = 60
    FILE_CONTROL = 70
    INTERNAL_INDICATIONS = 80
    DEVICE_STORAGE = 81
    DEVICE_PROFILE = 82
    DATA_SET_REGISTRATION = 83
    DATA_SET_PROTOTYPE = 85
    DATA_SET_DESCRIPTOR = 86
    DATA_SET = 87
    DATA_SET_EVENT = 88
    APPLICATION_IDENTIFIER = 90
    STATUS_OF_REQUESTED_OPERATION = 91
    FLOATING_POINT = 100
    BCD_INTEGER = 101
    UNSIGNED_INTEGER = 102
    OCTET_STRING = 110
    OCTET_STRING_EVENT = 111
    VIRTUAL_TERMINAL_OUTPUT_BLOCK = 112
    VIRTUAL_TERMINAL_EVENT_DATA = 113
    AUTHENTICATION = 120
    SECURITY_STATISTIC = 121
    SECURITY_STATISTIC_EVENT = 122


group_name = namer(Group, "an object group")

NOT_POINT_GROUPS = frozenset({
    Group.DEVICE_ATTRIBUTES, Group.TIME_AND_DATE, Group.TIME_AND_DATE_CTO, Group.TIME_DELAY, Group.CLASS_OBJECTS,
    Group.FILE_CONTROL, Group.INTERNAL_INDICATIONS, Group.DEVICE_STORAGE, Group.DEVICE_PROFILE,
    Group.DATA_SET_REGISTRATION, Group.DATA_SET_PROTOTYPE, Group.DATA_SET_DESCRIPTOR,
    Group.APPLICATION_IDENTIFIER, Group.STATUS_OF_REQUESTED_OPERATION, Group.AUTHENTICATION,
})
"""Groups whose indexes are not data points of the outstation's database: attributes, time, classes,
files, IIN bits, data set plumbing, application ids and authentication. Their objects are fields,
never ``Point`` facts."""

COMMAND_GROUPS = frozenset({Group.BINARY_OUTPUT_COMMAND, Group.ANALOG_OUTPUT})
"""Command objects (CROB, analog output block): in a response they echo the request, so they are
points written by the request, never points read by the response (§4.4.3-§4.4.5)."""


class ControlCode(IntEnum):
    """CROB operation types, the control code's bits 3-0 (the "Op Type" field of g12v1, §A.8.1)."""

    NUL = 0
    PULSE_ON = 1
    PULSE_OFF = 2
    LATCH_ON = 3
    LATCH_OFF = 4


class TripClose(IntEnum):
    """CROB trip-close codes, the control code's bits 7-6 (§A.8.1)."""

    NUL = 0
    CLOSE = 1
    TRIP = 2
    RESERVED = 3


def control_code_name(code: int) -> str:
    """``latch_on``, ``close_pulse_on``, ``trip_pulse_on``...: the CROB control code in the spec's words.

    Bit 5 (clear) and the queue bit 4 (obsolete) are appended as ``+clear`` / ``+queue``.
    """
    op = code & 0x0F
    try:
        name = ControlCode(op).name.lower()
    except ValueError:
        name = unknown_name(op)
    tcc = (code >> 6) & 0x03
    if tcc:
        name = f"{TripClose(tcc).name.lower()}_{name}"
    if code & 0x20:
        name += "+clear"
    if code & 0x10:
        name += "+queue"
    return name


class Attribute(IntEnum):
    """Device attribute variations of group 0 (§A.1, Table A-1 "Device attributes")."""

    CONFIGURATION_ID = 196
    CONFIGURATION_VERSION = 197
    CONFIGURATION_BUILD_DATE = 198
    CONFIGURATION_LAST_CHANGE_DATE = 199
    CONFIGURATION_SIGNATURE = 200
    CONFIGURATION_SIGNATURE_ALGORITHM = 201
    MASTER_RESOURCE_ID = 202
    DEVICE_ALTITUDE = 203
    DEVICE_LONGITUDE = 204
    DEVICE_LATITUDE = 205
    SECONDARY_OPERATOR_NAME = 206
    PRIMARY_OPERATOR_NAME = 207
    SYSTEM_NAME = 208
    SECURE_AUTHENTICATION_VERSION = 209
    NUMBER_OF_SECURITY_STATISTICS = 210
    USER_SPECIFIC_ATTRIBUTES = 211
    NUMBER_OF_MASTER_DATA_SET_PROTOTYPES = 212
    NUMBER_OF_OUTSTATION_DATA_SET_PROTOTYPES = 213
    NUMBER_OF_MASTER_DATA_SETS = 214
    NUMBER_OF_OUTSTATION_DATA_SETS = 215
    MAX_BINARY_OUTPUTS_PER_REQUEST = 216
    LOCAL_TIMING_ACCURACY = 217
    DURATION_OF_TIME_ACCURACY = 218
    ANALOG_OUTPUT_EVENTS_SUPPORTED = 219
    MAX_ANALOG_OUTPUT_INDEX = 220
    NUMBER_OF_ANALOG_OUTPUTS = 221
    BINARY_OUTPUT_EVENTS_SUPPORTED = 222
    MAX_BINARY_OUTPUT_INDEX = 223
    NUMBER_OF_BINARY_OUTPUTS = 224
    FROZEN_COUNTER_EVENTS_SUPPORTED = 225
    FROZEN_COUNTERS_SUPPORTED = 226
    COUNTER_EVENTS_SUPPORTED = 227
    MAX_COUNTER_INDEX = 228
    NUMBER_OF_COUNTERS = 229
    FROZEN_ANALOG_INPUTS_SUPPORTED = 230
    ANALOG_INPUT_EVENTS_SUPPORTED = 231
    MAX_ANALOG_INPUT_INDEX = 232
    NUMBER_OF_ANALOG_INPUTS = 233
    DOUBLE_BIT_INPUT_EVENTS_SUPPORTED = 234
    MAX_DOUBLE_BIT_INPUT_INDEX = 235
    NUMBER_OF_DOUBLE_BIT_INPUTS = 236
    BINARY_INPUT_EVENTS_SUPPORTED = 237
    MAX_BINARY_INPUT_INDEX = 238
    NUMBER_OF_BINARY_INPUTS = 239
    MAX_TRANSMIT_FRAGMENT_SIZE = 240
    MAX_RECEIVE_FRAGMENT_SIZE = 241
    SOFTWARE_VERSION = 242
    HARDWARE_VERSION = 243
    USER_ASSIGNED_OWNER_NAME = 244
    USER_ASSIGNED_LOCATION = 245
    USER_ASSIGNED_ID_CODE = 246
    USER_ASSIGNED_DEVICE_NAME = 247
    DEVICE_SERIAL_NUMBER = 248
    SUBSET_AND_CONFORMANCE = 249
    PRODUCT_NAME_AND_MODEL = 250
    MANUFACTURER_NAME = 252
    ALL_ATTRIBUTES = 254
    LIST_OF_ATTRIBUTE_VARIATIONS = 255


attribute_name = namer(Attribute, "a device attribute (group 0 variation)")

IDENTITY_ATTRIBUTES: Mapping[int, tuple[str, ...]] = MappingProxyType({
    Attribute.MANUFACTURER_NAME: ("vendor",),
    Attribute.PRODUCT_NAME_AND_MODEL: ("product", "model"),  # one attribute says both
    Attribute.SOFTWARE_VERSION: ("firmware",),
    Attribute.HARDWARE_VERSION: ("hardware_version",),
    Attribute.DEVICE_SERIAL_NUMBER: ("serial",),
    Attribute.USER_ASSIGNED_DEVICE_NAME: ("name",),
    Attribute.USER_ASSIGNED_ID_CODE: ("id_code",),
    Attribute.USER_ASSIGNED_LOCATION: ("location",),
    Attribute.USER_ASSIGNED_OWNER_NAME: ("owner_name",),
    Attribute.SUBSET_AND_CONFORMANCE: ("dnp3_subset",),
    Attribute.CONFIGURATION_ID: ("configuration_id",),
    Attribute.CONFIGURATION_VERSION: ("configuration_version",),
    Attribute.MASTER_RESOURCE_ID: ("mrid",),
    Attribute.SYSTEM_NAME: ("system_name",),
    Attribute.SECURE_AUTHENTICATION_VERSION: ("secure_authentication_version",),
})
"""Device attributes that say who a device is -> identity keys (the generic vendor, product, model,
firmware, serial, name; the rest DNP3's own). 0/248 is the serial number; 0/246 is the user-assigned
ID code, kept apart so an asset tag is never taken for a serial. Counts and sizes stay in fields."""


class AttributeType(IntEnum):
    """Data type codes of device attribute values, §A.1.1 (Table A-2)."""

    VSTR = 1
    UINT = 2
    INT = 3
    FLT = 4
    OSTR = 5
    BSTR = 6
    TIME = 7  # DNP3TIME, 6 octets
    UNCD = 8  # unicode string
    U8BS8LIST = 254
    U8BS8EXLIST = 255


attribute_type_name = namer(AttributeType, "a device attribute data type")


# --- the one action table (DESIGN.md "Control actions") -----------------------------------------------------

ACTIONS: Mapping[str, str] = MappingProxyType({
    # transfer, §4.4.1-§4.4.2
    "confirm": "session",
    "read": "read",
    "write": "write",
    # control, §4.4.3-§4.4.6
    "select": "operate",
    "operate": "operate",
    "direct_operate": "operate",
    "direct_operate_nr": "operate",
    # freeze, §4.4.7-§4.4.10: routine counter snapshots a SCADA master takes every cycle: operations, not mode changes
    "immed_freeze": "operate",
    "immed_freeze_nr": "operate",
    "freeze_clear": "operate",
    "freeze_clear_nr": "operate",
    "freeze_at_time": "operate",
    "freeze_at_time_nr": "operate",
    # application control, §4.4.11-§4.4.13
    "cold_restart": "restart",
    "warm_restart": "restart",
    "initialize_data": "mode_change",
    "initialize_appl": "mode_change",
    "start_appl": "mode_change",
    "stop_appl": "mode_change",
    # configuration, §4.4.14-§4.4.16
    "save_config": "program_download",
    "enable_unsolicited": "other",  # reporting settings a master sends at every start-up: not a mode change
    "disable_unsolicited": "other",
    "assign_class": "write",
    # time synchronisation, §4.4.17-§4.4.18
    "delay_measure": "time_sync",
    "record_current_time": "time_sync",
    # files, §4.4.19-§4.4.24; activate_config makes transferred configuration live (§4.4.25)
    "open_file": "file_transfer",
    "close_file": "file_transfer",
    "delete_file": "file_transfer",
    "get_file_info": "file_transfer",
    "authenticate_file": "file_transfer",
    "abort_file": "file_transfer",
    "activate_config": "program_download",
    # secure authentication, IEEE 1815-2012 §7
    "authenticate_req": "session",
    "auth_req_no_ack": "session",
    "authenticate_resp": "session",
    # responses carry the outstation's data; pair_key ties them to the request that decides
    "response": "read",
    "unsolicited_response": "read",
    # sub-functions that change meaning: <function>.g<group> of the objects carried
    "write.g50": "time_sync",  # write of time and date (§A.23): setting the outstation's clock
    "write.g70": "file_transfer",  # file transport objects (§A.27)
    "read.g70": "file_transfer",  # reading file data or directory entries
    "write.g120": "session",  # authentication objects (§7, §A.45)
    "freeze_at_time.g50": "operate",
    # data link layer frames without application data (§9.2.4.1): link management
    "link_reset_link_states": "session",
    "link_reset_user_process": "session",
    "link_test_link_states": "session",
    "link_confirmed_user_data": "session",
    "link_unconfirmed_user_data": "session",
    "link_request_link_status": "session",
    "link_ack": "session",
    "link_nack": "session",
    "link_link_status": "session",
    "link_not_functioning": "session",
    "link_not_supported": "session",
})
"""Function name (or ``function.gN`` where the objects change the meaning) -> action. Names absent
here (``unknown_0x..``) are ``other``: not a read, so a read-only conduit does not pass them."""


def action_of(function: str, groups: tuple[int, ...] = ()) -> str:
    """The action of a function carrying objects of ``groups``: the first ``function.gN`` override wins."""
    for group in groups:
        override = ACTIONS.get(f"{function}.g{group}")
        if override is not None:
            return override
    return ACTIONS.get(function, "other")


# --- weirds: the first oddity of an otherwise readable message ----------------------------------------------

WEIRDS: Mapping[str, str] = MappingProxyType({
    # Malformed: the stream framer or datagram parser reports these in place of a message
    "dnp3_bad_start": "a link frame does not start with 0x05 0x64 (§9.2.4.1.1): framing is lost until the next "
                      "segment",
    "dnp3_bad_length": "a link header's LENGTH is below 5 (§9.2.4.1.2): framing is lost until the next segment",
    "dnp3_buffer_overflow": "more than MAX_BUFFER octets wait for the rest of a link frame",
    "dnp3_transport_sequence": "a transport segment's sequence does not follow the previous one (§8.2.1.2); "
                               "the partial fragment is dropped",
    "dnp3_transport_no_first": "a transport segment without FIR arrives with no fragment in progress; dropped",
    "dnp3_fragment_too_long": "a reassembled fragment would exceed MAX_FRAGMENT octets; dropped",
    "dnp3_too_many_reassemblies": "more than MAX_REASSEMBLIES address pairs reassemble at once; the oldest "
                                  "partial fragment is dropped",
    "dnp3_frame_truncated": "a UDP datagram ends inside a link frame",
    "dnp3_fragment_incomplete": "a UDP datagram ends inside a multi-frame fragment (datagrams are parsed one at a "
                                "time)",
    "dnp3_fragment_too_short": "an application fragment without its function code (shorter than 2 octets), or "
                               "a response without its IIN octets",
    # message weirds: the first oddity in an otherwise readable message
    "dnp3_bad_header_crc": "the CRC of the 10-octet link header is wrong (§9.2.4.1.5); the frame is kept as framed",
    "dnp3_bad_data_crc": "a 16-octet user data block fails its CRC (§9.2.4.1.6); an outstation would discard the "
                         "frame, the sensor decodes it to show what was sent",
    "dnp3_bad_direction": "the DIR bit disagrees with the function code: a request from an outstation or a "
                          "response from a master (§9.2.4.1.3.1)",
    "dnp3_link_data_unexpected": "a link frame whose function carries no user data has user data octets",
    "dnp3_link_no_user_data": "a user data frame (link function 3 or 4) carries no transport octet",
    "dnp3_unknown_function": "an application function code the spec does not assign",
    "dnp3_bad_qualifier": "an object header's qualifier uses a reserved prefix or range code",
    "dnp3_bad_range": "an object header's stop index is below its start index",
    "dnp3_unknown_object": "an object group/variation whose size is not known: the headers after it cannot "
                           "be found",
    "dnp3_objects_truncated": "the fragment ends inside an object header or its objects",
    "dnp3_bad_attribute": "a device attribute's data type or length is inconsistent with its fragment",
    "dnp3_iin_reserved": "a response sets the reserved IIN2.6/IIN2.7 bits",
})
"""Weird code -> what it means. A message carries at most one, the first found; the first block are
``Malformed`` codes, reported instead of a message."""
