"""Builders of EtherNet/IP and CIP bytes for the unit and fuzz tests, laid out as the spec draws them."""
from __future__ import annotations

import struct

CONTEXT = b"ctx-0001"


def encap(command: int, data: bytes = b"", session: int = 0x11223344, status: int = 0, context: bytes = CONTEXT,
          options: int = 0, length: int | None = None) -> bytes:
    """Encapsulation header (Vol 2 §2-3.1) + command data."""
    return struct.pack("<HHII8sI", command, len(data) if length is None else length, session, status, context,
                       options) + data


def cpf(*items: tuple[int, bytes]) -> bytes:
    """Common packet format: item count, then (type id, length, data) per item."""
    return struct.pack("<H", len(items)) + b"".join(struct.pack("<HH", t, len(d)) + d for t, d in items)


def send_rr(cip: bytes, **kw) -> bytes:
    """SendRRData: interface handle 0, timeout 5, null address item + unconnected data item."""
    return encap(0x6F, struct.pack("<IH", 0, 5) + cpf((0x0000, b""), (0x00B2, cip)), **kw)


def send_unit(cip: bytes, connection_id: int = 0x12345678, sequence: int = 7, **kw) -> bytes:
    """SendUnitData: connected address item + connected data item (sequence count first)."""
    return encap(0x70, struct.pack("<IH", 0, 0) + cpf((0x00A1, struct.pack("<I", connection_id)),
                                                      (0x00B1, struct.pack("<H", sequence) + cip)), **kw)


def logical(class_id: int | None = None, instance: int | None = None, attribute: int | None = None) -> bytes:
    """8-bit logical segments (16-bit where the value needs it)."""
    out = b""
    for kind, value in ((0, class_id), (1, instance), (4, attribute)):
        if value is None:
            continue
        if value < 0x100:
            out += bytes([0x20 | kind << 2, value])
        else:
            out += bytes([0x21 | kind << 2, 0]) + struct.pack("<H", value)
    return out


def symbol(name: str, *elements: int) -> bytes:
    """ANSI extended symbol segment (padded), then 8-bit element (member) segments."""
    raw = name.encode()
    out = bytes([0x91, len(raw)]) + raw + (b"\0" if len(raw) % 2 else b"")
    return out + b"".join(bytes([0x28, e]) for e in elements)


def request(service: int, path: bytes, data: bytes = b"") -> bytes:
    """Message router request."""
    assert len(path) % 2 == 0
    return bytes([service, len(path) // 2]) + path + data


def reply(service: int, data: bytes = b"", status: int = 0, additional: tuple[int, ...] = ()) -> bytes:
    """Message router reply."""
    return bytes([service | 0x80, 0, status, len(additional)]) + struct.pack(f"<{len(additional)}H", *additional) + data


def multiple(*messages: bytes) -> bytes:
    """Multiple Service Packet data: count, offsets from the count, messages."""
    offsets, pos = [], 2 + 2 * len(messages)
    for m in messages:
        offsets.append(pos)
        pos += len(m)
    return struct.pack(f"<H{len(messages)}H", len(messages), *offsets) + b"".join(messages)


def unconnected_send(embedded: bytes, slot: int = 0, port: int = 1) -> bytes:
    """Unconnected Send to the Connection Manager, routed to ``port``/``slot``."""
    data = bytes([0x0A, 0xF0]) + struct.pack("<H", len(embedded)) + embedded + (b"\0" if len(embedded) % 2 else b"")
    data += bytes([1, 0, port, slot])
    return request(0x52, logical(0x06, 1), data)


IDENTITY_ATTRIBUTES = struct.pack("<HHHBBHI", 1, 0x0E, 0x36, 20, 11, 0x3160, 0x006C061A) + \
    bytes([20]) + b"1756-L61/B LOGIX5561" + bytes([3])
"""Identity attributes 1-8 as Get_Attributes_All returns them (a ControlLogix L61, revision 20.11)."""

ENBT_IDENTITY = struct.pack("<HHHBBHI", 1, 0x0C, 0x3A, 4, 5, 0x0030, 0x00C0FFEE) + bytes([11]) + b"1756-ENBT/A" + \
    bytes([3])


def identity_item(attributes: bytes = ENBT_IDENTITY, address: str = "10.0.0.5") -> bytes:
    """ListIdentity reply item: version 1, socket address (big-endian), identity attributes."""
    ip = bytes(int(x) for x in address.split("."))
    return struct.pack("<H", 1) + struct.pack(">hH4s8s", 2, 44818, ip, b"\0" * 8) + attributes


def list_identity_reply(*attributes: bytes) -> bytes:
    return encap(0x63, cpf(*((0x000C, identity_item(a)) for a in (attributes or (ENBT_IDENTITY,)))))


def forward_open(path: bytes, trigger: int = 0xA3, large: bool = False) -> bytes:
    """Forward Open (or Large Forward Open) request to the Connection Manager."""
    fmt = "<I" if large else "<H"
    params = (0x43F4 << 16 | 500) if large else 0x43F4
    data = struct.pack("<BBIIHHIB3xI", 0x0A, 0x0E, 0, 0x80001234, 0x4242, 0x0001, 0x00DEC0DE, 1, 2_000_000)
    data += struct.pack(fmt, params) + struct.pack("<I", 2_000_000) + struct.pack(fmt, params)
    data += bytes([trigger, len(path) // 2]) + path
    return request(0x5B if large else 0x54, logical(0x06, 1), data)


def pccc(command: int, function: int | None, data: bytes = b"") -> bytes:
    """Execute PCCC request data: requestor id (7 bytes), CMD, STS, TNS, [FNC], data."""
    head = bytes([7]) + struct.pack("<HI", 1, 0x1234) + bytes([command, 0]) + struct.pack("<H", 0x55)
    return head + (bytes([function]) if function is not None else b"") + data
