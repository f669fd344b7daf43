"""A ring of shared memory blocks that carries the reader's batches to forked workers without pickling them.

Why: ``analyze --workers N`` reads every input in one process. Pickling each worker's share through a queue
copied the batch's bytes once per worker in the reader (pickle, then the queue's feeder thread writing the pipe)
and again in each worker (reading the pipe, unpickling), on the same cores the workers need. Here the reader
copies each batch once, into a free block, and each worker is sent a ticket of a few hundred bytes (the block,
where each column lies in it, the file name); the worker's arrays are views of the block.

How: one anonymous shared mapping (``mmap`` with no file), made before the workers are forked, so they inherit
it. Nothing is named in /dev/shm: there is nothing to unlink, and the kernel frees the memory with the last
process that maps it, however the run ends (a normal end, a worker's error, Ctrl-C, a SIGKILL). It therefore
needs the ``fork`` start method, which ``sensor.parallel`` uses.

A block is reused only when every worker has let go of the batch it holds: the reader marks (block, worker)
busy before sending the ticket, and the worker clears its mark when the last array viewing the block is
garbage (a ``weakref.finalize`` on the array every view derives from), so the pipeline may keep views of a batch
as long as it likes. Workers' views are read-only: every worker reads the same bytes. When no block is free or a
batch does not fit in one, ``put`` says so and the caller sends that batch another way.
"""
from __future__ import annotations

import mmap
import weakref
from dataclasses import dataclass

import numpy as np

from sensor.capture import FrameBatch

COLUMNS = ("data", "offset", "caplen", "wirelen", "ts", "linktype", "frame")  # FrameBatch's arrays, in order
MAX_COLUMN_ITEM = 8  # bytes per frame of the widest column (int64, float64)
ALIGN = 64  # every column starts on a cache line


@dataclass(frozen=True, slots=True)
class Ticket:
    """Where one batch lies in the ring: its block, and each array's (start in the block, length, dtype)."""

    block: int
    columns: tuple[tuple[int, int, str], ...]  # COLUMNS, then the extra column given to ``put``
    file: str


class BatchRing:
    """``blocks`` blocks, each holding one batch of up to ``max_frames`` frames, ``max_bytes`` bytes of frames
    and one extra column (a worker number per frame), shared by the reader and ``workers`` forked workers."""

    def __init__(self, workers: int, blocks: int, max_frames: int, max_bytes: int) -> None:
        per_frame = len(COLUMNS) * MAX_COLUMN_ITEM  # the columns but ``data``, and the extra column
        self.block_size = _aligned(max_bytes) + _aligned(max_frames * per_frame) + len(COLUMNS) * ALIGN
        self.blocks, self.workers = blocks, workers
        self._control = _aligned(blocks * workers)
        self._map = mmap.mmap(-1, self._control + blocks * self.block_size)  # anonymous, MAP_SHARED: forks see it
        self._busy = np.ndarray((blocks, workers), np.uint8, buffer=self._map)  # 1: that worker holds that block
        self._bytes = np.ndarray(blocks * self.block_size, np.uint8, buffer=self._map, offset=self._control)
        self._next = 0

    def put(self, fb: FrameBatch, extra: np.ndarray) -> Ticket | None:
        """Copy the batch and ``extra`` (one value per frame) into a free block and mark it held by every
        worker; None when no block is free or the batch does not fit (the caller sends it otherwise)."""
        arrays = [getattr(fb, name) for name in COLUMNS] + [extra]
        if sum(_aligned(a.nbytes) for a in arrays) > self.block_size:
            return None
        block = self._free_block()
        if block is None:
            return None
        base, at, layout = block * self.block_size, 0, []
        for array in arrays:
            raw = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
            self._bytes[base + at: base + at + len(raw)] = raw
            layout.append((at, len(array), array.dtype.str))
            at += _aligned(len(raw))
        self._busy[block] = 1
        self._next = (block + 1) % self.blocks
        return Ticket(block, tuple(layout), fb.file)

    def take(self, ticket: Ticket, worker: int) -> tuple[FrameBatch, np.ndarray]:
        """In a worker: the batch and its extra column, as read-only views of the block; the block is this
        worker's until the last of those views (or of views derived from them) is garbage."""
        block = np.ndarray(self.block_size, np.uint8, buffer=self._map,
                           offset=self._control + ticket.block * self.block_size)  # every view's base
        block.flags.writeable = False
        weakref.finalize(block, self._busy.__setitem__, (ticket.block, worker), 0)
        arrays = [block[at: at + count * np.dtype(dtype).itemsize].view(dtype) for at, count, dtype in ticket.columns]
        return FrameBatch(*arrays[:len(COLUMNS)], file=ticket.file), arrays[len(COLUMNS)]

    def _free_block(self) -> int | None:
        for i in range(self.blocks):
            block = (self._next + i) % self.blocks
            if not self._busy[block].any():
                return block
        return None


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN
