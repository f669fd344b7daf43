"""Building IEC 60870-5-104 APDUs for the tests (IEC 60870-5-104 §5, IEC 60870-5-101 §7), octet by octet."""
from __future__ import annotations

import struct


def apdu(control: bytes, asdu: bytes = b"") -> bytes:
    """0x68, the length, the four control octets, the ASDU."""
    return bytes([0x68, 4 + len(asdu)]) + control + asdu


def i_frame(asdu: bytes, send: int = 0, receive: int = 0) -> bytes:
    return apdu(struct.pack("<HH", send << 1, receive << 1), asdu)


def s_frame(receive: int) -> bytes:
    return apdu(b"\x01\x00" + struct.pack("<H", receive << 1))


def u_frame(control: int) -> bytes:
    return apdu(bytes([control, 0, 0, 0]))


STARTDT_ACT, STARTDT_CON, STOPDT_ACT, STOPDT_CON, TESTFR_ACT, TESTFR_CON = (u_frame(c) for c in
                                                                           (0x07, 0x0B, 0x13, 0x23, 0x43, 0x83))


def ioa(address: int) -> bytes:
    return address.to_bytes(3, "little")


def asdu(type_id: int, cause: int, objects: list[tuple[int, bytes]], common_address: int = 1, originator: int = 0,
         sq: bool = False, negative: bool = False, test: bool = False, number: int | None = None) -> bytes:
    """A data unit identifier and its objects: (IOA, element octets) each; with SQ only the first IOA is sent."""
    count = len(objects) if number is None else number
    head = bytes([type_id, (0x80 if sq else 0) | count,
                  cause | (0x40 if negative else 0) | (0x80 if test else 0), originator]) + struct.pack("<H", common_address)
    if sq:
        return head + (ioa(objects[0][0]) if objects else b"") + b"".join(e for _, e in objects)
    return head + b"".join(ioa(a) + e for a, e in objects)


def cp56(year: int, month: int, day: int, hour: int, minute: int, ms: int, invalid: bool = False,
         summer: bool = False) -> bytes:
    return struct.pack("<H", ms) + bytes([minute | (0x80 if invalid else 0), hour | (0x80 if summer else 0), day,
                                          month, year - 2000])


def interrogation(cause: int = 6, qoi: int = 20, common_address: int = 1) -> bytes:
    return asdu(100, cause, [(0, bytes([qoi]))], common_address)


def single_command(address: int, on: bool, select: bool = False, cause: int = 6, qu: int = 0) -> bytes:
    return asdu(45, cause, [(address, bytes([(0x80 if select else 0) | qu << 2 | int(on)]))])


def setpoint_float(address: int, value: float, select: bool = False, cause: int = 6) -> bytes:
    return asdu(50, cause, [(address, struct.pack("<f", value) + bytes([0x80 if select else 0]))])


def measured_float(cause: int, values: list[tuple[int, float]], qds: int = 0, sq: bool = False) -> bytes:
    return asdu(13, cause, [(a, struct.pack("<f", v) + bytes([qds])) for a, v in values], sq=sq)
