"""Information elements (IEC 60870-5-101 §7.2.6) and the layout of each type's information object (§7.3).

``LAYOUTS`` maps a type identification to (octets of one object's elements, decoder). A decoder reads the
elements of one object at an offset the caller has checked (the whole object is there) and returns its
fields in the standard's words: ``value``, ``quality`` (the names of the quality bits that are set: OV,
EI, BL, SB, NT, IV, and CY/CA for counters), ``time`` (CP56Time2a as ``YYYY-MM-DDTHH:MM:SS.mmm``, CP24Time2a
as ``MM:SS.mmm``), and per element ``select`` (S/E), ``qualifier`` (QU, QL, QOI ...), ``transient`` (VTI T).
Types with elements of variable length (security, F_SG_NA_1 segments) or unknown ones have no layout.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

Fields = dict[str, Any]
Decoder = Callable[[bytes, int], Fields]

_F32 = struct.Struct("<f")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

QDS_BITS = ((0x01, "OV"), (0x10, "BL"), (0x20, "SB"), (0x40, "NT"), (0x80, "IV"))  # §7.2.6.3
SIQ_BITS = QDS_BITS[1:]  # §7.2.6.1 / .2: BL SB NT IV (bit 0 is the value)
SEP_BITS = ((0x08, "EI"), *SIQ_BITS)  # §7.2.6.10: bits 0-1 event state, bit 3 elapsed time invalid
BCR_BITS = ((0x20, "CY"), (0x40, "CA"), (0x80, "IV"))  # §7.2.6.9: bits 0-4 sequence number


def flags(octet: int, bits: tuple[tuple[int, str], ...]) -> list[str]:
    return [name for bit, name in bits if octet & bit]


def cp56(buf: bytes, off: int) -> Fields:
    """CP56Time2a (§7.2.6.18): ms, IV|min, SU|hour, DOW|day, month, year (0..99 from 2000); not validated."""
    ms = buf[off] | buf[off + 1] << 8
    minute, hour, day, month, year = buf[off + 2], buf[off + 3], buf[off + 4], buf[off + 5], buf[off + 6]
    out: Fields = {"time": f"{2000 + (year & 0x7F):04d}-{month & 0x0F:02d}-{day & 0x1F:02d}T"
                           f"{hour & 0x1F:02d}:{minute & 0x3F:02d}:{ms // 1000:02d}.{ms % 1000:03d}"}
    if minute & 0x80:
        out["time_invalid"] = True
    if hour & 0x80:
        out["summer_time"] = True
    return out


def cp24(buf: bytes, off: int) -> Fields:
    """CP24Time2a (§7.2.6.19): milliseconds and minutes of the hour."""
    ms = buf[off] | buf[off + 1] << 8
    minute = buf[off + 2]
    out: Fields = {"time": f"{minute & 0x3F:02d}:{ms // 1000:02d}.{ms % 1000:03d}"}
    if minute & 0x80:
        out["time_invalid"] = True
    return out


def real(buf: bytes, off: int) -> float | str:
    """R32 IEEE STD 754 (§7.2.6.8). NaN and the infinities are kept as the strings ``nan``, ``inf`` and ``-inf``:
    JSON has no number for them, and an event line must stay JSON."""
    value = _F32.unpack_from(buf, off)[0]
    return value if math.isfinite(value) else repr(value)


def normalized(buf: bytes, off: int) -> float:
    """NVA (§7.2.6.6): a signed 16-bit fraction of full scale, -1 .. 1 - 2^-15."""
    return _I16.unpack_from(buf, off)[0] / 32768.0


# --- monitor direction ----------------------------------------------------------------------------------------

def _siq(buf: bytes, off: int) -> Fields:
    octet = buf[off]
    return {"value": octet & 0x01, "quality": flags(octet, SIQ_BITS)}


def _diq(buf: bytes, off: int) -> Fields:
    octet = buf[off]  # DPI: 0 indeterminate or intermediate, 1 off, 2 on, 3 indeterminate
    return {"value": octet & 0x03, "quality": flags(octet, SIQ_BITS)}


def _vti(buf: bytes, off: int) -> Fields:
    octet = buf[off]  # §7.2.6.5: a 7-bit two's complement step position, bit 7 transient
    value = octet & 0x7F
    return {"value": value - 128 if value & 0x40 else value, "transient": bool(octet & 0x80),
            "quality": flags(buf[off + 1], QDS_BITS)}


def _bsi(buf: bytes, off: int) -> Fields:
    return {"value": _U32.unpack_from(buf, off)[0], "quality": flags(buf[off + 4], QDS_BITS)}


def _nva(buf: bytes, off: int) -> Fields:
    return {"value": normalized(buf, off), "quality": flags(buf[off + 2], QDS_BITS)}


def _sva(buf: bytes, off: int) -> Fields:
    return {"value": _I16.unpack_from(buf, off)[0], "quality": flags(buf[off + 2], QDS_BITS)}


def _r32(buf: bytes, off: int) -> Fields:
    return {"value": real(buf, off), "quality": flags(buf[off + 4], QDS_BITS)}


def _bcr(buf: bytes, off: int) -> Fields:
    octet = buf[off + 4]
    return {"value": _I32.unpack_from(buf, off)[0], "sequence": octet & 0x1F, "quality": flags(octet, BCR_BITS)}


def _nva_plain(buf: bytes, off: int) -> Fields:
    return {"value": normalized(buf, off)}


def _sep(buf: bytes, off: int) -> Fields:
    """M_EP_TA_1/TD_1: SEP (event state and quality) and the elapsed time CP16Time2a."""
    octet = buf[off]
    return {"value": octet & 0x03, "quality": flags(octet, SEP_BITS), "elapsed_ms": _U16.unpack_from(buf, off + 1)[0]}


def _spe(buf: bytes, off: int) -> Fields:
    """M_EP_TB_1/TE_1 (start events) and M_EP_TC_1/TF_1 (output circuits): the events octet, QDP, CP16Time2a."""
    return {"value": buf[off], "quality": flags(buf[off + 1], SEP_BITS), "elapsed_ms": _U16.unpack_from(buf, off + 2)[0]}


def _scd(buf: bytes, off: int) -> Fields:
    """M_PS_NA_1 (§7.2.6.40): 16 status bits and 16 status change detections, then QDS."""
    return {"value": _U16.unpack_from(buf, off)[0], "changed": _U16.unpack_from(buf, off + 2)[0],
            "quality": flags(buf[off + 4], QDS_BITS)}


# --- control direction ----------------------------------------------------------------------------------------

def _command(buf: bytes, off: int, mask: int) -> Fields:
    """SCO/DCO/RCO (§7.2.6.15-17): the state in the low bits, QU in bits 2-6, S/E in bit 7."""
    octet = buf[off]
    return {"value": octet & mask, "qualifier": (octet >> 2) & 0x1F, "select": bool(octet & 0x80)}


def _sco(buf: bytes, off: int) -> Fields:
    return _command(buf, off, 0x01)


def _dco(buf: bytes, off: int) -> Fields:
    return _command(buf, off, 0x03)  # DCS: 1 off, 2 on; RCS: 1 next step lower, 2 next step higher


def _qos(octet: int) -> Fields:
    return {"qualifier": octet & 0x7F, "select": bool(octet & 0x80)}  # §7.2.6.39: QL, S/E


def _set_nva(buf: bytes, off: int) -> Fields:
    return {"value": normalized(buf, off), **_qos(buf[off + 2])}


def _set_sva(buf: bytes, off: int) -> Fields:
    return {"value": _I16.unpack_from(buf, off)[0], **_qos(buf[off + 2])}


def _set_r32(buf: bytes, off: int) -> Fields:
    return {"value": real(buf, off), **_qos(buf[off + 4])}


def _set_bsi(buf: bytes, off: int) -> Fields:
    return {"value": _U32.unpack_from(buf, off)[0]}


def _qpm(octet: int) -> Fields:
    return {"qualifier": octet & 0x3F, "local_change": bool(octet & 0x40), "in_operation": not octet & 0x80}


def _par_nva(buf: bytes, off: int) -> Fields:
    return {"value": normalized(buf, off), **_qpm(buf[off + 2])}


def _par_sva(buf: bytes, off: int) -> Fields:
    return {"value": _I16.unpack_from(buf, off)[0], **_qpm(buf[off + 2])}


def _par_r32(buf: bytes, off: int) -> Fields:
    return {"value": real(buf, off), **_qpm(buf[off + 4])}


def _octet_qualifier(buf: bytes, off: int) -> Fields:
    """QOI (§7.2.6.22), QRP (§7.2.6.27), QPA (§7.2.6.25): one octet of qualifier."""
    return {"qualifier": buf[off]}


def _qcc(buf: bytes, off: int) -> Fields:
    octet = buf[off]  # §7.2.6.23: RQT (which counters), FRZ (freeze/reset)
    return {"qualifier": octet & 0x3F, "freeze": octet >> 6}


def _coi(buf: bytes, off: int) -> Fields:
    octet = buf[off]  # §7.2.6.21: 0 local power on, 1 local manual reset, 2 remote reset; bit 7 after a parameter change
    return {"value": octet & 0x7F, "parameter_change": bool(octet & 0x80)}


def _nothing(buf: bytes, off: int) -> Fields:
    return {}


def _test_pattern(buf: bytes, off: int) -> Fields:
    return {"value": _U16.unpack_from(buf, off)[0]}  # C_TS_NA_1 FBP (0x55AA); C_CD_NA_1 CP16Time2a


def _tsc_cp56(buf: bytes, off: int) -> Fields:
    return {"value": _U16.unpack_from(buf, off)[0], **cp56(buf, off + 2)}  # C_TS_TA_1: TSC and its time


# --- file transfer (§7.3.6) -----------------------------------------------------------------------------------

def _nof(buf: bytes, off: int) -> int:
    return _U16.unpack_from(buf, off)[0]


def _lof(buf: bytes, off: int) -> int:
    return buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16


def _file_ready(buf: bytes, off: int) -> Fields:
    return {"file": _nof(buf, off), "length": _lof(buf, off + 2), "qualifier": buf[off + 5]}


def _section_ready(buf: bytes, off: int) -> Fields:
    return {"file": _nof(buf, off), "section": buf[off + 2], "length": _lof(buf, off + 3), "qualifier": buf[off + 6]}


def _call(buf: bytes, off: int) -> Fields:  # F_SC_NA_1 (SCQ) and F_AF_NA_1 (AFQ)
    return {"file": _nof(buf, off), "section": buf[off + 2], "qualifier": buf[off + 3]}


def _last(buf: bytes, off: int) -> Fields:
    return {"file": _nof(buf, off), "section": buf[off + 2], "qualifier": buf[off + 3], "checksum": buf[off + 4]}


def _directory(buf: bytes, off: int) -> Fields:
    return {"file": _nof(buf, off), "length": _lof(buf, off + 2), "status": buf[off + 5], **cp56(buf, off + 6)}


def _query_log(buf: bytes, off: int) -> Fields:
    return {"file": _nof(buf, off), "start": cp56(buf, off + 2)["time"], "stop": cp56(buf, off + 9)["time"]}


def _with_cp24(decode: Decoder, size: int) -> Decoder:
    def read(buf: bytes, off: int) -> Fields:
        return {**decode(buf, off), **cp24(buf, off + size)}
    return read


def _with_cp56(decode: Decoder, size: int) -> Decoder:
    def read(buf: bytes, off: int) -> Fields:
        return {**decode(buf, off), **cp56(buf, off + size)}
    return read


_BASE: dict[int, tuple[int, Decoder]] = {  # type -> the elements without time tag
    1: (1, _siq), 3: (1, _diq), 5: (2, _vti), 7: (5, _bsi), 9: (3, _nva), 11: (3, _sva), 13: (5, _r32), 15: (5, _bcr),
    17: (3, _sep), 18: (4, _spe), 19: (4, _spe),
    45: (1, _sco), 46: (1, _dco), 47: (1, _dco), 48: (3, _set_nva), 49: (3, _set_sva), 50: (5, _set_r32),
    51: (4, _set_bsi),
}
_CP24 = {2: 1, 4: 3, 6: 5, 8: 7, 10: 9, 12: 11, 14: 13, 16: 15}  # type -> its untimed sibling (CP24Time2a)
_CP56 = {30: 1, 31: 3, 32: 5, 33: 7, 34: 9, 35: 11, 36: 13, 37: 15, 38: 17, 39: 18, 40: 19,
         58: 45, 59: 46, 60: 47, 61: 48, 62: 49, 63: 50, 64: 51}


def _layouts() -> dict[int, tuple[int, Decoder]]:
    table: dict[int, tuple[int, Decoder]] = {t: _BASE[t] for t in (1, 3, 5, 7, 9, 11, 13, 15, 45, 46, 47, 48, 49, 50, 51)}
    for timed, plain in _CP24.items():
        size, decode = _BASE[plain]
        table[timed] = (size + 3, _with_cp24(decode, size))
    for timed, plain in _CP56.items():
        size, decode = _BASE[plain]
        table[timed] = (size + 7, _with_cp56(decode, size))
    for t in (17, 18, 19):  # protection events carry CP24Time2a after their CP16Time2a
        size, decode = _BASE[t]
        table[t] = (size + 3, _with_cp24(decode, size))
    table.update({
        20: (5, _scd), 21: (2, _nva_plain),
        70: (1, _coi), 100: (1, _octet_qualifier), 101: (1, _qcc), 102: (0, _nothing), 103: (7, cp56),
        104: (2, _test_pattern), 105: (1, _octet_qualifier), 106: (2, _test_pattern), 107: (9, _tsc_cp56),
        110: (3, _par_nva), 111: (3, _par_sva), 112: (5, _par_r32), 113: (1, _octet_qualifier),
        120: (6, _file_ready), 121: (7, _section_ready), 122: (4, _call), 123: (5, _last), 124: (4, _call),
        126: (13, _directory), 127: (16, _query_log),
    })
    return table


LAYOUTS: dict[int, tuple[int, Decoder]] = _layouts()
"""Type identification -> (octets of one object's information elements, decoder), §7.3."""
