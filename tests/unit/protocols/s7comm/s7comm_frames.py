"""Crafted S7 traffic for the unit and fuzz tests: builders that spell out each layer's octets.

Layouts: TPKT RFC 1006 §6, COTP ISO 8073 §13, S7comm after Wireshark's packet-s7comm.c,
S7comm-plus after the s7comm_plus plugin and S7CommPlusDriver (see protocols/s7comm/plus.py).
"""
from __future__ import annotations

import struct


def tpkt(tpdu: bytes) -> bytes:
    """03 00 <length, header included> <TPDU>."""
    return bytes([3, 0]) + struct.pack(">H", 4 + len(tpdu)) + tpdu


def dt(user_data: bytes, eot: bool = True, nr: int = 0) -> bytes:
    """A class 0 DT TPDU: LI 2, code F0, EOT bit and TPDU number."""
    return bytes([2, 0xF0, (0x80 if eot else 0) | nr]) + user_data


def cr(calling: bytes = b"\x01\x00", called: bytes = b"\x01\x02", src_ref: int = 0x0001, tpdu_size: int = 0x0A) -> bytes:
    """A connection request with the three parameters S7 clients send: TPDU size, calling and called TSAP."""
    params = bytes([0xC0, 1, tpdu_size, 0xC1, len(calling)]) + calling + bytes([0xC2, len(called)]) + called
    fixed = bytes([0xE0]) + struct.pack(">HH", 0, src_ref) + b"\x00"
    return bytes([len(fixed) + len(params)]) + fixed + params


def cc(dst_ref: int = 0x0001, src_ref: int = 0x0044, calling: bytes = b"\x01\x00", called: bytes = b"\x01\x02") -> bytes:
    params = bytes([0xC0, 1, 0x0A, 0xC1, len(calling)]) + calling + bytes([0xC2, len(called)]) + called
    fixed = bytes([0xD0]) + struct.pack(">HH", dst_ref, src_ref) + b"\x00"
    return bytes([len(fixed) + len(params)]) + fixed + params


def dr(dst_ref: int = 0x0044, src_ref: int = 0x0001, reason: int = 0x80) -> bytes:
    return bytes([6, 0x80]) + struct.pack(">HH", dst_ref, src_ref) + bytes([reason])


def dc(dst_ref: int = 0x0001, src_ref: int = 0x0044) -> bytes:
    return bytes([5, 0xC0]) + struct.pack(">HH", dst_ref, src_ref)


def s7(rosctr: int, pdu_ref: int, param: bytes, data: bytes = b"", error: tuple[int, int] | None = None) -> bytes:
    """An S7comm PDU: 32, ROSCTR, reserved, PDU ref, parameter and data lengths (+ error class/code)."""
    head = struct.pack(">BBHHHH", 0x32, rosctr, 0, pdu_ref, len(param), len(data))
    if rosctr in (2, 3):
        head += bytes(error or (0, 0))
    return head + param + data


def s7any(area: int, db: int, byte: int, bit: int = 0, tsize: int = 0x02, length: int = 1) -> bytes:
    """An S7ANY variable specification: 12 0A 10 <tsize> <length> <DB> <area> <byte << 3 | bit>."""
    return bytes([0x12, 0x0A, 0x10, tsize]) + struct.pack(">HH", length, db) + bytes([area]) + \
        ((byte << 3) | bit).to_bytes(3, "big")


def read_var_job(pdu_ref: int, *items: bytes) -> bytes:
    return tpkt(dt(s7(1, pdu_ref, bytes([0x04, len(items)]) + b"".join(items))))


def data_item(data: bytes, tsize: int = 0x04, ret: int = 0xFF, last: bool = True) -> bytes:
    """A data item: return code, transport size, length (bits for 3/4/5), data, fill octet if odd and not last."""
    length = len(data) * 8 if tsize in (3, 4, 5) else len(data)
    fill = b"\x00" if len(data) % 2 and not last else b""
    return bytes([ret, tsize]) + struct.pack(">H", length) + data + fill


SETUP_JOB = tpkt(dt(s7(1, 0x0100, bytes.fromhex("f0000001000101e0"))))
SETUP_ACK = tpkt(dt(s7(3, 0x0100, bytes.fromhex("f0000001000100f0"))))
CR = tpkt(cr())
CC = tpkt(cc())
READ_DB1 = read_var_job(2, s7any(0x84, 1, 0, tsize=0x02, length=4))
READ_DB1_ACK = tpkt(dt(s7(3, 2, b"\x04\x01", data_item(b"\x10\x11\x12\x13"))))
WRITE_M4 = tpkt(dt(s7(1, 3, b"\x05\x01" + s7any(0x83, 0, 4, tsize=0x02, length=2), data_item(b"\xaa\xbb"))))
WRITE_M4_ACK = tpkt(dt(s7(3, 3, b"\x05\x01", b"\xff")))
PLC_STOP = tpkt(dt(s7(1, 4, b"\x29\x00\x00\x00\x00\x00\x09P_PROGRAM")))
HOT_START = tpkt(dt(s7(1, 5, b"\x28\x00\x00\x00\x00\x00\x00\xfd\x00\x00\x09P_PROGRAM")))
COLD_START = tpkt(dt(s7(1, 6, b"\x28\x00\x00\x00\x00\x00\x00\xfd\x00\x02C \x09P_PROGRAM")))


def userdata(pdu_ref: int, kind: int, group: int, sub: int, data: bytes, seq: int = 0,
             unit: tuple[int, int] | None = None, ret: int = 0xFF, tsize: int = 0x09) -> bytes:
    """A userdata PDU: parameter head 00 01 12, length, method, type|group, subfunction, sequence
    [, data unit reference, last data unit, error code]; data: return code, transport size, length, data."""
    method = 0x11 if kind == 4 else 0x12
    param = bytes([0, 1, 0x12, 8 if unit else 4, method, kind << 4 | group, sub, seq])
    if unit:
        param += bytes(unit) + b"\x00\x00"
    body = bytes([ret, tsize]) + struct.pack(">H", len(data)) + data
    return tpkt(dt(s7(7, pdu_ref, param, body)))


def szl_request(pdu_ref: int, szl_id: int, index: int = 0) -> bytes:
    return userdata(pdu_ref, 4, 4, 1, struct.pack(">HH", szl_id, index))


def szl_records(szl_id: int, index: int, length: int, records: list[bytes]) -> bytes:
    return struct.pack(">HHHH", szl_id, index, length, len(records)) + b"".join(records)


def record_001c(index: int, text: str) -> bytes:
    return struct.pack(">H", index) + text.encode().ljust(32, b"\x00")


def record_0011(index: int, mlfb: str, ausbg: int, ausbe: int, bgtyp: int = 0) -> bytes:
    return struct.pack(">H", index) + mlfb.encode().ljust(20, b" ") + struct.pack(">HHH", bgtyp, ausbg, ausbe)


IDENT_0011 = szl_records(0x0011, 0, 28, [
    record_0011(1, "6ES7 315-2EH14-0AB0 ", 4, 1),
    record_0011(6, "6ES7 315-2EH14-0AB0 ", 4, 1),
    record_0011(7, "", 0x5603, 0x0206),  # 'V' 3, 2 6: V3.2.6
    record_0011(0x81, "Boot Loader", 0x4120, 0x0909),
])
IDENT_001C = szl_records(0x001C, 0, 34, [
    record_001c(1, "STATION_1"), record_001c(2, "PLC_1"), record_001c(3, "PLANT-A"),
    record_001c(4, "Original Siemens Equipment"), record_001c(5, "S C-B1U393142011"),
    record_001c(7, "CPU 315-2 PN/DP"), record_001c(8, "MMC 4A1AC019"), record_001c(11, "HALL 3"),
])


# --- S7comm-plus ---------------------------------------------------------------------------------


def vlq(value: int) -> bytes:
    """S7CommPlusDriver S7p.EncodeUInt32Vlq: 7 bits an octet, most significant first."""
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7
        if not value:
            break
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def plus_frame(data: bytes, version: int = 2, trailer: bool = True, digest: bytes | None = None) -> bytes:
    """72 <version> <length> [digest length, digest] <data> [72 <version> 00 00]."""
    if digest is not None:
        data = bytes([len(digest)]) + digest + data
    out = bytes([0x72, version]) + struct.pack(">H", len(data)) + data
    return out + (bytes([0x72, version, 0, 0]) if trailer else b"")


def plus_request(function: int, seq: int, session: int, body: bytes, flags: int = 0x34) -> bytes:
    """Opcode 31, reserved, function, reserved, sequence, session id, transport flags, request set."""
    return struct.pack(">BHHHHIB", 0x31, 0, function, 0, seq, session, flags) + body


def plus_response(function: int, seq: int, body: bytes = b"\x00", flags: int = 0x34) -> bytes:
    return struct.pack(">BHHHHB", 0x32, 0, function, 0, seq, flags) + body


def set_operating_state(seq: int, session: int, state: int) -> bytes:
    """SetVariable of CPUexecUnit.operatingStateREQ (2167) on theCPUexecUnit (52), value DInt (S7CommPlusDriver
    SetPlcOperatingState): InObjectId u32, item count VLQ 1, address VLQ, PValue flags 00, type 08, VLQ value."""
    body = struct.pack(">I", 52) + vlq(1) + vlq(2167) + bytes([0x00, 0x08]) + vlq(state) + b"\x00" * 5
    return plus_request(0x04F2, seq, session, body)


def get_multi_variables(seq: int, session: int, addresses: list[tuple[int, int, list[int]]]) -> bytes:
    """GetMultiVariables: link id 0, item count, field count, then (symbol crc, area, LID count, sub-area, LIDs)."""
    items = b"".join(vlq(0) + vlq(area) + vlq(len(lids) + 1) + vlq(sub) + b"".join(map(vlq, lids))
                     for area, sub, lids in addresses)
    fields = sum(4 + len(lids) for _, _, lids in addresses)
    return plus_request(0x054C, seq, session, struct.pack(">I", 0) + vlq(len(addresses)) + vlq(fields) + items)
