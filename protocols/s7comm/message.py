"""Records -> protocol-neutral ``Message``s: names, action, direction, pairing, event fields, facts.

The sensor works on ``Message`` only (protocols/base.py); this is where the S7 records meet it.
Facts say which end they are about from the direction they travel in: a fact about the sender is
about the ``server`` when the message comes from the server side (``is_request`` False).
"""
from __future__ import annotations

import struct
from typing import Any

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Fact, Message, Point
from protocols.s7comm.codes import (
    COUNTED_AREAS,
    ELEMENT_BYTES,
    READ_SZL,
    ConnectionType,
    Function,
    FunctionGroup,
    PlusFunction,
    PlusId,
    PlusOpcode,
    PlusVersion,
    Rosctr,
    Tpdu,
    UserdataType,
    action_of,
    area_name,
    area_space,
    connection_type_name,
    cpu_mode_name,
    disconnect_reason_name,
    error_class_name,
    function_group_name,
    function_name,
    pi_service_key,
    plus_function_name,
    plus_opcode_name,
    plus_version_name,
    return_code_name,
    rosctr_name,
    syntax_id_name,
    tpdu_name,
    transport_size_name,
    userdata_code,
    userdata_function_name,
    userdata_type_name,
)
from protocols.s7comm.plus import PlusPdu, address_space
from protocols.s7comm.szl import SzlList, identity, parse_szl
from protocols.s7comm.wire import Cotp, DataItem, S7Pdu, VarSpec, data_item_bytes

__all__ = ["cotp_message", "plus_message", "s7_message"]

MAX_VALUES = 1024  # values of a write kept on its Point; a PDU holds at most ~960 octets anyway

_U16X2 = struct.Struct(">HH")
_PLUS_ROLES = {b"SIMATIC-ROOT-ES": "engineering_station", b"SIMATIC-ROOT-HMI": "hmi"}
_CLASSIC_ROLES = {ConnectionType.PG: "engineering_station", ConnectionType.OP: "hmi"}


def _sender(is_request: bool) -> str:
    return "client" if is_request else "server"


def _receiver(is_request: bool) -> str:
    return "server" if is_request else "client"


# --- COTP ---------------------------------------------------------------------------------------


def _tsap(raw: bytes) -> dict[str, Any]:
    """A TSAP as event fields: hex always, text when printable (S7comm-plus: SIMATIC-ROOT-ES)."""
    out: dict[str, Any] = {"hex": raw.hex()}
    if len(raw) > 2 and all(0x20 <= b < 0x7F for b in raw):
        out["text"] = raw.decode("ascii")
    return out


def cotp_message(cotp: Cotp, is_request: bool) -> Message:
    """A connection-management TPDU (CR, CC, DR, DC, ER...); DT TPDUs are carriers, not messages."""
    name = tpdu_name(cotp.code)
    fields: dict[str, Any] = {"pdu": "cotp", "tpdu_code": cotp.code}
    for key in ("dst_ref", "src_ref", "credit", "tpdu_size", "tpdu_nr"):
        value = getattr(cotp, key)
        if value is not None:
            fields[key] = value
    if cotp.class_option is not None:
        fields["class"] = cotp.class_option >> 4
        fields["options"] = cotp.class_option & 0x0F
    if cotp.reason is not None:
        fields["reason"] = cotp.reason
        if cotp.code == Tpdu.DISCONNECT_REQUEST:
            fields["reason_name"] = disconnect_reason_name(cotp.reason)
    facts: list[Fact] = []
    if cotp.calling_tsap is not None:
        fields["calling_tsap"] = _tsap(cotp.calling_tsap)
    if cotp.called_tsap is not None:
        fields["called_tsap"] = _tsap(cotp.called_tsap)
    if cotp.code in (Tpdu.CONNECTION_REQUEST, Tpdu.CONNECTION_CONFIRM):
        facts += [Fact("role", "client", "client"), Fact("role", "server", "server")]
        called = cotp.called_tsap or b""
        role = None
        if len(called) == 2:  # classic S7: connection type, then rack << 5 | slot
            fields.update(connection_type=connection_type_name(called[0]), rack=called[1] >> 5,
                          slot=called[1] & 0x1F)
            role = _CLASSIC_ROLES.get(called[0])
        else:
            role = _PLUS_ROLES.get(bytes(called))
        if role is not None:
            facts.append(Fact("role", "client", role))
    if cotp.code in (Tpdu.CONNECTION_REQUEST, Tpdu.DISCONNECT_REQUEST):
        direction, pair = REQUEST, ("cotp", cotp.code, cotp.src_ref)
    elif cotp.code in (Tpdu.CONNECTION_CONFIRM, Tpdu.DISCONNECT_CONFIRM):
        request = Tpdu.CONNECTION_REQUEST if cotp.code == Tpdu.CONNECTION_CONFIRM else Tpdu.DISCONNECT_REQUEST
        direction, pair = RESPONSE, ("cotp", int(request), cotp.dst_ref)
    else:
        direction, pair = (REQUEST if is_request else RESPONSE), None
    if cotp.user_data and cotp.code != Tpdu.DATA:
        fields["user_data_length"] = len(cotp.user_data)
    return Message(cotp.code, name, action_of(name), direction, pair, fields, tuple(facts), cotp.weird)


# --- S7comm -------------------------------------------------------------------------------------


def _item_address(spec: VarSpec) -> str | None:
    """The S7 notation of an S7ANY item: DB1.DBX10.3, DB1.DBB10, MW4, I0.0, T5, C3..."""
    if spec.area is None or spec.address is None:
        return None
    space = area_space(spec.area, spec.db or 0)
    if spec.area in COUNTED_AREAS:
        return f"{space}{spec.address}"
    byte, bit = spec.address >> 3, spec.address & 7
    letter = {1: "X", 2: "B", 3: "B", 4: "W", 5: "W", 9: "W", 12: "W", 6: "D", 7: "D", 8: "D", 10: "D",
              11: "D"}.get(spec.transport_size or 0, "B")
    if space.startswith(("DB", "DI")):
        return f"{space}.{space[:2]}{letter}{byte}" + (f".{bit}" if letter == "X" else "")
    return f"{space}{byte}.{bit}" if letter == "X" else f"{space}{letter}{byte}"


def _points(spec: VarSpec, access: str, item: DataItem | None) -> list[Point]:
    """An item as Points: S7ANY gives one, DBREAD one per DB area; other syntaxes none."""
    if spec.db_areas:
        return [Point(f"DB{db}", start, length, access) for db, start, length in spec.db_areas]
    point = _point(spec, access, item)
    return [point] if point is not None else []


def _point(spec: VarSpec, access: str, item: DataItem | None) -> Point | None:
    """An S7ANY item as a Point: address in octets (counters/timers: their number), quantity in octets."""
    if spec.area is None or spec.address is None or spec.length is None:
        return None
    space = area_space(spec.area, spec.db or 0)
    if spec.area in COUNTED_AREAS:
        address, quantity = spec.address, spec.length
    else:
        address = spec.address >> 3
        quantity = spec.length * ELEMENT_BYTES.get(spec.transport_size or 0, 1)
        if spec.transport_size == 1:  # BIT: one bit, in one octet
            quantity = 1
    values = None
    if item is not None and access == "write":
        values = tuple(item.data[:MAX_VALUES])
    return Point(space, address, quantity, access, values=values)


def _spec_fields(spec: VarSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"syntax_id": syntax_id_name(spec.syntax_id)}
    if spec.db_areas:
        out["db_areas"] = [{"db": db, "start": start, "length": length} for db, start, length in spec.db_areas]
        return out
    if spec.raw is not None:
        out["raw"] = spec.raw.hex()
        return out
    out.update(area=area_name(spec.area or 0), area_code=spec.area, db=spec.db,
               transport_size=transport_size_name(spec.transport_size or 0), length=spec.length)
    if spec.area in COUNTED_AREAS:
        out["number"] = spec.address
    elif spec.address is not None:
        out.update(byte=spec.address >> 3, bit=spec.address & 7)
    out["address"] = _item_address(spec)
    return out


def _data_fields(item: DataItem) -> dict[str, Any]:
    return {"return_code": item.return_code, "return_code_name": return_code_name(item.return_code),
            "transport_size": item.transport_size, "length": data_item_bytes(item.transport_size, item.length),
            "data": item.data.hex()}


def _bcd(octet: int) -> int | None:
    hi, lo = octet >> 4, octet & 0xF
    return hi * 10 + lo if hi < 10 and lo < 10 else None


def _clock(raw: bytes) -> str | None:
    """A userdata clock value: reserved, year high, then DATE_AND_TIME (BCD: yy mm dd hh mm ss, ms|weekday)."""
    if len(raw) < 10:
        return None
    parts = [_bcd(b) for b in raw[2:8]]
    ms = _bcd(raw[8])
    if any(p is None for p in parts) or ms is None or (raw[9] >> 4) > 9:
        return None
    yy, mo, dd, hh, mi, ss = parts  # type: ignore[misc]
    year = (1900 if yy >= 90 else 2000) + yy
    return f"{year:04d}-{mo:02d}-{dd:02d}T{hh:02d}:{mi:02d}:{ss:02d}.{ms * 10 + (raw[9] >> 4):03d}"


def s7_message(pdu: S7Pdu, is_request: bool, szl_data: bytes | None = None, fragment: bool = False) -> Message:
    """An S7comm PDU as a Message.

    ``szl_data`` is a read SZL response's partial list reassembled from its data units (the
    framer keeps them); without it the PDU's own data is decoded unless ``fragment`` says more
    data units of the same list follow.
    """
    h = pdu.header
    fields: dict[str, Any] = {"pdu": "s7comm", "rosctr": rosctr_name(h.rosctr), "pdu_ref": h.pdu_ref,
                              "parameter_length": h.parameter_length, "data_length": h.data_length}
    if h.error_class is not None:
        fields["error_class"] = h.error_class
        fields["error_class_name"] = error_class_name(h.error_class)
        fields["error_code"] = h.error_code
    if pdu.userdata is not None:
        return _userdata_message(pdu, is_request, fields, szl_data, fragment)
    if h.rosctr == Rosctr.JOB:
        direction = REQUEST
    else:
        direction = RESPONSE
    pair = ("s7comm", h.pdu_ref)
    facts: list[Fact] = []
    if pdu.function is None:  # no parameter part: named after the ROSCTR
        name = rosctr_name(h.rosctr)
        return Message(h.rosctr, name, action_of(name), direction, pair, fields, (), pdu.weird)
    fn = pdu.function
    name = function_name(fn)
    sub = None
    if pdu.item_count is not None:
        fields["item_count"] = pdu.item_count
    if pdu.items:
        fields["items"] = [_spec_fields(s) for s in pdu.items]
        access = "write" if fn == Function.WRITE_VAR else "read"
        about = _sender(is_request) if direction == REQUEST else _receiver(is_request)
        for i, spec in enumerate(pdu.items):
            item = pdu.data_items[i] if i < len(pdu.data_items) else None
            facts += [Fact("point", about, point) for point in _points(spec, access, item)]
    if pdu.data_items:
        fields["data_items"] = [_data_fields(d) for d in pdu.data_items]
    if pdu.return_codes:
        fields["return_codes"] = list(pdu.return_codes)
    if pdu.setup is not None:
        fields.update(max_amq_calling=pdu.setup.max_amq_calling, max_amq_called=pdu.setup.max_amq_called,
                      pdu_length=pdu.setup.pdu_length)
        facts += [Fact("role", "client", "client"), Fact("role", "server", "server")]
    if pdu.block is not None:
        for key in ("function_status", "upload_id", "filename", "block_type", "block_number",
                    "destination_filesystem", "load_memory_length", "mc7_length", "block_length",
                    "block_data_length"):
            value = getattr(pdu.block, key)
            if value is not None:
                fields[key] = value
        if pdu.block.error_code is not None:
            fields["block_error_code"] = pdu.block.error_code
        if pdu.block.block_type is not None:
            fields["block"] = f"{pdu.block.block_type}{pdu.block.block_number}"
    if pdu.pi is not None:
        fields["pi_service"] = pdu.pi.service
        if pdu.pi.argument is not None:
            fields["argument"] = pdu.pi.argument
        if pdu.pi.blocks:
            fields["blocks"] = list(pdu.pi.blocks)
        if fn == Function.PI_SERVICE:
            sub = pi_service_key(pdu.pi.service)
            if pdu.pi.service == "P_PROGRAM":
                fields["restart"] = "cold" if pdu.pi.argument and pdu.pi.argument.strip() == "C" else "warm"
    action = action_of(name, sub)
    return Message(fn, name, action, direction, pair, fields, tuple(facts), pdu.weird)


_UD_DIRECTION = {UserdataType.REQUEST: REQUEST, UserdataType.NC_REQUEST: REQUEST,
                 UserdataType.RESPONSE: RESPONSE, UserdataType.NC_RESPONSE: RESPONSE,
                 UserdataType.PUSH: UNSOLICITED, UserdataType.NC_PUSH: UNSOLICITED}


def _userdata_message(pdu: S7Pdu, is_request: bool, fields: dict[str, Any], szl_data: bytes | None,
                      fragment: bool) -> Message:
    ud = pdu.userdata
    assert ud is not None
    code = userdata_code(ud.group, ud.subfunction)
    name = userdata_function_name(ud.group, ud.subfunction)
    direction = _UD_DIRECTION.get(ud.type) or (REQUEST if is_request else RESPONSE)
    fields.update(type=userdata_type_name(ud.type), function_group=function_group_name(ud.group),
                  subfunction=ud.subfunction, sequence_number=ud.sequence_number)
    if ud.data_unit_reference is not None:
        fields.update(data_unit_reference=ud.data_unit_reference, last_data_unit=ud.last_data_unit,
                      userdata_error_code=ud.error_code)
    if ud.return_code is not None:
        fields["return_code"] = ud.return_code
        fields["return_code_name"] = return_code_name(ud.return_code)
        fields["transport_size"] = ud.transport_size
    weird = pdu.weird
    facts: list[Fact] = []
    if code == READ_SZL:
        szl_weird = _szl_fields(ud.data, direction, fields, facts, is_request, szl_data, fragment)
        weird = weird or szl_weird
    elif ud.items:
        fields.update(timebase=ud.timebase, interval=ud.interval, items=[_spec_fields(s) for s in ud.items])
        about = _sender(is_request)
        for spec in ud.items:
            facts += [Fact("point", about, point) for point in _points(spec, "read", None)]
    elif ud.group == FunctionGroup.MODE_TRANSITION:
        fields["current_mode"] = cpu_mode_name(ud.subfunction)
    elif ud.group == FunctionGroup.TIME_FUNCTIONS and ud.data:
        stamp = _clock(ud.data)
        if stamp is not None:
            fields["time"] = stamp
    pair = None if direction in (UNSOLICITED, ANNOUNCE) else ("s7comm_userdata", pdu.header.pdu_ref)
    return Message(code, name, action_of(name), direction, pair, fields, tuple(facts), weird)


def _szl_fields(data: bytes, direction: str, fields: dict[str, Any], facts: list[Fact], is_request: bool,
                szl_data: bytes | None, fragment: bool) -> str | None:
    """Read SZL: the id and index asked for; in a (reassembled) response, the list and its identity."""
    if direction == REQUEST:
        if len(data) >= 4:
            fields["szl_id"], fields["szl_index"] = _U16X2.unpack_from(data, 0)
        return None
    if fragment:
        fields["fragment"] = True
        if len(data) >= 4 and szl_data is None:
            fields["szl_id"], fields["szl_index"] = _U16X2.unpack_from(data, 0)
        return None
    raw = szl_data if szl_data is not None else data
    result = parse_szl(raw)
    if not isinstance(result, tuple):
        return None if not raw else "s7comm_bad_szl_header"
    szl: SzlList = result[0]
    fields.update(szl_id=szl.szl_id, szl_index=szl.index, szl_record_length=szl.record_length,
                  szl_record_count=szl.record_count)
    ident = identity(szl)
    if ident:
        fields["identity"] = ident
        facts.append(Fact("identity", _sender(is_request), ident))
    return szl.weird


# --- S7comm-plus ----------------------------------------------------------------------------------


def _plus_sub(pdu: PlusPdu) -> str | None:
    """The sub-function key where an S7comm-plus function's meaning depends on its object."""
    f = pdu.function
    if f == PlusFunction.SET_VARIABLE and pdu.object_id == PlusId.THE_CPU_EXEC_UNIT and \
            pdu.attribute == PlusId.CPU_EXEC_UNIT_OPERATING_STATE_REQ:
        return "operating_state"
    if f == PlusFunction.CREATE_OBJECT and pdu.object_id == PlusId.OBJECT_SERVER_SESSION_CONTAINER:
        return "server_session"
    if f == PlusFunction.CREATE_OBJECT and pdu.object_id == PlusId.THE_PLC_PROGRAM:
        return "plc_program"
    if f in (PlusFunction.SET_VARIABLE, PlusFunction.SET_MULTI_VARIABLES) and pdu.attribute is not None and \
            PlusId.CLASS_SUBSCRIPTION <= pdu.attribute <= PlusId.SUBSCRIPTION_FUNCTION_CLASS_ID:
        return "subscription"
    if f in (PlusFunction.DELETE_OBJECT, PlusFunction.SET_MULTI_VARIABLES) and pdu.object_id is not None and \
            pdu.object_id != 0 and pdu.object_id == pdu.session_id:
        return "server_session"
    return None


def plus_message(pdu: PlusPdu, is_request: bool) -> Message:
    """An S7comm-plus PDU as a Message: version, opcode, function, sequence, session, and what it reveals."""
    fields: dict[str, Any] = {"pdu": "s7comm_plus", "version": pdu.version,
                              "version_name": plus_version_name(pdu.version), "data_length": pdu.data_length}
    if pdu.version == PlusVersion.KEEP_ALIVE:
        name, direction = "keep_alive", UNSOLICITED
        fields["keep_alive_sequence"] = pdu.keep_alive_sequence
    elif pdu.version == PlusVersion.SYSTEM_EVENT:
        name, direction = "system_event", UNSOLICITED
    elif pdu.opcode == PlusOpcode.NOTIFICATION:
        name, direction = "notification", UNSOLICITED
    elif pdu.opcode == PlusOpcode.REQUEST:
        name, direction = plus_function_name(pdu.function), REQUEST
    elif pdu.opcode in (PlusOpcode.RESPONSE, PlusOpcode.RESPONSE2):
        name, direction = plus_function_name(pdu.function), RESPONSE
    else:
        name, direction = plus_function_name(pdu.function), (REQUEST if is_request else RESPONSE)
    if pdu.opcode is not None:
        fields["opcode"] = pdu.opcode
        fields["opcode_name"] = plus_opcode_name(pdu.opcode)
    for key in ("sequence_number", "session_id", "transport_flags", "object_id", "attribute", "value"):
        value = getattr(pdu, key)
        if value is not None:
            fields[key] = value
    sub = _plus_sub(pdu)
    if sub is not None:
        fields["object"] = sub
    facts: list[Fact] = []
    if pdu.strings:
        order_code, firmware = pdu.strings[0]
        ident: dict[str, Any] = {"order_code": order_code, "firmware": firmware}
        if order_code.startswith(("6ES7", "6ED1", "6AV", "6GK")):
            ident["vendor"] = "Siemens"
        fields["identity"] = ident
        facts.append(Fact("identity", "server", ident))
    if sub == "server_session" and direction == REQUEST and pdu.function == PlusFunction.CREATE_OBJECT:
        facts += [Fact("role", "client", "client"), Fact("role", "server", "server")]
    if pdu.addresses and direction == REQUEST:
        access = "write" if pdu.function == PlusFunction.SET_MULTI_VARIABLES else "read"
        about = _sender(is_request)
        items = []
        for a in pdu.addresses:
            access_string = ".".join(f"{v:X}" for v in (a.access_area, *a.lids))
            space = address_space(a.access_area)
            items.append({"access_area": a.access_area, "access_sub_area": a.access_sub_area,
                          "lids": list(a.lids), "symbol_crc": a.symbol_crc, "address": access_string})
            if space is not None:  # process data; other areas are objects of the PLC, not points
                facts.append(Fact("point", about, Point(space, None, 1, access, name=access_string)))
        fields["items"] = items
    pair = ("s7comm_plus", pdu.sequence_number) if direction in (REQUEST, RESPONSE) and \
        pdu.sequence_number is not None else None
    code = pdu.function if direction in (REQUEST, RESPONSE) else 0
    return Message(code, name, action_of(name, sub), direction, pair, fields, tuple(facts), pdu.weird)
