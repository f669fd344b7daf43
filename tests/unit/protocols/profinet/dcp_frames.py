"""Builders of PROFINET DCP payloads (FrameID first) for the tests, laid out as IEC 61158-6-10 §4.3.1 draws them."""
from __future__ import annotations

import ipaddress
import struct

IDENTIFY_MULTICAST = "01:0e:cf:00:00:00"


def block(option: int, suboption: int, data: bytes = b"") -> bytes:
    """Option, Suboption, DCPBlockLength, data, and a padding octet when the length is odd."""
    return struct.pack(">BBH", option, suboption, len(data)) + data + b"\0" * (len(data) & 1)


def info(option: int, suboption: int, data: bytes, block_info: int = 0) -> bytes:
    """A response block: BlockInfo first."""
    return block(option, suboption, struct.pack(">H", block_info) + data)


def dcp(frame_id: int, service_id: int, service_type: int, blocks: bytes = b"", xid: int = 0x1000001,
        delay: int = 0, length: int | None = None) -> bytes:
    return struct.pack(">HBBIHH", frame_id, service_id, service_type, xid, delay,
                       len(blocks) if length is None else length) + blocks


def ip4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def identify_request(xid: int = 0x1000001, name: str | None = None) -> bytes:
    filt = block(0x02, 0x02, name.encode()) if name else block(0xFF, 0xFF)
    return dcp(0xFEFE, 5, 0, filt, xid, delay=1)


def identify_response(name: str, vendor_id: int = 0x002A, device_id: int = 0x0A01, ip: str = "0.0.0.0",
                      mask: str = "0.0.0.0", gateway: str = "0.0.0.0", product: str = "S7-1500",
                      role: int = 0x01, xid: int = 0x1000001) -> bytes:
    blocks = (info(0x02, 0x01, product.encode()) + info(0x02, 0x02, name.encode())
              + info(0x02, 0x03, struct.pack(">HH", vendor_id, device_id)) + info(0x02, 0x04, bytes([role, 0]))
              + info(0x01, 0x02, ip4(ip) + ip4(mask) + ip4(gateway), block_info=1 if ip != "0.0.0.0" else 0))
    return dcp(0xFEFF, 5, 1, blocks, xid)


def set_ip(ip: str, mask: str = "255.255.255.0", gateway: str = "0.0.0.0", qualifier: int = 1) -> bytes:
    blocks = (block(0x05, 0x01, b"\0\0") + block(0x01, 0x02, struct.pack(">H", qualifier) + ip4(ip) + ip4(mask)
                                                + ip4(gateway)) + block(0x05, 0x02, b"\0\0"))
    return dcp(0xFEFD, 4, 0, blocks)


def set_response(*answered: tuple[int, int, int]) -> bytes:
    return dcp(0xFEFD, 4, 1, b"".join(block(0x05, 0x04, bytes(a)) for a in answered))


def get_request(*pairs: tuple[int, int]) -> bytes:
    return dcp(0xFEFD, 3, 0, b"".join(bytes(p) for p in pairs))


def hello(name: str) -> bytes:
    return dcp(0xFEFC, 6, 0, info(0x02, 0x02, name.encode()) + info(0x02, 0x03, struct.pack(">HH", 0x002A, 0x0101)))
