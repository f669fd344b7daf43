"""The whole sensor against tshark's lldp dissector, on every corpus capture where tshark finds LLDP.

One ``otsensor analyze --strict --events`` runs over the link-layer frames of all the captures (cut from them into
one pcap by ``discovery_oracle``: reading, VLAN tags, dispatch by ethertype 0x88CC, the package, the events writer); tshark lists, per frame it dissects as ``lldp``, the chassis ID (subtype
and value), port ID (subtype and value), TTL, system name, system description, port description, system and
enabled capabilities, the IPv4 management addresses, the 802.1 port VLAN ID and the PROFINET chassis MAC. Each
such frame must give exactly one of our events with the same values, and we must give no LLDP event tshark does
not. The captures (``discovery_oracle.LLDP_FILES``) are 22 files in the dnp3, enip, iec104, it, mixed, modbus,
profinet and s7comm folders: LLDP from Cisco 3560 switches, a D-Link switch, Siemens S7-1200 CPUs and a SCALANCE
X208, and Windows hosts running a PROFINET stack.

There is no documented difference: the tools agree on every frame. Forms differ where they must: tshark shows a
chassis ID that is not a MAC or an address as hex octets, which are compared as the text they spell when they
are printable (ours is that text); capabilities are compared as their bit values.
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import discovery_oracle as do
import pytest

from protocols.lldp.codes import CAPABILITIES

FIELDS = ("frame.number", "lldp.chassis.subtype", "lldp.chassis.id.mac", "lldp.chassis.id.ip4", "lldp.chassis.id",
          "lldp.port.subtype", "lldp.port.id.mac", "lldp.port.id", "lldp.time_to_live", "lldp.tlv.system.name",
          "lldp.tlv.system.desc", "lldp.port.desc", "lldp.tlv.system_cap", "lldp.tlv.enable_system_cap",
          "lldp.mgn.addr.ip4", "lldp.ieee.802_1.port_vlan.id", "lldp.profinet.cm_mac_add")
FILES = do.present(do.LLDP_FILES)


def readable(hex_octets: str) -> str:
    """tshark's hex chassis ID as the text it spells, when it spells printable text."""
    try:
        text = bytes.fromhex(hex_octets.replace(":", "")).decode("utf-8")
    except ValueError:
        return hex_octets
    return text if text and text.isprintable() else hex_octets


def tshark_rows(rows: list[list[list[str]]]) -> Counter:
    out: Counter = Counter()
    for (frame, csub, cmac, cip, cid, psub, pmac, pid, ttl, name, desc, pdesc, caps, enabled, mgmt, pvid,
         pnmac) in rows:
        chassis = do.first(cmac) or do.first(cip) or (readable(cid[0]) if cid else None)
        out[(int(frame[0]), do.number(csub), chassis, do.number(psub), do.first(pmac) or do.first(pid), do.number(ttl),
             do.first(name), do.first(desc), do.first(pdesc), do.number(caps), do.number(enabled), tuple(mgmt), do.number(pvid),
             do.first(pnmac))] += 1
    return out


def our_rows(events: list[dict]) -> Counter:
    return Counter((e["frame"], e.get("chassis_id_subtype"), e.get("chassis_id"), e.get("port_id_subtype"),
                    e.get("port_id"), e.get("ttl"), e.get("system_name"), do.escaped(e.get("system_description")),
                    e.get("port_description"), do.bits(e.get("system_capabilities"), CAPABILITIES),
                    do.bits(e.get("enabled_capabilities"), CAPABILITIES),
                    tuple(a["address"] for a in e.get("management_addresses", ()) if a["address_subtype"] == 1),
                    e.get("port_vlan_id"), e.get("profinet_chassis_mac"))
                   for e in events if e.get("proto") == "lldp")


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("lldp")
    cut = do.cut(FILES, tmp)
    return do.tshark_fields(cut, "lldp", FIELDS), do.analyze(cut, tmp)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no corpus"))],
                         ids=lambda p: p.name if p else "none")
def test_lldp_matches_tshark(path: Path, both: tuple[dict, dict]) -> None:
    do.assert_agree(path, tshark_rows(both[0].get(path, [])), our_rows(both[1].get(path, [])), "LLDP")
