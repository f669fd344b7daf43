"""LLDPDUs built by hand for the tests (IEEE 802.1AB-2016 §8.4): the bytes after the ethertype."""
from __future__ import annotations

import ipaddress
import struct


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">H", kind << 9 | len(value)) + value


def org(oui: int, subtype: int, data: bytes) -> bytes:
    return tlv(127, oui.to_bytes(3, "big") + bytes([subtype]) + data)


def management(address: str, interface: int = 1, oid: bytes = b"") -> bytes:
    ip = ipaddress.ip_address(address)
    raw = bytes([1 if ip.version == 4 else 2]) + ip.packed
    return tlv(8, bytes([len(raw)]) + raw + b"\x02" + struct.pack(">I", interface) + bytes([len(oid)]) + oid)


def lldpdu(chassis_mac: str = "00:1b:1b:01:02:03", port: bytes = b"\x07port-001", ttl: int = 20,
           *rest: bytes, end: bool = True) -> bytes:
    """Chassis ID (a MAC), port ID, TTL, then ``rest``, then End of LLDPDU."""
    chassis = tlv(1, b"\x04" + bytes.fromhex(chassis_mac.replace(":", "")))
    return chassis + tlv(2, port) + tlv(3, struct.pack(">H", ttl)) + b"".join(rest) + (b"\0\0" if end else b"")


def switch_port(name: str = "sw-1", vlan: int = 10, mgmt: str = "10.0.0.2") -> bytes:
    """What a switch port announces: names, description, capabilities, a management address and the port VLAN."""
    return lldpdu("00:1b:1b:01:02:03", b"\x05Gi1/0/7", 120,
                  tlv(4, b"GigabitEthernet1/0/7"), tlv(5, name.encode()),
                  tlv(6, b"Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: 1, FW: V4.1"),
                  tlv(7, struct.pack(">HH", 0x0014, 0x0004)), management(mgmt),
                  org(0x0080C2, 1, struct.pack(">H", vlan)), org(0x0080C2, 3, struct.pack(">HB", vlan, 4) + b"cell"),
                  org(0x00120F, 1, b"\x03\x6c\x00\x00\x10"), org(0x000ECF, 5, bytes.fromhex("001b1b010203")))
