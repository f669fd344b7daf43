"""Gather helpers: read big-endian fields at many offsets of one byte buffer at once.

Offsets may point past the end of the buffer for packets that are too short; those reads are
clipped to the buffer's end and the caller masks the result with its own length checks, so a bad
length can never raise an IndexError.

A field of 2, 4 or 8 bytes is one gather from a view of the buffer that holds a value at *every* byte
offset (a stride of one byte): half the memory passes of gathering its bytes one by one and shifting them
together, which was most of the decoder's time.
"""
from __future__ import annotations

import numpy as np


def _at_every_byte(data: np.ndarray, dtype: str) -> np.ndarray:
    """``data`` seen as overlapping ``dtype`` values, the i-th starting at byte i."""
    size = np.dtype(dtype).itemsize
    return np.ndarray(shape=(len(data) - size + 1,), dtype=dtype, buffer=data, strides=(1,))


def _gather(data: np.ndarray, at: np.ndarray, dtype: str) -> np.ndarray:
    view = _at_every_byte(data, dtype)
    return view[np.clip(at, 0, len(view) - 1)]


def u8(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    return data[np.minimum(at, len(data) - 1)].astype(np.int64)


def u16(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    if len(data) < 2:
        return u8(data, at) << 8 | u8(data, at + 1)
    return _gather(data, at, ">u2").astype(np.int64)


def u16le(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    if len(data) < 2:
        return u8(data, at) | u8(data, at + 1) << 8
    return _gather(data, at, "<u2").astype(np.int64)


def u32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    if len(data) < 4:
        return (u16(data, at) << 16) | u16(data, at + 2)
    return _gather(data, at, ">u4").astype(np.int64)


def u48(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Six bytes (a MAC address): the top of one 8-byte gather, two where fewer than 8 bytes are left."""
    if len(data) < 8:
        return (u16(data, at) << 32) | u32(data, at + 2)
    value = (_gather(data, at, ">u8") >> np.uint64(16)).astype(np.int64)
    late = np.flatnonzero(at > len(data) - 8)
    if len(late):
        value[late] = (u16(data, at[late]) << 32) | u32(data, at[late] + 2)
    return value


def one_of(values: np.ndarray, choices: tuple[int, ...]) -> np.ndarray:
    """``np.isin`` for a handful of choices: a comparison each, where np.isin's own overhead is most of its cost."""
    found = values == choices[0]
    for choice in choices[1:]:
        found |= values == choice
    return found


def u64(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Big-endian 64-bit values as uint64 (addresses, hashed keys)."""
    if len(data) < 8:
        hi = u32(data, at).astype(np.uint64)
        lo = u32(data, at + 4).astype(np.uint64)
        return (hi << np.uint64(32)) | lo
    return _gather(data, at, ">u8").astype(np.uint64)
