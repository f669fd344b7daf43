"""The pcap reader's record walk: the offsets of the records whose whole header lies in a buffer.

This is the only per-record work in reading a pcap file (everything after it is numpy on the
offsets), so it is compiled: ``sensor/capture/_walk.c``, built as ``sensor.capture._walk`` when the
package is installed. Where that build failed (no C compiler) the pure-Python loop below does the
same walk with identical results, several times slower (walking 1M records: 21 ms compiled,
165 ms in Python). ``COMPILED`` says which one ``walk_records`` is; ``OTSENSOR_PURE_PYTHON=1`` in the
environment forces the Python loop.
"""
from __future__ import annotations

import os
import struct

import numpy as np

try:
    if os.environ.get("OTSENSOR_PURE_PYTHON", "") not in ("", "0"):
        raise ImportError("OTSENSOR_PURE_PYTHON is set")
    from ._walk import walk as _c_walk
except ImportError:
    _c_walk = None

COMPILED: bool = _c_walk is not None

_MIN_HLEN = 12  # caplen is the u32 at +8 of the record header


def _check(start: int, hlen: int, order: str) -> None:
    # The same argument errors from both walks (the C one could not read a caplen inside a shorter header).
    if hlen < _MIN_HLEN:
        raise ValueError(f"walk: hlen must be at least {_MIN_HLEN} (caplen is the u32 at +8)")
    if start < 0:
        raise ValueError("walk: start must not be negative")
    if order not in ("<", ">"):
        raise ValueError(f"walk: order must be '<' or '>', not {order!r}")


def _bytes_like(buf):
    """``buf`` as the C walk sees it (PyBUF_SIMPLE): its bytes, with the same errors for what has none."""
    if type(buf) is bytes or type(buf) is bytearray:
        return buf
    view = memoryview(buf)  # TypeError for what has no buffer
    if not view.c_contiguous:
        raise BufferError("walk: the buffer is not C-contiguous")
    return view.cast("B")  # indexed by byte whatever its item format


def walk_records_py(buf: bytes, start: int, hlen: int, order: str) -> tuple[np.ndarray, int]:
    """The walk in pure Python: ``(offsets, end)``; see ``walk_records``."""
    _check(start, hlen, order)
    buf = _bytes_like(buf)
    unpack_caplen = struct.Struct(order + "I").unpack_from
    offs: list[int] = []
    app = offs.append
    off = start
    last = len(buf) - hlen
    while off <= last:
        app(off)
        off += hlen + unpack_caplen(buf, off + 8)[0]
    return np.array(offs, dtype=np.int64), off


def walk_records_c(buf: bytes, start: int, hlen: int, order: str) -> tuple[np.ndarray, int]:
    """The compiled walk: ``(offsets, end)``; see ``walk_records``. Only when ``COMPILED``."""
    if _c_walk is None:
        raise RuntimeError("sensor.capture._walk is not available (not built, or OTSENSOR_PURE_PYTHON is set)")
    _check(start, hlen, order)
    raw, end = _c_walk(buf, start, hlen, order == "<")
    return np.frombuffer(raw, dtype=np.int64), end


def walk_records(buf: bytes, start: int, hlen: int, order: str) -> tuple[np.ndarray, int]:
    """Offsets (int64) of the pcap records of ``buf`` from ``start``, and the offset ``end`` after the last.

    From ``off = start``, while ``off <= len(buf) - hlen``: ``off`` is a record, and the next one is at
    ``off + hlen + caplen``, caplen being the u32 at ``off + 8`` in byte order ``order`` ('<' or '>').
    ``end > len(buf)`` means the last record's header is whole but its body runs past the buffer.
    ``buf`` is any bytes-like object.
    """
    return walk_records_c(buf, start, hlen, order) if COMPILED else walk_records_py(buf, start, hlen, order)

