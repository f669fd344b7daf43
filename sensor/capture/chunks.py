"""Shared plumbing for the file readers: chunked reading with a carried tail, and batch cutting.

Both readers work the same way: read about ``max_bytes`` at a time, find the records that
lie wholly inside that buffer with one tight Python loop, carry the partial record at the
end over to the next buffer, and turn the record offsets into columns with numpy. Memory
therefore stays at about one chunk (plus whatever batches the caller still holds) however
long the capture is, and a non-seekable stream (stdin, a zip member) reads the same way.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from . import FrameBatch

DEFAULT_MAX_FRAMES = 65536
DEFAULT_MAX_BYTES = 16 << 20

# Larger than any real link's frame: libpcap's MAXIMUM_SNAPLEN and Wireshark's
# WTAP_MAX_PACKET_SIZE_STANDARD. A caplen above this means the file is corrupt.
MAX_CAPLEN = 262144


class ByteFeed:
    """A stream read in large chunks: ``buf[pos:]`` is what has not been parsed yet.

    ``base`` is the stream offset of ``buf[0]``, so warnings can name absolute byte positions.
    Readers parse ``buf`` in place from ``pos`` and move ``pos`` past what they used; ``fill`` then
    carries the unparsed tail into the next chunk. On a plain seekable file the tail is not
    copied: we seek back to it and read it again with the next chunk, so every chunk is one
    ``read`` into a fresh ``bytes`` (the fastest object for ``struct.unpack_from``). Other
    streams (pipes, stdin, zip members, gzip, whose seeks would re-decompress) join the tail
    and the new chunk instead. A read that raises (a bad zip CRC, a truncated gzip, an I/O
    error) ends the feed like EOF but leaves ``error`` set: a bad file must never kill the sensor.
    """

    __slots__ = ("_origin", "_read", "_stream", "base", "buf", "chunk", "eof", "error", "pos")

    def __init__(self, stream: BinaryIO, head: bytes, chunk: int) -> None:
        self._stream = stream
        # read1 returns what one underlying read produced, so an exception from a
        # decompressor cannot swallow bytes already decompressed in the same call.
        self._read = getattr(stream, "read1", None) or stream.read
        self.chunk = max(int(chunk), 1)
        self.buf = bytes(head)
        self.pos = 0
        self.base = 0
        self.eof = False
        self.error: str | None = None
        self._origin = -1  # stream position of base 0 when we may seek back, else -1
        if isinstance(stream, (io.BufferedReader, io.FileIO)):
            try:
                if stream.seekable():
                    self._origin = stream.tell() - len(head)
                    stream.seek(self._origin)
                    self.buf = b""
                    self._read = stream.read
            except (OSError, ValueError):
                self._origin = -1

    @property
    def tail(self) -> bytes:
        """The bytes not parsed yet (at EOF: the incomplete last record)."""
        return self.buf[self.pos :]

    @property
    def avail(self) -> int:
        """How many unparsed bytes ``buf`` holds."""
        return len(self.buf) - self.pos

    def fill(self, need: int) -> bool:
        """Make ``buf[pos:]`` hold ``max(need, chunk)`` bytes, or all that is left; False if nothing new came.

        After a successful fill ``pos`` is 0: the unparsed tail starts the new buffer.
        """
        if self.eof:
            return False
        carry = self.buf[self.pos :] if self.pos < len(self.buf) else b""
        if carry and self._origin >= 0:
            try:
                self._stream.seek(self._origin + self.base + self.pos)
                carry = b""
            except (OSError, ValueError):
                self._origin = -1
        target = max(need, self.chunk)
        parts = [carry] if carry else []
        have = len(carry)
        while have < target:
            try:
                piece = self._read(target - have)
            except Exception as exc:  # noqa: BLE001 - any decoder/I-O failure ends this file only
                self.error = f"{type(exc).__name__}: {exc}"
                self.eof = True
                break
            if not piece:
                self.eof = True
                break
            parts.append(piece)
            have += len(piece)
        grew = have > len(self.buf) - self.pos
        if parts and (grew or carry == b""):
            self.base += self.pos
            self.buf = parts[0] if len(parts) == 1 else b"".join(parts)
            self.pos = 0
        return grew


def read_exact(stream: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads (pipes); fewer only at EOF."""
    parts = []
    have = 0
    while have < n:
        piece = stream.read(n - have)
        if not piece:
            break
        parts.append(piece)
        have += len(piece)
    return b"".join(parts)


def u32_view(buf: bytes, order: str, signed: bool = False) -> np.ndarray:
    """Every byte position as the start of a 32-bit word: ``view[i]`` is the word at ``buf[i:i+4]``.

    A stride of one byte lets numpy gather header fields at arbitrary (unaligned) record
    offsets with one fancy index per field, instead of a Python unpack per record.
    """
    n = max(len(buf) - 3, 0)
    kind = "i4" if signed else "u4"
    return np.ndarray((n,), dtype=np.dtype(order + kind), buffer=buf, offset=0, strides=(1,))


def u16_view(buf: bytes, order: str) -> np.ndarray:
    """Like :func:`u32_view` for 16-bit fields."""
    n = max(len(buf) - 1, 0)
    return np.ndarray((n,), dtype=np.dtype(order + "u2"), buffer=buf, offset=0, strides=(1,))


def cut_batches(
    buf: bytes,
    offset: np.ndarray,
    caplen: np.ndarray,
    wirelen: np.ndarray,
    ts: np.ndarray,
    linktype: np.ndarray,
    first_frame: int,
    name: str,
    max_frames: int,
) -> Iterator[FrameBatch]:
    """Split one chunk's columns into FrameBatches of at most ``max_frames`` frames.

    Each batch's ``data`` is a zero-copy view spanning just its frames (offsets rebased),
    so a consumer holding one batch does not see its neighbours' bytes. Frames must be in
    file order, which makes the span ``[offset[0], offset[-1] + caplen[-1])``.
    """
    n = len(offset)
    if n == 0:
        return
    whole = np.frombuffer(buf, dtype=np.uint8)
    step = max(int(max_frames), 1)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        start = int(offset[lo])
        end = int(offset[hi - 1] + caplen[hi - 1])
        yield FrameBatch(
            data=whole[start:end],
            offset=offset[lo:hi] - start,
            caplen=caplen[lo:hi],
            wirelen=wirelen[lo:hi],
            ts=ts[lo:hi],
            linktype=linktype[lo:hi],
            frame=np.arange(first_frame + lo, first_frame + hi, dtype=np.int64),
            file=name,
        )
