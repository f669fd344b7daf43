"""Capture sources: files (pcap, pcapng), stdin and directories, read as batches of raw frames.

A source never builds per-packet objects: it fills one byte buffer and records where each
frame starts. Everything downstream indexes that buffer with numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class CaptureError(Exception):
    """The input is not a capture we can read (named file, one-line reason)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(slots=True)
class FrameBatch:
    """A run of consecutive frames from one capture file, sharing one byte buffer.

    ``data`` holds the bytes; frame ``i`` is ``data[offset[i] : offset[i] + caplen[i]]``.
    """

    data: np.ndarray  # uint8
    offset: np.ndarray  # int64, start of each frame in ``data``
    caplen: np.ndarray  # int64, bytes captured
    wirelen: np.ndarray  # int64, bytes on the wire
    ts: np.ndarray  # float64, seconds since the epoch
    linktype: np.ndarray  # int64, LINKTYPE_* of the frame's interface
    frame: np.ndarray  # int64, 1-based frame number in its file
    file: str
    clock: float | None = None  # a worker's share of a batch (sensor.parallel): the whole batch's last timestamp

    def __len__(self) -> int:
        return len(self.offset)


# LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) the decoder understands.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
