"""sensor.batch_ring: a batch put in by the reader comes out whole in a forked worker, read-only, and its block
is reused only once every view of it is gone; nothing of it is named in /dev/shm."""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from sensor.batch_ring import COLUMNS, BatchRing
from sensor.capture import FrameBatch
from sensor.capture.source import open_inputs
from sensor.parallel import shard_of

FRAMES = 512


@pytest.fixture(scope="module")
def batches(corpus: Path) -> list[FrameBatch]:
    """The first batches of a real capture, with several host pairs (so the shard column is not constant)."""
    source = next(iter(open_inputs([str(corpus / "it" / "malcolm_DNS.pcap")])))
    out = []
    for fb in source.batches(max_frames=FRAMES):
        out.append(fb)
        if len(out) == 3:
            return out
    pytest.fail("the capture has fewer than three batches")


def assert_same(got: FrameBatch, want: FrameBatch) -> None:
    for name in COLUMNS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert got.file == want.file


def test_a_forked_worker_reads_the_batch_the_reader_put(batches: list[FrameBatch]) -> None:
    ring = BatchRing(workers=2, blocks=2, max_frames=FRAMES, max_bytes=1 << 20)
    fb = batches[0]
    shard = shard_of(fb, 2)
    assert set(shard.tolist()) == {0, 1}, "both workers should get frames of this batch"
    tickets = [ring.put(fb, shard)]
    ctx = multiprocessing.get_context("fork")
    back = ctx.Queue()

    def worker() -> None:
        whole, extra = ring.take(tickets[0], 1)
        back.put((whole, extra, whole.data.flags.writeable))

    child = ctx.Process(target=worker)
    child.start()
    whole, extra, writeable = back.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert_same(whole, fb)
    assert np.array_equal(extra, shard) and extra.dtype == shard.dtype
    assert not writeable, "every worker reads the same bytes: none may write them"


def test_a_block_is_reused_only_when_every_view_of_it_is_gone(batches: list[FrameBatch]) -> None:
    ring = BatchRing(workers=2, blocks=1, max_frames=FRAMES, max_bytes=1 << 20)
    first, second = batches[0], batches[1]
    ticket = ring.put(first, shard_of(first, 2))
    assert ticket is not None
    ring.take(ticket, 0)  # worker 0 is done with it at once: nothing keeps a view
    whole, extra = ring.take(ticket, 1)
    kept = whole.data[10:20]  # as a stage keeping a slice of a frame past its batch would
    del whole, extra
    assert ring.put(second, shard_of(second, 2)) is None, "worker 1 still sees the block through a slice"
    del kept
    again = ring.put(second, shard_of(second, 2))
    assert again is not None and again.block == ticket.block
    got, _ = ring.take(again, 0)
    assert_same(got, second)


def test_a_batch_larger_than_a_block_is_refused(batches: list[FrameBatch]) -> None:
    """A block holds ``max_frames`` frames of ``max_bytes`` bytes; far more is refused (the caller pickles it)."""
    fb = batches[2]
    small = BatchRing(workers=2, blocks=2, max_frames=len(fb), max_bytes=len(fb.data) // 4)
    assert small.put(fb, shard_of(fb, 2)) is None
    exact = BatchRing(workers=2, blocks=2, max_frames=len(fb), max_bytes=len(fb.data))
    assert exact.put(fb, shard_of(fb, 2)) is not None


def test_the_ring_names_nothing_in_dev_shm(batches: list[FrameBatch]) -> None:
    """Anonymous memory: a run that dies, however, cannot leave a segment behind for someone to unlink."""
    before = set(os.listdir("/dev/shm"))
    ring = BatchRing(workers=2, blocks=2, max_frames=FRAMES, max_bytes=1 << 20)
    assert ring.put(batches[0], shard_of(batches[0], 2)) is not None
    with open("/proc/self/maps", encoding="utf-8") as maps:
        assert not [line for line in maps if "/dev/shm/" in line]
    assert set(os.listdir("/dev/shm")) <= before
