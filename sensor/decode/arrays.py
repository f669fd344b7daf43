"""Gather helpers: read big-endian fields at many offsets of one byte buffer at once.

Offsets may point past the end of the buffer for packets that are too short; those reads are
clipped to the last byte and the caller masks the result with its own length checks, so a bad
length can never raise an IndexError.
"""
from __future__ import annotations

import numpy as np


def u8(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    return data[np.minimum(at, len(data) - 1)].astype(np.int64)


def u16(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    last = len(data) - 1
    return (data[np.minimum(at, last)].astype(np.int64) << 8) | data[np.minimum(at + 1, last)]


def u16le(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    last = len(data) - 1
    return data[np.minimum(at, last)].astype(np.int64) | (data[np.minimum(at + 1, last)].astype(np.int64) << 8)


def u32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    return (u16(data, at) << 16) | u16(data, at + 2)


def u48(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    return (u16(data, at) << 32) | u32(data, at + 2)


def u64(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Big-endian 64-bit values as uint64 (addresses, hashed keys)."""
    hi = u32(data, at).astype(np.uint64)
    lo = u32(data, at + 4).astype(np.uint64)
    return (hi << np.uint64(32)) | lo
