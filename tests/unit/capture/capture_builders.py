"""Small pcap and pcapng files built byte by byte, so every field of every frame is known.

Kept independent of the readers under test: these follow the drafts directly
(draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng) with ``struct``.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
from helpers import NonSeekable

from sensor.capture import CaptureError
from sensor.capture.source import CaptureInput, open_stream

PCAP_MAGIC = {  # (byte order, nanoseconds, modified) -> magic number as written in that order
    False: 0xA1B2C3D4,
    True: 0xA1B23C4D,
}
MODIFIED_MAGIC = 0xA1B2CD34


@dataclass(frozen=True)
class Frame:
    """What a reader should report for one frame."""

    number: int
    ts: float
    caplen: int
    wirelen: int
    linktype: int
    data: bytes


# ---------------------------------------------------------------- pcap


def pcap_header(order: str = "<", *, nanos: bool = False, modified: bool = False, linktype: int = 1,
                snaplen: int = 262144, major: int = 2) -> bytes:
    magic = MODIFIED_MAGIC if modified else PCAP_MAGIC[nanos]
    return struct.pack(order + "IHHiIII", magic, major, 4, 0, 0, snaplen, linktype)


def pcap_record(order: str, sec: int, frac: int, data: bytes, wirelen: int | None = None, *,
                modified: bool = False, caplen: int | None = None) -> bytes:
    hdr = struct.pack(order + "IiII", sec, frac, len(data) if caplen is None else caplen,
                      len(data) if wirelen is None else wirelen)
    if modified:
        hdr += struct.pack(order + "IHBB", 3, 0x0800, 0, 0)
    return hdr + data


def sample_pcap(order: str = "<", *, nanos: bool = False, modified: bool = False, linktype: int = 1,
                n: int = 6) -> tuple[bytes, list[Frame], list[int]]:
    """A pcap of ``n`` frames of different sizes; returns (bytes, frames, record end offsets)."""
    units = 1_000_000_000 if nanos else 1_000_000
    out = [pcap_header(order, nanos=nanos, modified=modified, linktype=linktype)]
    frames, ends = [], []
    pos = len(out[0])
    for i in range(n):
        data = bytes((i * 7 + k) & 0xFF for k in range(14 + 11 * i))
        sec, frac = 1_600_000_000 + i, (i * 123457) % units
        wire = len(data) + (i % 3) * 100  # some frames cut by the snaplen
        rec = pcap_record(order, sec, frac, data, wire, modified=modified)
        out.append(rec)
        pos += len(rec)
        ends.append(pos)
        frames.append(Frame(i + 1, sec + frac / units, len(data), wire, linktype, data))
    return b"".join(out), frames, ends


# ---------------------------------------------------------------- pcapng


def block(order: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack(order + "II", btype, total) + body + struct.pack(order + "I", total)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def end_of_options(order: str) -> bytes:
    return struct.pack(order + "HH", 0, 0)


def shb(order: str, *, major: int = 1, options: bytes = b"") -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1) + options)


def idb(order: str, linktype: int, snaplen: int = 0, *, tsresol: int | None = None,
        tsoffset: int | None = None, extra_options: bytes = b"") -> bytes:
    opts = extra_options
    if tsresol is not None:
        opts += option(order, 9, bytes([tsresol]))
    if tsoffset is not None:
        opts += option(order, 14, struct.pack(order + "q", tsoffset))
    if opts:
        opts += end_of_options(order)
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts)


def epb(order: str, iface: int, units: int, data: bytes, wirelen: int | None = None, *,
        options: bytes = b"") -> bytes:
    body = struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data),
                       len(data) if wirelen is None else wirelen)
    body += data + b"\0" * (-len(data) % 4) + options
    return block(order, 6, body)


def spb(order: str, data: bytes, wirelen: int | None = None) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(data) if wirelen is None else wirelen) + data)


def pb(order: str, iface: int, units: int, data: bytes, wirelen: int | None = None) -> bytes:
    body = struct.pack(order + "HHIIII", iface, 0, units >> 32, units & 0xFFFFFFFF, len(data),
                       len(data) if wirelen is None else wirelen)
    return block(order, 2, body + data)


def payload(i: int, size: int) -> bytes:
    return bytes((i * 31 + k) & 0xFF for k in range(size))


def sample_pcapng() -> tuple[bytes, list[Frame], list[tuple[int, int, int]]]:
    """Two sections (little then big endian), two interfaces each, every packet block type,
    and blocks we must skip. Returns (bytes, frames, (start, end, type) of every block)."""
    blocks: list[tuple[bytes, Frame | None]] = []
    frames: list[Frame] = []

    def add(raw: bytes, frame: Frame | None = None) -> None:
        blocks.append((raw, frame))

    n = 0

    def nxt() -> int:
        nonlocal n
        n += 1
        return n

    le, be = "<", ">"
    # Section 1, little endian: if 0 Ethernet µs (default), if 1 raw IP in ns with an offset.
    add(shb(le, options=option(le, 1, b"section one") + end_of_options(le)))
    add(idb(le, 1, 65535))
    add(idb(le, 101, 0, tsresol=9, tsoffset=100))
    d = payload(1, 60)
    add(epb(le, 0, 1_600_000_000_123_456, d), Frame(nxt(), 1_600_000_000 + 123_456 / 1e6, 60, 60, 1, d))
    add(block(le, 4, b"\x00\x00\x00\x00"))  # Name Resolution Block: skipped
    d = payload(2, 41)
    add(epb(le, 1, 1_500_000_000_987_654_321, d, 1500, options=option(le, 1, b"a comment") + end_of_options(le)),
        Frame(nxt(), 100 + 1_500_000_000 + 987_654_321 / 1e9, 41, 1500, 101, d))
    d = payload(3, 33)
    add(spb(le, d), Frame(nxt(), 100 + 1_500_000_000 + 987_654_321 / 1e9, 33, 33, 1, d))  # ts of previous
    add(block(le, 5, struct.pack(le + "III", 0, 0, 0)))  # Interface Statistics Block: skipped
    d = payload(4, 17)
    add(pb(le, 1, 42_000_000_001, d), Frame(nxt(), 100 + 42 + 1 / 1e9, 17, 17, 101, d))
    add(block(le, 0x00000BAD, b"custom!"))
    # Section 2, big endian: ids restart. if 0 Linux SLL with 2^-10 s ticks, if 1 raw IPv4 in ms.
    add(shb(be))
    add(idb(be, 113, 64, tsresol=0x80 | 10))
    add(idb(be, 228, 0, tsresol=3, tsoffset=-5))
    d = payload(5, 80)
    add(epb(be, 0, 1_000 * 1024 + 512, d), Frame(nxt(), 1000 + 512 / 1024, 80, 80, 113, d))
    d = payload(6, 20)
    add(epb(be, 1, 1_234_567, d), Frame(nxt(), -5 + 1234 + 567 / 1000, 20, 20, 228, d))
    add(block(be, 0x40000BAD, b"custom, do not copy"))
    d = payload(7, 64)
    add(spb(be, d, 200), Frame(nxt(), -5 + 1234 + 567 / 1000, 64, 200, 113, d))  # cut by SnapLen 64
    d = payload(8, 3)
    add(epb(be, 0, 2048, d), Frame(nxt(), 2.0, 3, 3, 113, d))

    raw = b"".join(b for b, _ in blocks)
    layout, pos, order = [], 0, "<"
    for b, f in blocks:
        if b[:4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        layout.append((pos, pos + len(b), struct.unpack_from(order + "I", b)[0]))
        pos += len(b)
        if f is not None:
            frames.append(f)
    return raw, frames, layout


# ---------------------------------------------------------------- reading


def read_input(inp: CaptureInput, **kw: int) -> tuple[list[Frame], list[str]]:
    """All frames of an input as Frames, checking batch invariants on the way."""
    out: list[Frame] = []
    for b in inp.batches(**kw):
        check_batch(b)
        for i in range(len(b)):
            o, c = int(b.offset[i]), int(b.caplen[i])
            out.append(Frame(int(b.frame[i]), float(b.ts[i]), c, int(b.wirelen[i]), int(b.linktype[i]),
                             bytes(b.data[o:o + c])))
    return out, list(inp.warnings)


def check_batch(b) -> None:
    """Invariants every FrameBatch keeps."""
    n = len(b)
    assert n > 0
    assert b.data.dtype == np.uint8 and b.data.ndim == 1
    for col, dtype in ((b.offset, np.int64), (b.caplen, np.int64), (b.wirelen, np.int64), (b.ts, np.float64),
                       (b.linktype, np.int64), (b.frame, np.int64)):
        assert col.dtype == dtype and col.shape == (n,)
    assert (b.offset >= 0).all() and (b.caplen >= 0).all()
    assert (b.offset + b.caplen <= len(b.data)).all()
    assert (np.diff(b.frame) == 1).all()
    assert np.isfinite(b.ts).all()


def read_bytes(raw: bytes, *, seekable: bool = False, name: str = "t.pcap", **kw: int
               ) -> tuple[list[Frame], list[str]]:
    """Read capture bytes as a pipe would deliver them, or as a seekable file (other code path)."""
    stream = io.BufferedReader(io.BytesIO(raw)) if seekable else NonSeekable(raw)
    return read_input(open_stream(stream, name), **kw)


def read_error(raw: bytes, name: str = "t.pcap") -> CaptureError:
    try:
        read_input(open_stream(NonSeekable(raw), name))
    except CaptureError as exc:
        return exc
    raise AssertionError("no CaptureError")
