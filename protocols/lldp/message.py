"""An LLDPDU as a protocol-neutral ``Message``: event fields in 802.1AB's words and the facts of its sender.

Every LLDPDU is a station announcing itself (direction ``announce``, action ``discovery``) to the nearest-bridge
group address: it names the station (chassis ID, system name), the port the frame left through (port ID, port
description, that port's VLAN) and the addresses it is managed at. The station plugged in at the other end of
the link is not named by the frame: it says so in its own LLDPDUs. A PROFINET station sends no system name; its
NameOfStation is in its chassis or port ID (``profinet_name``).
"""
from __future__ import annotations

from typing import Any

from protocols.base import ANNOUNCE, Fact, Malformed, Message
from protocols.lldp.codes import (
    ACTIONS,
    MANDATORY,
    MAX_MANAGEMENT_ADDRESSES,
    MAX_VLAN_NAMES,
    ONCE,
    AddressFamily,
    ChassisIdSubtype,
    TlvType,
    org_tlv_name,
    tlv_type_name,
)
from protocols.lldp.facts import firmware_of, order_code_of, station_facts, vendor_of
from protocols.lldp.wire import Lldpdu, basic_fields, management_address, org_fields, org_header
from protocols.profinet.wire import valid_station_name

IP_FAMILIES = frozenset({AddressFamily.IPV4, AddressFamily.IPV6})


def lldp_message(pdu: Lldpdu) -> Message:
    """The message of one LLDPDU; a TLV that cannot be read costs that TLV (and sets the weird), not the message."""
    weird = "lldp_truncated" if pdu.truncated else "lldp_too_many_tlvs" if pdu.too_many else None
    if tuple(t.type for t in pdu.tlvs[:3]) != MANDATORY:
        weird = weird or "lldp_missing_mandatory_tlv"
    fields: dict[str, Any] = {"tlvs": [tlv_type_name(t.type) for t in pdu.tlvs]}
    addresses: list[dict[str, Any]] = []
    vlan_names: list[dict[str, Any]] = []
    org_tlvs: list[str] = []
    seen: set[int] = set()
    for tlv in pdu.tlvs:
        try:
            if tlv.type in ONCE:
                if tlv.type in seen:
                    weird = weird or "lldp_duplicate_tlv"
                    continue
                seen.add(tlv.type)
                fields.update(basic_fields(tlv))
            elif tlv.type == TlvType.MANAGEMENT_ADDRESS:
                if len(addresses) == MAX_MANAGEMENT_ADDRESSES:
                    weird = weird or "lldp_too_many_tlvs"
                    continue
                addresses.append(management_address(tlv))
            elif tlv.type == TlvType.ORGANIZATIONALLY_SPECIFIC:
                oui, subtype, data = org_header(tlv)
                org_tlvs.append(org_tlv_name(oui, subtype))
                decoded = org_fields(oui, subtype, tlv, data)
                if "vlan_name" in decoded:
                    if len(vlan_names) == MAX_VLAN_NAMES:
                        weird = weird or "lldp_too_many_tlvs"
                    else:
                        vlan_names.append(decoded.pop("vlan_name"))
                for key, value in decoded.items():
                    fields.setdefault(key, value)  # the first TLV of a kind speaks
        except Malformed as bad:
            weird = weird or bad.code
    if addresses:
        fields["management_addresses"] = addresses
    if vlan_names:
        fields["vlan_names"] = vlan_names
    if org_tlvs:
        fields["org_tlvs"] = org_tlvs
    name = "shutdown_lldpdu" if fields.get("ttl") == 0 else "lldpdu"  # TTL 0: forget me (§9.2.7.2)
    return Message(function_code=0, function_name=name, action=ACTIONS[name], direction=ANNOUNCE,
                   fields=fields, facts=_facts(fields, addresses), weird=weird)


def _facts(fields: dict[str, Any], addresses: list[dict[str, Any]]) -> tuple[Fact, ...]:
    """The sender's name, identity and announced port; the same name and identity for its management addresses."""
    description = fields.get("system_description")
    vendor = fields.get("med_manufacturer_name") or vendor_of(description)
    identity = {
        "vendor": vendor, "model": fields.get("med_model_name"),
        "firmware": fields.get("med_firmware_revision") or fields.get("med_software_revision") or firmware_of(description),
        "serial": fields.get("med_serial_number"), "order_code": order_code_of(description, vendor),
        "system_description": description, "capabilities": ",".join(fields.get("system_capabilities", ())),
        "lldp_chassis_id": fields.get("chassis_id"),
    }
    port = {"lldp_port_id": fields.get("port_id"), "lldp_port_description": fields.get("port_description"),
            "vlan": fields.get("port_vlan_id")}
    managed = [a["address"] for a in addresses if a["address_subtype"] in IP_FAMILIES]
    return station_facts(fields.get("system_name") or profinet_name(fields), identity, port, managed)


def profinet_name(fields: dict[str, Any]) -> str | None:
    """The NameOfStation of a PROFINET station, which sends no system name (IEC 61158-6-10, LLDP_ChassisID and
    LLDP_PortID): a locally assigned chassis ID is the NameOfStation, or, where it holds the station's system
    identification instead (``S7-1200  6ES7 214-...``), the port ID is ``port-xyz.NameOfStation``."""
    if fields.get("chassis_id_subtype") != ChassisIdSubtype.LOCALLY_ASSIGNED or not any(
            name.startswith("profinet/") for name in fields.get("org_tlvs", ())):
        return None
    chassis = fields.get("chassis_id", "")
    if valid_station_name(chassis):
        return chassis
    head, dot, name = str(fields.get("port_id", "")).partition(".")
    return name if dot and head.startswith("port-") and valid_station_name(name) else None
