"""CDP frames as records: pure functions from bytes.

The payload after the LLC/SNAP header (OUI 00-00-0C, PID 0x2000) is::

    Version(1) TTL(1) Checksum(2) TLVs...      each TLV: Type(2) Length(2) Value(Length - 4)

The checksum (the Internet checksum over the whole CDP payload, with Cisco's odd-length quirk) is not verified:
a bad checksum changes nothing the sensor reports, and the sensor does not drop frames. An address TLV (types
0x0002 and 0x0016) is a 32-bit count then entries of::

    ProtocolType(1) ProtocolLength(1) Protocol(ProtocolLength) AddressLength(2) Address(AddressLength)

Multi-octet fields are big-endian. ``parse_cdp`` returns ``(record, used)`` or ``NeedMore``; the value decoders
return event fields or raise ``Malformed("cdp_bad_tlv")`` for that TLV alone.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore, unknown_name
from protocols.cdp.codes import (
    HEADER,
    MAX_ADDRESSES,
    MAX_TLVS,
    NLPID_IP,
    PROTOCOL_HELLOS,
    PROTOCOL_TYPES,
    SNAP_IPV6,
    TLV_HEADER,
    TlvType,
    capability_names,
    protocol_name,
)


@dataclass(frozen=True, slots=True)
class Tlv:
    type: int
    value: bytes
    offset: int  # of its header in the CDP payload


@dataclass(frozen=True, slots=True)
class CdpFrame:
    """One CDP frame. ``truncated``: it ends inside a TLV; ``bad_length``: a TLV length below 4 stopped the
    reading; ``too_many``: MAX_TLVS were read and the rest was not."""

    version: int
    ttl: int
    checksum: int
    tlvs: tuple[Tlv, ...]
    truncated: bool = False
    bad_length: bool = False
    too_many: bool = False


def parse_cdp(buf: bytes, offset: int = 0) -> tuple[CdpFrame, int] | NeedMore:
    """The header and the TLVs of one CDP payload, up to the end of ``buf``."""
    if len(buf) - offset < HEADER:
        return NeedMore(HEADER - (len(buf) - offset))
    version, ttl = buf[offset], buf[offset + 1]
    checksum = int.from_bytes(buf[offset + 2:offset + 4], "big")
    tlvs: list[Tlv] = []
    pos = offset + HEADER
    flags: dict[str, bool] = {}
    while pos < len(buf):
        if len(tlvs) == MAX_TLVS:
            flags["too_many"] = True
            break
        if len(buf) - pos < TLV_HEADER:
            flags["truncated"] = True
            pos = len(buf)
            break
        kind = int.from_bytes(buf[pos:pos + 2], "big")
        length = int.from_bytes(buf[pos + 2:pos + 4], "big")
        if length < TLV_HEADER:
            flags["bad_length"] = True
            pos = len(buf)
            break
        if pos + length > len(buf):
            flags["truncated"] = True
            pos = len(buf)
            break
        tlvs.append(Tlv(kind, bytes(buf[pos + TLV_HEADER:pos + length]), pos - offset))
        pos += length
    return CdpFrame(version, ttl, checksum, tuple(tlvs), **flags), pos - offset


# --- values -----------------------------------------------------------------------------------------------------

def bad(tlv: Tlv, what: str) -> Malformed:
    return Malformed("cdp_bad_tlv", tlv.offset, what)


def text(raw: bytes) -> str:
    """A string TLV as text, up to its first NUL (Wireshark reads them zero-padded too)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def address_entries(tlv: Tlv) -> tuple[list[dict[str, Any]], bool]:
    """The entries of an address TLV, and whether more were listed than MAX_ADDRESSES."""
    data = tlv.value
    if len(data) < 4:
        raise bad(tlv, f"address count in {len(data)} octets")
    count = int.from_bytes(data[0:4], "big")
    entries: list[dict[str, Any]] = []
    pos = 4
    for _ in range(min(count, MAX_ADDRESSES)):
        if len(data) - pos < 2:
            raise bad(tlv, f"address entry {len(entries) + 1} of {count} past the end")
        kind, size = data[pos], data[pos + 1]
        if len(data) - pos < 2 + size + 2:
            raise bad(tlv, f"address entry {len(entries) + 1} of {count} past the end")
        protocol = data[pos + 2:pos + 2 + size]
        at = pos + 2 + size
        length = int.from_bytes(data[at:at + 2], "big")
        raw = data[at + 2:at + 2 + length]
        if len(raw) < length:
            raise bad(tlv, f"address of {length} octets, {len(raw)} left")
        entries.append({"protocol_type": PROTOCOL_TYPES.get(kind) or unknown_name(kind),
                        "protocol": protocol_name(kind, protocol), "address": _address(kind, protocol, raw)})
        pos = at + 2 + length
    return entries, count > MAX_ADDRESSES


def _address(kind: int, protocol: bytes, raw: bytes) -> str:
    if kind == 1 and protocol == bytes([NLPID_IP]) and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if kind == 2 and protocol == SNAP_IPV6 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    return raw.hex()


def _string(name: str) -> Callable[[Tlv], dict[str, Any]]:
    def decode(tlv: Tlv) -> dict[str, Any]:
        return {name: text(tlv.value)}
    return decode


def _fixed(name: str, size: int) -> Callable[[Tlv], dict[str, Any]]:
    def decode(tlv: Tlv) -> dict[str, Any]:
        if len(tlv.value) < size:
            raise bad(tlv, f"{name} in {len(tlv.value)} octets, {size} needed")
        return {name: int.from_bytes(tlv.value[:size], "big")}
    return decode


def _capabilities(tlv: Tlv) -> dict[str, Any]:
    if len(tlv.value) < 4:
        raise bad(tlv, f"capabilities in {len(tlv.value)} octets, 4 needed")
    return {"capabilities": capability_names(int.from_bytes(tlv.value[0:4], "big"))}


def _duplex(tlv: Tlv) -> dict[str, Any]:
    if len(tlv.value) < 1:
        raise bad(tlv, "duplex without its octet")
    return {"duplex": "full" if tlv.value[0] else "half"}


def _voice_vlan(tlv: Tlv) -> dict[str, Any]:
    """VoIP VLAN reply: data(1) then the voice VLAN(2)."""
    if len(tlv.value) < 3:
        raise bad(tlv, f"VoIP VLAN reply in {len(tlv.value)} octets, 3 needed")
    return {"voice_vlan": int.from_bytes(tlv.value[1:3], "big")}


def _protocol_hello(tlv: Tlv) -> dict[str, Any]:
    """Protocol hello: OUI(3) ProtocolID(2) then the protocol's own data."""
    if len(tlv.value) < 5:
        raise bad(tlv, f"protocol hello in {len(tlv.value)} octets, 5 needed")
    pid = int.from_bytes(tlv.value[3:5], "big")
    return {"protocol_hello": PROTOCOL_HELLOS.get(pid) or unknown_name(pid)}


def _location(tlv: Tlv) -> dict[str, Any]:
    """Location: an octet Wireshark does not name, then the text."""
    return {"location": text(tlv.value[1:])}


DECODERS: dict[int, Callable[[Tlv], dict[str, Any]]] = {
    TlvType.DEVICE_ID: _string("device_id"),
    TlvType.PORT_ID: _string("port_id"),
    TlvType.CAPABILITIES: _capabilities,
    TlvType.SOFTWARE_VERSION: _string("software_version"),
    TlvType.PLATFORM: _string("platform"),
    TlvType.PROTOCOL_HELLO: _protocol_hello,
    TlvType.VTP_MANAGEMENT_DOMAIN: _string("vtp_management_domain"),
    TlvType.NATIVE_VLAN: _fixed("native_vlan", 2),
    TlvType.DUPLEX: _duplex,
    TlvType.VOIP_VLAN_REPLY: _voice_vlan,
    TlvType.POWER_CONSUMPTION: _fixed("power_consumption", 2),
    TlvType.MTU: _fixed("mtu", 4),
    TlvType.SYSTEM_NAME: _string("system_name"),
    TlvType.LOCATION: _location,
}


def tlv_fields(tlv: Tlv) -> dict[str, Any]:
    """The event fields of a TLV other than an address list; {} for types not decoded."""
    decode = DECODERS.get(tlv.type)
    return decode(tlv) if decode is not None else {}
