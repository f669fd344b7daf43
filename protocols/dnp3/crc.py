"""The DNP3 link layer CRC (IEEE 1815-2012 §9.2.4.1.5 and Annex E).

CRC-16 with generator polynomial 0x3D65, processed LSB first (so the table uses the reflected
0xA6BC), initial value 0, final value complemented, transmitted low octet first. Every link header
and every 16-octet user data block carries one.
"""
from __future__ import annotations

from typing import Any


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc16(data: Any, start: int = 0, end: int | None = None) -> int:
    """The DNP3 CRC of ``data[start:end]`` as an int (compare with the little-endian octets on the wire)."""
    crc = 0
    table = _TABLE
    for byte in data[start:end]:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return ~crc & 0xFFFF


def crc_ok(data: Any, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` is followed by its correct CRC at ``data[end:end + 2]``."""
    return len(data) >= end + 2 and crc16(data, start, end) == data[end] | (data[end + 1] << 8)
