"""What a link-layer discovery advertisement teaches the inventory, written once for LLDP and CDP.

Both are a station describing itself to its link neighbours: its name, what it is (the system description or
platform, its software, its capabilities), the port the frame left through (and that port's VLAN), and the
addresses it can be managed at. So the facts are:

- about the sender (``src``, its MAC): ``hostname`` (system name / device ID) and ``identity`` (vendor, product,
  model, firmware where the text says them clearly, ``system_description``, ``capabilities``, the port keys);
- about each management address (``about="address"``): the same name and identity. The port keys go too: a
  station managed at its own address (a PLC, a host) is one asset once its MAC joins that IP asset, and the
  inventory keeps the IP asset's identity over the station's (``sensor.store.tables.fold_station``), so
  without them the port would be lost; for a switch managed at an SVI they are one port of that switch, as they
  are for its MAC.

Vendors come from the first words of a description or platform only when they name a vendor of the table
below: a wrong vendor is worse than none, and the MAC vendor (IEEE OUI) is on the asset as well.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from protocols.base import Fact

VENDORS: tuple[tuple[str, str], ...] = (
    ("siemens", "Siemens"), ("cisco", "Cisco"), ("hirschmann", "Hirschmann"), ("phoenix contact", "Phoenix Contact"),
    ("moxa", "Moxa"), ("rockwell automation", "Rockwell Automation"), ("allen-bradley", "Rockwell Automation"),
    ("schneider electric", "Schneider Electric"), ("juniper networks", "Juniper Networks"), ("juniper", "Juniper Networks"),
    ("arista networks", "Arista Networks"), ("extreme networks", "Extreme Networks"), ("hewlett-packard", "HP"),
    ("hewlett packard", "HP"), ("procurve", "HP"), ("aruba", "Aruba"), ("huawei", "Huawei"), ("d-link", "D-Link"),
    ("netgear", "Netgear"), ("tp-link", "TP-Link"), ("ubiquiti", "Ubiquiti"), ("mikrotik", "MikroTik"),
    ("westermo", "Westermo"), ("belden", "Belden"), ("wago", "WAGO"), ("beckhoff", "Beckhoff"), ("abb", "ABB"),
    ("asustek", "ASUSTeK"), ("dell", "Dell"), ("brocade", "Brocade"), ("fortinet", "Fortinet"),
    ("ruggedcom", "Siemens"), ("scalance", "Siemens"), ("simatic", "Siemens"),
)
"""(lower-case first words of a description, vendor): only names that cannot be read another way."""
FIRMWARE = (re.compile(r"\bFW:\s*(V?[\w.]+)"),  # PROFINET system descriptions: "..., HW: 7, FW: V.4.2.1, ..."
            re.compile(r",\s*Version\s+([^\s,]+)"))  # Cisco IOS: "Cisco IOS Software, ..., Version 12.2(44)SE, ..."
ORDER_CODE = re.compile(r"\b(6[A-Z]{2}\d ?\d{3}-\d[A-Z0-9]{4}-\d[A-Z0-9]{3})\b")  # a Siemens order number (MLFB)
MAX_NAME = 255  # §8.5.6: a system name of at most 255 octets


def vendor_of(text: str | None) -> str | None:
    """The vendor a description or platform starts with, when the table knows it."""
    if not text:
        return None
    low = text.lstrip().lower()
    for prefix, vendor in VENDORS:
        if low.startswith(prefix) and (len(low) == len(prefix) or not low[len(prefix)].isalnum()):
            return vendor
    return None


def firmware_of(text: str | None) -> str | None:
    """The software version a description states in one of the known forms (``FW: V4.2.1``, ``, Version 15.0``)."""
    for pattern in FIRMWARE:
        match = pattern.search(text or "")
        if match:
            return match.group(1).rstrip(".")
    return None


def order_code_of(text: str | None, vendor: str | None) -> str | None:
    match = ORDER_CODE.search(text or "") if vendor == "Siemens" else None
    return match.group(1) if match else None


def usable_name(name: str | None) -> str | None:
    """A name fit for an inventory: printable, not empty, not longer than a system name may be."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or not name.isprintable() or "\ufffd" in name:
        return None
    return name


def host_address(address: str) -> str | None:
    """The address in canonical form if it can be a device's (not unspecified, multicast, loopback, broadcast)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_unspecified or ip.is_multicast or ip.is_loopback or ip == ipaddress.IPv4Address("255.255.255.255"):
        return None
    return str(ip)


def station_facts(name: str | None, identity: Mapping[str, Any], port: Mapping[str, Any],
                  addresses: Iterable[str]) -> tuple[Fact, ...]:
    """Hostname and identity (with the ``port`` keys) of the sender (``src``) and of each of its management ``addresses``."""
    name = usable_name(name)
    own = {k: v for k, v in {**identity, **port}.items() if v is not None and v != ""}
    if name:
        own.setdefault("name", name)
    managed = dict.fromkeys(filter(None, map(host_address, addresses)))  # canonical, each once, in order
    facts: list[Fact] = []
    for about, address in [("src", None)] + [("address", a) for a in managed]:
        if name:
            facts.append(Fact("hostname", about, name, address=address))
        if own:
            facts.append(Fact("identity", about, own, address=address))
    return tuple(facts)
