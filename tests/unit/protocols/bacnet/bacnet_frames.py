"""Builders of BACnet/IP datagrams for tests: BVLC + NPDU + APDU with hand-encoded tags (ASHRAE 135 clause 20.2)."""
from __future__ import annotations

import struct


def tag(number: int, data: bytes, context: bool = False) -> bytes:
    """A primitive tag with its value octets (lengths above 4 use the extended length octet)."""
    cls = 0x08 if context else 0
    if len(data) <= 4:
        return bytes([(number << 4) | cls | len(data)]) + data
    return bytes([(number << 4) | cls | 5, len(data)]) + data


def ctx(number: int, value: int, size: int = 1) -> bytes:
    return tag(number, value.to_bytes(size, "big"), context=True)


def opening(number: int) -> bytes:
    return bytes([(number << 4) | 0x0E])


def closing(number: int) -> bytes:
    return bytes([(number << 4) | 0x0F])


def objid(kind: int, instance: int) -> bytes:
    return struct.pack(">I", (kind << 22) | instance)


def app_unsigned(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return tag(2, value.to_bytes(size, "big"))


def app_enum(value: int) -> bytes:
    return tag(9, value.to_bytes(1, "big"))


def app_string(text: str) -> bytes:
    return tag(7, b"\x00" + text.encode())


def app_real(value: float) -> bytes:
    return tag(4, struct.pack(">f", value))


def npdu(expecting_reply: bool = False, snet: int | None = None, sadr: bytes = b"",
         dnet: int | None = None, dadr: bytes = b"") -> bytes:
    control = (0x04 if expecting_reply else 0) | (0x20 if dnet is not None else 0) | (0x08 if snet is not None else 0)
    out = bytes([1, control])
    if dnet is not None:
        out += struct.pack(">HB", dnet, len(dadr)) + dadr
    if snet is not None:
        out += struct.pack(">HB", snet, len(sadr)) + sadr
    if dnet is not None:
        out += b"\xff"
    return out


def bvlc(function: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0x81, function, 4 + len(body)) + body


def unicast(apdu: bytes, **net) -> bytes:
    return bvlc(0x0A, npdu(**net) + apdu)


def broadcast(apdu: bytes, **net) -> bytes:
    return bvlc(0x0B, npdu(**net) + apdu)


def confirmed(service: int, params: bytes, invoke: int = 1) -> bytes:
    return bytes([0x00, 0x05, invoke, service]) + params


def complex_ack(service: int, params: bytes, invoke: int = 1) -> bytes:
    return bytes([0x30, invoke, service]) + params


def unconfirmed(service: int, params: bytes) -> bytes:
    return bytes([0x10, service]) + params


def who_is(low: int | None = None, high: int | None = None) -> bytes:
    params = ctx(0, low, 3) + ctx(1, high, 3) if low is not None and high is not None else b""
    return broadcast(unconfirmed(8, params))


def i_am(instance: int, vendor: int, **net) -> bytes:
    params = tag(12, objid(8, instance)) + app_unsigned(1476) + app_enum(3) + app_unsigned(vendor)
    return broadcast(unconfirmed(0, params), **net)


def read_property(kind: int, instance: int, prop: int, invoke: int = 1) -> bytes:
    return unicast(confirmed(12, tag(0, objid(kind, instance), True) + ctx(1, prop), invoke), expecting_reply=True)


def read_property_ack(kind: int, instance: int, prop: int, value: bytes, invoke: int = 1, **net) -> bytes:
    params = tag(0, objid(kind, instance), True) + ctx(1, prop) + opening(3) + value + closing(3)
    return unicast(complex_ack(12, params, invoke), **net)


def write_property(kind: int, instance: int, prop: int, value: bytes, priority: int | None = None,
                   invoke: int = 1) -> bytes:
    params = tag(0, objid(kind, instance), True) + ctx(1, prop) + opening(3) + value + closing(3)
    if priority is not None:
        params += ctx(4, priority)
    return unicast(confirmed(15, params, invoke), expecting_reply=True)


def read_property_multiple(objects: list[tuple[int, int, list[int]]], invoke: int = 1) -> bytes:
    params = b"".join(tag(0, objid(k, i), True) + opening(1) + b"".join(ctx(0, p) for p in props) + closing(1)
                      for k, i, props in objects)
    return unicast(confirmed(14, params, invoke), expecting_reply=True)


def reinitialize_device(state: int, password: str | None = None, invoke: int = 1) -> bytes:
    params = ctx(0, state) + (tag(1, b"\x00" + password.encode(), True) if password else b"")
    return unicast(confirmed(20, params, invoke), expecting_reply=True)


def device_communication_control(state: int, minutes: int | None = None, invoke: int = 1) -> bytes:
    params = (ctx(0, minutes, 2) if minutes is not None else b"") + ctx(1, state)
    return unicast(confirmed(17, params, invoke), expecting_reply=True)


def simple_ack(service: int, invoke: int = 1) -> bytes:
    return unicast(bytes([0x20, invoke, service]))


def error(service: int, error_class: int, error_code: int, invoke: int = 1) -> bytes:
    return unicast(bytes([0x50, invoke, service]) + app_enum(error_class) + app_enum(error_code))


def reject(reason: int, invoke: int = 1) -> bytes:
    return unicast(bytes([0x60, invoke, reason]))


def who_is_router(*networks: int) -> bytes:
    return bvlc(0x0B, bytes([1, 0x80, 0x00]) + b"".join(struct.pack(">H", n) for n in networks))


def register_foreign_device(ttl: int) -> bytes:
    return bvlc(0x05, struct.pack(">H", ttl))


def forwarded(source: bytes, port: int, inner: bytes) -> bytes:
    """A Forwarded-NPDU of ``inner`` (a whole Original-Broadcast datagram), from B/IP address source:port."""
    return bvlc(0x04, source + struct.pack(">H", port) + inner[4:])
