"""Crafting DNP3 bytes for tests: link frames with correct CRCs, transport segments, fragments.

Independent of the package's parser (only its CRC, checked against the spec's own example in
test_dnp3_crc.py), so a test that builds with these and parses with ``protocols.dnp3`` checks both.
"""
from __future__ import annotations

from protocols.dnp3.crc import crc16

MASTER, OUTSTATION = 1, 10

# link control octets: DIR PRM FCB FCV FUNCTION
UNCONFIRMED_FROM_MASTER = 0xC4  # DIR=1 PRM=1 function 4
UNCONFIRMED_FROM_OUTSTATION = 0x44  # DIR=0 PRM=1 function 4


def crc_bytes(data: bytes) -> bytes:
    crc = crc16(data)
    return bytes([crc & 0xFF, crc >> 8])


def link_frame(control: int, destination: int, source: int, user_data: bytes = b"", *,
               bad_header_crc: bool = False, bad_block: int | None = None) -> bytes:
    """A link frame (§9.2.4.1): header with CRC, then 16-octet blocks each with its CRC."""
    assert len(user_data) <= 250
    header = b"\x05\x64" + bytes([5 + len(user_data), control]) + destination.to_bytes(2, "little") \
        + source.to_bytes(2, "little")
    crc = crc_bytes(header)
    if bad_header_crc:
        crc = bytes([crc[0] ^ 0xFF, crc[1]])
    out = header + crc
    for n, i in enumerate(range(0, len(user_data), 16)):
        block = user_data[i:i + 16]
        crc = crc_bytes(block)
        if bad_block == n:
            crc = bytes([crc[0] ^ 0x01, crc[1]])
        out += block + crc
    return out


def transport(fir: bool, fin: bool, seq: int) -> int:
    return (0x80 if fin else 0) | (0x40 if fir else 0) | (seq & 0x3F)


def frames_for(fragment: bytes, *, from_master: bool = True, seq: int = 0, segment_size: int = 249,
               source: int | None = None, destination: int | None = None) -> list[bytes]:
    """The link frames that carry ``fragment``, split into transport segments of ``segment_size`` octets."""
    src = source if source is not None else (MASTER if from_master else OUTSTATION)
    dst = destination if destination is not None else (OUTSTATION if from_master else MASTER)
    control = UNCONFIRMED_FROM_MASTER if from_master else UNCONFIRMED_FROM_OUTSTATION
    pieces = [fragment[i:i + segment_size] for i in range(0, len(fragment), segment_size)] or [b""]
    return [link_frame(control, dst, src, bytes([transport(i == 0, i == len(pieces) - 1, seq + i)]) + piece)
            for i, piece in enumerate(pieces)]


def request(function: int, objects: bytes = b"", *, seq: int = 3, fir: bool = True, fin: bool = True,
            con: bool = False, uns: bool = False) -> bytes:
    """An application request fragment: control, function, objects."""
    control = (0x80 if fir else 0) | (0x40 if fin else 0) | (0x20 if con else 0) | (0x10 if uns else 0) | seq
    return bytes([control, function]) + objects


def response(objects: bytes = b"", *, iin: int = 0, seq: int = 3, function: int = 0x81, fir: bool = True,
             fin: bool = True, con: bool = False, uns: bool = False) -> bytes:
    """An application response fragment: control, function, IIN1 IIN2, objects."""
    return request(function, iin.to_bytes(2, "big") + objects, seq=seq, fir=fir, fin=fin, con=con, uns=uns)


def message_bytes(fragment: bytes, *, from_master: bool = True, seq: int = 0) -> bytes:
    return b"".join(frames_for(fragment, from_master=from_master, seq=seq))


# --- object headers ---------------------------------------------------------------------------------------------

def header(group: int, variation: int, qualifier: int, *range_fields: int, widths: int = 1) -> bytes:
    return bytes([group, variation, qualifier]) + b"".join(v.to_bytes(widths, "little") for v in range_fields)


CLASS_0123 = header(60, 2, 0x06) + header(60, 3, 0x06) + header(60, 4, 0x06) + header(60, 1, 0x06)


def crob(code: int = 0x03, count: int = 1, on: int = 100, off: int = 100, status: int = 0) -> bytes:
    """g12v1 control relay output block (§A.8.1)."""
    return bytes([code, count]) + on.to_bytes(4, "little") + off.to_bytes(4, "little") + bytes([status])


def attribute(variation: int, value: bytes | str, data_type: int = 1) -> bytes:
    """A g0 device attribute object header and object (qualifier 0x00, range 0-0; §A.1)."""
    raw = value.encode() if isinstance(value, str) else value
    return header(0, variation, 0x00, 0, 0) + bytes([data_type, len(raw)]) + raw
