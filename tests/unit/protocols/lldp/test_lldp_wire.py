"""LLDP: TLVs to event fields and inventory facts, and every oddity to its weird code."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lldp_frames import lldpdu, management, org, switch_port, tlv  # noqa: E402

from protocols.base import ANNOUNCE, Fact, Malformed  # noqa: E402
from protocols.lldp import datagram  # noqa: E402
from protocols.lldp.codes import MAX_MANAGEMENT_ADDRESSES, MAX_TLVS, WEIRDS, org_tlv_name  # noqa: E402
from protocols.lldp.wire import oid_text  # noqa: E402


def one(payload: bytes):
    (message,) = datagram(payload, True)
    assert message.weird is None or message.weird in WEIRDS
    return message


def test_a_switch_port_gives_its_fields():
    m = one(switch_port("sw-cell-1", vlan=10, mgmt="10.0.0.2") + b"\0" * 20)  # Ethernet padding after the End TLV
    assert (m.function_name, m.action, m.direction, m.weird) == ("lldpdu", "discovery", ANNOUNCE, None)
    f = m.fields
    assert (f["chassis_id_subtype_name"], f["chassis_id"]) == ("mac_address", "00:1b:1b:01:02:03")
    assert (f["port_id_subtype_name"], f["port_id"], f["ttl"]) == ("interface_name", "Gi1/0/7", 120)
    assert (f["port_description"], f["system_name"]) == ("GigabitEthernet1/0/7", "sw-cell-1")
    assert f["system_capabilities"] == ["bridge", "router"] and f["enabled_capabilities"] == ["bridge"]
    assert f["management_addresses"] == [{"address_subtype": 1, "address_subtype_name": "ipv4", "address": "10.0.0.2",
                                          "interface_subtype": 2, "interface_subtype_name": "ifindex",
                                          "interface_number": 1}]
    assert f["port_vlan_id"] == 10 and f["vlan_names"] == [{"vlan_id": 10, "name": "cell"}]
    assert (f["autonegotiation_supported"], f["autonegotiation_enabled"], f["operational_mau_type"]) == (True, True, 16)
    assert f["profinet_chassis_mac"] == "00:1b:1b:01:02:03"
    assert f["org_tlvs"] == ["ieee_802_1/port_vlan_id", "ieee_802_1/vlan_name", "ieee_802_3/mac_phy_configuration_status",
                             "profinet/chassis_mac"]


def test_the_sender_and_its_management_address_are_named_and_identified_with_the_port():
    m = one(switch_port("sw-cell-1", vlan=10, mgmt="10.0.0.2"))
    facts = {(f.kind, f.about, f.address): f.value for f in m.facts}
    assert facts[("hostname", "src", None)] == "sw-cell-1"
    assert facts[("hostname", "address", "10.0.0.2")] == "sw-cell-1"
    own = facts[("identity", "src", None)]
    assert (own["vendor"], own["firmware"], own["order_code"], own["name"]) == (
        "Siemens", "V4.1", "6GK5 208-0BA00-2AC2", "sw-cell-1")
    assert (own["lldp_port_id"], own["lldp_port_description"], own["vlan"]) == ("Gi1/0/7", "GigabitEthernet1/0/7", 10)
    assert own["capabilities"] == "bridge,router" and own["system_description"].startswith("Siemens, SIMATIC NET")
    assert facts[("identity", "address", "10.0.0.2")] == own


def test_no_fact_about_an_unspecified_management_address():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07port-001", 20, tlv(5, b"plc-1"), management("0.0.0.0")))
    assert [f.about for f in m.facts] == ["src", "src"]


def test_a_station_without_names_still_tells_its_port():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07port-002", 20))
    assert m.facts == (Fact("identity", "src", {"lldp_chassis_id": "00:1b:1b:01:02:03", "lldp_port_id": "port-002"}),)


def test_a_shutdown_lldpdu():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07port-001", 0))
    assert (m.function_name, m.action, m.fields["ttl"]) == ("shutdown_lldpdu", "discovery", 0)


@pytest.mark.parametrize(("chassis", "shown"), [
    (b"\x05\x01\x0a\x00\x00\x07", "10.0.0.7"),  # network address: IANA family 1 (IPv4)
    (b"\x07plc-1", "plc-1"),  # locally assigned, printable
    (b"\x07\x00\xff\x10", "00ff10"),  # locally assigned, binary: hex
    (b"\x04\x00\x11", "0011"),  # a "MAC" of two octets: hex
])
def test_chassis_ids_as_a_person_reads_them(chassis: bytes, shown: str):
    m = one(tlv(1, chassis) + tlv(2, b"\x07p") + tlv(3, b"\0\x14") + b"\0\0")
    assert m.fields["chassis_id"] == shown


def test_the_mandatory_tlvs_come_first():
    m = one(tlv(5, b"sw") + tlv(1, b"\x07c") + tlv(2, b"\x07p") + tlv(3, b"\0\x14") + b"\0\0")
    assert m.weird == "lldp_missing_mandatory_tlv" and m.fields["system_name"] == "sw"


def test_a_duplicate_keeps_the_first():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, tlv(5, b"first"), tlv(5, b"second")))
    assert m.weird == "lldp_duplicate_tlv" and m.fields["system_name"] == "first"


def test_a_bad_tlv_costs_only_itself():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, tlv(7, b"\x00\x04"), org(0x0080C2, 1, b"\x05"), tlv(5, b"sw")))
    assert m.weird == "lldp_bad_tlv" and m.fields["system_name"] == "sw"
    assert "system_capabilities" not in m.fields and "port_vlan_id" not in m.fields


def test_a_truncated_tlv_keeps_the_ones_before():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, tlv(5, b"sw"), end=False) + struct.pack(">H", 6 << 9 | 40) + b"abc")
    assert m.weird == "lldp_truncated" and m.fields["system_name"] == "sw"


def test_a_payload_without_a_tlv_header_is_malformed():
    with pytest.raises(Malformed) as bad:
        datagram(b"\x02", True)
    assert bad.value.code == "lldp_truncated"


def test_tlvs_and_management_addresses_are_bounded():
    many = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, *[tlv(100, b"")] * (MAX_TLVS + 10)))
    assert many.weird == "lldp_too_many_tlvs" and len(many.fields["tlvs"]) == MAX_TLVS
    addresses = [management(f"10.0.1.{i}") for i in range(1, MAX_MANAGEMENT_ADDRESSES + 5)]
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, tlv(5, b"sw"), *addresses))
    assert m.weird == "lldp_too_many_tlvs" and len(m.fields["management_addresses"]) == MAX_MANAGEMENT_ADDRESSES
    assert sum(f.kind == "hostname" and f.about == "address" for f in m.facts) == MAX_MANAGEMENT_ADDRESSES


def test_unknown_organizations_and_subtypes_are_named_not_refused():
    assert org_tlv_name(0x009069, 1) == "oui_00:90:69/1"
    assert org_tlv_name(0x0080C2, 0x7F) == "ieee_802_1/unknown_0x7f"
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, org(0x009069, 1, b"x"), tlv(9, b"reserved type")))
    assert m.weird is None and m.fields["org_tlvs"] == ["oui_00:90:69/1"] and m.fields["tlvs"][-1] == "unknown_0x09"


def test_management_address_with_an_oid_and_ipv6():
    m = one(lldpdu("00:1b:1b:01:02:03", b"\x07p", 20, management("fd00::7", 3, bytes.fromhex("2b0601040181c06e"))))
    (address,) = m.fields["management_addresses"]
    assert (address["address"], address["interface_number"], address["oid"]) == ("fd00::7", 3, "1.3.6.1.4.1.24686")
    assert oid_text(b"\x2b\x86") == "2b86"  # ends inside an arc: shown in hex


@pytest.mark.parametrize(("chassis", "port", "name"), [
    (b"\x07siemens-x208-switch", b"\x07port-004", "siemens-x208-switch"),  # the chassis ID is the NameOfStation
    (b"\x07S7-1200   6ES7 214-1AG40-0XB0  S V-K2C13707", b"\x07port-001.plcxb1d0ed", "plcxb1d0ed"),  # in the port ID
    (b"\x07S7-1200   6ES7 214-1AG40-0XB0", b"\x07port-001", None),  # neither says it
])
def test_a_profinet_station_is_named_by_its_name_of_station(chassis: bytes, port: bytes, name: str | None):
    frame = (tlv(1, chassis) + tlv(2, port) + tlv(3, b"\0\x14") + org(0x000ECF, 2, b"\0\0\0\0") + b"\0\0")
    m = one(frame)
    assert [f.value for f in m.facts if f.kind == "hostname"] == ([name] if name else [])
    without_profinet = one(tlv(1, chassis) + tlv(2, port) + tlv(3, b"\0\x14") + b"\0\0")
    assert not [f for f in without_profinet.facts if f.kind == "hostname"]  # only PROFINET says what the ids hold
