"""Which zone an address is in: the most specific network wins, and an address in none is ``unknown``.

Nested networks are how plants are drawn (an engineering /24 inside the control /16), so a lookup
tries the longest prefixes first. Addresses that never leave their link (255.255.255.255, the local
multicast blocks) take the zone of the host that sent to them: a broadcast cannot cross a conduit.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN_NAME = "unknown"
LINK_SCOPED = tuple(ipaddress.ip_network(n) for n in ("255.255.255.255/32", "224.0.0.0/24", "ff02::/16"))


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone of the policy: a Purdue level (fractional for a DMZ, 3.5) and its networks."""

    name: str
    level: float | None
    networks: tuple[IPNetwork, ...] = ()
    intra_deny: bool = False
    line: int = 0


UNKNOWN = Zone(UNKNOWN_NAME, None)


@lru_cache(maxsize=65536)
def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address, with IPv4-mapped IPv6 unwrapped; None for anything that is not one."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped or ip


@lru_cache(maxsize=65536)
def link_scoped(address: str) -> bool:
    """An address whose packets never leave the sender's link."""
    ip = parse_ip(address)
    return ip is not None and any(ip.version == n.version and ip in n for n in LINK_SCOPED)


@lru_cache(maxsize=65536)
def is_group(address: str) -> bool:
    """A broadcast or multicast address: a destination, never a host to pivot through."""
    ip = parse_ip(address)
    return ip is not None and (ip.is_multicast or ip == LINK_SCOPED[0].network_address)


class ZoneMap:
    """Longest-prefix lookup from address to zone, cached per address."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self._by_prefix: dict[tuple[int, int], dict[int, Zone]] = {}
        for zone in zones:
            for net in zone.networks:
                self._by_prefix.setdefault((net.version, net.prefixlen), {})[int(net.network_address)] = zone
        self._order = sorted(self._by_prefix, key=lambda k: -k[1])
        self._cache: dict[str, Zone] = {}

    @classmethod
    def from_assignments(cls, zone_by_address: dict[str, Zone]) -> ZoneMap:
        """A map of zones given per address (the store's asset zones), every other address ``unknown``."""
        zone_map = cls(())
        zone_map._cache.update(zone_by_address)
        return zone_map

    def zone_of(self, address: str) -> Zone:
        """The zone of one address (``UNKNOWN`` when no network holds it)."""
        zone = self._cache.get(address)
        if zone is None:
            zone = self._cache[address] = self._lookup(address)
        return zone

    def peer_zone(self, address: str, sender: Zone) -> Zone:
        """The zone of a responder: the sender's own for link-scoped broadcast and multicast."""
        return sender if link_scoped(address) else self.zone_of(address)

    def _lookup(self, address: str) -> Zone:
        ip = parse_ip(address)
        if ip is None:
            return UNKNOWN
        bits = 32 if ip.version == 4 else 128
        value = int(ip)
        for version, prefixlen in self._order:
            if version != ip.version:
                continue
            key = value >> (bits - prefixlen) << (bits - prefixlen) if prefixlen else 0
            zone = self._by_prefix[(version, prefixlen)].get(key)
            if zone is not None:
                return zone
        return UNKNOWN
