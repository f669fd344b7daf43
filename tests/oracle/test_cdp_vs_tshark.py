"""The whole sensor against tshark's cdp dissector, on every corpus capture where tshark finds CDP.

One ``otsensor analyze --strict --events`` runs over the link-layer frames of all the captures (cut from them into
one pcap by ``discovery_oracle``: reading, IEEE 802.3 LLC/SNAP dispatch by OUI 00-00-0C and PID 0x2000, the
package, the events writer); tshark lists, per frame it dissects as ``cdp``, the version, TTL, device ID,
platform, port ID, software version, capabilities, native VLAN, duplex, VTP management domain and the IPv4
addresses of the address and management address TLVs. Each such frame must give exactly one of our events with
the same values, and we must give no CDP event tshark does not. The captures (``discovery_oracle.CDP_FILES``) are
9 files in the enip and it folders: Cisco 2950, 3560 and CE500 switches, CDP version 2.

There is no documented difference: the tools agree on every frame. Forms differ where they must: tshark shows
each line of the software version as a field of its own (compared with our text's lines); capabilities are
compared as their bit value, duplex as tshark's boolean (1 full, 0 half); an empty string (the VTP management
domain of most of these switches) is an empty cell in tshark's field output, the same as an absent field, so
our empty strings are compared as absent; the IPv4 addresses of both address
TLVs are one list in tshark's ``cdp.nrgyz.ip_address`` (its address TLV decoder uses that field), compared with
ours in the same order. The checksum is not compared: the sensor does not verify it (see protocols/cdp/wire.py).
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import discovery_oracle as do
import pytest

from protocols.cdp.codes import CAPABILITIES

FIELDS = ("frame.number", "cdp.version", "cdp.ttl", "cdp.deviceid", "cdp.platform", "cdp.portid",
          "cdp.software_version", "cdp.capabilities", "cdp.native_vlan", "cdp.duplex", "cdp.vtp_management_domain",
          "cdp.nrgyz.ip_address")
FILES = do.present(do.CDP_FILES)


def tshark_rows(rows: list[list[list[str]]]) -> Counter:
    out: Counter = Counter()
    for frame, version, ttl, device, platform, port, software, caps, vlan, duplex, vtp, addresses in rows:
        out[(int(frame[0]), do.number(version), do.number(ttl), do.first(device), do.first(platform), do.first(port),
             tuple(software), do.number(caps), do.number(vlan), do.number(duplex), do.first(vtp), tuple(addresses))] += 1
    return out


def our_rows(events: list[dict]) -> Counter:
    rows: Counter = Counter()
    for e in events:
        if e.get("proto") != "cdp":
            continue
        software = e.get("software_version")
        addresses = [a["address"] for key in ("addresses", "management_addresses") for a in e.get(key, ())
                     if a["protocol"] == "ip"]
        duplex = e.get("duplex")
        rows[(e["frame"], e["version"], e["ttl"], e.get("device_id") or None, e.get("platform") or None,
              e.get("port_id") or None,
              tuple(software.split("\n")) if software is not None else (),
              do.bits(e.get("capabilities"), CAPABILITIES), e.get("native_vlan"), None if duplex is None else int(duplex == "full"),
              e.get("vtp_management_domain") or None, tuple(addresses))] += 1
    return rows


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[dict, dict]:
    tmp = tmp_path_factory.mktemp("cdp")
    cut = do.cut(FILES, tmp)
    return do.tshark_fields(cut, "cdp", FIELDS), do.analyze(cut, tmp)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no corpus"))],
                         ids=lambda p: p.name if p else "none")
def test_cdp_matches_tshark(path: Path, both: tuple[dict, dict]) -> None:
    do.assert_agree(path, tshark_rows(both[0].get(path, [])), our_rows(both[1].get(path, [])), "CDP")
