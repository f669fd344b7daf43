"""ISO-on-TCP and S7comm: bytes -> frozen records. Pure functions, no state.

The stack on TCP port 102, outermost first::

    TPKT (RFC 1006 §6)      03 00 <length u16, whole TPKT>
    COTP (ISO 8073 §13)     <LI> <TPDU code> ...fixed part... ...parameters...  | user data
    S7comm                  32 <ROSCTR> ... (or S7comm-plus: 72 <version> ..., see ``plus``)

``parse_tpkt`` cuts one TPKT out of a byte stream: its header is the only delimiter, so an error
there loses framing (``Malformed``). ``parse_cotp`` and ``parse_pdu`` read what one TPKT
delimits: they raise ``Malformed`` when the bytes cannot be COTP or S7comm, and otherwise return a
record with ``weird`` naming the first oddity of a message that could still be read. The S7comm
layouts follow the Wireshark dissector ``packet-s7comm.c`` (Siemens publishes none).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.s7comm.codes import (
    BLOCK_CONTROL,
    BLOCK_TYPES,
    LENGTH_IN_BITS,
    PROTOCOL_ID,
    CotpParameter,
    Function,
    FunctionGroup,
    Rosctr,
    SyntaxId,
    Tpdu,
    UserdataType,
    block_type_name,
)

TPKT_HEADER = 4
TPKT_VERSION = 3
MIN_TPKT_LENGTH = 7  # TPKT header + the smallest COTP header (a DT: LI, code, NR/EOT)

_U16 = struct.Struct(">H")
_U16X2 = struct.Struct(">HH")
_U32 = struct.Struct(">I")


# --- TPKT ---------------------------------------------------------------------------------------


def parse_tpkt(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[bytes, int] | NeedMore:
    """One TPKT at ``buf[offset:]``: (its payload, the COTP TPDU; bytes used), NeedMore, or Malformed.

    RFC 1006 §6::

        +---------+----------+-----------------------+--------------------+
        | vrsn=3  | reserved | packet length u16     | TPDU ...           |
        |   u8    |  u8 = 0  | (header included)     |                    |
        +---------+----------+-----------------------+--------------------+

    The header is checked as soon as its octets arrive, so garbage is refused before waiting
    for a length it announces.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail >= 1 and buf[offset] != TPKT_VERSION:
        raise Malformed("s7comm_bad_tpkt_version", offset, f"version {buf[offset]}")
    if avail >= 2 and buf[offset + 1] != 0:
        raise Malformed("s7comm_bad_tpkt_reserved", offset, f"reserved {buf[offset + 1]}")
    if avail < TPKT_HEADER:
        return NeedMore(TPKT_HEADER - avail)
    length = _U16.unpack_from(buf, offset + 2)[0]
    if length < MIN_TPKT_LENGTH:
        raise Malformed("s7comm_bad_tpkt_length", offset, f"length {length}")
    if avail < length:
        return NeedMore(length - avail)
    return bytes(buf[offset + TPKT_HEADER:offset + length]), length


# --- COTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cotp:
    """One COTP TPDU. Fields its type does not carry stay None."""

    code: int  # TPDU code, credit bits masked (codes.Tpdu)
    length_indicator: int
    credit: int | None = None  # CR, CC: CDT
    dst_ref: int | None = None
    src_ref: int | None = None
    class_option: int | None = None  # CR, CC: class (high nibble) and options
    reason: int | None = None  # DR: reason; ER: reject cause
    tpdu_nr: int | None = None  # DT, ED
    eot: bool | None = None  # DT, ED: last TPDU of a TSDU
    tpdu_size: int | None = None  # parameter C0, in octets
    calling_tsap: bytes | None = None  # parameter C1 (in ER: the invalid TPDU)
    called_tsap: bytes | None = None  # parameter C2
    parameters: tuple[tuple[int, bytes], ...] = ()
    user_data: bytes = b""
    weird: str | None = None


# Fixed-part length after LI and the code octet, per TPDU code (ISO 8073 §13.3-§13.12, class 0-1
# formats; DT/ED in class 0 carry only NR+EOT, classes 2-4 put the destination reference first).
_FIXED: dict[int, int] = {
    Tpdu.CONNECTION_REQUEST: 5, Tpdu.CONNECTION_CONFIRM: 5, Tpdu.DISCONNECT_REQUEST: 5, Tpdu.DISCONNECT_CONFIRM: 4,
    Tpdu.TPDU_ERROR: 3, Tpdu.DATA: 1, Tpdu.EXPEDITED_DATA: 1, Tpdu.DATA_ACKNOWLEDGEMENT: 3,
    Tpdu.EXPEDITED_DATA_ACKNOWLEDGEMENT: 3, Tpdu.REJECT: 3,
}
_CODES = frozenset(int(c) for c in Tpdu)


def parse_cotp(tpdu: bytes | bytearray | memoryview, offset: int = 0) -> tuple[Cotp, int]:
    """The COTP TPDU filling ``tpdu[offset:]`` (what one TPKT delimits): (record, bytes used) or Malformed.

    ISO 8073 §13.2::

        +----+-----------+----------------------+----------------------+-------------+
        | LI | code|CDT  | fixed part           | variable part:       | user data   |
        | u8 | u8        | (depends on code)    | code u8, len u8, val | (DT, CR...) |
        +----+-----------+----------------------+----------------------+-------------+
        |<-- LI octets after LI itself ------------------------------->|

    A DT of class 0 (what S7 uses) is ``02 F0 <EOT|NR>``. An unknown TPDU code is returned with
    ``weird`` set and nothing decoded; an LI that does not fit is Malformed.
    """
    size = len(tpdu) - offset
    if size < 2:
        raise Malformed("s7comm_bad_cotp_length", offset, f"{size} octets")
    li = tpdu[offset]
    if li < 1 or li + 1 > size:
        raise Malformed("s7comm_bad_cotp_length", offset, f"LI {li} in {size} octets")
    raw_code = tpdu[offset + 1]
    code = raw_code & 0xF0
    end = offset + 1 + li  # end of the header
    user_data = bytes(tpdu[end:offset + size])
    if code not in _CODES:
        return Cotp(raw_code, li, user_data=user_data, weird="s7comm_unknown_tpdu"), size
    p = offset + 2
    if code in (Tpdu.DATA, Tpdu.EXPEDITED_DATA) and li >= 4:
        fixed = 3  # classes 2-4: destination reference, then NR/EOT
    else:
        fixed = _FIXED[code]
    if li - 1 < fixed:
        raise Malformed("s7comm_bad_cotp_length", offset, f"LI {li} below the {Tpdu(code).name} fixed part")
    fields: dict[str, Any] = {}
    if code in (Tpdu.CONNECTION_REQUEST, Tpdu.CONNECTION_CONFIRM):
        fields["credit"] = raw_code & 0x0F
        fields["dst_ref"], fields["src_ref"] = _U16X2.unpack_from(tpdu, p)
        fields["class_option"] = tpdu[p + 4]
    elif code == Tpdu.DISCONNECT_REQUEST:
        fields["dst_ref"], fields["src_ref"] = _U16X2.unpack_from(tpdu, p)
        fields["reason"] = tpdu[p + 4]
    elif code == Tpdu.DISCONNECT_CONFIRM:
        fields["dst_ref"], fields["src_ref"] = _U16X2.unpack_from(tpdu, p)
    elif code == Tpdu.TPDU_ERROR:
        fields["dst_ref"] = _U16.unpack_from(tpdu, p)[0]
        fields["reason"] = tpdu[p + 2]
    elif code in (Tpdu.DATA, Tpdu.EXPEDITED_DATA):
        q = p
        if fixed == 3:
            fields["dst_ref"] = _U16.unpack_from(tpdu, p)[0]
            q = p + 2
        fields["eot"] = bool(tpdu[q] & 0x80)
        fields["tpdu_nr"] = tpdu[q] & 0x7F
    else:  # AK, EA, RJ: destination reference, then the next expected NR
        fields["dst_ref"] = _U16.unpack_from(tpdu, p)[0]
        fields["tpdu_nr"] = tpdu[p + 2] & 0x7F
    params, weird = _parameters(tpdu, p + fixed, end)
    for pcode, value in params:
        if pcode == CotpParameter.TPDU_SIZE and len(value) == 1 and value[0] < 32:
            fields["tpdu_size"] = 1 << value[0]
        elif pcode == CotpParameter.CALLING_TSAP:
            fields["calling_tsap"] = value
        elif pcode == CotpParameter.CALLED_TSAP:
            fields["called_tsap"] = value
    return Cotp(code, li, parameters=params, user_data=user_data, weird=weird, **fields), size


def _parameters(buf: Any, p: int, end: int) -> tuple[tuple[tuple[int, bytes], ...], str | None]:
    """The variable part, §13.2.3: code, length, value; a parameter running past ``end`` is weird."""
    out = []
    while p < end:
        if p + 2 > end or p + 2 + buf[p + 1] > end:
            return tuple(out), "s7comm_bad_cotp_parameter"
        out.append((buf[p], bytes(buf[p + 2:p + 2 + buf[p + 1]])))
        p += 2 + buf[p + 1]
    return tuple(out), None


# --- S7comm records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """The S7comm header: 10 octets, 12 for ack and ack_data (which add the error class and code)."""

    rosctr: int
    redundancy_id: int
    pdu_ref: int
    parameter_length: int
    data_length: int
    error_class: int | None = None
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class VarSpec:
    """One item of a read/write var parameter. S7ANY is decoded; other syntaxes are kept raw."""

    syntax_id: int
    transport_size: int | None = None
    length: int | None = None  # number of transport_size elements
    db: int | None = None
    area: int | None = None
    address: int | None = None  # S7ANY: byte << 3 | bit; counters and timers: their number
    raw: bytes | None = None
    db_areas: tuple[tuple[int, int, int], ...] = ()  # DBREAD: (DB, start octet, length) per area


@dataclass(frozen=True, slots=True)
class DataItem:
    """One item of a data part: read var response, write var request."""

    return_code: int
    transport_size: int
    length: int  # as on the wire (bits for transport sizes 3, 4, 5)
    data: bytes


@dataclass(frozen=True, slots=True)
class Setup:
    """Setup communication parameters: the negotiated queue depths and PDU size."""

    max_amq_calling: int
    max_amq_called: int
    pdu_length: int


@dataclass(frozen=True, slots=True)
class BlockControl:
    """Parameters of the block up/download functions (0x1A-0x1F). None where the PDU lacks them."""

    function_status: int | None = None
    upload_id: int | None = None
    error_code: int | None = None  # end upload / download ended
    filename: str | None = None  # e.g. _0A00001P: '_' + block type + number + destination file system
    block_type: str | None = None  # OB, DB, FC...
    block_number: int | None = None
    destination_filesystem: str | None = None  # P passive, A active, B both
    load_memory_length: int | None = None
    mc7_length: int | None = None
    block_length: int | None = None  # start upload ack: the length of what will be uploaded
    block_data_length: int | None = None  # upload / download block ack: octets of block carried


@dataclass(frozen=True, slots=True)
class PiService:
    """A PI service (0x28) or PLC stop (0x29) parameter: the program invocation and its arguments."""

    service: str
    parameter_block: bytes = b""
    argument: str | None = None  # P_PROGRAM, _MODU, _GARB: the argument text ("C " = cold restart)
    blocks: tuple[str, ...] = ()  # _INSE, _DELE: the blocks, e.g. "DB1"


@dataclass(frozen=True, slots=True)
class Userdata:
    """The userdata parameter and data head (ROSCTR 7); cyclic service requests add their items."""

    method: int  # 0x11 request, 0x12 response
    type: int  # codes.UserdataType
    group: int  # codes.FunctionGroup
    subfunction: int
    sequence_number: int
    data_unit_reference: int | None = None
    last_data_unit: bool | None = None  # True: this is the last (or only) data unit
    error_code: int | None = None
    return_code: int | None = None
    transport_size: int | None = None
    data: bytes = b""  # the data part after its 4-octet head
    timebase: int | None = None  # cyclic requests: 0 = 100 ms, 1 = 1 s, 2 = 10 s
    interval: int | None = None  # cyclic requests: in timebase units
    items: tuple[VarSpec, ...] = ()  # cyclic requests: the variables subscribed to


@dataclass(frozen=True, slots=True)
class S7Pdu:
    """One S7comm PDU. Sections its function does not carry stay None or empty."""

    header: Header
    function: int | None = None  # job/ack_data: parameter octet 0; None without a parameter part
    item_count: int | None = None
    items: tuple[VarSpec, ...] = ()
    data_items: tuple[DataItem, ...] = ()
    return_codes: tuple[int, ...] = ()  # write var ack_data: one per item
    setup: Setup | None = None
    block: BlockControl | None = None
    pi: PiService | None = None
    userdata: Userdata | None = None
    parameter: bytes = b""
    data: bytes = b""
    weird: str | None = None


# --- S7comm parsing -----------------------------------------------------------------------------

_CYCLIC_WITH_ITEMS = frozenset({0x01, 0x05, 0x07})  # cyclic transfer, change driven (modify)
_USERDATA_HEADS = frozenset({b"\x00\x01\x12", b"\x01\x00\x10"})  # the second: mode transition pushes
_HEADER_SIZE: dict[int, int] = {Rosctr.JOB: 10, Rosctr.ACK: 12, Rosctr.ACK_DATA: 12, Rosctr.USERDATA: 10}


def parse_pdu(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[S7Pdu, int] | NeedMore:
    """The S7comm PDU at ``buf[offset:]``: (record, bytes used), NeedMore, or Malformed.

    Header (packet-s7comm.c, "Header Block")::

        0      1        2        4         6          8          10       11       12
        +------+--------+--------+---------+----------+----------+--------+--------+
        | 0x32 | ROSCTR | red.id | PDU ref | param len| data len | errcls | errcod |
        |  u8  |   u8   |  u16   |   u16   |   u16    |   u16    |   ack and ack_data |
        +------+--------+--------+---------+----------+----------+--------+--------+

    followed by the parameter part and the data part. The PDU ends where they do; octets after
    them are returned unused, for the caller to judge.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail >= 1 and buf[offset] != PROTOCOL_ID:
        raise Malformed("s7comm_bad_protocol_id", offset, f"protocol id 0x{buf[offset]:02x}")
    if avail >= 2 and buf[offset + 1] not in _HEADER_SIZE:
        raise Malformed("s7comm_bad_rosctr", offset, f"ROSCTR {buf[offset + 1]}")
    if avail < 2:
        return NeedMore(10 - avail)
    rosctr = buf[offset + 1]
    hsize = _HEADER_SIZE[rosctr]
    if avail < hsize:
        return NeedMore(hsize - avail)
    redundancy_id, pdu_ref, plen, dlen = struct.unpack_from(">HHHH", buf, offset + 2)
    errcls, errcod = (buf[offset + 10], buf[offset + 11]) if hsize == 12 else (None, None)
    header = Header(rosctr, redundancy_id, pdu_ref, plen, dlen, errcls, errcod)
    used = hsize + plen + dlen
    if used > 0xFFFF:
        raise Malformed("s7comm_bad_length", offset, f"parameter {plen} + data {dlen}")
    if avail < used:
        return NeedMore(used - avail)
    p = offset + hsize
    param = bytes(buf[p:p + plen])
    data = bytes(buf[p + plen:p + plen + dlen])
    if rosctr == Rosctr.USERDATA:
        return _userdata(header, param, data), used
    if not param:
        weird = None if rosctr == Rosctr.ACK else "s7comm_no_parameter"
        return S7Pdu(header, data=data, weird=weird), used
    return _job_or_ack(header, param, data), used


def _job_or_ack(header: Header, param: bytes, data: bytes) -> S7Pdu:
    fn = param[0]
    job = header.rosctr == Rosctr.JOB
    base: dict[str, Any] = {"function": fn, "parameter": param, "data": data}
    if fn == Function.SETUP_COMMUNICATION:
        return _setup(header, param, base)
    if fn in (Function.READ_VAR, Function.WRITE_VAR):
        return _var(header, param, data, base, job)
    if fn in BLOCK_CONTROL:
        block, weird = _block_control(fn, param, data, job)
        return S7Pdu(header, block=block, weird=weird, **base)
    if fn == Function.PI_SERVICE and job:
        pi, weird = _pi_service(param)
        return S7Pdu(header, pi=pi, weird=weird, **base)
    if fn == Function.PLC_STOP and job:
        pi, weird = _plc_stop(param)
        return S7Pdu(header, pi=pi, weird=weird, **base)
    return S7Pdu(header, **base)


def _setup(header: Header, param: bytes, base: dict[str, Any]) -> S7Pdu:
    """Setup communication, job and ack_data alike::

        +------+----------+------------------+-----------------+------------+
        | 0xF0 | reserved | max AmQ calling  | max AmQ called  | PDU length |
        |  u8  |    u8    |       u16        |       u16       |    u16     |
        +------+----------+------------------+-----------------+------------+
    """
    if len(param) < 8:
        return S7Pdu(header, weird="s7comm_bad_item", **base)
    calling, called, pdu = struct.unpack_from(">HHH", param, 2)
    return S7Pdu(header, setup=Setup(calling, called, pdu), weird="s7comm_trailing_bytes" if len(param) > 8 else None,
                 **base)


def _var(header: Header, param: bytes, data: bytes, base: dict[str, Any], job: bool) -> S7Pdu:
    """Read var / write var. The parameter is the function, an item count and (jobs) the items::

        +----+-------+--------------------------------------------------------------------+
        | fc | count | items: 0x12 | spec len | syntax id | ...spec len - 1 octets...     |
        +----+-------+--------------------------------------------------------------------+

    S7ANY (syntax 0x10, spec len 10): transport size u8, length u16, DB u16, area u8,
    address u24 (byte << 3 | bit). Data parts (read var ack_data, write var job) hold one item
    each: return code u8, transport size u8, length u16, the data, a fill octet after an odd
    length unless it is the last item. A write var ack_data holds one return code per item.
    """
    if len(param) < 2:
        return S7Pdu(header, weird="s7comm_bad_item", **base)
    count = param[1]
    weird = None
    items: tuple[VarSpec, ...] = ()
    if job:
        items, weird = _var_specs(param, count)
    elif len(param) > 2:
        weird = "s7comm_trailing_bytes"
    data_items: tuple[DataItem, ...] = ()
    return_codes: tuple[int, ...] = ()
    fn = base["function"]
    if (fn == Function.READ_VAR and not job) or (fn == Function.WRITE_VAR and job):
        data_items, dweird = _data_items(data, count)
        weird = weird or dweird
    elif fn == Function.WRITE_VAR:
        return_codes = tuple(data[:count])
        if len(data) != count:
            weird = weird or "s7comm_item_count_mismatch"
    elif data:
        weird = weird or "s7comm_trailing_bytes"
    return S7Pdu(header, item_count=count, items=items, data_items=data_items, return_codes=return_codes,
                 weird=weird, **base)


def _var_specs(param: bytes, count: int) -> tuple[tuple[VarSpec, ...], str | None]:
    items, end, weird = var_specs(param, 2, count)
    if weird is None and end != len(param):
        weird = "s7comm_trailing_bytes"
    return items, weird


def var_specs(buf: bytes, p: int, count: int, pad_odd: bool = False) -> tuple[tuple[VarSpec, ...], int, str | None]:
    """``count`` variable specifications from ``buf[p:]``: (items, where they end, weird).

    S7ANY (0x10) and DBREAD (0xB0: area count u8, then per area length u8, DB u16, start u16)
    are decoded; other syntaxes are kept raw. ``pad_odd``: a fill octet follows an item of odd
    length (the items of cyclic service requests).
    """
    items = []
    end = len(buf)
    while p < end and len(items) < count:
        if buf[p] != 0x12 or p + 2 > end:
            return tuple(items), p, "s7comm_bad_item"
        spec_len = buf[p + 1]
        q = p + 2
        if spec_len < 1 or q + spec_len > end:
            return tuple(items), p, "s7comm_bad_item"
        syntax = buf[q]
        if syntax == SyntaxId.S7ANY and spec_len >= 10:
            tsize, length, db, area = struct.unpack_from(">BHHB", buf, q + 1)
            address = int.from_bytes(buf[q + 7:q + 10], "big")
            items.append(VarSpec(syntax, tsize, length, db, area, address))
        elif syntax == SyntaxId.DBREAD and spec_len >= 2:
            areas = tuple(struct.unpack_from(">BHH", buf, r) for r in range(q + 2, q + spec_len - 4, 5))
            items.append(VarSpec(syntax, raw=bytes(buf[q + 1:q + spec_len]),
                                 db_areas=tuple((db, start, length) for length, db, start in areas[:buf[q + 1]])))
        else:
            items.append(VarSpec(syntax, raw=bytes(buf[q + 1:q + spec_len])))
        p = q + spec_len
        if pad_odd and (2 + spec_len) % 2 and p < end:
            p += 1
    if len(items) != count:
        return tuple(items), p, "s7comm_item_count_mismatch"
    return tuple(items), p, None


def data_item_bytes(transport_size: int, length: int) -> int:
    """Octets of data a data item carries: transport sizes 3, 4, 5 count bits, rounded up."""
    return (length + 7) >> 3 if transport_size in LENGTH_IN_BITS else length


def _data_items(data: bytes, count: int) -> tuple[tuple[DataItem, ...], str | None]:
    items = []
    p, end = 0, len(data)
    for i in range(count):
        if p + 4 > end:
            return tuple(items), "s7comm_bad_item" if p < end else "s7comm_item_count_mismatch"
        ret, tsize, length = struct.unpack_from(">BBH", data, p)
        p += 4
        n = data_item_bytes(tsize, length) if ret in (0x00, 0xFF) else 0
        if p + n > end:
            items.append(DataItem(ret, tsize, length, bytes(data[p:end])))
            return tuple(items), "s7comm_bad_item"
        items.append(DataItem(ret, tsize, length, bytes(data[p:p + n])))
        p += n
        if n % 2 and i < count - 1:
            p += 1  # fill octet
    if p < end:
        return tuple(items), "s7comm_trailing_bytes"
    return tuple(items), None


def _filename(param: bytes, p: int) -> tuple[dict[str, Any], int, str | None]:
    """A length-prefixed file name; ``_0A00001P`` = '_', block type "0A" (DB), number 00001, file system P."""
    if p >= len(param):
        return {}, p, "s7comm_bad_block_filename"
    n = param[p]
    raw = param[p + 1:p + 1 + n]
    end = p + 1 + n
    name = raw.decode("latin-1")
    out: dict[str, Any] = {"filename": name}
    if len(raw) < n:
        return out, end, "s7comm_bad_block_filename"
    if n == 9 and name[0] == "_" and name[1:3].upper() in BLOCK_TYPES and name[3:8].isdigit():
        out.update(block_type=block_type_name(name[1:3]), block_number=int(name[3:8]),
                   destination_filesystem=name[8])
        return out, end, None
    return out, end, "s7comm_bad_block_filename"


def _ascii_int(raw: bytes) -> int | None:
    text = raw.decode("latin-1").strip()
    return int(text) if text.isdigit() else None


def _block_control(fn: int, param: bytes, data: bytes, job: bool) -> tuple[BlockControl, str | None]:
    """Request/download/upload functions (packet-s7comm.c s7comm_decode_plc_controls_updownload)::

        job: fc | status u8 | unknown u16 | upload id or unknown u32 | filename (len u8 + ASCII)
             request download adds: part 2 len u8 | unknown char | load memory len (6 ASCII)
                                    | MC7 code len (6 ASCII)
             end upload / download ended put an error code u16 where the others have unknown u16
        ack_data: fc | status u8;  start upload adds upload id u32 and a length string;
                  upload / download block carry data: length u16 | unknown u16 | block octets
    """
    out: dict[str, Any] = {}
    weird = None
    if len(param) >= 2:
        out["function_status"] = param[1]
    if job or fn == Function.START_UPLOAD:
        if len(param) < 8:
            return BlockControl(**out), "s7comm_bad_item"
        if fn in (Function.END_UPLOAD, Function.DOWNLOAD_ENDED):
            out["error_code"] = _U16.unpack_from(param, 2)[0]
        if fn in (Function.START_UPLOAD, Function.UPLOAD, Function.END_UPLOAD):
            out["upload_id"] = _U32.unpack_from(param, 4)[0]
        p = 8
        if job and fn not in (Function.UPLOAD, Function.END_UPLOAD):
            names, p, weird = _filename(param, 8)
            out.update(names)
            if fn == Function.REQUEST_DOWNLOAD and len(param) > 18 and p + 14 <= len(param):
                out["load_memory_length"] = _ascii_int(param[p + 2:p + 8])
                out["mc7_length"] = _ascii_int(param[p + 8:p + 14])
        elif not job and len(param) > 8:
            n = param[8]
            out["block_length"] = _ascii_int(param[9:9 + n])
    if not job and fn in (Function.UPLOAD, Function.DOWNLOAD_BLOCK) and len(data) >= 4:
        out["block_data_length"] = len(data) - 4
    return BlockControl(**out), weird


def _pi_service(param: bytes) -> tuple[PiService | None, str | None]:
    """PI service job (packet-s7comm.c s7comm_decode_pi_service)::

        +------+-------------+---------------+-----------------+--------------+--------------+
        | 0x28 | unknown (7) | param len u16 | parameter block | name len u8  | service name |
        +------+-------------+---------------+-----------------+--------------+--------------+

    _INSE / _DELE parameter blocks: count u8, unknown u8, then per block type (2 ASCII),
    number (5 ASCII), file system (1). P_PROGRAM, _MODU, _GARB take an ASCII argument.
    """
    if len(param) < 11:
        return None, "s7comm_bad_pi_service"
    plen = _U16.unpack_from(param, 8)[0]
    p = 10 + plen
    if p >= len(param):
        return None, "s7comm_bad_pi_service"
    block = param[10:p]
    n = param[p]
    raw = param[p + 1:p + 1 + n]
    service = raw.decode("latin-1")
    weird = None if len(raw) == n else "s7comm_bad_pi_service"
    blocks: list[str] = []
    argument = None
    if service in ("_INSE", "_DELE") and len(block) >= 2:
        q = 2
        for _ in range(block[0]):
            entry = block[q:q + 8]
            if len(entry) < 8:
                weird = weird or "s7comm_bad_pi_service"
                break
            kind = entry[0:2].decode("latin-1")
            number = _ascii_int(entry[2:7])
            blocks.append(f"{block_type_name(kind)}{number if number is not None else '?'}")
            q += 8
    elif block:
        argument = block.decode("latin-1")
    return PiService(service, block, argument, tuple(blocks)), weird


def _plc_stop(param: bytes) -> tuple[PiService | None, str | None]:
    """PLC stop job: 0x29, unknown (5), name length u8, the PI service name (P_PROGRAM)."""
    if len(param) < 7:
        return None, "s7comm_bad_pi_service"
    n = param[6]
    raw = param[7:7 + n]
    weird = None if len(raw) == n else "s7comm_bad_pi_service"
    return PiService(raw.decode("latin-1")), weird


def _userdata(header: Header, param: bytes, data: bytes) -> S7Pdu:
    """Userdata parameter and data head (packet-s7comm.c s7comm_decode_ud)::

        +----------+-----+--------+-----------+--------+-----+ - - - - - - - - - - - - - - +
        | 00 01 12 | len | method | type|group| subfn  | seq | data unit ref | last | error |
        |   head   | u8  |  u8    | u8 (4+4)  |  u8    | u8  |  u8 (len 8)   |  u8  |  u16  |
        +----------+-----+--------+-----------+--------+-----+ - - - - - - - - - - - - - - +

    data: return code u8, transport size u8, length u16, then the function's data. The CPU's mode
    transition pushes (group 0) have the head 01 00 10 and no data.
    """
    base: dict[str, Any] = {"parameter": param, "data": data}
    if len(param) < 8:
        return S7Pdu(header, weird="s7comm_no_parameter" if not param else "s7comm_bad_item", **base)
    weird = None if param[0:3] in _USERDATA_HEADS else "s7comm_bad_userdata_head"
    fields: dict[str, Any] = {
        "method": param[4], "type": param[5] >> 4, "group": param[5] & 0x0F, "subfunction": param[6],
        "sequence_number": param[7],
    }
    if param[3] >= 8 and len(param) >= 12:
        fields["data_unit_reference"] = param[8]
        fields["last_data_unit"] = param[9] == 0x00
        fields["error_code"] = _U16.unpack_from(param, 10)[0]
    if len(data) >= 4:
        ret, tsize, length = struct.unpack_from(">BBH", data, 0)
        body = bytes(data[4:4 + length])
        fields.update(return_code=ret, transport_size=tsize, data=body)
        if 4 + length != len(data):
            weird = weird or ("s7comm_bad_item" if 4 + length > len(data) else "s7comm_trailing_bytes")
        if fields["group"] == FunctionGroup.CYCLIC_SERVICES and fields["type"] == UserdataType.REQUEST and \
                fields["subfunction"] in _CYCLIC_WITH_ITEMS and len(body) >= 4:
            # item count u16 (packet-s7comm.c reads its low octet), timebase u8, interval u8, items
            items, _, iweird = var_specs(body, 4, body[1], pad_odd=True)
            fields.update(timebase=body[2], interval=body[3], items=items)
            weird = weird or iweird
    elif data:
        weird = weird or "s7comm_bad_item"
    return S7Pdu(header, userdata=Userdata(**fields), weird=weird, **base)
