"""pcapng files, read as a stream of FrameBatches.

Every block shares one frame (draft-ietf-opsawg-pcapng, section 3.1)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +---------------------------------------------------------------+
  0 |                          Block Type                           |
  4 |                      Block Total Length                       |
  8 /                          Block Body (padded to 32 bits)       /
    |                      Block Total Length                       |
    +---------------------------------------------------------------+

The blocks we read (all other types are skipped by length):

* Section Header Block, type 0x0A0D0D0A (4.1): body starts with the byte-order magic
  0x1A2B3C4D, major u16, minor u16, section length i64, options. Each SHB may switch byte
  order, and interface ids restart at 0 after it.
* Interface Description Block, type 1 (4.2): LinkType u16, reserved u16, SnapLen u32,
  options; ``if_tsresol`` (code 9, u8: 10^-n, or 2^-n when the top bit is set, default 10^-6)
  and ``if_tsoffset`` (code 14, i64 seconds added to every timestamp).
* Enhanced Packet Block, type 6 (4.3): Interface ID u32, Timestamp high u32, low u32,
  Captured Length u32, Original Length u32, then the frame at body offset 20 (block offset 28).
* Simple Packet Block, type 3 (4.4): Original Length u32, frame at block offset 12; interface
  0, captured length ``min(original, SnapLen of interface 0)`` (which must fit the block), and
  no timestamp: we give it the timestamp of the previous frame of the file (0.0 before any),
  so time never runs backwards because of it.
* Packet Block, type 2 (appendix A, obsolete): Interface ID u16, Drops u16, then as EPB.

A block length that is not a multiple of 4, shorter than its type's fixed part, longer than
MAX_BLOCK, or whose trailing copy disagrees, marks the file corrupt: we keep the frames
before it, warn, and stop reading that file. A packet block that is sound except that its
captured length exceeds MAX_CAPLEN is skipped with a warning instead (its length fields agree,
so we know where the next block starts); it keeps its frame number, so later frames keep theirs.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from . import FrameBatch
from .chunks import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FRAMES,
    MAX_CAPLEN,
    ByteFeed,
    cut_batches,
    u16_view,
    u32_view,
)

SHB = 0x0A0D0D0A
IDB = 1
PB = 2
SPB = 3
EPB = 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_ENDOFOPT = 0
IF_TSRESOL = 9
IF_TSOFFSET = 14

# No block is this large: name resolution, decryption secrets and custom blocks can be big, and
# a packet block over MAX_CAPLEN is read whole only to check its lengths and step over it.
MAX_BLOCK = 16 << 20

MIN_LEN = {SHB: 28, IDB: 20, EPB: 32, PB: 32, SPB: 16}
BLOCK_NAMES = {
    SHB: "Section Header Block",
    IDB: "Interface Description Block",
    EPB: "Enhanced Packet Block",
    SPB: "Simple Packet Block",
    PB: "Packet Block",
}
MICROSECONDS = 1_000_000


def block_name(btype: int) -> str:
    """How warnings name a block type."""
    return BLOCK_NAMES.get(btype, f"block type 0x{btype:08x}")


class _Corrupt(Exception):
    """Internal: the block at ``offset`` (in the current buffer) makes the rest unreadable."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


class _Interfaces:
    """The current section's interfaces, as lists and as numpy lookup tables indexed by id."""

    def __init__(self) -> None:
        self.linktype: list[int] = []
        self.snaplen: list[int] = []
        self.res: list[int] = []
        self.tsoffset: list[int] = []
        self._tables: tuple[np.ndarray, ...] | None = None

    def __len__(self) -> int:
        return len(self.linktype)

    def add(self, linktype: int, snaplen: int, res: int, tsoffset: int) -> None:
        self.linktype.append(linktype)
        self.snaplen.append(snaplen)
        self.res.append(res)
        self.tsoffset.append(tsoffset)
        self._tables = None

    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(linktype int64, resolution uint64, offset float64); a dummy row 0 when empty."""
        if self._tables is None:
            n = max(len(self), 1)
            lt = np.zeros(n, dtype=np.int64)
            res = np.full(n, MICROSECONDS, dtype=np.uint64)
            tso = np.zeros(n, dtype=np.float64)
            lt[: len(self)] = self.linktype
            res[: len(self)] = self.res
            tso[: len(self)] = self.tsoffset
            self._tables = (lt, res, tso)
        return self._tables  # type: ignore[return-value]


def read_pcapng(
    stream: BinaryIO,
    name: str,
    warnings: list[str],
    *,
    head: bytes = b"",
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[FrameBatch]:
    """Yield the frames of a pcapng stream; ``head`` is whatever was already read (the magic).

    Problems in the file end it with a line in ``warnings``; complete frames before them are kept.
    """
    yield from _Reader(stream, name, warnings, head, max_frames, max_bytes).run()


class _Reader:
    """One pass over one pcapng stream: section state plus the chunk loop."""

    def __init__(
        self, stream: BinaryIO, name: str, warnings: list[str], head: bytes, max_frames: int, max_bytes: int
    ) -> None:
        self.feed = ByteFeed(stream, head, max_bytes)
        self.name = name
        self.warnings = warnings
        self.max_frames = max_frames
        self.order = "<"
        self.unpack2 = struct.Struct("<II").unpack_from
        self.section = False  # seen a Section Header Block yet
        self.ifaces = _Interfaces()
        self.frames = 0  # frame numbers used so far: frames yielded plus packet blocks skipped
        self.skipped = 0
        self.last_ts = 0.0  # for Simple Packet Blocks, which carry no timestamp
        # per-chunk state
        self.cols: list[tuple[np.ndarray, ...]] = []
        self.chunk_frames = 0
        self.skips: list[int] = []  # rows of this chunk's columns before which one frame was skipped

    # ---- driver ----

    def run(self) -> Iterator[FrameBatch]:
        feed = self.feed
        need = 12
        while feed.avail < need and feed.fill(need):
            pass
        while True:
            buf = feed.buf
            self.cols = []
            self.chunk_frames = 0
            self.skips = []
            stop: str | None = None
            try:
                used, need = self._chunk(buf, feed.pos)
            except _Corrupt as exc:
                used = exc.offset
                stop = exc.reason
            yield from self._emit(buf)
            if stop is not None:
                self.warnings.append(
                    f"{self.name}: corrupt block at byte {feed.base + used}: {stop}; {self.read} frames read"
                )
                return
            feed.pos = used
            if not feed.fill(need):
                break
        if feed.error:
            self.warnings.append(
                f"{self.name}: read error at byte {feed.base + len(feed.buf)}: {feed.error}; "
                f"{self.read} frames read"
            )
        elif feed.avail:
            self.warnings.append(
                f"{self.name}: {self._describe_tail(feed.tail, feed.base + feed.pos)}; {self.read} frames read"
            )

    @property
    def read(self) -> int:
        """Frames yielded so far."""
        return self.frames - self.skipped

    def _describe_tail(self, tail: bytes, base: int) -> str:
        have = len(tail)
        if have < 8:
            return f"truncated block header at byte {base}: {have} of 8 bytes"
        btype = struct.unpack_from(self.order + "I", tail, 0)[0]
        if btype == SHB and have >= 12:
            order = _shb_order(tail, 0) or self.order
            total = struct.unpack_from(order + "I", tail, 4)[0]
        elif btype == SHB:
            return f"truncated {block_name(SHB)} at byte {base}: {have} of at least {MIN_LEN[SHB]} bytes"
        else:
            total = struct.unpack_from(self.order + "I", tail, 4)[0]
        frame = f" (frame {self.frames + 1})" if btype in (EPB, SPB, PB) else ""
        return f"truncated {block_name(btype)} at byte {base}{frame}: {have} of {total} bytes"

    # ---- one buffer ----

    def _chunk(self, buf: bytes, off: int) -> tuple[int, int]:
        """Parse whole blocks in ``buf`` from ``off``; return (where parsing stopped, bytes needed from there)."""
        size = len(buf)
        epbs: list[int] = []
        others: list[int] = []
        while True:
            if self.section:
                off = _scan(buf, off, size, self.unpack2, epbs.append, others.append)
            # ``off`` is now a block the fast loop does not take, an incomplete block, or the end.
            if size - off < 8:
                self._flush(buf, epbs, others)
                return off, 12
            btype = struct.unpack_from(self.order + "I", buf, off)[0]
            if btype == SHB and size - off < 12:  # its length is in the byte order its body declares
                self._flush(buf, epbs, others)
                return off, 12
            if btype == SHB:
                order = _shb_order(buf, off)
                if order is None:
                    self._flush(buf, epbs, others)
                    raise _Corrupt(off, f"bad byte-order magic 0x{buf[off + 8:off + 12].hex()}")
            elif not self.section:
                raise _Corrupt(off, f"first block is {block_name(btype)}, not a Section Header Block")
            else:
                order = self.order
            blen = struct.unpack_from(order + "I", buf, off + 4)[0]
            why = _length_problem(btype, blen)
            if why:
                self._flush(buf, epbs, others)
                raise _Corrupt(off, f"{block_name(btype)} {why}")
            if off + blen > size:
                self._flush(buf, epbs, others)
                return off, blen
            trailer = struct.unpack_from(order + "I", buf, off + blen - 4)[0]
            if trailer != blen:
                self._flush(buf, epbs, others)
                raise _Corrupt(off, f"{block_name(btype)} length {blen} but trailer says {trailer}")
            if btype == SHB:
                self._flush(buf, epbs, others)
                self._section(buf, off, blen, order)
            elif btype == IDB:
                self._flush(buf, epbs, others)
                self._interface(buf, off, blen)
            elif btype == EPB:  # only reached when the fast loop declined it; keep it anyway
                epbs.append(off)
            elif btype in (SPB, PB):
                others.append(off)
            off += blen

    def _section(self, buf: bytes, off: int, blen: int, order: str) -> None:
        major, minor = struct.unpack_from(order + "HH", buf, off + 12)
        if major != 1:
            raise _Corrupt(off, f"unsupported pcapng version {major}.{minor}")
        self.order = order
        self.unpack2 = struct.Struct(order + "II").unpack_from
        self.section = True
        self.ifaces = _Interfaces()

    def _interface(self, buf: bytes, off: int, blen: int) -> None:
        order = self.order
        linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", buf, off + 8)
        res = MICROSECONDS
        tsoffset = 0
        pos = off + 16
        end = off + blen - 4
        seen: set[int] = set()
        while pos + 4 <= end:
            code, olen = struct.unpack_from(order + "HH", buf, pos)
            if code == OPT_ENDOFOPT:
                break
            if pos + 4 + olen > end:
                self.warnings.append(
                    f"{self.name}: interface {len(self.ifaces)}: option {code} overruns its block; "
                    "ignoring the rest of its options"
                )
                break
            if code == IF_TSRESOL and olen >= 1 and code not in seen:
                res = self._resolution(buf[pos + 4])
            elif code == IF_TSOFFSET and olen >= 8 and code not in seen:
                tsoffset = struct.unpack_from(order + "q", buf, pos + 4)[0]
            seen.add(code)
            pos += 4 + ((olen + 3) & ~3)
        self.ifaces.add(linktype, snaplen, res, tsoffset)

    def _resolution(self, value: int) -> int:
        """if_tsresol as units per second; out-of-range values fall back to microseconds."""
        exp = value & 0x7F
        res = (1 << exp) if value & 0x80 else 10**exp
        if res >= 1 << 64:
            self.warnings.append(
                f"{self.name}: interface {len(self.ifaces)}: if_tsresol 0x{value:02x} out of range; "
                "assuming microseconds"
            )
            return MICROSECONDS
        return res

    # ---- packet blocks to columns ----

    def _flush(self, buf: bytes, epbs: list[int], others: list[int]) -> None:
        """Turn the collected packet-block offsets into columns (appended to ``self.cols``)."""
        if not epbs and not others:
            return
        order = self.order
        w = u32_view(buf, order)
        n_if = len(self.ifaces)
        lt_tab, res_tab, tso_tab = self.ifaces.tables()
        parts = []
        if epbs:
            o = np.array(epbs, dtype=np.int64)
            epbs.clear()
            parts.append(self._columns(buf, w, o, np.full(len(o), EPB, dtype=np.int64), n_if))
        if others:
            o = np.array(others, dtype=np.int64)
            others.clear()
            parts.append(self._columns(buf, w, o, w[o].astype(np.int64), n_if))
        if len(parts) == 2:
            merged = [np.concatenate([a, b]) for a, b in zip(parts[0], parts[1])]
            order_idx = np.argsort(merged[0], kind="stable")
            cols = [c[order_idx] for c in merged]
        else:
            cols = list(parts[0])
        block, btype, data, cap, wire, iface, units, has_ts, ok = cols
        bad = np.flatnonzero(~ok)
        stop: tuple[int, int, str] | None = None
        if len(bad):  # rare: skip oversized packet blocks, stop at the first block that is broken
            stop = self._skip_oversized(buf, block, btype, ok, bad, n_if)
            end = stop[0] if stop is not None else len(ok)
            keep = ok[:end]
            cols = [c[:end][keep] for c in cols]
            block, btype, data, cap, wire, iface, units, has_ts, ok = cols
        iface_c = np.minimum(iface, len(lt_tab) - 1)
        res = res_tab[iface_c]
        sec = units // res
        rem = units - sec * res
        ts = sec.astype(np.float64) + rem.astype(np.float64) / res.astype(np.float64) + tso_tab[iface_c]
        self.cols.append((data, cap, wire, ts, lt_tab[iface_c], has_ts))
        self.chunk_frames += len(data)
        if stop is not None:
            raise _Corrupt(stop[1], stop[2])

    def _skip_oversized(
        self, buf: bytes, block: np.ndarray, btype: np.ndarray, ok: np.ndarray, bad: np.ndarray, n_if: int
    ) -> tuple[int, int, str] | None:
        """Note a skip (and warn) for each bad row that is only oversized, up to the first truly broken one.

        Returns (that row, its block offset, why it is broken), or None when every bad row was skipped.
        """
        # Rows before a bad row are all either good or skipped, so row k is frame ``first + k``.
        first = self.frames + self.chunk_frames + len(self.skips) + 1
        for j, k in enumerate(bad.tolist()):
            off, bt = int(block[k]), int(btype[k])
            cap = self._oversized(buf, off, bt, n_if)
            if cap is None:
                return k, off, self._why(buf, off, bt, n_if)
            self.skips.append(self.chunk_frames + k - j)
            self.warnings.append(
                f"{self.name}: skipped {block_name(bt)} at byte {self.feed.base + off} (frame {first + k}): "
                f"captured length {cap} exceeds {MAX_CAPLEN}"
            )
        return None

    def _oversized(self, buf: bytes, off: int, btype: int, n_if: int) -> int | None:
        """The captured length of the packet block at ``off`` if that is its only fault, else None."""
        order = self.order
        blen, = struct.unpack_from(order + "I", buf, off + 4)
        if blen & 3 or struct.unpack_from(order + "I", buf, off + blen - 4)[0] != blen:
            return None
        if btype == SPB:
            if n_if == 0:
                return None
            cap = min(struct.unpack_from(order + "I", buf, off + 8)[0], self._spb_snaplen())
            fixed = 16
        else:
            iface, = struct.unpack_from(order + ("H" if btype == PB else "I"), buf, off + 8)
            if iface >= n_if:
                return None
            cap, = struct.unpack_from(order + "I", buf, off + 20)
            fixed = 32
        if cap <= MAX_CAPLEN or ((cap + 3) & ~3) > blen - fixed:
            return None
        return cap

    def _columns(
        self, buf: bytes, w: np.ndarray, o: np.ndarray, btype: np.ndarray, n_if: int
    ) -> tuple[np.ndarray, ...]:
        """Per-block columns for packet blocks at ``o``: EPB, SPB and PB read differently."""
        blen = w[o + 4].astype(np.int64)
        trailer = w[o + blen - 4].astype(np.int64)
        is_spb = btype == SPB
        # EPB and PB share the layout from offset 12 on. A Simple Packet Block may be only
        # 16 bytes long at the end of the buffer, so clip the reads; its rows are replaced below.
        top = len(w) - 1
        hi = w[np.minimum(o + 12, top)].astype(np.uint64)
        lo = w[np.minimum(o + 16, top)].astype(np.uint64)
        cap = w[np.minimum(o + 20, top)].astype(np.int64)
        wire = w[np.minimum(o + 24, top)].astype(np.int64)
        iface = w[o + 8].astype(np.int64)
        is_pb = btype == PB
        if is_pb.any():
            h = u16_view(buf, self.order)
            iface = np.where(is_pb, h[o + 8].astype(np.int64), iface)
        data = o + 28
        has_ts = ~is_spb
        if is_spb.any():
            spb_wire = iface  # the SPB's Original Length sits where EPB has Interface ID
            spb_cap = np.minimum(spb_wire, self._spb_snaplen())
            cap = np.where(is_spb, spb_cap, cap)
            wire = np.where(is_spb, spb_wire, wire)
            iface = np.where(is_spb, 0, iface)
            data = np.where(is_spb, o + 12, data)
            hi = np.where(is_spb, np.uint64(0), hi)
            lo = np.where(is_spb, np.uint64(0), lo)
        units = (hi << np.uint64(32)) | lo
        fixed = np.where(is_spb, 16, 32)
        ok = (
            (blen & 3 == 0)
            & (trailer == blen)
            & (((cap + 3) & ~3) <= blen - fixed)
            & (cap <= MAX_CAPLEN)
            & (iface < n_if)
        )
        return (o, btype, data, cap, wire, iface, units, has_ts, ok)

    def _spb_snaplen(self) -> int:
        """A Simple Packet Block holds min(original length, SnapLen of interface 0) bytes (4.4)."""
        snap = self.ifaces.snaplen[0] if len(self.ifaces) else 0
        return snap if snap else 1 << 40

    def _why(self, buf: bytes, off: int, btype: int, n_if: int) -> str:
        """The first reason the packet block at ``off`` is unusable, for the warning."""
        order = self.order
        name = block_name(btype)
        blen, = struct.unpack_from(order + "I", buf, off + 4)
        if blen & 3:
            return f"{name} length {blen} is not a multiple of 4"
        trailer, = struct.unpack_from(order + "I", buf, off + blen - 4)
        if trailer != blen:
            return f"{name} length {blen} but trailer says {trailer}"
        if btype == SPB:
            if n_if == 0:
                return f"{name} before any Interface Description Block"
            wire, = struct.unpack_from(order + "I", buf, off + 8)
            cap = min(wire, self._spb_snaplen())
            if cap > MAX_CAPLEN:
                return f"{name} captured length {cap} exceeds {MAX_CAPLEN}"
            return f"{name} captured length {cap} does not fit its {blen}-byte block"
        if btype == PB:
            iface, = struct.unpack_from(order + "H", buf, off + 8)
        else:
            iface, = struct.unpack_from(order + "I", buf, off + 8)
        cap, = struct.unpack_from(order + "I", buf, off + 20)
        if cap > MAX_CAPLEN:
            return f"{name} captured length {cap} exceeds {MAX_CAPLEN}"
        if ((cap + 3) & ~3) > blen - 32:
            return f"{name} captured length {cap} does not fit its {blen}-byte block"
        if iface >= n_if:
            return f"{name} names interface {iface} but the section defines {n_if}"
        return f"{name} is malformed"

    def _emit(self, buf: bytes) -> Iterator[FrameBatch]:
        """Yield this chunk's frames as batches; fill in Simple Packet Block timestamps."""
        skips, self.skips = self.skips, []
        self.skipped += len(skips)
        if not self.cols:
            self.frames += len(skips)
            return
        data, cap, wire, ts, lt, has_ts = (np.concatenate(c) for c in zip(*self.cols))
        self.cols = []
        n = len(data)
        if n and not has_ts.all():
            idx = np.where(has_ts, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            ts = np.where(idx >= 0, ts[np.maximum(idx, 0)], self.last_ts)
        if n:
            self.last_ts = float(ts[-1])
        lo = 0
        for i, hi in enumerate([*skips, n]):  # a skipped block ends one run of consecutive frame numbers
            if hi > lo:
                yield from cut_batches(buf, data[lo:hi], cap[lo:hi], wire[lo:hi], ts[lo:hi], lt[lo:hi],
                                       self.frames + 1, self.name, self.max_frames)
                self.frames += hi - lo
            self.frames += i < len(skips)  # the skipped block's own number
            lo = hi


def _scan(buf: bytes, off: int, size: int, unpack2, epb_append, other_append) -> int:
    """The hot loop: step over whole packet blocks, noting where each starts.

    Stops at the first block that is not a packet block, is shorter than its fixed part,
    or runs past the buffer; the caller's slower path deals with that one.
    """
    last = size - 12
    while off <= last:
        btype, blen = unpack2(buf, off)
        if btype == EPB:
            end = off + blen
            if blen < 32 or end > size:
                break
            epb_append(off)
        elif btype == SPB:
            end = off + blen
            if blen < 16 or end > size:
                break
            other_append(off)
        elif btype == PB:
            end = off + blen
            if blen < 32 or end > size:
                break
            other_append(off)
        else:
            break
        off = end
    return off


def _shb_order(buf: bytes, off: int) -> str | None:
    """Byte order of the section whose SHB starts at ``off``, from its byte-order magic."""
    bom = buf[off + 8 : off + 12]
    if bom == b"\x4d\x3c\x2b\x1a":
        return "<"
    if bom == b"\x1a\x2b\x3c\x4d":
        return ">"
    return None


def _length_problem(btype: int, blen: int) -> str:
    """Why a block's total length cannot be right, or '' if it can."""
    if blen & 3:
        return f"length {blen} is not a multiple of 4"
    if blen < MIN_LEN.get(btype, 12):
        return f"length {blen} is shorter than its fixed part ({MIN_LEN.get(btype, 12)})"
    if blen > MAX_BLOCK:
        return f"length {blen} exceeds {MAX_BLOCK}"
    return ""
