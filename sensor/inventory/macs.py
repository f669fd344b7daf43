"""Which MAC address belongs to which IP: ARP is authoritative, packet source MACs are a fallback.

On a routed segment every remote host's packets carry the router's MAC, so a MAC seen as the source
of several IPs is a router's and is given to none of them. Because that may only become clear later
in a run, the book remembers what it handed out and can correct it (``corrections``).
"""
from __future__ import annotations

from sensor.decode.packets import mac_text
from sensor.inventory.model import Source
from sensor.inventory.oui import mac_vendor

MAX_ADDRESSES = 65_536  # IPs whose MAC evidence is remembered


def is_station(mac: str) -> bool:
    """A unicast MAC names one station; the group bit (the first octet's lowest) marks multicast and broadcast."""
    return not int(mac[:2], 16) & 1


class MacBook:
    def __init__(self) -> None:
        self._arp: dict[str, tuple[int, Source]] = {}
        self._seen: dict[str, tuple[int, Source]] = {}  # ip -> first source MAC of its packets
        self._ips_of: dict[int, set[str]] = {}
        self._given: dict[str, str | None] = {}  # ip -> MAC text handed to the store
        self.refused = 0  # addresses whose evidence was not kept since the last ``take_refused``

    def saw_packet(self, ip: str, mac: int, source: Source) -> None:
        if not mac:
            return
        ips = self._ips_of.get(mac)
        if ips is not None and ip in ips:
            return
        if len(self._seen) >= MAX_ADDRESSES:
            self.refused += 1
            return
        self._ips_of.setdefault(mac, set()).add(ip)
        self._seen.setdefault(ip, (mac, source))

    def saw_arp(self, ip: str, mac: int, source: Source) -> None:
        if ip in self._arp:
            return
        if len(self._arp) >= MAX_ADDRESSES:
            self.refused += 1
            return
        self._arp[ip] = (mac, source)

    def take_refused(self) -> int:
        """How many addresses the limit turned away since the last call (each becomes a counted weird)."""
        refused, self.refused = self.refused, 0
        return refused

    def best(self, ip: str) -> tuple[str, Source] | None:
        """The MAC we believe is this IP's own, with its evidence."""
        mac, source = self._arp.get(ip) or self._seen.get(ip) or (0, None)
        if not mac or (source.proto != "arp" and len(self._ips_of.get(mac, ())) > 1):
            return None  # a router's or gateway's MAC, not this host's
        text = mac_text(mac)
        return (text, source) if text else None

    def give(self, ip: str) -> tuple[str, str | None, Source] | None:
        """(mac, vendor, evidence) to record for ``ip`` now, or None when nothing new is known."""
        best = self.best(ip)
        if best is None or self._given.get(ip) == best[0]:
            return None
        self._given[ip] = best[0]
        return best[0], mac_vendor(best[0]), best[1]

    def corrections(self) -> list[tuple[str, str | None, str | None]]:
        """(ip, mac, vendor) for every IP whose recorded MAC later evidence contradicts."""
        out = []
        for ip, given in self._given.items():
            best = self.best(ip)
            mac = best[0] if best else None
            if mac != given:
                self._given[ip] = mac
                out.append((ip, mac, mac_vendor(mac) if mac else None))
        return out
