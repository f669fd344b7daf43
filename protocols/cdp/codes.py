"""CDP numbers and their names (Cisco Discovery Protocol versions 1 and 2, as Cisco documents them and Wireshark's
packet-cdp.c decodes them), the one action table and the weird codes.

CDP has no public specification; the TLV types and capability bits are the ones Cisco's configuration guides and
Wireshark name. Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

OUI_CISCO = 0x00000C
PID_CDP = 0x2000  # LLC/SNAP (DSAP/SSAP 0xAA, control 0x03) with Cisco's OUI, to 01:00:0c:cc:cc:cc
HEADER = 4  # Version(1) TTL(1) Checksum(2)
TLV_HEADER = 4  # Type(2) Length(2), the length counting the header

MAX_TLVS = 128  # a 1500-octet frame holds at most 374 empty TLVs; real ones carry about 15
MAX_ADDRESSES = 16  # per address TLV: its 32-bit count must not drive a loop


class TlvType(IntEnum):
    """CDP TLV types (packet-cdp.c ``type_vals``)."""

    DEVICE_ID = 0x0001
    ADDRESSES = 0x0002
    PORT_ID = 0x0003
    CAPABILITIES = 0x0004
    SOFTWARE_VERSION = 0x0005
    PLATFORM = 0x0006
    IP_PREFIXES = 0x0007
    PROTOCOL_HELLO = 0x0008
    VTP_MANAGEMENT_DOMAIN = 0x0009
    NATIVE_VLAN = 0x000A
    DUPLEX = 0x000B
    VOIP_VLAN_REPLY = 0x000E
    VOIP_VLAN_QUERY = 0x000F
    POWER_CONSUMPTION = 0x0010
    MTU = 0x0011
    TRUST_BITMAP = 0x0012
    UNTRUSTED_PORT_COS = 0x0013
    SYSTEM_NAME = 0x0014
    SYSTEM_OBJECT_ID = 0x0015
    MANAGEMENT_ADDRESSES = 0x0016
    LOCATION = 0x0017
    EXTERNAL_PORT_ID = 0x0018
    POWER_REQUESTED = 0x0019
    POWER_AVAILABLE = 0x001A
    PORT_UNIDIRECTIONAL = 0x001B
    ENERGYWISE = 0x001D
    SPARE_POE = 0x001F


CAPABILITIES = ("router", "transparent_bridge", "source_route_bridge", "switch", "host", "igmp_capable", "repeater",
                "voip_phone", "remotely_managed_device", "cvta_stp_dispute_resolution", "two_port_mac_relay")
"""Capability bits, bit 0 first (packet-cdp.c ``hf_cdp_capabilities_*``)."""

NLPID_IP = 0xCC  # protocol type 1 (NLPID), protocol 0xCC: an IPv4 address
SNAP_IPV6 = bytes.fromhex("aaaa0300000086dd")  # protocol type 2 (802.2), the SNAP header of IPv6
PROTOCOL_TYPES = {1: "nlpid", 2: "802.2"}
NLPIDS = {0xCC: "ip", 0x81: "clnp", 0x8E: "ipv6"}
SNAP_PROTOCOLS = {SNAP_IPV6: "ipv6", bytes.fromhex("aaaa030000000800"): "ip", bytes.fromhex("aaaa030000006003"): "decnet",
                  bytes.fromhex("aaaa03000000809b"): "appletalk", bytes.fromhex("aaaa030000008137"): "ipx"}

tlv_type_name = namer(TlvType, "a CDP TLV type")
PROTOCOL_HELLOS = {0x0112: "cluster_management"}


def capability_names(bits: int) -> list[str]:
    names = [name for i, name in enumerate(CAPABILITIES) if bits >> i & 1]
    return names + [unknown_name(1 << i) for i in range(len(CAPABILITIES), 32) if bits >> i & 1]


def protocol_name(protocol_type: int, protocol: bytes) -> str:
    """``ip``, ``ipv6``, ``clnp``...: what network protocol an address entry is of."""
    if protocol_type == 1 and len(protocol) == 1:
        return NLPIDS.get(protocol[0]) or unknown_name(protocol[0])
    if protocol_type == 2:
        return SNAP_PROTOCOLS.get(protocol) or f"unknown_{protocol.hex()}"
    return unknown_name(protocol_type)


# --- the one action table ---------------------------------------------------------------------------------
# A CDP frame is a device advertising itself to its directly connected neighbours: discovery.
ACTIONS: Mapping[str, str] = MappingProxyType({
    "advertisement": "discovery",
})

WEIRDS: Mapping[str, str] = MappingProxyType({
    "cdp_truncated": "a frame shorter than the 4-octet CDP header, or a TLV whose length runs past the frame; the "
                     "TLVs before it are kept",
    "cdp_unknown_version": "a CDP version other than 1 or 2",
    "cdp_bad_tlv": "a TLV length below 4 (the TLVs after it cannot be found), or a value too short for its type "
                   "(an address entry past the TLV's end, a native VLAN not of 2 octets...); that TLV is skipped",
    "cdp_too_many_tlvs": "more than MAX_TLVS TLVs, or an address TLV listing more than MAX_ADDRESSES addresses: "
                         "the rest is not read",
})
