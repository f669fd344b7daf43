"""EtherNet/IP encapsulation and common packet format: bytes -> frozen records.

Encapsulation header, Vol 2 §2-3.1 (all integers little-endian)::

    0         2        4                8         12                  20        24
    +---------+--------+----------------+---------+-------------------+---------+-----------------+
    | command | length | session handle | status  | sender context    | options | command data ...|
    |   u16   |  u16   |      u32       |  u32    |     8 bytes       |   u32   |  length bytes   |
    +---------+--------+----------------+---------+-------------------+---------+-----------------+

Common packet format (CPF), Vol 2 §2-6: ``item count u16`` then items ``type id u16, length u16,
data``. SendRRData and SendUnitData put ``interface handle u32, timeout u16`` before it (§2-4.7,
§2-4.8); ListIdentity, ListServices and ListInterfaces replies are a CPF alone (§2-4.2-2-4.4).
Class 0/1 I/O on UDP 2222 is a bare CPF: a sequenced address item and a connected data item (§3-2).

Two levels of trouble, as in ``protocols.modbus.wire``: a header that cannot be EtherNet/IP
(unknown command, length above 65511) raises ``Malformed``; odd command data leaves a readable
record whose ``weird`` names the first problem.
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.enip.codes import KNOWN_COMMANDS, ItemType

HEADER_SIZE = 24
MAX_LENGTH = 65511  # Vol 2 §2-3.1: the data portion is at most 65511 bytes

WEIRD_NONZERO_OPTIONS = "enip_nonzero_options"
WEIRD_BAD_CPF = "enip_bad_cpf"
WEIRD_TRAILING_BYTES = "enip_trailing_bytes"
WEIRD_BAD_IDENTITY = "cip_bad_service_data"

_HEADER = struct.Struct("<HHII8sI")
_U16 = struct.Struct("<H")
_U16X2 = struct.Struct("<HH")
_IFACE_TIMEOUT = struct.Struct("<IH")
_SOCKADDR = struct.Struct(">hHI8s")  # sin_family, sin_port, sin_addr, sin_zero: big-endian (Vol 2 §2-6.3.3)
_IDENTITY_FIXED = struct.Struct("<HHHBBHI")  # vendor, device type, product code, major, minor, status, serial


@dataclass(frozen=True, slots=True)
class Encapsulation:
    """One encapsulation message: the header fields and the command data after it."""

    command: int
    length: int
    session_handle: int
    status: int
    sender_context: bytes
    options: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Item:
    """One CPF item."""

    type_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Cpf:
    """A common packet format: its items, and the first oddity met while reading them."""

    items: tuple[Item, ...]
    weird: str | None = None

    def find(self, *type_ids: int) -> Item | None:
        for item in self.items:
            if item.type_id in type_ids:
                return item
        return None


@dataclass(frozen=True, slots=True)
class IoPacket:
    """A class 0/1 I/O datagram (UDP 2222), Vol 2 §3-2."""

    connection_id: int
    sequence_number: int
    data_length: int
    weird: str | None = None


def parse_encapsulation(buf: Any, offset: int) -> tuple[Encapsulation, int] | NeedMore:
    """Decode the message at ``buf[offset:]``: (message, bytes used), NeedMore, or raise Malformed.

    The command is checked as soon as its two bytes are there and the length as soon as its are,
    so garbage is refused before waiting for a length it announces.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail >= 2:
        command = buf[offset] | buf[offset + 1] << 8
        if command not in KNOWN_COMMANDS:
            raise Malformed("enip_unknown_command", offset, f"command 0x{command:04x}")
    if avail >= 4:
        length = buf[offset + 2] | buf[offset + 3] << 8
        if length > MAX_LENGTH:
            raise Malformed("enip_bad_length", offset, f"length {length}")
    if avail < HEADER_SIZE:
        return NeedMore(HEADER_SIZE - avail)
    command, length, session, status, context, options = _HEADER.unpack_from(buf, offset)
    used = HEADER_SIZE + length
    if avail < used:
        return NeedMore(used - avail)
    data = bytes(buf[offset + HEADER_SIZE:offset + used])
    return Encapsulation(command, length, session, status, context, options, data), used


def probe(data: bytes) -> bool | None:
    """Does ``data`` start like an encapsulation message? None: too short to say."""
    if len(data) < HEADER_SIZE:
        if len(data) >= 2 and (data[0] | data[1] << 8) not in KNOWN_COMMANDS:
            return False
        return None
    command, length, _, _, _, options = _HEADER.unpack_from(data, 0)
    if command not in KNOWN_COMMANDS or length > MAX_LENGTH or options != 0:
        return False
    rest = len(data) - HEADER_SIZE - length
    # A whole message followed by more bytes is only plausible if a known command starts right there.
    return rest < 2 or (data[HEADER_SIZE + length] | data[HEADER_SIZE + length + 1] << 8) in KNOWN_COMMANDS


def parse_cpf(data: bytes, start: int = 0) -> Cpf:
    """The CPF at ``data[start:]``; never raises (an overrun item ends the list with ``enip_bad_cpf``)."""
    end = len(data)
    if end - start < 2:
        return Cpf((), WEIRD_BAD_CPF)
    count = _U16.unpack_from(data, start)[0]
    pos = start + 2
    items: list[Item] = []
    for _ in range(count):
        if end - pos < 4:
            return Cpf(tuple(items), WEIRD_BAD_CPF)
        type_id, length = _U16X2.unpack_from(data, pos)
        pos += 4
        if end - pos < length:
            return Cpf(tuple(items), WEIRD_BAD_CPF)
        items.append(Item(type_id, data[pos:pos + length]))
        pos += length
    return Cpf(tuple(items), WEIRD_TRAILING_BYTES if pos < end else None)


def parse_send_data(data: bytes) -> tuple[int, int, Cpf]:
    """SendRRData / SendUnitData command data, Vol 2 §2-4.7::

        +------------------+---------+-----+
        | interface handle | timeout | CPF |
        |  u32 (0 = CIP)   |   u16   |     |
        +------------------+---------+-----+
    """
    if len(data) < 6:
        return 0, 0, Cpf((), WEIRD_BAD_CPF)
    handle, timeout = _IFACE_TIMEOUT.unpack_from(data, 0)
    return handle, timeout, parse_cpf(data, 6)


def sockaddr(data: bytes, pos: int = 0) -> dict[str, Any]:
    """A socket address item / ListIdentity field, Vol 2 §2-6.3.3 (big-endian, unlike the rest)."""
    family, port, address, _ = _SOCKADDR.unpack_from(data, pos)
    return {"sin_family": family, "sin_port": port, "sin_addr": socket.inet_ntoa(address.to_bytes(4, "big"))}


def parse_identity_item(data: bytes) -> tuple[dict[str, Any], str | None]:
    """A ListIdentity reply item (type 0x0C), Vol 2 §2-4.2.3 Table 2-4.4::

        +---------+------------+--------+--------+---------+---------+--------+--------+--------+-------+
        | version | socket     | vendor | device | product | rev     | status | serial | product| state |
        |   u16   | address 16 |  u16   | type   | code    | maj min |  u16   |  u32   | name   |  u8   |
        +---------+------------+--------+--------+---------+---------+--------+--------+--------+-------+
                                                                            (SHORT_STRING: u8 length + chars)

    Returns the identity attributes read (a readable prefix when the item is short) and a weird.
    """
    if len(data) < 2 + 16 + _IDENTITY_FIXED.size:
        return {}, WEIRD_BAD_IDENTITY
    out: dict[str, Any] = {"encapsulation_version": _U16.unpack_from(data, 0)[0], **sockaddr(data, 2)}
    identity, weird = parse_identity_attributes(data, 18)
    out.update(identity)
    return out, weird


def parse_identity_attributes(data: bytes, pos: int) -> tuple[dict[str, Any], str | None]:
    """Identity object attributes 1-8 in Get_Attributes_All order, Vol 1 §5-2.2.1 (also ListIdentity's)::

        vendor_id u16, device_type u16, product_code u16, revision (major u8, minor u8),
        status u16, serial_number u32, product_name SHORT_STRING, [state u8, ...]
    """
    if len(data) - pos < _IDENTITY_FIXED.size:
        return {}, WEIRD_BAD_IDENTITY
    vendor, device_type, product_code, major, minor, status, serial = _IDENTITY_FIXED.unpack_from(data, pos)
    out: dict[str, Any] = {"vendor_id": vendor, "device_type": device_type, "product_code": product_code,
                           "revision_major": major, "revision_minor": minor, "status": status,
                           "serial_number": serial}
    pos += _IDENTITY_FIXED.size
    if pos >= len(data):
        return out, WEIRD_BAD_IDENTITY
    size = data[pos]
    if pos + 1 + size > len(data):
        out["product_name"] = data[pos + 1:].decode("latin-1")
        return out, WEIRD_BAD_IDENTITY
    out["product_name"] = data[pos + 1:pos + 1 + size].decode("latin-1")
    pos += 1 + size
    if pos < len(data):
        out["state"] = data[pos]
    return out, None


def parse_io(payload: bytes) -> IoPacket:
    """A class 0/1 I/O datagram, Vol 2 §3-2.1::

        +-------+------------------------------------+----------------------------------+
        | count | sequenced address item (0x8002)    | connected data item (0x00B1)     |
        | u16=2 | len 8: connection id u32, seq u32  | len N: [seq count u16] data      |
        +-------+------------------------------------+----------------------------------+

    Raises Malformed (``enip_bad_io_packet``) when the first item is not a sequenced or connected
    address: then the datagram is not I/O.
    """
    cpf = parse_cpf(payload)
    if not cpf.items or cpf.items[0].type_id not in (ItemType.SEQUENCED_ADDRESS, ItemType.CONNECTED_ADDRESS):
        raise Malformed("enip_bad_io_packet", 0, "no sequenced/connected address item first")
    address = cpf.items[0].data
    if len(address) < 4:
        raise Malformed("enip_bad_io_packet", 4, "address item shorter than a connection id")
    connection_id = int.from_bytes(address[:4], "little")
    sequence = int.from_bytes(address[4:8], "little") if len(address) >= 8 else 0
    data = cpf.find(ItemType.CONNECTED_DATA)
    weird = cpf.weird or (None if data is not None else WEIRD_BAD_CPF)
    return IoPacket(connection_id, sequence, len(data.data) if data is not None else 0, weird)


def looks_like_io(payload: bytes) -> bool:
    """A UDP payload that starts with a CPF whose first item is an I/O address (never an encapsulation header:
    its first word would be the item count, 1-4, none of which is a known command but 0x0001)."""
    return (len(payload) >= 6 and payload[1] == 0 and 1 <= payload[0] <= 4
            and (payload[2] | payload[3] << 8) in (ItemType.SEQUENCED_ADDRESS, ItemType.CONNECTED_ADDRESS))
