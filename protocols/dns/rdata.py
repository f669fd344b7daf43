"""What the RDATA of the record types that name hosts and services says (RFC 1035 §3.3, RFC 3596, RFC 2782).

A (4 octets) and AAAA (16) are addresses; PTR, CNAME, NS and DNAME one name; MX a preference and a name; SRV
priority, weight, port and target; TXT and HINFO character-strings (a length octet and that many octets); SOA two
names and five numbers; NSEC and NSEC3 the types their bit map lists (RFC 4034 §4.1, RFC 5155 §3.2). Names inside RDATA may point anywhere in the message, so decoders get the whole message.
Other types are not decoded (None). Data that does not fit its type raises ``Malformed("dns_bad_rdata")``.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from protocols.base import Malformed
from protocols.dns.codes import RType
from protocols.dns.wire import label_text, read_name

NSEC3 = 50
MAX_STRINGS = 64  # character-strings kept from one TXT record (at most 65535/1 octets could be 65535 empty ones)


def _need(condition: bool, start: int, what: str) -> None:
    if not condition:
        raise Malformed("dns_bad_rdata", start, what)


def ipv4(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def ipv6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _name(msg: bytes, start: int, end: int) -> tuple[str, int]:
    name, after = read_name(msg, start)
    _need(after <= end, start, "a name past the record's data")
    return name, after


def strings(msg: bytes, start: int, end: int) -> list[str]:
    """Character-strings back to back (RFC 1035 §3.3): TXT, HINFO."""
    out = []
    pos = start
    while pos < end and len(out) < MAX_STRINGS:
        length = msg[pos]
        _need(pos + 1 + length <= end, pos, "a character-string past the record's data")
        out.append(label_text(msg[pos + 1:pos + 1 + length]))
        pos += 1 + length
    return out


def _u16(msg: bytes, pos: int) -> int:
    return int.from_bytes(msg[pos:pos + 2], "big")


def decode_rdata(msg: bytes, start: int, length: int, rtype: int) -> Any:
    """The data of one DNS record, None for types not decoded."""
    end = start + length
    if rtype == RType.A:
        _need(length == 4, start, f"A of {length} octets")
        return ipv4(msg[start:end])
    if rtype == RType.AAAA:
        _need(length == 16, start, f"AAAA of {length} octets")
        return ipv6(msg[start:end])
    if rtype in (RType.PTR, RType.CNAME, RType.NS, 39):  # 39: DNAME
        return _name(msg, start, end)[0]
    if rtype == RType.MX:
        _need(length >= 3, start, "MX without its exchange")
        return {"preference": _u16(msg, start), "exchange": _name(msg, start + 2, end)[0]}
    if rtype == RType.SRV:
        _need(length >= 7, start, "SRV without its target")
        return {"priority": _u16(msg, start), "weight": _u16(msg, start + 2), "port": _u16(msg, start + 4),
                "target": _name(msg, start + 6, end)[0]}
    if rtype == RType.TXT:
        return strings(msg, start, end)
    if rtype == RType.HINFO:
        pair = strings(msg, start, end)
        _need(len(pair) >= 2, start, "HINFO without CPU and OS")
        return {"cpu": pair[0], "os": pair[1]}
    if rtype == RType.SOA:
        mname, pos = _name(msg, start, end)
        rname, pos = _name(msg, pos, end)
        _need(pos + 20 <= end, start, "SOA without its five numbers")
        numbers = [int.from_bytes(msg[pos + i:pos + i + 4], "big") for i in range(0, 20, 4)]
        return {"mname": mname, "rname": rname, **dict(zip(("serial", "refresh", "retry", "expire", "minimum"),
                                                            numbers))}
    if rtype == RType.NSEC:
        next_name, pos = _name(msg, start, end)
        return {"next_domain_name": next_name, "types": type_bitmap(msg, pos, end)}
    if rtype == NSEC3:
        _need(length >= 5 and start + 5 + msg[start + 4] < end, start, "NSEC3 without its hash")
        salt = msg[start + 4]
        hash_at = start + 5 + salt
        bitmap = hash_at + 1 + msg[hash_at]
        _need(bitmap <= end, start, "NSEC3 hash past the record's data")
        return {"iterations": _u16(msg, start + 2), "types": type_bitmap(msg, bitmap, end)}
    return None


def type_bitmap(msg: bytes, pos: int, end: int) -> list[int]:
    """The types an NSEC/NSEC3 type bit map lists (RFC 4034 §4.1.2): window, length (1-32), bits MSB first."""
    types = []
    while pos < end:
        _need(pos + 2 <= end, pos, "a type bit map window without its length")
        window, length = msg[pos], msg[pos + 1]
        _need(1 <= length <= 32 and pos + 2 + length <= end, pos, f"a type bit map window of {length} octets")
        for i, octet in enumerate(msg[pos + 2:pos + 2 + length]):
            types += [window * 256 + i * 8 + bit for bit in range(8) if octet & (0x80 >> bit)]
        pos += 2 + length
    return types
