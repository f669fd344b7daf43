"""LLDP and CDP crafted with scapy's own dissectors (scapy.contrib.lldp, scapy.contrib.cdp), written to a pcap and
analysed by the CLI: names, platform, port and VLAN reach the events, and each station's asset.

The link: a SCALANCE switch announces its port 3 (VLAN 10) over LLDP, with management address 10.0.0.2; a
PROFINET PLC announces its own port over LLDP, with management address 10.0.0.10, and also speaks ARP from that
address (so its MAC joins its IP asset); a Cisco switch announces its port Gi0/5 (native VLAN 20) over CDP, with
address 10.0.0.1. The expectations are the values put into scapy's layers, never the package's output.
"""
from __future__ import annotations

import ipaddress
import json

import pytest
from helpers import run_otsensor
from scapy.contrib import cdp, lldp
from scapy.layers.l2 import ARP, LLC, SNAP, Dot3, Ether
from scapy.utils import wrpcap

SWITCH = {"mac": "00:1b:1b:aa:00:01", "name": "sw-cell-1", "port": "port-003", "port_description": "Port 3",
          "vlan": 10, "ip": "10.0.0.2", "description": "Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, "
                                                        "HW: 1, FW: V4.1"}
PLC = {"mac": "00:1b:1b:bb:00:02", "name": "plc-1", "port": "port-001.plc-1", "ip": "10.0.0.10",
       "description": "Siemens, SIMATIC S7, CPU 1511-1 PN, 6ES7 511-1AK02-0AB0, HW: 2, FW: V2.9.4"}
CISCO = {"mac": "00:00:0c:cc:00:03", "name": "core-sw", "port": "GigabitEthernet0/5", "vlan": 20, "ip": "10.0.0.1",
         "platform": "cisco WS-C2960-24TT-L", "version": "15.0(2)SE11",
         "software": "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)"}
LLDP_MULTICAST, CDP_MULTICAST = "01:80:c2:00:00:0e", "01:00:0c:cc:cc:cc"


def lldp_frame(station: dict, vlan: int | None) -> Ether:
    tlvs = (lldp.LLDPDUChassisID(subtype=0x04, id=station["mac"])
            / lldp.LLDPDUPortID(subtype=0x07, id=station["port"])
            / lldp.LLDPDUTimeToLive(ttl=20)
            / lldp.LLDPDUSystemName(system_name=station["name"])
            / lldp.LLDPDUSystemDescription(description=station["description"])
            / lldp.LLDPDUSystemCapabilities(mac_bridge_available=1, mac_bridge_enabled=1, station_only_available=1)
            / lldp.LLDPDUManagementAddress(management_address_subtype=0x01, management_address=ipaddress.IPv4Address(station["ip"]).packed,
                                           interface_numbering_subtype=0x02, interface_number=1))
    if "port_description" in station:
        tlvs = tlvs / lldp.LLDPDUPortDescription(description=station["port_description"])
    if vlan is not None:  # IEEE 802.1 Port VLAN ID (Annex D.2.1)
        tlvs = tlvs / lldp.LLDPDUGenericOrganisationSpecific(org_code=0x0080C2, subtype=1, data=vlan.to_bytes(2, "big"))
    return Ether(src=station["mac"], dst=LLDP_MULTICAST) / tlvs / lldp.LLDPDUEndOfLLDPDU()


def cdp_frame(station: dict) -> Dot3:
    msgs = [cdp.CDPMsgDeviceID(val=station["name"].encode()),
            cdp.CDPMsgSoftwareVersion(val=station["software"].encode()),
            cdp.CDPMsgPlatform(val=station["platform"].encode()),
            cdp.CDPMsgAddr(addr=[cdp.CDPAddrRecordIPv4(addr=station["ip"])]),
            cdp.CDPMsgPortID(iface=station["port"].encode()),
            cdp.CDPMsgCapabilities(cap=0x28),
            cdp.CDPMsgNativeVLAN(vlan=station["vlan"]),
            cdp.CDPMsgDuplex(duplex=1)]
    return (Dot3(src=station["mac"], dst=CDP_MULTICAST) / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
            / SNAP(OUI=0x0C, code=0x2000) / cdp.CDPv2_HDR(vers=2, ttl=180, msg=msgs))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], list[dict]]:
    tmp = tmp_path_factory.mktemp("lldp_cdp")
    frames = [lldp_frame(SWITCH, SWITCH["vlan"]), lldp_frame(PLC, None), cdp_frame(CISCO),
              Ether(src=PLC["mac"], dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=PLC["mac"], psrc=PLC["ip"], pdst="10.0.0.1")]
    for i, frame in enumerate(frames):
        frame.time = 1_700_000_000 + i
    wrpcap(str(tmp / "discovery.pcap"), frames)
    proc = run_otsensor("analyze", tmp / "discovery.pcap", "--strict", "--no-progress", "--db", tmp / "o.db",
                        "--events", tmp / "events.jsonl")
    assert proc.returncode == 0, proc.stderr[-3000:]
    listing = run_otsensor("assets", "--db", tmp / "o.db", "--format", "json")
    assert listing.returncode == 0, listing.stderr[-3000:]
    events = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines() if line.strip()]
    return events, json.loads(listing.stdout)


def asset(assets: list[dict], *, mac: str | None = None, ip: str | None = None) -> dict:
    found = [a for a in assets if (mac is None or a["mac"] == mac) and (ip is None or a["ip"] == ip)]
    assert len(found) == 1, (mac, ip, [(a["ip"], a["mac"]) for a in assets])
    return found[0]


def test_names_platform_port_and_vlan_reach_the_events(analysed: tuple[list[dict], list[dict]]) -> None:
    events, _ = analysed
    assert not [e for e in events if e["proto"] == "weird"]
    lldp_events = {e["src"]: e for e in events if e["proto"] == "lldp"}
    switch, plc = lldp_events[SWITCH["mac"]], lldp_events[PLC["mac"]]
    assert (switch["system_name"], switch["port_id"], switch["port_vlan_id"], switch["port_description"]) == (
        SWITCH["name"], SWITCH["port"], SWITCH["vlan"], SWITCH["port_description"])
    assert (switch["direction"], switch["action"], switch["dst"]) == ("announce", "discovery", LLDP_MULTICAST)
    assert (plc["system_name"], plc["port_id"], plc["chassis_id"]) == (PLC["name"], PLC["port"], PLC["mac"])
    assert [a["address"] for a in plc["management_addresses"]] == [PLC["ip"]]
    (cisco,) = [e for e in events if e["proto"] == "cdp"]
    assert (cisco["src"], cisco["device_id"], cisco["platform"], cisco["port_id"], cisco["native_vlan"]) == (
        CISCO["mac"], CISCO["name"], CISCO["platform"], CISCO["port"], CISCO["vlan"])
    assert cisco["software_version"] == CISCO["software"] and cisco["addresses"][0]["address"] == CISCO["ip"]


def test_each_station_is_named_and_identified_with_the_port_it_announced(
        analysed: tuple[list[dict], list[dict]]) -> None:
    _, assets = analysed
    switch = asset(assets, mac=SWITCH["mac"])
    assert switch["hostnames"] == [SWITCH["name"]]
    identity = switch["identity"]
    assert (identity["vendor"], identity["firmware"], identity["lldp_port_id"], identity["vlan"]) == (
        "Siemens", "V4.1", SWITCH["port"], SWITCH["vlan"])
    assert identity["system_description"] == SWITCH["description"]

    plc = asset(assets, ip=PLC["ip"])  # its MAC (from ARP) joins the station to its IP asset
    assert plc["mac"] == PLC["mac"] and plc["hostnames"] == [PLC["name"]]
    assert (plc["identity"]["lldp_port_id"], plc["identity"]["firmware"], plc["identity"]["order_code"]) == (
        PLC["port"], "V2.9.4", "6ES7 511-1AK02-0AB0")
    assert "vlan" not in plc["identity"]  # the switch's port VLAN is the switch's, not the PLC's

    cisco = asset(assets, mac=CISCO["mac"])
    assert cisco["hostnames"] == [CISCO["name"]]
    assert (cisco["identity"]["product"], cisco["identity"]["model"], cisco["identity"]["firmware"]) == (
        CISCO["platform"], "WS-C2960-24TT-L", CISCO["version"])
    assert (cisco["identity"]["cdp_port_id"], cisco["identity"]["vlan"], cisco["identity"]["vendor"]) == (
        CISCO["port"], CISCO["vlan"], "Cisco")


def test_management_addresses_are_named_and_identified(analysed: tuple[list[dict], list[dict]]) -> None:
    _, assets = analysed
    for station, vendor in ((SWITCH, "Siemens"), (CISCO, "Cisco")):
        managed = asset(assets, ip=station["ip"])
        assert station["name"] in managed["hostnames"]
        assert managed["identity"]["vendor"] == vendor
        assert managed["mac"] is None  # its MAC is never seen: the station's asset stays apart
