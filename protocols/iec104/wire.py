"""IEC 60870-5-104 APDUs and their ASDUs: pure functions from bytes to frozen records.

An APDU (§5.1, Figure 4)::

    0x68 | length (4..253) | control octet 1 | 2 | 3 | 4 | ASDU (I-format only)

The control field says the format (§5.1, Figures 6-8)::

    I-format   N(S) << 1 (bit 0 = 0), 2 octets LE   | N(R) << 1 (bit 0 = 0), 2 octets LE
    S-format   0x01 0x00                            | N(R) << 1
    U-format   TESTFR con/act, STOPDT con/act, STARTDT con/act, 1, 1 | 0x00 0x00 0x00

An ASDU (IEC 60870-5-101 §7.1 with the field lengths of 104 §5.2)::

    type id | SQ:1 number:7 | T:1 P/N:1 cause:6 | originator | common address (2, LE) | objects

SQ = 0: each object is an information object address (3 octets, LE) and its elements; SQ = 1: one address,
then the elements of ``number`` objects at consecutive addresses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.iec104.codes import (
    ASDU_HEADER,
    FRAME_BASE,
    I_FORMAT,
    IOA_LENGTH,
    MAX_APDU_LENGTH,
    MIN_APDU_LENGTH,
    S_FORMAT,
    START,
    TYPE_NAMES,
    U_FORMAT,
    U_NAMES,
    TypeId,
)
from protocols.iec104.elements import LAYOUTS

MAX_OBJECTS = 127
"""Most information objects read from one ASDU. The variable structure qualifier counts at most 127, so on
the wire this bounds nothing more than the standard does; the limit is named so that it is one number to
lower (and ``iec104_too_many_objects`` says when it cut an ASDU short)."""


@dataclass(frozen=True, slots=True)
class Apdu:
    """One APDU: its format, control field and (I-format) the ASDU octets."""

    length: int  # the length octet
    format: str  # "I", "S" or "U"
    control: bytes  # the four control octets
    send_sequence: int | None  # N(S), I-format
    receive_sequence: int | None  # N(R), I- and S-format
    asdu: bytes  # I-format: the ASDU octets (may be short: the ASDU parser says so)
    weird: str | None = None

    @property
    def frame_code(self) -> int:
        """The function code of an S/U APDU: ``0x100 | control octet 1``."""
        return FRAME_BASE | self.control[0]


def parse_apdu(buf: bytes, offset: int = 0) -> tuple[Apdu, int] | NeedMore:
    """The APDU starting at ``buf[offset]`` (which must be 0x68) and the octets it spans.

    Raises ``iec104_bad_start`` when ``buf[offset]`` is not 0x68 and ``iec104_bad_length`` when the length
    octet leaves no room for a control field (the caller skips ``2 + length`` octets: the length is still
    the only delimiter there is).
    """
    have = len(buf) - offset
    if have < 1:
        return NeedMore(2)
    if buf[offset] != START:
        raise Malformed("iec104_bad_start", offset, f"0x{buf[offset]:02x} where 0x68 starts an APDU")
    if have < 2:
        return NeedMore(1)
    length = buf[offset + 1]
    if have < 2 + length:
        return NeedMore(2 + length - have)
    if length < MIN_APDU_LENGTH:
        raise Malformed("iec104_bad_length", offset, f"APDU length {length}")
    c = bytes(buf[offset + 2:offset + 6])
    weird = "iec104_apdu_too_long" if length > MAX_APDU_LENGTH else None
    if not c[0] & 0x01:
        asdu = bytes(buf[offset + 6:offset + 2 + length])
        if c[2] & 0x01:
            weird = weird or "iec104_bad_control_field"
        apdu = Apdu(length, I_FORMAT, c, (c[0] >> 1) | (c[1] << 7), (c[2] >> 1) | (c[3] << 7), asdu, weird)
    elif c[0] & 0x03 == 0x01:
        if c[0] != 0x01 or c[1] or c[2] & 0x01:
            weird = weird or "iec104_bad_control_field"
        weird = weird or ("iec104_unexpected_asdu" if length > MIN_APDU_LENGTH else None)
        apdu = Apdu(length, S_FORMAT, c, None, (c[2] >> 1) | (c[3] << 7), b"", weird)
    else:
        if c[0] not in U_NAMES:
            weird = weird or "iec104_bad_u_function"
        elif c[1] or c[2] or c[3]:
            weird = weird or "iec104_bad_control_field"
        weird = weird or ("iec104_unexpected_asdu" if length > MIN_APDU_LENGTH else None)
        apdu = Apdu(length, U_FORMAT, c, None, None, b"", weird)
    return apdu, 2 + length


@dataclass(frozen=True, slots=True)
class InfoObject:
    """One information object: its address and its elements' fields (``elements.LAYOUTS``)."""

    ioa: int
    elements: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Asdu:
    """An ASDU's data unit identifier and the information objects read from it."""

    type_id: int
    sq: bool
    number: int  # number of objects (or elements, SQ = 1) the VSQ announces
    cause: int
    negative: bool  # P/N
    test: bool  # T
    originator: int
    common_address: int
    objects: tuple[InfoObject, ...]
    data: bytes = b""  # the octets after the identifier, when the type's objects cannot be read
    weird: str | None = None


def parse_asdu(data: bytes, max_objects: int = MAX_OBJECTS) -> Asdu:
    """The ASDU of an I-format APDU. Raises ``iec104_short_asdu`` when the 6-octet identifier is not all there.

    Objects are read as far as they are complete; an ASDU cut inside one, octets left after the last one,
    and a type whose objects cannot be sized are weirds of a readable ASDU, never exceptions.
    """
    if len(data) < ASDU_HEADER:
        raise Malformed("iec104_short_asdu", 0, f"{len(data)} of {ASDU_HEADER} identifier octets")
    type_id, vsq, cot = data[0], data[1], data[2]
    sq, number = bool(vsq & 0x80), vsq & 0x7F
    head = dict(type_id=type_id, sq=sq, number=number, cause=cot & 0x3F, negative=bool(cot & 0x40),
                test=bool(cot & 0x80), originator=data[3], common_address=data[4] | data[5] << 8)
    if type_id == TypeId.F_SG_NA_1:
        return _segment(data, head)
    layout = LAYOUTS.get(type_id)
    if layout is None:
        weird = None if type_id in TYPE_NAMES else "iec104_unknown_type"
        return Asdu(**head, objects=(), data=bytes(data[ASDU_HEADER:]), weird=weird)
    size, decode = layout
    weird = None
    if number > max_objects:
        number, weird = max_objects, "iec104_too_many_objects"
    objects: list[InfoObject] = []
    pos, end, ioa = ASDU_HEADER, len(data), 0
    for i in range(number):
        if i == 0 or not sq:
            if pos + IOA_LENGTH > end:
                weird = weird or "iec104_asdu_truncated"
                break
            ioa = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
            pos += IOA_LENGTH
        else:
            ioa = (ioa + 1) & 0xFFFFFF
        if pos + size > end:
            weird = weird or "iec104_asdu_truncated"
            break
        objects.append(InfoObject(ioa, decode(data, pos)))
        pos += size
    if pos < end and weird is None:
        weird = "iec104_trailing_bytes"
    return Asdu(**head, objects=tuple(objects), weird=weird)


def _segment(data: bytes, head: dict[str, Any]) -> Asdu:
    """F_SG_NA_1 (§7.3.6.7): one object whose segment is as long as its LOS octet says."""
    pos = ASDU_HEADER
    if len(data) < pos + IOA_LENGTH + 4:
        return Asdu(**head, objects=(), weird="iec104_asdu_truncated")
    ioa = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
    pos += IOA_LENGTH
    los = data[pos + 3]
    segment = data[pos + 4:pos + 4 + los]
    fields = {"file": data[pos] | data[pos + 1] << 8, "section": data[pos + 2], "length": los,
              "segment": segment.hex()}
    end = pos + 4 + los
    weird = "iec104_asdu_truncated" if end > len(data) else "iec104_trailing_bytes" if end < len(data) else None
    if head["number"] != 1 and weird is None:
        weird = "iec104_trailing_bytes" if head["number"] == 0 else "iec104_asdu_truncated"
    return Asdu(**head, objects=(InfoObject(ioa, fields),), weird=weird)
