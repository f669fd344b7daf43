"""Which names an answer gives which addresses: the point of watching name services (the inventory's hostnames).

An A or AAAA record names its address by its owner name; a CNAME chain inside the same message leads from the
name that was asked to that owner (``www.example.com CNAME web1.example.com``, ``web1.example.com A 10.0.0.5``),
so the address gets both names. A PTR record under ``in-addr.arpa`` or ``ip6.arpa`` names the address its owner
spells backwards. The facts are about an address (``Fact(..., ADDRESS, ..., address=ip)``): the device named is
not an end of the message, and a name never makes an asset by itself (the inventory joins it to one it has seen).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from protocols.base import ADDRESS, Fact
from protocols.dns.codes import MAX_CNAME_CHAIN, MAX_NAME, RType
from protocols.dns.wire import ROOT, Record

ADDRESS_TYPES = (RType.A, RType.AAAA)


def plausible_name(name: str) -> bool:
    """A name worth keeping as a hostname: printable, without blanks, not the root, at most 255 characters."""
    return 0 < len(name) <= MAX_NAME and name != ROOT and name.isprintable() and " " not in name


def aliases(records: Iterable[Record]) -> dict[str, list[str]]:
    """For each name (lower case) the names whose CNAME chain in these records reaches it, within MAX_CNAME_CHAIN."""
    cnames = [(r.name, r.data) for r in records if r.rtype == RType.CNAME and isinstance(r.data, str)]
    target_of = {alias.lower(): target for alias, target in cnames}
    reached: dict[str, list[str]] = {}
    for original, target in cnames:
        for _ in range(MAX_CNAME_CHAIN):
            reached.setdefault(target.lower(), []).append(original)
            following = target_of.get(target.lower())
            if following is None:
                break
            target = following
    return reached


def reverse_address(name: str) -> str | None:
    """The address a reverse-mapping name spells: ``4.3.2.1.in-addr.arpa`` -> 1.2.3.4 (RFC 1035 §3.5), and the 32
    nibbles of ``...ip6.arpa`` (RFC 3596 §2.5); None for any other name."""
    labels = name.lower().split(".")
    try:
        if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
        if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34 and all(len(x) == 1 for x in labels[:32]):
            return str(ipaddress.IPv6Address(bytes.fromhex("".join(reversed(labels[:32])))))
    except ValueError:
        return None
    return None


def hostname_facts(records: tuple[Record, ...]) -> list[Fact]:
    """``hostname`` facts about each address these records name, once per (name, address)."""
    seen: set[tuple[str, str]] = set()
    facts = []

    def add(name: str, address: str) -> None:
        if plausible_name(name) and (name.lower(), address) not in seen:
            seen.add((name.lower(), address))
            facts.append(Fact("hostname", ADDRESS, name, address=address))

    chains = aliases(records)
    for record in records:
        if record.rtype in ADDRESS_TYPES and isinstance(record.data, str):
            for name in (*chains.get(record.name.lower(), ()), record.name):
                add(name, record.data)
        elif record.rtype == RType.PTR and isinstance(record.data, str):
            address = reverse_address(record.name)
            if address is not None:
                add(record.data, address)
    return facts
