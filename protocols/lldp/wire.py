"""LLDPDUs as records: pure functions from bytes (IEEE 802.1AB-2016 §8).

The payload of an ethertype 0x88CC frame is a sequence of TLVs (§8.4, Figure 8-2)::

    Type(7 bits) Length(9 bits) Value(Length octets)

starting with chassis ID, port ID and time to live, closed by an End of LLDPDU TLV (type 0, length 0) that
Ethernet padding may follow. Multi-octet fields are big-endian. ``parse_lldpdu`` returns ``(record, used)`` or
``NeedMore``; the value decoders return event fields or raise ``Malformed("lldp_bad_tlv")`` for that TLV alone.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.lldp.codes import (
    MAX_TLVS,
    AddressFamily,
    ChassisIdSubtype,
    Oui,
    PortIdSubtype,
    TlvType,
    address_family_name,
    capability_names,
    chassis_id_subtype_name,
    interface_subtype_name,
    port_id_subtype_name,
)

TLV_HEADER = 2
MAX_OID = 128  # §8.5.9.7: an object identifier of at most 128 octets


@dataclass(frozen=True, slots=True)
class Tlv:
    """One TLV: its type, its value, and where its header starts in the LLDPDU."""

    type: int
    value: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class Lldpdu:
    """The TLVs of one LLDPDU, without the End TLV. ``truncated``: the frame ends inside a TLV; ``too_many``:
    MAX_TLVS were read and the rest was not."""

    tlvs: tuple[Tlv, ...]
    ended: bool
    truncated: bool = False
    too_many: bool = False


def parse_lldpdu(buf: bytes, offset: int = 0) -> tuple[Lldpdu, int] | NeedMore:
    """The TLVs from ``offset`` up to the End TLV or the end of ``buf``; ``used`` stops after the End TLV."""
    if len(buf) - offset < TLV_HEADER:
        return NeedMore(TLV_HEADER - (len(buf) - offset))
    tlvs: list[Tlv] = []
    pos = offset
    while pos < len(buf):
        if len(tlvs) == MAX_TLVS:
            return Lldpdu(tuple(tlvs), False, too_many=True), pos - offset
        if len(buf) - pos < TLV_HEADER:
            return Lldpdu(tuple(tlvs), False, truncated=True), len(buf) - offset
        head = int.from_bytes(buf[pos:pos + 2], "big")
        kind, length = head >> 9, head & 0x1FF
        if kind == TlvType.END_OF_LLDPDU:
            return Lldpdu(tuple(tlvs), True), pos + TLV_HEADER - offset
        end = pos + TLV_HEADER + length
        if end > len(buf):
            return Lldpdu(tuple(tlvs), False, truncated=True), len(buf) - offset
        tlvs.append(Tlv(kind, bytes(buf[pos + TLV_HEADER:end]), pos - offset))
        pos = end
    return Lldpdu(tuple(tlvs), False), pos - offset


# --- values -----------------------------------------------------------------------------------------------------

def bad(tlv: Tlv, what: str) -> Malformed:
    return Malformed("lldp_bad_tlv", tlv.offset, what)


def need(tlv: Tlv, data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise bad(tlv, f"{what}: {len(data)} octets, {size} needed")


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def text(raw: bytes) -> str:
    """A string TLV as text (§8.5.4-8.5.6 say alphanumeric; stations pad with NULs, which are dropped)."""
    return raw.decode("utf-8", "replace").rstrip("\0")


def printable(raw: bytes) -> str | None:
    """The text of ``raw`` if it is text a person can read, else None (binary ids are shown in hex)."""
    value = raw.decode("utf-8", "replace").rstrip("\0")
    if not value or "\ufffd" in value or any(not c.isprintable() for c in value):
        return None
    return value


def network_address(raw: bytes) -> str | None:
    """An IANA address family octet then the address (§8.5.2.3 network address ids, §8.5.9.4)."""
    if len(raw) == 5 and raw[0] == AddressFamily.IPV4:
        return str(ipaddress.IPv4Address(raw[1:]))
    if len(raw) == 17 and raw[0] == AddressFamily.IPV6:
        return str(ipaddress.IPv6Address(raw[1:]))
    if len(raw) == 7 and raw[0] == AddressFamily.ALL_802:
        return mac_text(raw[1:])
    return None


def id_text(subtype: int, raw: bytes, mac: int, network: int) -> str:
    """A chassis or port ID as a person reads it: a MAC or an address by its subtype, text, or else hex."""
    if subtype == mac and len(raw) == 6:
        return mac_text(raw)
    if subtype == network and (address := network_address(raw)) is not None:
        return address
    value = printable(raw)
    return value if value is not None else raw.hex()


def oid_text(raw: bytes) -> str:
    """A BER-encoded object identifier in dotted form (X.690 §8.19); hex when it does not decode."""
    arcs: list[int] = []
    value = 0
    for i, octet in enumerate(raw):
        value = value << 7 | octet & 0x7F
        if octet & 0x80:
            if i == len(raw) - 1:
                return raw.hex()
            continue
        if not arcs:
            first = min(value // 40, 2)
            arcs += [first, value - 40 * first]
        else:
            arcs.append(value)
        value = 0
    return ".".join(map(str, arcs))


def _chassis_id(tlv: Tlv) -> dict[str, Any]:
    need(tlv, tlv.value, 2, "chassis ID")
    subtype = tlv.value[0]
    return {"chassis_id_subtype": subtype, "chassis_id_subtype_name": chassis_id_subtype_name(subtype),
            "chassis_id": id_text(subtype, tlv.value[1:], ChassisIdSubtype.MAC_ADDRESS,
                                  ChassisIdSubtype.NETWORK_ADDRESS)}


def _port_id(tlv: Tlv) -> dict[str, Any]:
    need(tlv, tlv.value, 2, "port ID")
    subtype = tlv.value[0]
    return {"port_id_subtype": subtype, "port_id_subtype_name": port_id_subtype_name(subtype),
            "port_id": id_text(subtype, tlv.value[1:], PortIdSubtype.MAC_ADDRESS, PortIdSubtype.NETWORK_ADDRESS)}


def _ttl(tlv: Tlv) -> dict[str, Any]:
    if len(tlv.value) != 2:
        raise bad(tlv, f"time to live of {len(tlv.value)} octets, 2 expected")
    return {"ttl": int.from_bytes(tlv.value, "big")}


def _string(name: str) -> Callable[[Tlv], dict[str, Any]]:
    def decode(tlv: Tlv) -> dict[str, Any]:
        return {name: text(tlv.value)}
    return decode


def _capabilities(tlv: Tlv) -> dict[str, Any]:
    if len(tlv.value) != 4:
        raise bad(tlv, f"system capabilities of {len(tlv.value)} octets, 4 expected")
    return {"system_capabilities": capability_names(int.from_bytes(tlv.value[0:2], "big")),
            "enabled_capabilities": capability_names(int.from_bytes(tlv.value[2:4], "big"))}


def management_address(tlv: Tlv) -> dict[str, Any]:
    """One management address (§8.5.9, Figure 8-11)::

        AddressStringLength(1) AddressSubtype(1) Address(1..31) InterfaceSubtype(1) InterfaceNumber(4)
        OIDStringLength(1) OID(0..128)
    """
    data = tlv.value
    need(tlv, data, 1, "management address")
    size = data[0]  # the subtype and the address
    if not 2 <= size <= 32:
        raise bad(tlv, f"management address string length {size}, 2..32 allowed")
    need(tlv, data, 1 + size + 6, "management address")
    subtype, raw = data[1], data[2:1 + size]
    at = 1 + size
    oid_size = data[at + 5]
    if oid_size > MAX_OID or len(data) < at + 6 + oid_size:
        raise bad(tlv, f"object identifier of {oid_size} octets, {len(data) - at - 6} left")
    address = network_address(bytes([subtype]) + raw)
    out: dict[str, Any] = {
        "address_subtype": subtype, "address_subtype_name": address_family_name(subtype),
        "address": address if address is not None else raw.hex(),
        "interface_subtype": data[at], "interface_subtype_name": interface_subtype_name(data[at]),
        "interface_number": int.from_bytes(data[at + 1:at + 5], "big"),
    }
    if oid_size:
        out["oid"] = oid_text(data[at + 6:at + 6 + oid_size])
    return out


BASIC: dict[int, Callable[[Tlv], dict[str, Any]]] = {
    TlvType.CHASSIS_ID: _chassis_id,
    TlvType.PORT_ID: _port_id,
    TlvType.TIME_TO_LIVE: _ttl,
    TlvType.PORT_DESCRIPTION: _string("port_description"),
    TlvType.SYSTEM_NAME: _string("system_name"),
    TlvType.SYSTEM_DESCRIPTION: _string("system_description"),
    TlvType.SYSTEM_CAPABILITIES: _capabilities,
}


def basic_fields(tlv: Tlv) -> dict[str, Any]:
    """The event fields of a basic TLV that appears once (types 1-7); raises ``lldp_bad_tlv``."""
    decode = BASIC.get(tlv.type)
    return decode(tlv) if decode is not None else {}


# --- organizationally specific TLVs (§8.6): OUI(3) Subtype(1) Information(0..507) -------------------------------

def org_header(tlv: Tlv) -> tuple[int, int, bytes]:
    need(tlv, tlv.value, 4, "organizationally specific TLV")
    return int.from_bytes(tlv.value[0:3], "big"), tlv.value[3], tlv.value[4:]


def _u16(name: str) -> Callable[[Tlv, bytes], dict[str, Any]]:
    def decode(tlv: Tlv, data: bytes) -> dict[str, Any]:
        need(tlv, data, 2, name)
        return {name: int.from_bytes(data[0:2], "big")}
    return decode


def _vlan_name(tlv: Tlv, data: bytes) -> dict[str, Any]:
    """VLAN Name (Annex D.2.3): VID(2) VLANNameLength(1) VLANName(0..32)."""
    need(tlv, data, 3, "VLAN name")
    need(tlv, data, 3 + data[2], "VLAN name")
    return {"vlan_name": {"vlan_id": int.from_bytes(data[0:2], "big"), "name": text(data[3:3 + data[2]])}}


def _mac_phy(tlv: Tlv, data: bytes) -> dict[str, Any]:
    """MAC/PHY configuration/status (IEEE 802.3 §79.3.1): autonegotiation support/status(1), PMD advertised
    capability(2), operational MAU type(2)."""
    need(tlv, data, 5, "MAC/PHY configuration/status")
    return {"autonegotiation_supported": bool(data[0] & 1), "autonegotiation_enabled": bool(data[0] & 2),
            "pmd_advertised_capability": int.from_bytes(data[1:3], "big"),
            "operational_mau_type": int.from_bytes(data[3:5], "big")}


def _pn_delays(tlv: Tlv, data: bytes) -> dict[str, Any]:
    """LLDP_PNIO_DELAY (IEC 61158-6-10): five 32-bit delays in nanoseconds."""
    need(tlv, data, 20, "PROFINET measured delay values")
    names = ("port_rx_delay_local", "port_rx_delay_remote", "port_tx_delay_local", "port_tx_delay_remote",
             "cable_delay_local")
    return {name: int.from_bytes(data[4 * i:4 * i + 4], "big") for i, name in enumerate(names)}


def _pn_port_status(tlv: Tlv, data: bytes) -> dict[str, Any]:
    """LLDP_PNIO_PORTSTATUS: RTClass2_PortStatus(2), RTClass3_PortStatus(2)."""
    need(tlv, data, 4, "PROFINET port status")
    return {"rtc2_port_status": int.from_bytes(data[0:2], "big"), "rtc3_port_status": int.from_bytes(data[2:4], "big")}


def _pn_chassis_mac(tlv: Tlv, data: bytes) -> dict[str, Any]:
    """LLDP_PNIO_CHASSIS_MAC: the MAC address of the station's interface (CMMacAdd)."""
    need(tlv, data, 6, "PROFINET chassis MAC")
    return {"profinet_chassis_mac": mac_text(data[0:6])}


def _med_string(name: str) -> Callable[[Tlv, bytes], dict[str, Any]]:
    def decode(tlv: Tlv, data: bytes) -> dict[str, Any]:
        return {name: text(data)}
    return decode


ORG: dict[tuple[int, int], Callable[[Tlv, bytes], dict[str, Any]]] = {
    (Oui.IEEE_802_1, 1): _u16("port_vlan_id"),
    (Oui.IEEE_802_1, 3): _vlan_name,
    (Oui.IEEE_802_3, 1): _mac_phy,
    (Oui.IEEE_802_3, 4): _u16("maximum_frame_size"),
    (Oui.PROFINET, 1): _pn_delays,
    (Oui.PROFINET, 2): _pn_port_status,
    (Oui.PROFINET, 3): _med_string("profinet_alias"),
    (Oui.PROFINET, 5): _pn_chassis_mac,
    # LLDP-MED inventory (ANSI/TIA-1057 §10.2.6): strings a station says of itself
    (Oui.TIA_TR_41, 5): _med_string("med_hardware_revision"),
    (Oui.TIA_TR_41, 6): _med_string("med_firmware_revision"),
    (Oui.TIA_TR_41, 7): _med_string("med_software_revision"),
    (Oui.TIA_TR_41, 8): _med_string("med_serial_number"),
    (Oui.TIA_TR_41, 9): _med_string("med_manufacturer_name"),
    (Oui.TIA_TR_41, 10): _med_string("med_model_name"),
    (Oui.TIA_TR_41, 11): _med_string("med_asset_id"),
}


def org_fields(oui: int, subtype: int, tlv: Tlv, data: bytes) -> dict[str, Any]:
    """The event fields of an organizationally specific TLV that is decoded; {} for the others."""
    decode = ORG.get((oui, subtype))
    return decode(tlv, data) if decode is not None else {}
