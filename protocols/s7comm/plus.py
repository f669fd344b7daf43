"""S7comm-plus (protocol id 0x72, S7-1200/1500 and TIA Portal): frames and PDUs -> frozen records.

Siemens publishes nothing; the layout here is the Wireshark plugin ``packet-s7comm_plus.c``
(Thomas Wiens, "s7commwireshark"), functions ``dissect_s7commp`` and ``s7commp_decode_data``,
and S7CommPlusDriver (``Core/*Request.cs``) by the same author for the request sets. A frame,
inside one COTP TSDU::

    +------+---------+-----------------+--------------------------------+----------------------+
    | 0x72 | version | data length u16 | data part (data length octets) | trailer: 72 vv 00 00 |
    +------+---------+-----------------+--------------------------------+----------------------+

- version 1, 2, 3; 0xFE system event; 0xFF keep-alive, which is ``72 FF <seq> <reserved>`` alone;
- V3 data parts start with an integrity part: digest length u8 (32) and the digest;
- a PDU too big for one TSDU is sent as several frames: only the last one has the trailer.

The data part of a request, response (0x32 and 0x02) or notification (0x33)::

    +--------+----------+----------+----------+----------+----------------+-----------+--------------+
    | opcode | reserved | function | reserved | sequence | session id u32 | transport | request or   |
    |   u8   |   u16    |   u16    |   u16    |   u16    | (requests only)| flags u8  | response set |
    +--------+----------+----------+----------+----------+----------------+-----------+--------------+

Values inside request sets are VLQ-coded (7 bits an octet, most significant first, high bit = more follows).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from protocols.base import Malformed, NeedMore
from protocols.s7comm.codes import (
    PLUS_AREA_SPACES,
    PLUS_PROTOCOL_ID,
    PlusFunction,
    PlusId,
    PlusOpcode,
    PlusVersion,
)

PLUS_HEADER = 4
PLUS_TRAILER = 4
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

# "1;6ES7 214-1HE30-0XB0 ;V2.2": the ServerSessionVersion a PLC sends when a session opens,
# which the client echoes back; order number and firmware in the clear.
_SESSION_VERSION = re.compile(rb"(\d);([0-9A-Z][0-9A-Z .\-]{8,30}?) ?;(V\d{1,3}(?:\.\d{1,3}){1,2})")


@dataclass(frozen=True, slots=True)
class PlusFrame:
    """One S7comm-plus frame as a COTP TSDU carries it."""

    version: int
    data_length: int | None  # None for keep-alives
    data: bytes  # the data part after any integrity part
    has_trailer: bool  # False: a fragment, more frames of this PDU follow
    integrity: bytes | None = None  # V3 digest
    keep_alive_sequence: int | None = None
    weird: str | None = None


def parse_frame(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[PlusFrame, int] | NeedMore:
    """The frame at ``buf[offset:]``, which must end where the TSDU ends: (record, used), NeedMore or Malformed.

    The trailer is how a last fragment is recognised, so ``buf`` must be the whole TSDU: four or
    more octets after the data part are the trailer, none means a fragment.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail >= 1 and buf[offset] != PLUS_PROTOCOL_ID:
        raise Malformed("s7comm_bad_protocol_id", offset, f"protocol id 0x{buf[offset]:02x}")
    if avail < PLUS_HEADER:
        return NeedMore(PLUS_HEADER - avail)
    version = buf[offset + 1]
    if version == PlusVersion.KEEP_ALIVE:
        weird = "s7comm_trailing_bytes" if avail > PLUS_HEADER else None
        return PlusFrame(version, None, b"", True, keep_alive_sequence=buf[offset + 2], weird=weird), avail
    length = _U16.unpack_from(buf, offset + 2)[0]
    end = offset + PLUS_HEADER + length
    if avail < PLUS_HEADER + length:
        return NeedMore(PLUS_HEADER + length - avail)
    data = bytes(buf[offset + PLUS_HEADER:end])
    rest = len(buf) - end
    weird = None
    has_trailer = rest > 0
    if rest >= PLUS_TRAILER:
        trailer = bytes(buf[end:end + PLUS_TRAILER])
        if trailer != bytes((PLUS_PROTOCOL_ID, version, 0, 0)):
            weird = "s7comm_plus_bad_trailer"
        used = PLUS_HEADER + length + PLUS_TRAILER
        if rest > PLUS_TRAILER:
            weird = weird or "s7comm_trailing_bytes"
            used = avail
    else:
        used = avail
        if rest:
            weird = "s7comm_plus_bad_trailer"
    integrity = None
    if version == PlusVersion.V3 and data:
        n = data[0]
        if 1 + n > len(data):
            weird = weird or "s7comm_plus_bad_data"
        integrity, data = data[1:1 + n], data[1 + n:]
    return PlusFrame(version, length, data, has_trailer, integrity, weird=weird), used


@dataclass(frozen=True, slots=True)
class ItemAddress:
    """An item of Get/SetMultiVariables (S7CommPlusDriver ClientApi/ItemAddress.cs)."""

    symbol_crc: int
    access_area: int  # 0x8A0E0000 + n: DB n; 80..84: I, Q, M, counters, timers
    access_sub_area: int
    lids: tuple[int, ...]  # the path inside the area


@dataclass(frozen=True, slots=True)
class PlusPdu:
    """One (reassembled) S7comm-plus PDU. Fields its opcode and function do not carry stay None."""

    version: int
    opcode: int | None = None
    function: int = 0  # 0 for keep-alives, system events and notifications
    sequence_number: int | None = None
    session_id: int | None = None  # requests only
    transport_flags: int | None = None
    object_id: int | None = None  # first u32 of a request set: InObjectId, RequestId or LinkId
    attribute: int | None = None  # SetVariable: the attribute (address) written
    value: int | None = None  # SetVariable: the value, when it is a scalar integer
    addresses: tuple[ItemAddress, ...] = ()
    strings: tuple[tuple[str, str], ...] = ()  # (order number, firmware) seen in the clear
    keep_alive_sequence: int | None = None
    data_length: int = 0
    weird: str | None = None


class _Short(Exception):
    """A VLQ or field runs past the data: stop decoding the request set."""


def vlq_u32(buf: bytes, p: int) -> tuple[int, int]:
    """An unsigned VLQ of up to 5 octets, 7 bits each, most significant first: (value, next position).

    S7CommPlusDriver ``S7p.EncodeUInt32Vlq`` writes 0x8A0E0002 (the access area of DB2) as
    ``88 D0 B8 80 02``.
    """
    value = 0
    for _ in range(5):
        if p >= len(buf):
            raise _Short
        octet = buf[p]
        p += 1
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            break
    return value & 0xFFFFFFFF, p


def vlq_i32(buf: bytes, p: int) -> tuple[int, int]:
    """A signed VLQ: bit 6 of the first octet is the sign (two's complement over the bits sent)."""
    value = 0
    for i in range(5):
        if p >= len(buf):
            raise _Short
        octet = buf[p]
        p += 1
        if i == 0:
            value = (octet & 0x3F) - (0x40 if octet & 0x40 else 0)
        else:
            value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            break
    value &= 0xFFFFFFFF
    return (value - (1 << 32) if value & 0x80000000 else value), p


def _u32(buf: bytes, p: int) -> tuple[int, int]:
    if p + 4 > len(buf):
        raise _Short
    return _U32.unpack_from(buf, p)[0], p + 4


def _scalar(buf: bytes, p: int) -> int | None:
    """A PValue that is a scalar integer: flags u8, datatype u8, value (packet-s7comm_plus.c s7commp_decode_value)."""
    if p + 2 > len(buf) or buf[p] & 0x70:  # array, address array or sparse array: not a scalar
        return None
    kind = buf[p + 1]
    q = p + 2
    if kind in (0x01, 0x02, 0x06, 0x0A):  # Bool, USInt, SInt, Byte: one octet
        return buf[q] if q < len(buf) else None
    if kind in (0x03, 0x07, 0x0B):  # UInt, Int, Word
        return _U16.unpack_from(buf, q)[0] if q + 2 <= len(buf) else None
    if kind == 0x0C:  # DWord
        return _U32.unpack_from(buf, q)[0] if q + 4 <= len(buf) else None
    if kind in (0x04, 0x13):  # UDInt, AID: VLQ
        return vlq_u32(buf, q)[0]
    if kind == 0x08:  # DInt: signed VLQ
        return vlq_i32(buf, q)[0]
    return None


def _addresses(buf: bytes, p: int, count: int) -> tuple[ItemAddress, ...]:
    out = []
    for _ in range(min(count, 256)):
        crc, p = vlq_u32(buf, p)
        area, p = vlq_u32(buf, p)
        n, p = vlq_u32(buf, p)
        sub, p = vlq_u32(buf, p)
        lids = []
        for _ in range(min(max(n - 1, 0), 64)):
            lid, p = vlq_u32(buf, p)
            lids.append(lid)
        out.append(ItemAddress(crc, area, sub, tuple(lids)))
    return tuple(out)


def parse_pdu(version: int, data: bytes, keep_alive_sequence: int | None = None) -> PlusPdu:
    """The function header and what the package uses of the request set; never raises.

    A data part cut before its function header is returned with ``weird`` set. Request sets are
    decoded as far as their layout is known (SetVariable, Get/SetMultiVariables, CreateObject,
    DeleteObject); a shorter one simply stops there.
    """
    strings = tuple((m.group(2).decode("ascii").strip(), m.group(3).decode("ascii"))
                    for m in _SESSION_VERSION.finditer(data))
    base = {"version": version, "strings": strings, "data_length": len(data)}
    if version == PlusVersion.KEEP_ALIVE:
        return PlusPdu(keep_alive_sequence=keep_alive_sequence, **base)
    if version == PlusVersion.SYSTEM_EVENT:
        return PlusPdu(**base)
    if not data:
        return PlusPdu(weird="s7comm_plus_bad_data", **base)
    opcode = data[0]
    if opcode == PlusOpcode.NOTIFICATION:
        object_id = _U32.unpack_from(data, 1)[0] if len(data) >= 5 else None
        return PlusPdu(opcode=opcode, object_id=object_id, **base)
    if opcode not in (PlusOpcode.REQUEST, PlusOpcode.RESPONSE, PlusOpcode.RESPONSE2):
        return PlusPdu(opcode=opcode, weird="s7comm_plus_unknown_opcode", **base)
    head = 9 if opcode != PlusOpcode.REQUEST else 14
    if len(data) < head:
        function = _U16.unpack_from(data, 3)[0] if len(data) >= 5 else 0
        return PlusPdu(opcode=opcode, function=function, weird="s7comm_plus_bad_data", **base)
    function, seq = _U16.unpack_from(data, 3)[0], _U16.unpack_from(data, 7)[0]
    if opcode != PlusOpcode.REQUEST:
        return PlusPdu(opcode=opcode, function=function, sequence_number=seq, transport_flags=data[9]
                       if len(data) > 9 else None, **base)
    session_id = _U32.unpack_from(data, 9)[0]
    fields: dict = {"opcode": opcode, "function": function, "sequence_number": seq, "session_id": session_id,
                    "transport_flags": data[13]}
    try:
        _request_set(function, data, 14, fields)
    except _Short:
        pass
    return PlusPdu(**fields, **base)


def _request_set(function: int, data: bytes, p: int, fields: dict) -> None:
    """What the package reads of a request set (S7CommPlusDriver Core/*Request.cs Serialize)."""
    if function in (PlusFunction.CREATE_OBJECT, PlusFunction.DELETE_OBJECT, PlusFunction.EXPLORE,
                    PlusFunction.GET_VAR_SUB_STREAMED, PlusFunction.SET_VAR_SUB_STREAMED):
        fields["object_id"], _ = _u32(data, p)
    elif function == PlusFunction.SET_VARIABLE:
        # InObjectId u32, item count VLQ (always 1), the attribute VLQ, then its PValue
        fields["object_id"], p = _u32(data, p)
        _, p = vlq_u32(data, p)
        fields["attribute"], p = vlq_u32(data, p)
        fields["value"] = _scalar(data, p)
    elif function in (PlusFunction.GET_MULTI_VARIABLES, PlusFunction.SET_MULTI_VARIABLES):
        # object id u32 (0: the items are addresses), item count VLQ, field count VLQ, then
        # the items: addresses when the object id is 0, else attribute ids of that object
        fields["object_id"], p = _u32(data, p)
        count, p = vlq_u32(data, p)
        _, p = vlq_u32(data, p)
        if fields["object_id"] == 0:
            fields["addresses"] = _addresses(data, p, count)
        else:
            ids = []
            for _ in range(min(count, 64)):
                attr, p = vlq_u32(data, p)
                ids.append(attr)
            if ids:
                fields["attribute"] = ids[0]


def address_space(area: int) -> str | None:
    """The point space of an S7comm-plus access area: ``DB5``, ``M``, ``I``...; None for other objects."""
    if area >= PlusId.DB_ACCESS_AREA_BASE and area - PlusId.DB_ACCESS_AREA_BASE <= 0xFFFF:
        return f"DB{area - PlusId.DB_ACCESS_AREA_BASE}"
    return PLUS_AREA_SPACES.get(area)
