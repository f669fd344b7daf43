"""One spool, several producer processes (the workers of ``--workers N``) and one sender: nothing lost, nothing
doubled, the counts and the full-spool policy right across processes, and a spool file of the older code."""
from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from test_siem_spool import start_writer

from sensor.sinks.siem.spool import Spool, SpoolBusy

PRODUCERS = 3
PUTS = 60  # per producer; each put is 1 to 4 records
FORKS = 100


def _produce(path: str, k: int, max_bytes: int, go) -> None:
    """Producer ``k``: PUTS transactions of records ``p<k>-<n>``, numbered in its own order."""
    spool = Spool(path, max_bytes, send=False)
    go.wait(30)
    n = 0
    for i in range(PUTS):
        size = 1 + (i * 7 + k) % 4
        spool.put([f"p{k}-{n + j:05d}".encode() + b"." * (j * 3) for j in range(size)])
        n += size
    spool.close()


def _records_written(k: int) -> list[bytes]:
    out, n = [], 0
    for i in range(PUTS):
        size = 1 + (i * 7 + k) % 4
        out += [f"p{k}-{n + j:05d}".encode() + b"." * (j * 3) for j in range(size)]
        n += size
    return out


def _start(path: Path, max_bytes: int) -> tuple[list, object]:
    ctx = multiprocessing.get_context("fork")  # as the workers are started: after the sender opened the spool
    go = ctx.Event()
    procs = [ctx.Process(target=_produce, args=(str(path), k, max_bytes, go)) for k in range(PRODUCERS)]
    for proc in procs:
        proc.start()
    go.set()
    return procs, go


def _stored(path: Path) -> tuple[int, int]:
    """What the records table holds, counted from the records themselves."""
    with sqlite3.connect(path) as db:
        count, size = db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM records").fetchone()
    return int(count), int(size)


def test_producers_and_a_sender_lose_and_double_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    sender = Spool(path)
    procs, _ = _start(path, 1 << 20)
    received: list[bytes] = []
    while True:
        done = all(not proc.is_alive() for proc in procs)
        batch = sender.peek(25)
        if batch:
            received += [data for _, data in batch]
            assert sender.ack(batch[-1][0]) == len(batch)  # only the sender removes, so all it peeked is there
            count, size = sender.backlog()
            assert count >= 0 and size >= 0
        elif done:
            break
    assert all(proc.exitcode == 0 for proc in procs)
    for k in range(PRODUCERS):
        mine = [r for r in received if r.startswith(f"p{k}-".encode())]
        assert mine == _records_written(k), f"producer {k}: in its order, each once"
    assert len(received) == sum(len(_records_written(k)) for k in range(PRODUCERS))
    assert sender.backlog() == (0, 0) == _stored(path)
    assert sender.dropped == 0
    sender.close()


def test_counts_while_nobody_sends_are_the_records(tmp_path: Path) -> None:
    """Backlog read by the sender equals the records all producers put, count and bytes."""
    path = tmp_path / "s.spool"
    sender = Spool(path)
    procs, _ = _start(path, 1 << 20)
    for proc in procs:
        proc.join(60)
    written = [r for k in range(PRODUCERS) for r in _records_written(k)]
    assert sender.backlog() == (len(written), sum(map(len, written))) == _stored(path)
    sender.close()


def test_a_full_spool_drops_the_oldest_of_all_producers_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    limit = 600  # far less than the ~5 KB the producers put
    sender = Spool(path, limit)
    sender.put([b"sender-first" * 10])  # the very oldest, from another process than the ones that fill it
    procs, _ = _start(path, limit)
    for proc in procs:
        proc.join(60)
    assert all(proc.exitcode == 0 for proc in procs)
    written = [b"sender-first" * 10] + [r for k in range(PRODUCERS) for r in _records_written(k)]
    kept = [data for _, data in sender.peek(10**6)]
    counters = sender.counters()
    assert (counters["count"], counters["bytes"]) == (len(kept), sum(map(len, kept))) == _stored(path)
    assert 0 < counters["bytes"] <= limit
    assert counters["dropped"] == len(written) - len(kept)
    assert counters["dropped_bytes"] == sum(map(len, written)) - sum(map(len, kept))
    assert b"sender-first" * 10 not in kept
    for k in range(PRODUCERS):  # what is kept of each producer is its newest records: the oldest went first
        mine = [r for r in kept if r.startswith(f"p{k}-".encode())]
        assert mine == _records_written(k)[len(_records_written(k)) - len(mine):]
    last = {k: _records_written(k)[-1] for k in range(PRODUCERS)}
    assert any(record in kept for record in last.values()), "the newest put survives"
    sender.close()


def test_a_producer_takes_no_lock_and_cannot_send(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    producer = Spool(path, send=False)  # before the sender: the sender still gets the lock
    sender = Spool(path)
    with pytest.raises(SpoolBusy):
        Spool(path)
    other = Spool(path, send=False)
    producer.put([b"a"])
    other.put([b"bb"])
    assert sender.backlog() == (2, 3) == producer.backlog()
    with pytest.raises(RuntimeError, match="only its sender"):
        producer.peek(1)
    with pytest.raises(RuntimeError, match="only its sender"):
        producer.ack(10)
    seq = sender.peek(1)[0][0]
    sender.ack(seq)
    assert other.backlog() == (1, 2)
    for spool in (producer, other, sender):
        spool.close()


OLD_SCHEMA = """
CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES ('dropped', 7), ('dropped_bytes', 70);
"""


def test_a_spool_file_of_the_older_code_opens_with_right_counts(tmp_path: Path) -> None:
    """Its meta has no count and bytes: they are taken from its records once, then kept."""
    path = tmp_path / "old.spool"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.executemany("INSERT INTO records (size, data) VALUES (?, ?)", [(3, b"abc"), (5, b"defgh"), (1, b"i")])
        (first,), = db.execute("SELECT MIN(seq) FROM records")
        db.execute("DELETE FROM records WHERE seq = ?", (first,))  # one already acknowledged
    producer = Spool(path, send=False)
    sender = Spool(path)
    assert sender.backlog() == (2, 6) == producer.backlog()
    assert sender.dropped == 7 and sender.counters()["unformattable"] == 0
    producer.put([b"jk"])
    assert [d for _, d in sender.peek(10)] == [b"defgh", b"i", b"jk"]
    assert sender.backlog() == (3, 8)
    producer.close()
    sender.close()
    again = Spool(path)
    assert again.backlog() == (3, 8) == _stored(path)
    again.close()


def _put_one(path: str, k: int) -> None:
    spool = Spool(path, send=False)
    spool.put([f"child-{k}".encode()])
    spool.close()


def test_forking_while_the_sender_thread_is_in_sqlite_does_not_hang_the_child(tmp_path: Path) -> None:
    """The workers are forked while the Forwarder's thread reads the spool: without the spool's fork hooks, a
    child forked mid-call inherits SQLite's mutexes held and hangs on its first SQLite call."""
    import threading

    path = tmp_path / "s.spool"
    sender = Spool(path)
    sender.put([b"x"] * 50)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sender.peek(50)
            sender.backlog()

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    ctx = multiprocessing.get_context("fork")
    try:
        children = []
        for k in range(FORKS):
            child = ctx.Process(target=_put_one, args=(str(path), k))
            child.start()
            children.append(child)
        for child in children:
            child.join(10)
        hung = [child for child in children if child.exitcode is None]
        for child in hung:
            child.kill()
            child.join()
        assert not hung and all(child.exitcode == 0 for child in children)
    finally:
        stop.set()
        thread.join(5)
    assert sender.backlog()[0] == 50 + FORKS
    sender.close()


def test_a_producer_killed_mid_put_leaves_counts_that_match_the_records(tmp_path: Path) -> None:
    """kill -9 of a worker while it puts, its sender acking meanwhile: whole transactions only, and the counts in
    meta, updated in the same transactions, still equal the records."""
    path = tmp_path / "s.spool"
    sender = Spool(path)
    writer = start_writer(path, repeat=16, send=False)
    assert writer.stdout is not None
    acked: list[bytes] = []
    for _ in range(15):
        reported = int(writer.stdout.readline())
        batch = sender.peek(7)
        if batch:
            acked += [data for _, data in batch]
            sender.ack(batch[-1][0])
    writer.kill()
    writer.wait()
    rest = [data for _, data in sender.peek(10**6)]
    records = acked + rest
    assert len(records) >= reported and len(records) % 5 == 0
    assert records == [b"%08d" % i * 16 for i in range(len(records))]
    assert sender.backlog() == (len(rest), 128 * len(rest)) == _stored(path)
    sender.close()
