"""The data of NBNS records (RFC 1002 §4.2.1.3, §4.2.18).

    NB:      { NB_FLAGS(2) NB_ADDRESS(4) } ...         G bit, ONT (owner node type); the address owning the name
    NBSTAT:  NUM_NAMES(1) { NETBIOS_NAME(16) NAME_FLAGS(2) } ... STATISTICS (UNIT_ID(6) = the MAC address, ...)

A WACK's record carries 2 octets (the request's flags): not decoded. Other types are not decoded either.
"""
from __future__ import annotations

from typing import Any

from protocols.base import Malformed, unknown_name
from protocols.dns.rdata import ipv4
from protocols.nbns.codes import GROUP, MAX_NB_ENTRIES, NB, NBSTAT, ONT, SUFFIXES
from protocols.nbns.names import plain_name

NAME_ENTRY = 18


def _bad(start: int, what: str) -> Malformed:
    return Malformed("dns_bad_rdata", start, what)


def nb_entries(msg: bytes, start: int, length: int) -> list[dict[str, Any]]:
    if length % 6:
        raise _bad(start, f"NB data of {length} octets")
    out = []
    for pos in range(start, start + min(length, 6 * MAX_NB_ENTRIES), 6):
        flags = int.from_bytes(msg[pos:pos + 2], "big")
        out.append({"address": ipv4(msg[pos + 2:pos + 6]), "group": bool(flags & GROUP), "ont": ONT[(flags >> 13) & 3]})
    return out


def node_status(msg: bytes, start: int, length: int) -> dict[str, Any]:
    if length < 1 or length < 1 + NAME_ENTRY * msg[start]:
        raise _bad(start, "NBSTAT shorter than its name table")
    names = []
    pos = start + 1
    for _ in range(msg[start]):
        name = plain_name(msg[pos:pos + 16])
        flags = int.from_bytes(msg[pos + 16:pos + 18], "big")
        names.append({"name": name.text, "netbios_name": name.bare, "suffix": name.suffix,
                      "suffix_name": SUFFIXES.get(name.suffix) or unknown_name(name.suffix),
                      "group": bool(flags & GROUP), "ont": ONT[(flags >> 13) & 3], "active": bool(flags & 0x0400)})
        pos += NAME_ENTRY
    out: dict[str, Any] = {"names": names}
    if start + length - pos >= 6:
        out["unit_id"] = ":".join(f"{b:02x}" for b in msg[pos:pos + 6])
    return out


def decode_rdata(msg: bytes, start: int, length: int, rtype: int) -> Any:
    if rtype == NB and length != 2:
        return nb_entries(msg, start, length)
    if rtype == NBSTAT:
        return node_status(msg, start, length)
    return None
