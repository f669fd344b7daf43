"""Which addresses are hosts. Broadcast, multicast and unspecified addresses are destinations, never devices:
they become no asset and no policy party, and a datagram sent to them counts for its sender only.
Directed broadcasts (x.y.z.255 of a /24) are only known from the zones of a policy, so the caller passes them."""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

MAC48 = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
LINK_KEY = re.compile(r"[a-z0-9_]+:[0-9]{1,5}:[0-9a-f]{1,32}")  # a protocol's own link address: bacnet:NET:MAC


@lru_cache(maxsize=65_536)
def is_host(address: str) -> bool:
    """False for 0.0.0.0, 255.255.255.255, multicast (224/4, ff00::/8) and :: ; True otherwise."""
    if ":" not in address:  # the sensor's own dotted quads: the first octet decides (a flood brings many)
        return not 224 <= int(address.partition(".")[0]) <= 239 and address not in ("0.0.0.0", "255.255.255.255")
    ip = ipaddress.ip_address(address)
    if ip.is_multicast or ip.is_unspecified:
        return False
    return not (ip.version == 4 and int(ip) == 0xFFFFFFFF)


def directed_broadcasts(networks: list[str]) -> frozenset[str]:
    """The broadcast address of each IPv4 network that has one (prefixes up to /30)."""
    out = set()
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == 4 and net.prefixlen <= 30:
            out.add(str(net.broadcast_address))
    return frozenset(out)


@lru_cache(maxsize=65_536)
def address_kind(address: str) -> str | None:
    """What a protocol's address names: ``ip``, ``mac`` (lower-case MAC-48), ``link`` (a station of a network
    without MAC-48 or IP, written ``protocol:network:hex``, as a BACnet MS/TP device behind a router), or None
    for anything else."""
    if MAC48.fullmatch(address):
        return "mac"
    if LINK_KEY.fullmatch(address):
        return "link"
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return "ip"
