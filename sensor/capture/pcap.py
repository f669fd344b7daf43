"""Classic pcap files (libpcap format), read as a stream of FrameBatches.

File header, 24 bytes (draft-ietf-opsawg-pcap, section 4)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +---------------------------------------------------------------+
  0 |                          Magic Number                         |
  4 |          Major Version        |         Minor Version         |
  8 |                           Reserved1 (thiszone)                |
 12 |                           Reserved2 (sigfigs)                 |
 16 |                            SnapLen                            |
 20 | FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
    +---------------------------------------------------------------+

Record header, 16 bytes, then CapLen bytes of frame (section 5)::

  0 | Timestamp (seconds)  |  4 | Timestamp (micro- or nanoseconds) |
  8 | Captured Packet Length | 12 | Original Packet Length          |

The magic says byte order and unit: a1b2c3d4 microseconds, a1b23c4d nanoseconds, each
read in either byte order. a1b2cd34 is Alexey Kuznetsov's "modified" libpcap: microseconds,
and 8 more record-header bytes (ifindex u32, protocol u16, pkt_type u8, pad u8) that we skip.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from . import FrameBatch, walk
from .chunks import DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES, MAX_CAPLEN, ByteFeed, cut_batches, u32_view

FILE_HEADER_LEN = 24

# magic as it appears in the file -> (struct byte order, timestamp units per second, record header length)
MAGICS: dict[bytes, tuple[str, int, int]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
}

# Writers that store more than their declared snaplen (snaplen 0, or 65535 with TSO frames)
# exist; only a caplen beyond snaplen by more than this margin counts as corruption.
SNAPLEN_MARGIN = 65536


# An oversized record is stepped over only when the record after it makes sense (see
# _oversized): its header must lie this close in time to the frames before, ...
SKIP_TS_WINDOW = 86400
# ... and the oversized record must be small enough to hold in memory while we look past it
# (like pcapng's MAX_BLOCK); a larger caplen is a corrupt length field, not a frame.
MAX_SKIP = 16 << 20


def caplen_limit(snaplen: int) -> int:
    """Largest caplen we accept before calling the file corrupt."""
    if snaplen <= 0:
        return MAX_CAPLEN
    return min(MAX_CAPLEN, snaplen + SNAPLEN_MARGIN)


def read_pcap(
    stream: BinaryIO,
    name: str,
    warnings: list[str],
    *,
    head: bytes = b"",
    max_frames: int = DEFAULT_MAX_FRAMES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[FrameBatch]:
    """Yield the frames of a pcap stream; ``head`` is whatever was already read (the magic).

    Problems in the file (truncation, a corrupt record length, a read error) end the file
    with a line appended to ``warnings``; every complete frame before them is yielded. A record
    whose caplen is over the limit but is followed by a sensible record header (or by exactly the
    end of the file) is skipped instead, with a warning naming its frame number; it keeps that
    number, so every later frame keeps its place in the file.
    """
    feed = ByteFeed(stream, head, max_bytes)
    while feed.avail < FILE_HEADER_LEN and feed.fill(FILE_HEADER_LEN):
        pass
    if feed.avail < FILE_HEADER_LEN:
        why = f"read error ({feed.error})" if feed.error else "truncated file header"
        warnings.append(f"{name}: {why}: {feed.avail} of {FILE_HEADER_LEN} bytes; 0 frames read")
        return
    magic = feed.buf[feed.pos : feed.pos + 4]
    if magic not in MAGICS:
        # Callers detect the format first; reaching here means a programming error upstream.
        warnings.append(f"{name}: not a pcap file (magic 0x{magic.hex()}); 0 frames read")
        return
    order, units, hlen = MAGICS[magic]
    major, _minor, _zone, _sigfigs, snaplen, ltfield = struct.unpack_from(order + "HHiIII", feed.buf, feed.pos + 4)
    if major != 2:
        warnings.append(f"{name}: unexpected pcap version {major}.{_minor}; reading anyway")
    linktype = ltfield & 0x03FFFFFF  # LinkType plus reserved bits; FCS info lives above them
    if ltfield & 0x04000000:
        fcs = (ltfield >> 28) & 0xF
        warnings.append(f"{name}: file header says every frame ends in a {fcs * 2}-byte FCS")
    limit = caplen_limit(snaplen)
    feed.pos += FILE_HEADER_LEN

    unpack_caplen = struct.Struct(order + "I").unpack_from
    frames = 0  # frame numbers used so far: frames yielded plus records skipped
    skipped = 0
    last_sec = -1  # seconds of the last frame yielded (-1: none yet), to judge what follows an oversized record
    need = hlen
    while True:
        buf = feed.buf
        size = len(buf)
        # ---- the only per-record work: walk the record lengths (compiled, see walk.py) ----
        offs, off = walk.walk_records(buf, feed.pos, hlen, order)
        if off > size:  # the last header is whole but its body runs past the buffer
            pending = int(offs[-1])
            offs = offs[:-1]
            pending_caplen = off - pending - hlen
        else:
            pending = off
            pending_caplen = -1
        # ---- columns for the complete records ----
        n = len(offs)
        oversized = -1  # buffer offset of a record whose caplen is over the limit
        if n:
            o = offs
            w = u32_view(buf, order)
            caplen = w[o + 8].astype(np.int64)
            bad = np.flatnonzero(caplen > limit)
            if len(bad):
                n = int(bad[0])
                oversized = int(o[n])
                o, caplen = o[:n], caplen[:n]
            yield from _emit(buf, order, o, w, hlen, units, caplen, linktype, frames, name, max_frames)
            frames += n
            if n:
                last_sec = unpack_caplen(buf, int(o[-1]))[0]  # the same u32 unpacker reads ts_sec at +0
        if oversized < 0 and pending_caplen > limit:
            oversized = pending
        if oversized >= 0:  # rare: step over it if the file goes on sensibly after it, else stop
            feed.pos = oversized
            if not _oversized(feed, order, units, hlen, limit, last_sec, name, frames + 1, warnings):
                warnings.append(
                    f"{name}: corrupt record at byte {feed.base + feed.pos} (frame {frames + 1}): "
                    f"caplen {unpack_caplen(feed.buf, feed.pos + 8)[0]} exceeds {limit}; "
                    f"{frames - skipped} frames read"
                )
                return
            frames += 1
            skipped += 1
            continue
        feed.pos = pending
        need = hlen + pending_caplen if pending_caplen >= 0 else hlen
        if not feed.fill(need):
            break
    read = frames - skipped
    if feed.error:
        warnings.append(f"{name}: read error at byte {feed.base + len(feed.buf)}: {feed.error}; {read} frames read")
    elif feed.avail:
        have = feed.avail
        if have < hlen:
            what, total = "record header", hlen
        else:
            what, total = "record", hlen + unpack_caplen(feed.buf, feed.pos + 8)[0]
        warnings.append(
            f"{name}: truncated {what} at byte {feed.base + feed.pos} (frame {frames + 1}): "
            f"{have} of {total} bytes; {read} frames read"
        )


def _oversized(
    feed: ByteFeed,
    order: str,
    units: int,
    hlen: int,
    limit: int,
    last_sec: int,
    name: str,
    frame: int,
    warnings: list[str],
) -> bool:
    """Step over the oversized record at ``feed.pos`` if what follows it is believable; False to stop.

    Its caplen is believed (the bytes are really there) when at ``pos + hlen + caplen`` the file
    ends exactly, or a record header follows whose timestamp lies within SKIP_TS_WINDOW of the
    last frame (of this record when it is the first), whose fraction is under one second, and
    whose caplen is within the limit and not above its (non-zero) wire length. Otherwise the length
    field itself is what is broken, and nothing after it can be trusted.
    """
    sec, _frac, caplen = struct.unpack_from(order + "IiI", feed.buf, feed.pos)
    if caplen > MAX_SKIP:
        return False
    need = hlen + caplen + hlen
    while feed.avail < need and feed.fill(need):
        pass
    have = feed.avail
    nxt = feed.pos + hlen + caplen
    if have == hlen + caplen:
        ok = feed.eof and not feed.error
    elif have < need:
        ok = False  # the record's bytes, or the next header, are not all there
    else:
        nsec, nfrac, ncap, nwire = struct.unpack_from(order + "IiII", feed.buf, nxt)
        ref = last_sec if last_sec >= 0 else sec
        ok = abs(nsec - ref) <= SKIP_TS_WINDOW and abs(nfrac) < units and 0 < nwire and ncap <= min(nwire, limit)
    if ok:
        warnings.append(
            f"{name}: skipped oversized record at byte {feed.base + feed.pos} (frame {frame}): "
            f"caplen {caplen} exceeds {limit}"
        )
        feed.pos = nxt
    return ok


def _emit(
    buf: bytes,
    order: str,
    o: np.ndarray,
    w: np.ndarray,
    hlen: int,
    units: int,
    caplen: np.ndarray,
    linktype: int,
    frames: int,
    name: str,
    max_frames: int,
) -> Iterator[FrameBatch]:
    """Gather the remaining header fields for records starting at ``o`` and cut batches."""
    if len(o) == 0:
        return
    sec = w[o].astype(np.float64)
    # Signed, as Wireshark reads it: time-shifting tools have written negative fractions
    # (seen in the public corpus), meaning "that many micro/nanoseconds before ``sec``".
    frac = u32_view(buf, order, signed=True)[o + 4].astype(np.float64)
    ts = sec + frac / units
    wirelen = w[o + 12].astype(np.int64)
    lt = np.full(len(o), linktype, dtype=np.int64)
    yield from cut_batches(buf, o + hlen, caplen, wirelen, ts, lt, frames + 1, name, max_frames)
