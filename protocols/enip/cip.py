"""CIP messages (message router requests and replies) and the service data worth decoding.

Message router request and reply, Vol 1 §2-4.1 and §2-4.2::

    request:  +---------+-----------+--------------------+--------------+
              | service | path size | request path       | request data |
              |  u8     | u8 words  | padded EPATH       |              |
              +---------+-----------+--------------------+--------------+
    reply:    +--------------+----------+---------+----------+------------------+------------+
              | service|0x80 | reserved | general | add. st. | additional status| reply data |
              |     u8       |    u8    | status  | size u8  | u16 x size       |            |
              +--------------+----------+---------+----------+------------------+------------+

Everything here is pure. Decoders take the data after the header and return plain dicts of event
fields in the spec's words; trouble inside service data raises ``Malformed`` with the weird code
``cip_bad_service_data``, which the caller turns into the message's ``weird`` (the message stays).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed
from protocols.enip.codes import (
    PCCC_WITH_FUNCTION,
    STRUCTURE,
    VALUE_FORMATS,
    data_type_name,
    pccc_function_name,
)
from protocols.enip.epath import EPath, parse_epath

BAD_DATA = "cip_bad_service_data"
TRUNCATED = "cip_truncated"
MAX_VALUES = 64  # values reported per tag read/write; the rest are counted, not listed
MAX_DATA_FIELD = 512  # reply data kept (hex) for pairing to decode; longer data is cut and flagged
MAX_EMBEDDED = 256  # services unpacked from one Multiple Service Packet

_U16 = struct.Struct("<H")
_U16X2 = struct.Struct("<HH")
_U32 = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class CipRequest:
    """A message router request. ``weird`` is ``cip_bad_path`` when the path did not parse."""

    service: int
    path: EPath
    data: bytes
    weird: str | None = None


@dataclass(frozen=True, slots=True)
class CipReply:
    """A message router reply (``service`` without the reply bit)."""

    service: int
    general_status: int
    additional_status: tuple[int, ...]
    data: bytes
    weird: str | None = None


def parse_message(data: bytes) -> CipRequest | CipReply:
    """One CIP message; raises Malformed (``cip_truncated``) when even its header is not there."""
    if len(data) < 2:
        raise Malformed(TRUNCATED, 0, f"{len(data)} bytes")
    service = data[0]
    if service & 0x80:
        if len(data) < 4:
            raise Malformed(TRUNCATED, 0, "reply header")
        size = data[3]
        end = 4 + 2 * size
        weird = None
        if end > len(data):
            end, weird = 4 + (len(data) - 4) // 2 * 2, TRUNCATED
        additional = struct.unpack_from(f"<{(end - 4) // 2}H", data, 4)
        return CipReply(service & 0x7F, data[2], tuple(additional), data[end:], weird)
    end = 2 + 2 * data[1]
    weird = None
    if end > len(data):
        end, weird = len(data), TRUNCATED
    path = parse_epath(data, 2, end)
    if weird is None and path.bad:
        weird = "cip_bad_path"
    return CipRequest(service, path, data[end:], weird)


# --- Multiple Service Packet (Vol 1 §) ------------------------------------------------------

def split_multiple(data: bytes) -> list[bytes]:
    """The embedded messages of a Multiple Service Packet request or reply::

        +----------------+----------------------+-------------------------------------+
        | number of      | offsets u16 x number | embedded messages (each from its    |
        | services u16   | (from the count)     | offset to the next, the last to end)|
        +----------------+----------------------+-------------------------------------+
    """
    if len(data) < 2:
        raise Malformed(BAD_DATA, 0, "no service count")
    count = _U16.unpack_from(data, 0)[0]
    if count > MAX_EMBEDDED or 2 + 2 * count > len(data):
        raise Malformed(BAD_DATA, 0, f"{count} services do not fit {len(data)} bytes")
    offsets = struct.unpack_from(f"<{count}H", data, 2)
    out = []
    for k, start in enumerate(offsets):
        stop = offsets[k + 1] if k + 1 < count else len(data)
        if not 2 + 2 * count <= start <= stop <= len(data):
            raise Malformed(BAD_DATA, 2 + 2 * k, f"offset {start} of service {k}")
        out.append(data[start:stop])
    return out


# --- Unconnected Send (Vol 1 §3-5.5.2) --------------------------------------------------------------

def split_unconnected_send(data: bytes) -> tuple[dict[str, Any], bytes, EPath]:
    """Unconnected Send request data: (its fields, the embedded request, the route path)::

        +------------+---------+----------+------------------+-----+-----------+----------+------------+
        | priority / | timeout | message  | embedded message | pad | route path| reserved | route path |
        | time tick  | ticks   | size u16 | request          | (0/1)| size words|   u8     | port segs  |
        +------------+---------+----------+------------------+-----+-----------+----------+------------+
    """
    if len(data) < 4:
        raise Malformed(BAD_DATA, 0, "unconnected send header")
    size = _U16.unpack_from(data, 2)[0]
    end = 4 + size
    if end > len(data):
        raise Malformed(BAD_DATA, 2, f"message size {size}")
    embedded = data[4:end]
    pos = end + (size & 1)
    route = EPath()
    if pos + 2 <= len(data):
        words = data[pos]
        route = parse_epath(data, pos + 2, min(len(data), pos + 2 + 2 * words))
    fields = {"priority_time_tick": data[0], "timeout_ticks": data[1]}
    return fields, embedded, route


# --- Connection Manager: Forward Open / Close (Vol 1 §3-5.5.1-3-5.5.3) ------------------------------

_FWD_OPEN = struct.Struct("<BBIIHHIB3xI")  # up to and including the O->T RPI
_FWD_OPEN_REPLY = struct.Struct("<IIHHIIIBx")
_FWD_CLOSE = struct.Struct("<BBHHIBx")
CONNECTION_TYPES = ("null", "multicast", "point_to_point", "reserved")
PRIORITIES = ("low", "high", "scheduled", "urgent")
TRIGGERS = ("cyclic", "change_of_state", "application_object")


def _connection_parameters(value: int, large: bool) -> dict[str, Any]:
    """Network connection parameters, Vol 1 §3-5.5.1.1 (16-bit) and Table 3-5.14 (32-bit, Large Forward Open)."""
    shift = 16 if large else 0
    return {
        "connection_size": value & (0xFFFF if large else 0x1FF),
        "fixed_variable": "variable" if value >> (9 + shift) & 1 else "fixed",
        "priority": PRIORITIES[value >> (10 + shift) & 3],
        "connection_type": CONNECTION_TYPES[value >> (13 + shift) & 3],
        "redundant_owner": bool(value >> (15 + shift) & 1),
    }


def parse_forward_open(data: bytes, large: bool) -> tuple[dict[str, Any], EPath]:
    """Forward Open / Large Forward Open request::

        priority/tick u8, timeout ticks u8, O->T connection id u32, T->O connection id u32,
        connection serial u16, originator vendor id u16, originator serial u32, timeout multiplier u8,
        reserved 3, O->T RPI u32, O->T parameters u16 (u32 large), T->O RPI u32, T->O parameters
        u16 (u32 large), transport type/trigger u8, connection path size u8 words, connection path
    """
    psize = 4 if large else 2
    fixed = _FWD_OPEN.size + psize + 4 + psize + 2
    if len(data) < fixed:
        raise Malformed(BAD_DATA, 0, "forward open shorter than its fixed part")
    (tick, ticks, ot_id, to_id, serial, vendor, orig_serial, multiplier, ot_rpi) = _FWD_OPEN.unpack_from(data, 0)
    pos = _FWD_OPEN.size
    fmt = "<I" if large else "<H"
    ot_params = struct.unpack_from(fmt, data, pos)[0]
    to_rpi = _U32.unpack_from(data, pos + psize)[0]
    to_params = struct.unpack_from(fmt, data, pos + psize + 4)[0]
    trigger = data[pos + 2 * psize + 4]
    path_words = data[pos + 2 * psize + 5]
    path = parse_epath(data, fixed, min(len(data), fixed + 2 * path_words))
    fields = {
        "priority_time_tick": tick, "timeout_ticks": ticks,
        "o_t_connection_id": ot_id, "t_o_connection_id": to_id,
        "connection_serial_number": serial, "originator_vendor_id": vendor,
        "originator_serial_number": orig_serial, "connection_timeout_multiplier": multiplier,
        "o_t_rpi": ot_rpi, "o_t_network_connection_parameters": _connection_parameters(ot_params, large),
        "t_o_rpi": to_rpi, "t_o_network_connection_parameters": _connection_parameters(to_params, large),
        "transport_class": trigger & 0x0F,
        "production_trigger": TRIGGERS[trigger >> 4 & 7] if trigger >> 4 & 7 < 3 else f"reserved_{trigger >> 4 & 7}",
        "transport_direction": "server" if trigger & 0x80 else "client",
    }
    if fixed + 2 * path_words > len(data):
        raise Malformed(BAD_DATA, fixed, "connection path past the end")
    return fields, path


def parse_forward_open_reply(data: bytes, success: bool) -> dict[str, Any]:
    """Forward Open reply: success (§3-5.5.1.2) or failure (§3-5.5.1.3) layout."""
    if success:
        if len(data) < _FWD_OPEN_REPLY.size:
            raise Malformed(BAD_DATA, 0, "forward open reply too short")
        ot_id, to_id, serial, vendor, orig_serial, ot_api, to_api, app_words = _FWD_OPEN_REPLY.unpack_from(data, 0)
        return {"o_t_connection_id": ot_id, "t_o_connection_id": to_id, "connection_serial_number": serial,
                "originator_vendor_id": vendor, "originator_serial_number": orig_serial,
                "o_t_api": ot_api, "t_o_api": to_api}
    if len(data) < 8:
        return {}
    serial, vendor, orig_serial = struct.unpack_from("<HHI", data, 0)
    out: dict[str, Any] = {"connection_serial_number": serial, "originator_vendor_id": vendor,
                           "originator_serial_number": orig_serial}
    if len(data) > 8:
        out["remaining_path_size"] = data[8]
    return out


def parse_forward_close(data: bytes) -> tuple[dict[str, Any], EPath]:
    """Forward Close request: priority/tick, timeout ticks, connection serial u16, originator vendor u16,
    originator serial u32, connection path size u8, reserved u8, connection path."""
    if len(data) < _FWD_CLOSE.size:
        raise Malformed(BAD_DATA, 0, "forward close too short")
    tick, ticks, serial, vendor, orig_serial, words = _FWD_CLOSE.unpack_from(data, 0)
    path = parse_epath(data, _FWD_CLOSE.size, min(len(data), _FWD_CLOSE.size + 2 * words))
    return ({"priority_time_tick": tick, "timeout_ticks": ticks, "connection_serial_number": serial,
             "originator_vendor_id": vendor, "originator_serial_number": orig_serial}, path)


def parse_forward_close_reply(data: bytes) -> dict[str, Any]:
    if len(data) < 8:
        return {}
    serial, vendor, orig_serial = struct.unpack_from("<HHI", data, 0)
    return {"connection_serial_number": serial, "originator_vendor_id": vendor,
            "originator_serial_number": orig_serial}


# --- Logix tag services (1756-PM020) -------------------------------------------------------------------

def decode_values(type_code: int, data: bytes) -> tuple[list[Any] | None, int | None]:
    """(values, element count) of tag data of an elementary type; (None, None) for structures and strings."""
    fmt = VALUE_FORMATS.get(type_code)
    if fmt is None:
        return None, None
    size = struct.calcsize(fmt)
    count = len(data) // size
    shown = min(count, MAX_VALUES)
    values = list(struct.unpack_from(f"<{shown}{fmt}", data, 0))
    if fmt in "fd":
        values = [v if v == v and v not in (float("inf"), float("-inf")) else repr(v) for v in values]  # JSON
    return values, count


def _type_at(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    """A tag data type: u16 code, and for an abbreviated structure (0x02A0) a u16 structure handle."""
    if len(data) - pos < 2:
        raise Malformed(BAD_DATA, pos, "no data type")
    code = _U16.unpack_from(data, pos)[0]
    out: dict[str, Any] = {"data_type": code, "data_type_name": data_type_name(code)}
    pos += 2
    if code == STRUCTURE:
        if len(data) - pos < 2:
            raise Malformed(BAD_DATA, pos, "no structure handle")
        out["structure_handle"] = _U16.unpack_from(data, pos)[0]
        pos += 2
    return out, pos


def parse_tag_request(service: int, data: bytes) -> dict[str, Any]:
    """Read Tag (0x4C): elements u16. Read Tag Fragmented (0x52): elements u16, offset u32.
    Write Tag (0x4D): type, elements u16, data. Write Tag Fragmented (0x53): type, elements, offset u32, data.
    Read Modify Write Tag (0x4E): mask size u16, OR mask, AND mask."""
    if service in (0x4C, 0x52):
        need = 2 if service == 0x4C else 6
        if len(data) < need:
            raise Malformed(BAD_DATA, 0, "tag read parameters")
        out: dict[str, Any] = {"elements": _U16.unpack_from(data, 0)[0]}
        if service == 0x52:
            out["offset"] = _U32.unpack_from(data, 2)[0]
        return out
    if service in (0x4D, 0x53):
        out, pos = _type_at(data, 0)
        need = 2 if service == 0x4D else 6
        if len(data) - pos < need:
            raise Malformed(BAD_DATA, pos, "tag write parameters")
        out["elements"] = _U16.unpack_from(data, pos)[0]
        if service == 0x53:
            out["offset"] = _U32.unpack_from(data, pos + 2)[0]
        values, _ = decode_values(out["data_type"], data[pos + need:])
        if values is not None:
            out["values"] = values
        else:
            out["data_length"] = len(data) - pos - need
        return out
    if service == 0x4E:
        if len(data) < 2:
            raise Malformed(BAD_DATA, 0, "mask size")
        size = _U16.unpack_from(data, 0)[0]
        if len(data) < 2 + 2 * size:
            raise Malformed(BAD_DATA, 2, "masks past the end")
        return {"mask_size": size, "or_mask": data[2:2 + size].hex(), "and_mask": data[2 + size:2 + 2 * size].hex()}
    return {}


def parse_tag_reply(data: bytes) -> dict[str, Any]:
    """Read Tag (Fragmented) reply data: type (u16, + handle for structures) then the element data."""
    out, pos = _type_at(data, 0)
    values, count = decode_values(out["data_type"], data[pos:])
    if values is not None:
        out["values"] = values
        out["elements"] = count
    else:
        out["data_length"] = len(data) - pos
    return out


# --- attribute services ------------------------------------------------------------------------------

def parse_attribute_list(data: bytes) -> list[int]:
    """Get/Set_Attribute_List request: count u16, then attribute ids u16 (Get) or id + value (Set: ids only
    are read while they are certain, i.e. for Get)."""
    if len(data) < 2:
        raise Malformed(BAD_DATA, 0, "no attribute count")
    count = _U16.unpack_from(data, 0)[0]
    if len(data) < 2 + 2 * count:
        raise Malformed(BAD_DATA, 2, f"{count} attribute ids do not fit")
    return list(struct.unpack_from(f"<{count}H", data, 2))


# --- PCCC inside Execute PCCC (1770-6.5.16; CIP class 0x67) -----------------------------------------

def _requestor(data: bytes) -> tuple[dict[str, Any], int]:
    """Requestor ID: length u8 (counting itself), CIP vendor id u16, CIP serial u32, other bytes."""
    if len(data) < 7 or data[0] < 7 or data[0] > len(data):
        raise Malformed(BAD_DATA, 0, "PCCC requestor id")
    vendor, serial = struct.unpack_from("<HI", data, 1)
    return {"requestor_vendor_id": vendor, "requestor_serial_number": serial}, data[0]


def parse_pccc_request(data: bytes) -> dict[str, Any]:
    """Execute PCCC request data: requestor id, then CMD u8, STS u8, TNS u16, [FNC u8], command data."""
    out, pos = _requestor(data)
    if len(data) - pos < 4:
        raise Malformed(BAD_DATA, pos, "PCCC command header")
    command, _, tns = struct.unpack_from("<BBH", data, pos)
    function = data[pos + 4] if command in PCCC_WITH_FUNCTION and len(data) - pos > 4 else None
    out.update({"pccc_command": command, "pccc_transaction": tns, "pccc_function": function,
                "pccc_function_name": pccc_function_name(command, function)})
    return out


def parse_pccc_reply(data: bytes) -> dict[str, Any]:
    """Execute PCCC reply data: requestor id, then CMD|0x40 u8, STS u8, TNS u16, [EXT STS u8 when STS is 0xF0]."""
    out, pos = _requestor(data)
    if len(data) - pos < 4:
        raise Malformed(BAD_DATA, pos, "PCCC reply header")
    command, status, tns = struct.unpack_from("<BBH", data, pos)
    out.update({"pccc_command": command & ~0x40 & 0xFF, "pccc_status": status, "pccc_transaction": tns})
    if status == 0xF0 and len(data) - pos > 4:
        out["pccc_extended_status"] = data[pos + 4]
    return out
