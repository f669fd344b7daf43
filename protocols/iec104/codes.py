"""IEC 60870-5-104 numbers and their names, the package's one action table and its weird codes.

Type identifications and causes of transmission are those of IEC 60870-5-101 §7.2.1 and §7.2.3 with the
additions of IEC 60870-5-104 §8 (the commands with CP56Time2a, 58..64 and 107) and the security ASDUs of
IEC 60870-5-7 (81..95). Type names are the standard's own mnemonics (``M_SP_NA_1``, ``C_SC_NA_1``), spelt as
Wireshark and Zeek spell them; every ``*_name`` function is total: unknown values degrade to ``unknown_0x..``.

Function codes: an I-format APDU's is its ASDU's type identification (0..255). S- and U-format APDUs carry
no ASDU, so theirs is ``0x100 | control octet 1`` (``0x101`` S-format, ``0x107`` STARTDT act ...), above
every type identification; an I-format APDU too short to hold a type identification is ``0x100``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import unknown_name

PORT = 2404  # IEC 60870-5-104 §10.1: the controlled station listens on TCP 2404
START = 0x68  # §5.1: the start octet of every APDU
MAX_APDU_LENGTH = 253  # §5.1: the length octet counts the control field and the ASDU, at most 253
MIN_APDU_LENGTH = 4  # the control field alone
ASDU_HEADER = 6  # data unit identifier in 104: type, VSQ, cause, originator, common address (2) (§5.2 / 101 §7.1)
IOA_LENGTH = 3  # information object address: three octets in 104 (§5.2)

# --- APCI, IEC 60870-5-104 §5.1 -----------------------------------------------------------------------------

I_FORMAT, S_FORMAT, U_FORMAT = "I", "S", "U"
FRAME_BASE = 0x100  # S/U function codes sit above the type identifications
I_FORMAT_CODE = FRAME_BASE  # an I-format APDU without a type identification
S_FORMAT_CODE = FRAME_BASE | 0x01


class UFunction(IntEnum):
    """U-format control octet 1 (§5.3, Figure 10): exactly one function bit over 0b11."""

    STARTDT_act = 0x07
    STARTDT_con = 0x0B
    STOPDT_act = 0x13
    STOPDT_con = 0x23
    TESTFR_act = 0x43
    TESTFR_con = 0x83


U_NAMES = {int(u): u.name for u in UFunction}


def frame_name(code: int) -> str:
    """The name of an S/U function code (``0x100 | control octet 1``), or of an I-format APDU without ASDU."""
    if code == S_FORMAT_CODE:
        return "S_format"
    if code == I_FORMAT_CODE:
        return "I_format"
    return U_NAMES.get(code - FRAME_BASE) or unknown_name(code)


# --- ASDU type identification, IEC 60870-5-101 §7.2.1.1 (Table 8-9), 104 §8, 60870-5-7 ----------------------

class TypeId(IntEnum):
    """Type identification: the first octet of every ASDU."""

    # process information in monitor direction
    M_SP_NA_1 = 1
    M_SP_TA_1 = 2
    M_DP_NA_1 = 3
    M_DP_TA_1 = 4
    M_ST_NA_1 = 5
    M_ST_TA_1 = 6
    M_BO_NA_1 = 7
    M_BO_TA_1 = 8
    M_ME_NA_1 = 9
    M_ME_TA_1 = 10
    M_ME_NB_1 = 11
    M_ME_TB_1 = 12
    M_ME_NC_1 = 13
    M_ME_TC_1 = 14
    M_IT_NA_1 = 15
    M_IT_TA_1 = 16
    M_EP_TA_1 = 17
    M_EP_TB_1 = 18
    M_EP_TC_1 = 19
    M_PS_NA_1 = 20
    M_ME_ND_1 = 21
    M_SP_TB_1 = 30
    M_DP_TB_1 = 31
    M_ST_TB_1 = 32
    M_BO_TB_1 = 33
    M_ME_TD_1 = 34
    M_ME_TE_1 = 35
    M_ME_TF_1 = 36
    M_IT_TB_1 = 37
    M_EP_TD_1 = 38
    M_EP_TE_1 = 39
    M_EP_TF_1 = 40
    S_IT_TC_1 = 41
    # process information in control direction
    C_SC_NA_1 = 45
    C_DC_NA_1 = 46
    C_RC_NA_1 = 47
    C_SE_NA_1 = 48
    C_SE_NB_1 = 49
    C_SE_NC_1 = 50
    C_BO_NA_1 = 51
    C_SC_TA_1 = 58
    C_DC_TA_1 = 59
    C_RC_TA_1 = 60
    C_SE_TA_1 = 61
    C_SE_TB_1 = 62
    C_SE_TC_1 = 63
    C_BO_TA_1 = 64
    # system information in monitor direction
    M_EI_NA_1 = 70
    # secure authentication (IEC 60870-5-7)
    S_CH_NA_1 = 81
    S_RP_NA_1 = 82
    S_AR_NA_1 = 83
    S_KR_NA_1 = 84
    S_KS_NA_1 = 85
    S_KC_NA_1 = 86
    S_ER_NA_1 = 87
    S_US_NA_1 = 90
    S_UQ_NA_1 = 91
    S_UR_NA_1 = 92
    S_UK_NA_1 = 93
    S_UA_NA_1 = 94
    S_UC_NA_1 = 95
    # system information in control direction
    C_IC_NA_1 = 100
    C_CI_NA_1 = 101
    C_RD_NA_1 = 102
    C_CS_NA_1 = 103
    C_TS_NA_1 = 104
    C_RP_NA_1 = 105
    C_CD_NA_1 = 106
    C_TS_TA_1 = 107
    # parameters in control direction
    P_ME_NA_1 = 110
    P_ME_NB_1 = 111
    P_ME_NC_1 = 112
    P_AC_NA_1 = 113
    # file transfer
    F_FR_NA_1 = 120
    F_SR_NA_1 = 121
    F_SC_NA_1 = 122
    F_LS_NA_1 = 123
    F_AF_NA_1 = 124
    F_SG_NA_1 = 125
    F_DR_TA_1 = 126
    F_SC_NB_1 = 127


TYPE_NAMES = {int(t): t.name for t in TypeId}


def type_name(code: int) -> str:
    """The standard's mnemonic of a type identification (``C_SC_NA_1``), ``unknown_0x..`` when unassigned."""
    return TYPE_NAMES.get(code) or unknown_name(code)


MONITOR_TYPES = frozenset(t for t in TYPE_NAMES if t <= 44 or t == TypeId.M_EI_NA_1)
"""Sent by the controlled station (101 §7.2.1.1: 1..44 process and 70 system information in monitor direction)."""
CONTROL_TYPES = frozenset(t for t in TYPE_NAMES if 45 <= t <= 69 or 100 <= t <= 119)
"""Sent by the controlling station when activated (commands, system commands, parameters)."""
COMMAND_TYPES = frozenset(t for t in TYPE_NAMES if 45 <= t <= 69)
"""Process commands: what they name is written (an ``operate``)."""
PARAMETER_TYPES = frozenset({TypeId.P_ME_NA_1, TypeId.P_ME_NB_1, TypeId.P_ME_NC_1})
FILE_REQUESTS = frozenset({TypeId.F_SC_NA_1, TypeId.F_AF_NA_1, TypeId.F_SC_NB_1})
"""File transfer ASDUs that call or acknowledge (the other side's answer is a file, section or segment)."""

FAMILY = {
    **dict.fromkeys((1, 2, 30), "M_SP_NA_1"), **dict.fromkeys((3, 4, 31), "M_DP_NA_1"),
    **dict.fromkeys((5, 6, 32), "M_ST_NA_1"), **dict.fromkeys((7, 8, 33), "M_BO_NA_1"),
    **dict.fromkeys((9, 10, 34), "M_ME_NA_1"), **dict.fromkeys((11, 12, 35), "M_ME_NB_1"),
    **dict.fromkeys((13, 14, 36), "M_ME_NC_1"), **dict.fromkeys((15, 16, 37), "M_IT_NA_1"),
    **dict.fromkeys((17, 38), "M_EP_TA_1"), **dict.fromkeys((18, 39), "M_EP_TB_1"),
    **dict.fromkeys((19, 40), "M_EP_TC_1"), 20: "M_PS_NA_1", 21: "M_ME_ND_1",
    **dict.fromkeys((45, 58), "C_SC_NA_1"), **dict.fromkeys((46, 59), "C_DC_NA_1"),
    **dict.fromkeys((47, 60), "C_RC_NA_1"), **dict.fromkeys((48, 61), "C_SE_NA_1"),
    **dict.fromkeys((49, 62), "C_SE_NB_1"), **dict.fromkeys((50, 63), "C_SE_NC_1"),
    **dict.fromkeys((51, 64), "C_BO_NA_1"), 110: "P_ME_NA_1", 111: "P_ME_NB_1", 112: "P_ME_NC_1",
}
"""The point space of a type: the same information with and without a time tag is one point (an IOA reported
as M_ME_TF_1 spontaneously and as M_ME_NC_1 to an interrogation is the same measured value)."""


# --- cause of transmission, IEC 60870-5-101 §7.2.3 ----------------------------------------------------------

class Cause(IntEnum):
    """Cause of transmission, the low six bits of the COT octet (bit 7 T test, bit 6 P/N negative)."""

    PER_CYC = 1
    BACK = 2
    SPONT = 3
    INIT = 4
    REQ = 5
    ACT = 6
    ACTCON = 7
    DEACT = 8
    DEACTCON = 9
    ACTTERM = 10
    RETREM = 11
    RETLOC = 12
    FILE = 13
    INROGEN = 20
    INRO1 = 21
    INRO2 = 22
    INRO3 = 23
    INRO4 = 24
    INRO5 = 25
    INRO6 = 26
    INRO7 = 27
    INRO8 = 28
    INRO9 = 29
    INRO10 = 30
    INRO11 = 31
    INRO12 = 32
    INRO13 = 33
    INRO14 = 34
    INRO15 = 35
    INRO16 = 36
    REQCOGEN = 37
    REQCO1 = 38
    REQCO2 = 39
    REQCO3 = 40
    REQCO4 = 41
    UNKNOWN_TYPE_ID = 44
    UNKNOWN_CAUSE = 45
    UNKNOWN_COMMON_ADDRESS = 46
    UNKNOWN_IOA = 47


CAUSE_NAMES = {int(c): c.name.lower() for c in Cause}
PRIVATE_CAUSES = range(48, 64)  # "for special use (private range)"


def cause_name(code: int) -> str:
    """snake_case name of a cause of transmission; the private range is ``private_..``."""
    known = CAUSE_NAMES.get(code)
    if known is not None:
        return known
    return f"private_{code}" if code in PRIVATE_CAUSES else unknown_name(code)


REQUEST_CAUSES = frozenset({Cause.ACT, Cause.DEACT})
RESPONSE_CAUSES = frozenset({Cause.REQ, Cause.ACTCON, Cause.DEACTCON, Cause.ACTTERM, *range(20, 42), *range(44, 48)})
"""Confirmations, terminations, interrogated and requested data, and the negative 'unknown ...' replies."""
UNSOLICITED_CAUSES = frozenset({Cause.PER_CYC, Cause.BACK, Cause.SPONT, Cause.INIT, Cause.RETREM, Cause.RETLOC})
"""Sent by the controlled station of its own accord (cyclic, background scan, spontaneous, ...): DESIGN.md's
``unsolicited``."""
CONFIRMATION_CAUSES = frozenset({Cause.ACTCON, Cause.DEACTCON, Cause.ACTTERM, *range(44, 48)})
"""What the controlled station answers an activation with."""


# --- roles --------------------------------------------------------------------------------------------------

CONTROLLING, CONTROLLED = "controlling_station", "controlled_station"


# --- the action table (DESIGN.md "Control actions") ---------------------------------------------------------

def _actions() -> dict[str, str]:
    table: dict[str, str] = {}
    for t in TypeId:
        if t in MONITOR_TYPES and t != TypeId.M_EI_NA_1:
            table[t.name] = "read"  # data reported: spontaneously, cyclically, or to an interrogation
    table["M_EI_NA_1"] = "other"  # end of initialization: the station says it has (re)started
    for t in COMMAND_TYPES:
        table[TypeId(t).name] = "operate"  # single, double, regulating step, set-point, bitstring; select or execute
    table.update({
        "C_IC_NA_1": "read", "C_CI_NA_1": "read", "C_RD_NA_1": "read",  # (counter) interrogation, read
        "C_CS_NA_1": "time_sync", "C_CD_NA_1": "time_sync",  # clock synchronization, delay acquisition
        "C_TS_NA_1": "diagnostics", "C_TS_TA_1": "diagnostics",  # test commands
        "C_RP_NA_1": "restart",  # reset process
        "P_ME_NA_1": "write", "P_ME_NB_1": "write", "P_ME_NC_1": "write", "P_AC_NA_1": "write",  # parameters
    })
    for t in TypeId:
        if t.name.startswith("F_"):
            table[t.name] = "file_transfer"
        elif t.name.startswith("S_") and t != TypeId.S_IT_TC_1:
            table[t.name] = "session"  # secure authentication (IEC 60870-5-7)
    for name in ("S_format", *U_NAMES.values()):
        table[name] = "session"  # acknowledgements, STARTDT/STOPDT/TESTFR (§5.2, §5.3)
    return table


ACTIONS: Mapping[str, str] = MappingProxyType(_actions())


def action_of(name: str) -> str:
    return ACTIONS.get(name, "other")


# --- weirds: the first oddity of an otherwise readable message ------------------------------------------------

WEIRDS: Mapping[str, str] = MappingProxyType({
    # Malformed: the framer reports these in place of a message
    "iec104_bad_start": "octets before the 0x68 start octet (§5.1): skipped up to the next 0x68 (as Wireshark does)",
    "iec104_bad_length": "an APDU length below 4 (no room for the control field): its octets are skipped",
    "iec104_buffer_overflow": "more octets waiting for one APDU than any APDU can have (an invariant broke)",
    # weirds of messages that were still read
    "iec104_apdu_too_long": "an APDU length of 254 or 255: above the 253 octets §5.1 allows",
    "iec104_bad_u_function": "a U-format APDU with no or several function bits set (§5.3)",
    "iec104_bad_control_field": "control field bits that must be 0 are set (S-format octet 2, "
                                "U-format octets 2..4, bit 0 of octet 3)",
    "iec104_unexpected_asdu": "an S- or U-format APDU longer than its four control octets",
    "iec104_short_asdu": "an I-format APDU whose ASDU is shorter than its data unit identifier (6 octets)",
    "iec104_asdu_truncated": "the ASDU ends inside an information object the variable structure qualifier announces",
    "iec104_trailing_bytes": "octets after the last information object the variable structure qualifier announces",
    "iec104_too_many_objects": "more information objects than MAX_OBJECTS: only the first are read",
    "iec104_unknown_type": "a type identification this package cannot size: its objects are not read",
    "iec104_undefined_cause": "a cause of transmission the standard leaves unused (0, 14..19, 42, 43)",
})
