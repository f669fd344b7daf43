"""LLDP numbers and their names (IEEE 802.1AB-2016 §8.5, Annex D for 802.1 and IEEE 802.3 clause 79 for 802.3
organizationally specific TLVs, IEC 61158-6-10 for PROFINET's), the one action table and the weird codes.

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..``. Names are the standard's terms in
snake_case, which are also Wireshark's (``chassis_id``, ``port_vlan_id``, ``station_only``).
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

ETHERTYPE = 0x88CC  # §7.2 (the LLDP Ethertype)

MAX_TLVS = 256  # a 1500-octet LLDPDU holds at most 750 empty TLVs; real ones carry 10 to 30
MAX_MANAGEMENT_ADDRESSES = 16  # §8.5.9: one TLV per address; more than a handful is crafted
MAX_VLAN_NAMES = 64  # Annex D.2.3: one VLAN Name TLV per VLAN of the port


class TlvType(IntEnum):
    """TLV type values (§8.4.1, Table 8-1)."""

    END_OF_LLDPDU = 0
    CHASSIS_ID = 1
    PORT_ID = 2
    TIME_TO_LIVE = 3
    PORT_DESCRIPTION = 4
    SYSTEM_NAME = 5
    SYSTEM_DESCRIPTION = 6
    SYSTEM_CAPABILITIES = 7
    MANAGEMENT_ADDRESS = 8
    ORGANIZATIONALLY_SPECIFIC = 127


MANDATORY = (TlvType.CHASSIS_ID, TlvType.PORT_ID, TlvType.TIME_TO_LIVE)
"""The first three TLVs of every LLDPDU, in this order (§8.2); a receiver discards a frame without them (§9.2.7.7.1)."""
ONCE = frozenset({TlvType.CHASSIS_ID, TlvType.PORT_ID, TlvType.TIME_TO_LIVE, TlvType.PORT_DESCRIPTION,
                  TlvType.SYSTEM_NAME, TlvType.SYSTEM_DESCRIPTION, TlvType.SYSTEM_CAPABILITIES})
"""TLVs an LLDPDU carries at most once (§8.2, §9.2.7.7.2)."""


class ChassisIdSubtype(IntEnum):
    """Chassis ID subtypes (§8.5.2.2, Table 8-2)."""

    CHASSIS_COMPONENT = 1
    INTERFACE_ALIAS = 2
    PORT_COMPONENT = 3
    MAC_ADDRESS = 4
    NETWORK_ADDRESS = 5
    INTERFACE_NAME = 6
    LOCALLY_ASSIGNED = 7


class PortIdSubtype(IntEnum):
    """Port ID subtypes (§8.5.3.2, Table 8-3)."""

    INTERFACE_ALIAS = 1
    PORT_COMPONENT = 2
    MAC_ADDRESS = 3
    NETWORK_ADDRESS = 4
    INTERFACE_NAME = 5
    AGENT_CIRCUIT_ID = 6
    LOCALLY_ASSIGNED = 7


class AddressFamily(IntEnum):
    """IANA address family numbers, which network-address ids and management addresses start with (§8.5.9.4)."""

    IPV4 = 1
    IPV6 = 2
    ALL_802 = 6  # a MAC address


class InterfaceSubtype(IntEnum):
    """Interface numbering subtype of a management address (§8.5.9.5)."""

    UNKNOWN = 1
    IFINDEX = 2
    SYSTEM_PORT_NUMBER = 3


CAPABILITIES = ("other", "repeater", "bridge", "wlan_access_point", "router", "telephone", "docsis_cable_device",
                "station_only", "c_vlan_component", "s_vlan_component", "two_port_mac_relay")
"""System capabilities, bit 0 first (§8.5.8.1, Table 8-4)."""


class Oui(IntEnum):
    """Organizations whose TLVs are named (the OUI of an organizationally specific TLV, §8.6)."""

    IEEE_802_1 = 0x0080C2
    IEEE_802_3 = 0x00120F
    TIA_TR_41 = 0x0012BB  # LLDP-MED (ANSI/TIA-1057)
    PROFINET = 0x000ECF  # PROFIBUS Nutzerorganisation (IEC 61158-6-10)
    CISCO = 0x000142
    IEEE_802_1QBG = 0x001B3F
    HYTEC = 0x30B216


SUBTYPES: dict[int, dict[int, str]] = {
    Oui.IEEE_802_1: {1: "port_vlan_id", 2: "port_and_protocol_vlan_id", 3: "vlan_name", 4: "protocol_identity",
                     5: "vid_usage_digest", 6: "management_vid", 7: "link_aggregation", 8: "congestion_notification",
                     9: "ets_configuration", 10: "ets_recommendation", 11: "priority_based_flow_control",
                     12: "application_priority", 13: "evb", 14: "cdcp"},  # Annex D, Table D-1
    Oui.IEEE_802_3: {1: "mac_phy_configuration_status", 2: "power_via_mdi", 3: "link_aggregation",
                     4: "maximum_frame_size", 5: "eee", 6: "eee_fast_wake"},  # IEEE 802.3 Table 79-1
    Oui.TIA_TR_41: {1: "capabilities", 2: "network_policy", 3: "location_identification", 4: "extended_power_via_mdi",
                    5: "hardware_revision", 6: "firmware_revision", 7: "software_revision", 8: "serial_number",
                    9: "manufacturer_name", 10: "model_name", 11: "asset_id"},  # ANSI/TIA-1057 §10.2
    Oui.PROFINET: {1: "measured_delay_values", 2: "port_status", 3: "alias", 4: "mrp_port_status", 5: "chassis_mac",
                   6: "ptcp_status", 7: "mau_type_extension", 8: "mrpic_port_status"},  # IEC 61158-6-10 (LLDP_PNIO_*)
    Oui.CISCO: {1: "four_wire_power_via_mdi"},
}

tlv_type_name = namer(TlvType, "an LLDP TLV type")
chassis_id_subtype_name = namer(ChassisIdSubtype, "a chassis ID subtype")
port_id_subtype_name = namer(PortIdSubtype, "a port ID subtype")
address_family_name = namer(AddressFamily, "an IANA address family")
interface_subtype_name = namer(InterfaceSubtype, "an interface numbering subtype")
_oui_name = namer(Oui, "an LLDP organization")
KNOWN_OUIS = frozenset(int(o) for o in Oui)


def oui_text(oui: int) -> str:
    return f"{oui >> 16:02x}:{(oui >> 8) & 0xFF:02x}:{oui & 0xFF:02x}"


def org_tlv_name(oui: int, subtype: int) -> str:
    """``ieee_802_1/port_vlan_id``, ``profinet/chassis_mac``; an unknown organization by its OUI (``oui_00:90:69/1``)."""
    if oui not in KNOWN_OUIS:
        return f"oui_{oui_text(oui)}/{subtype}"
    return f"{_oui_name(oui)}/{SUBTYPES.get(oui, {}).get(subtype) or unknown_name(subtype)}"


def capability_names(bits: int) -> list[str]:
    """The capabilities whose bit is set; reserved bits as ``unknown_0x..`` of the bit's value."""
    names = [name for i, name in enumerate(CAPABILITIES) if bits >> i & 1]
    return names + [unknown_name(1 << i) for i in range(len(CAPABILITIES), 16) if bits >> i & 1]


# --- the one action table ---------------------------------------------------------------------------------
# An LLDPDU is a station advertising itself to its link neighbours (§6.1); a shutdown LLDPDU (TTL 0, §9.2.7.2) tells
# them to forget it. Both are discovery: nothing is read from or written to anyone.
ACTIONS: Mapping[str, str] = MappingProxyType({
    "lldpdu": "discovery",
    "shutdown_lldpdu": "discovery",
})

WEIRDS: Mapping[str, str] = MappingProxyType({
    "lldp_truncated": "the frame ends inside a TLV (its header or the value its length announces, §8.4); the TLVs "
                      "before it are kept",
    "lldp_missing_mandatory_tlv": "the LLDPDU does not start with chassis ID, port ID and TTL in that order (§8.2): "
                                  "a receiver discards it (§9.2.7.7.1); the sensor shows what it carries",
    "lldp_duplicate_tlv": "a TLV that may appear once (chassis ID, port ID, TTL, port description, system name, "
                          "system description, system capabilities) appears again (§9.2.7.7.2); the first one speaks",
    "lldp_bad_tlv": "a TLV too short or too long for its content (a chassis ID without its subtype, a TTL not of "
                    "2 octets, a management address whose lengths do not add up, an organizationally specific TLV "
                    "without OUI and subtype...); that TLV is skipped",
    "lldp_too_many_tlvs": "more than MAX_TLVS TLVs, or more management addresses or VLAN names than kept "
                          "(MAX_MANAGEMENT_ADDRESSES, MAX_VLAN_NAMES): the rest is not read",
})
