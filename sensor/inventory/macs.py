"""Which MAC address belongs to which IP: ARP is authoritative, packet source MACs are a fallback.

On a routed segment every remote host's packets carry the router's MAC, so a MAC seen as the source
of several IPs is a router's and is given to none of them. Because that may only become clear later
in a run, the book remembers what it handed out and can correct it (``corrections``).
"""
from __future__ import annotations

import numpy as np

from sensor.decode.packets import mac_text
from sensor.inventory.model import Source
from sensor.inventory.oui import mac_vendor

MAX_ADDRESSES = 65_536  # IPs whose MAC evidence is remembered
ARP, PACKET = "arp", "packet"  # kinds of MAC evidence: an ARP sender field, or the source of an IP packet


def is_station(mac: str) -> bool:
    """A unicast MAC names one station; the group bit (the first octet's lowest) marks multicast and broadcast."""
    return not int(mac[:2], 16) & 1


class MacBook:
    """MAC evidence per IP. The evidence kept is the earliest (lowest file name, then frame), whatever order the
    flows of a batch come in, so one process and workers that each saw a share of the traffic (``merge``) decide
    alike."""

    def __init__(self) -> None:
        self._arp: dict[str, tuple[int, Source]] = {}
        self._seen: dict[str, tuple[int, Source]] = {}  # ip -> earliest source MAC of its packets
        self._ips_of: dict[int, set[str]] = {}
        self._given: dict[str, tuple[str, Source] | None] = {}  # ip -> (MAC, evidence) handed to the store
        self._sightings: dict[tuple[int, str, str], Source] = {}  # (MAC, ip, kind) -> earliest, since the last take
        self.keep_sightings = False  # a worker's book: its evidence goes to the store for the run to decide
        self.refused = 0  # addresses whose evidence was not kept since the last ``take_refused``
        # repeats_arp's index of the ARP evidence held, valid for one file: addresses and MACs, sorted by address;
        # evidence kept since it was made waits in _repeats_new as (address, MAC, file)
        self._repeats_file: str | None = None
        self._repeats_ips, self._repeats_macs = np.empty(0, np.int64), np.empty(0, np.uint64)
        self._repeats_new: list[tuple[int, int, str]] = []

    def saw_packet(self, ip: str, mac: int, source: Source) -> None:
        if not mac:
            return
        ips = self._ips_of.get(mac)
        if (ips is None or ip not in ips) and len(self._seen) >= MAX_ADDRESSES and ip not in self._seen:
            self.refused += 1
            return
        self._ips_of.setdefault(mac, set()).add(ip)
        _keep_earliest(self._seen, ip, (mac, source))
        self._sighted(mac, ip, PACKET, source)

    def saw_arp(self, ip: str, mac: int, source: Source) -> bool:
        """Whether the book holds this address's ARP evidence now (False: refused, it is full)."""
        if ip not in self._arp and len(self._arp) >= MAX_ADDRESSES:
            self.refused += 1
            return False
        if _keep_earliest(self._arp, ip, (mac, source)) and "." in ip:
            self._repeats_new.append((_ipv4_value(ip), mac, source.file))
        self._sighted(mac, ip, ARP, source)
        return True

    def repeats_arp(self, ips: np.ndarray, macs: np.ndarray, file: str) -> np.ndarray:
        """Which IPv4 senders (as integers) with these MACs the book already holds as their ARP evidence, from
        ``file`` or a file before it: seen again later in ``file`` they change nothing (the earliest evidence stays,
        and its sighting is already taken), so a flood that repeats its forged pairs is judged in bulk."""
        if file != self._repeats_file:
            self._repeats_file = file
            self._repeats_new = [(_ipv4_value(ip), mac, source.file) for ip, (mac, source) in self._arp.items()
                                 if "." in ip]
            self._repeats_ips, self._repeats_macs = np.empty(0, np.int64), np.empty(0, np.uint64)
        if self._repeats_new:
            new = [(ip, mac) for ip, mac, source_file in self._repeats_new if source_file <= file]
            self._repeats_new = []
            ip_new = np.fromiter((ip for ip, _ in new), np.int64, len(new))
            mac_new = np.fromiter((mac for _, mac in new), np.uint64, len(new))
            # the newest evidence of an address replaces what the index had: keep each address's last entry
            both_ips = np.concatenate([ip_new[::-1], self._repeats_ips])
            both_macs = np.concatenate([mac_new[::-1], self._repeats_macs])
            self._repeats_ips, first = np.unique(both_ips, return_index=True)
            self._repeats_macs = both_macs[first]
        known = self._repeats_ips
        if not len(known):
            return np.zeros(len(ips), bool)
        at = np.minimum(np.searchsorted(known, ips), len(known) - 1)
        return (known[at] == ips) & (self._repeats_macs[at] == macs)

    @property
    def arp_full(self) -> bool:
        """No room for another address's ARP evidence: only addresses already held are taken."""
        return len(self._arp) >= MAX_ADDRESSES

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

    def changes(self, ips: list[str]) -> list[tuple[str, str | None, str | None, Source | None]]:
        """(ip, mac, vendor, evidence) for these IPs and every IP given one before, where what we believe now is not
        what the store was last told (None: a MAC given before turned out to be a router's)."""
        out = []
        for ip in dict.fromkeys([*ips, *self._given]):
            best = self.best(ip)
            if best is None and ip not in self._given:
                continue
            if best != self._given.get(ip):
                self._given[ip] = best
                mac, source = best if best is not None else (None, None)
                out.append((ip, mac, mac_vendor(mac) if mac else None, source))
        return out

    def _sighted(self, mac: int, ip: str, kind: str, source: Source) -> None:
        if not self.keep_sightings:
            return
        had = self._sightings.get((mac, ip, kind))
        if had is None or (source.file, source.frame) < (had.file, had.frame):
            self._sightings[(mac, ip, kind)] = source

    def take_sightings(self) -> list[tuple[str, str, str, Source]]:
        """(MAC, ip, kind, earliest evidence) seen since the last call: what workers store, so that the run can
        weigh every worker's evidence at its end, even after a kill and a resume (``from_sightings``)."""
        taken, self._sightings = self._sightings, {}
        return [(mac_text(mac) or "", ip, kind, source) for (mac, ip, kind), source in taken.items()]

    @classmethod
    def from_sightings(cls, rows: list[tuple[str, str, str, Source]]) -> MacBook:
        book = cls()
        for mac_str, ip, kind, source in rows:
            mac = int(mac_str.replace(":", ""), 16)
            if kind == ARP:
                _keep_earliest(book._arp, ip, (mac, source))
            else:
                book._ips_of.setdefault(mac, set()).add(ip)
                _keep_earliest(book._seen, ip, (mac, source))
        return book


def _keep_earliest(book: dict[str, tuple[int, Source]], ip: str, item: tuple[int, Source]) -> bool:
    """Keep ``item`` unless the book has earlier evidence for ``ip``: the lowest (file name, frame) wins.
    Whether it was kept."""
    had = book.get(ip)
    if had is None or (item[1].file, item[1].frame) < (had[1].file, had[1].frame):
        book[ip] = item
        return True
    return False


def _ipv4_value(text: str) -> int:
    """A dotted IPv4 address as an integer (ipaddress.IPv4Address costs ten times more, once per ARP sender)."""
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
