"""CDP payloads built by hand for the tests (the bytes after the LLC/SNAP header)."""
from __future__ import annotations

import ipaddress
import struct


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">HH", kind, len(value) + 4) + value


def addresses(*ips: str) -> bytes:
    """An address list: IPv4 as NLPID 0xCC, IPv6 as an 802.2 SNAP protocol."""
    out = struct.pack(">I", len(ips))
    for text in ips:
        ip = ipaddress.ip_address(text)
        head = b"\x01\x01\xcc" if ip.version == 4 else b"\x02\x08" + bytes.fromhex("aaaa0300000086dd")
        out += head + struct.pack(">H", len(ip.packed)) + ip.packed
    return out


def cdp(*tlvs: bytes, version: int = 2, ttl: int = 180) -> bytes:
    return bytes([version, ttl]) + b"\0\0" + b"".join(tlvs)


def switch(name: str = "core-sw", ip: str = "10.0.0.1", port: str = "GigabitEthernet0/1", vlan: int = 20) -> bytes:
    return cdp(tlv(1, name.encode()), tlv(2, addresses(ip)), tlv(3, port.encode()), tlv(4, struct.pack(">I", 0x28)),
               tlv(5, b"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE"
                      b" (fc3)\nCopyright (c) 1986-2017 by Cisco Systems, Inc."),
               tlv(6, b"cisco WS-C2960-24TT-L"), tlv(9, b"plant"), tlv(10, struct.pack(">H", vlan)), tlv(11, b"\x01"),
               tlv(0x16, addresses(ip)))
