"""Builders of DNS-format messages for the tests (RFC 1035 §4.1), NBNS names (RFC 1001 §14.1) included."""
from __future__ import annotations

import ipaddress
import struct

QR, AA, RD, RA = 0x8000, 0x0400, 0x0100, 0x0080


def name(text: str) -> bytes:
    """A name in wire form without compression: ``www.example.com`` -> 3www7example3com0."""
    out = b""
    for label in filter(None, text.split(".")):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def pointer(offset: int) -> bytes:
    return struct.pack(">H", 0xC000 | offset)


def header(ident: int, flags: int, qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def question(owner: bytes, qtype: int = 1, qclass: int = 1) -> bytes:
    return owner + struct.pack(">HH", qtype, qclass)


def rr(owner: bytes, rtype: int, rdata: bytes, rclass: int = 1, ttl: int = 60) -> bytes:
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def a(owner: str, address: str) -> bytes:
    return rr(name(owner), 1, ipaddress.IPv4Address(address).packed)


def aaaa(owner: str, address: str) -> bytes:
    return rr(name(owner), 28, ipaddress.IPv6Address(address).packed)


def ptr(owner: str, target: str) -> bytes:
    return rr(name(owner), 12, name(target))


def cname(owner: str, target: str) -> bytes:
    return rr(name(owner), 5, name(target))


def srv(owner: str, target: str, port: int, priority: int = 0, weight: int = 0) -> bytes:
    return rr(name(owner), 33, struct.pack(">HHH", priority, weight, port) + name(target))


def txt(owner: str, *strings: str) -> bytes:
    return rr(name(owner), 16, b"".join(bytes([len(s.encode())]) + s.encode() for s in strings))


def hinfo(owner: str, cpu: str, os: str) -> bytes:
    return rr(name(owner), 13, bytes([len(cpu)]) + cpu.encode() + bytes([len(os)]) + os.encode())


def message(ident: int = 0x1234, flags: int = 0, questions: tuple[bytes, ...] = (), answers: tuple[bytes, ...] = (),
            authorities: tuple[bytes, ...] = (), additionals: tuple[bytes, ...] = ()) -> bytes:
    return header(ident, flags, len(questions), len(answers), len(authorities), len(additionals)) + \
        b"".join(questions + answers + authorities + additionals)


def query(qname: str = "www.example.com", qtype: int = 1, ident: int = 0x1234) -> bytes:
    return message(ident, RD, (question(name(qname), qtype),))


def answer(qname: str = "www.example.com", address: str = "10.0.0.5", ident: int = 0x1234) -> bytes:
    """A response that compresses the answer's owner with a pointer to the question (offset 12)."""
    record = rr(pointer(12), 1, ipaddress.IPv4Address(address).packed)
    return message(ident, QR | RD | RA, (question(name(qname)),), (record,))


# -- NBNS (RFC 1002 §4.2) --
def nb_label(netbios: str, suffix: int = 0x00) -> bytes:
    """The first-level encoding of a 16-octet NetBIOS name, as one 32-octet label (and the root)."""
    raw = netbios.encode().ljust(15, b" ")[:15] + bytes([suffix])
    encoded = bytes(c for octet in raw for c in (0x41 + (octet >> 4), 0x41 + (octet & 0x0F)))
    return bytes([32]) + encoded + b"\0"


def nb_registration(netbios: str, address: str, suffix: int = 0x00, group: bool = False, ident: int = 0x55) -> bytes:
    flags = (5 << 11) | RD | 0x0010  # registration, broadcast
    record = rr(pointer(12), 0x20, struct.pack(">H", 0x8000 if group else 0) + ipaddress.IPv4Address(address).packed,
                ttl=300000)
    return message(ident, flags, (question(nb_label(netbios, suffix), 0x20),), (), (), (record,))


def nb_status_response(names: list[tuple[str, int, bool]], mac: bytes, ident: int = 0x66) -> bytes:
    table = bytes([len(names)]) + b"".join(n.encode().ljust(15, b" ")[:15] + bytes([s]) +
                                          struct.pack(">H", (0x8000 if g else 0) | 0x0400) for n, s, g in names)
    rdata = table + mac + b"\0" * 40
    wildcard = bytes([32]) + bytes(c for octet in b"*" + b"\0" * 15 for c in (0x41 + (octet >> 4), 0x41 + (octet & 15)))
    return message(ident, QR | AA, (), (rr(wildcard + b"\0", 0x21, rdata, ttl=0),))
