"""A CDP frame as a protocol-neutral ``Message``: event fields in Cisco's (and Wireshark's) words and the facts of
its sender.

Every CDP frame is a device advertising itself to its directly connected neighbours (direction ``announce``,
action ``discovery``): its device ID, software, platform, capabilities, the port the frame left through (and
that port's native VLAN) and its addresses. Facts are those of every link-layer discovery protocol
(``protocols.lldp.facts``): the platform is the product (``model`` without the vendor's word), the firmware the
version the software version states.
"""
from __future__ import annotations

from typing import Any

from protocols.base import ANNOUNCE, Fact, Malformed, Message
from protocols.cdp.codes import ACTIONS, TlvType, tlv_type_name
from protocols.cdp.wire import CdpFrame, address_entries, tlv_fields
from protocols.lldp.facts import firmware_of, station_facts, vendor_of

ADDRESS_LISTS = {TlvType.ADDRESSES: "addresses", TlvType.MANAGEMENT_ADDRESSES: "management_addresses"}
IP_PROTOCOLS = frozenset({"ip", "ipv6"})


def cdp_message(frame: CdpFrame) -> Message:
    """The message of one CDP frame; a TLV that cannot be read costs that TLV (and sets the weird), not the message."""
    weird = ("cdp_truncated" if frame.truncated else "cdp_bad_tlv" if frame.bad_length
             else "cdp_too_many_tlvs" if frame.too_many else None)
    if frame.version not in (1, 2):
        weird = weird or "cdp_unknown_version"
    fields: dict[str, Any] = {"version": frame.version, "ttl": frame.ttl, "checksum": frame.checksum,
                              "tlvs": [tlv_type_name(t.type) for t in frame.tlvs]}
    for tlv in frame.tlvs:
        try:
            if tlv.type in ADDRESS_LISTS:
                entries, more = address_entries(tlv)
                if more:
                    weird = weird or "cdp_too_many_tlvs"
                fields.setdefault(ADDRESS_LISTS[tlv.type], entries)
                continue
            for key, value in tlv_fields(tlv).items():
                fields.setdefault(key, value)  # the first TLV of a kind speaks
        except Malformed as bad:
            weird = weird or bad.code
    return Message(function_code=0, function_name="advertisement", action=ACTIONS["advertisement"],
                   direction=ANNOUNCE, fields=fields, facts=_facts(fields), weird=weird)


def _facts(fields: dict[str, Any]) -> tuple[Fact, ...]:
    software, platform = fields.get("software_version"), fields.get("platform")
    vendor = vendor_of(platform) or vendor_of(software)
    model = platform
    if platform and vendor and vendor_of(platform) == vendor:  # "cisco WS-C3560-24TS": the model after the vendor
        model = platform.split(None, 1)[1] if " " in platform.strip() else platform
    identity = {"vendor": vendor, "product": platform, "model": model, "firmware": firmware_of(software),
                "system_description": software, "capabilities": ",".join(fields.get("capabilities", ()))}
    port = {"cdp_port_id": fields.get("port_id"), "vlan": fields.get("native_vlan")}
    addresses = [entry["address"] for key in ("addresses", "management_addresses")
                 for entry in fields.get(key, ()) if entry["protocol"] in IP_PROTOCOLS]
    return station_facts(fields.get("device_id"), identity, port, addresses)
