"""Builders of DHCPv4 and DHCPv6 UDP payloads for the tests, laid out as RFC 2131 §2 and RFC 8415 §8-9 draw them."""
from __future__ import annotations

import ipaddress
import struct

COOKIE = b"\x63\x82\x53\x63"


def ip4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def option(code: int, data: bytes) -> bytes:
    return bytes([code, len(data)]) + data


def wire_name(name: str) -> bytes:
    """DNS wire format, fully qualified (ends with the root label)."""
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".") if label) + b"\0"


def bootp(op: int = 1, xid: int = 0x1234, chaddr: str = "00:1b:1b:00:00:01", ciaddr: str = "0.0.0.0",
          yiaddr: str = "0.0.0.0", giaddr: str = "0.0.0.0", options: bytes | None = b"", flags: int = 0x8000,
          htype: int = 1, hlen: int = 6, sname: bytes = b"", file: bytes = b"") -> bytes:
    """A BOOTP header with the cookie and ``options`` then END; ``options=None`` is plain BOOTP (no cookie)."""
    head = struct.pack(">BBBBIHH", op, htype, hlen, 0, xid, 0, flags) + ip4(ciaddr) + ip4(yiaddr) + ip4("0.0.0.0") \
        + ip4(giaddr) + mac(chaddr).ljust(16, b"\0") + sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    return head if options is None else head + COOKIE + options + b"\xff"


def dhcp(message_type: int, *more: bytes, **header) -> bytes:
    """A DHCP message: option 53 first, then ``more`` options."""
    op = 2 if message_type in (2, 5, 6) else 1
    return bootp(op=header.pop("op", op), options=option(53, bytes([message_type])) + b"".join(more), **header)


def hostname(name: str) -> bytes:
    return option(12, name.encode())


def fqdn(name: str, flags: int = 0x05) -> bytes:
    """Client FQDN (RFC 4702): wire encoded when E (0x04) is set."""
    return option(81, bytes([flags, 0, 0]) + (wire_name(name) if flags & 0x04 else name.encode()))


def v6_option(code: int, data: bytes) -> bytes:
    return struct.pack(">HH", code, len(data)) + data


def duid_ll(text: str) -> bytes:
    return struct.pack(">HH", 3, 1) + mac(text)


def duid_llt(text: str, time: int = 0x1D000000) -> bytes:
    return struct.pack(">HHI", 1, 1, time) + mac(text)


def v6_fqdn(name: str, flags: int = 0x01) -> bytes:
    return v6_option(39, bytes([flags]) + wire_name(name))


def ia_na(iaid: int, *addresses: str) -> bytes:
    inner = b"".join(v6_option(5, ipaddress.IPv6Address(a).packed + struct.pack(">II", 3600, 7200)) for a in addresses)
    return v6_option(3, struct.pack(">III", iaid, 0, 0) + inner)


def dhcpv6(message_type: int, *options: bytes, xid: int = 0xABCDEF) -> bytes:
    return bytes([message_type]) + xid.to_bytes(3, "big") + b"".join(options)


def relay(message_type: int, inner: bytes, peer: str = "fe80::1", link: str = "2001:db8::1", hops: int = 0) -> bytes:
    return bytes([message_type, hops]) + ipaddress.IPv6Address(link).packed + ipaddress.IPv6Address(peer).packed \
        + v6_option(9, inner)
