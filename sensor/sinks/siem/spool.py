"""A disk spool of formatted SIEM records, so nothing is lost while the SIEM is down or the sensor dies.

One SQLite file of its own (not the inventory database: a busy SIEM link must never hold up the store)::

    records(seq INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER, data BLOB)   -- in send order
    meta(name TEXT PRIMARY KEY, value INTEGER)    -- count, bytes (what waits); dropped, dropped_bytes,
                                                  -- unformattable (records no process could format)

* Crash-safe: WAL with ``synchronous=FULL``; every ``put`` and every ``ack`` is one transaction, so after
  ``kill -9`` or a power cut a record is either wholly in the spool or not, and the ack counter never
  runs ahead of what was sent. Whatever was not acknowledged is sent again by the next process.
* AUTOINCREMENT: sequence numbers are never reused, so ``ack(seq)`` can never remove a record that arrived
  after the batch it acknowledges.
* Several producers, one sender: the sender (``send=True``, the default) holds a lock file, so two processes
  never send the same spool at once; producers (``send=False``, e.g. the workers of ``--workers N``) only
  ``put``, each with a connection of its own. What waits (``count``, ``bytes``) is kept in ``meta``, updated in
  the transaction that inserts or deletes, so every process reads the same numbers (a spool file written before
  these rows existed gets them from its records when opened). SQLite's busy timeout queues the writers.
* Bounded: at most ``max_bytes`` of record data (default 256 MiB). When a put would go beyond, the
  **oldest** records are dropped (the newest alerts matter most to an operator), whoever put them, and counted
  in ``dropped``, which persists in the file and is reported by ``health()``; never silently.
* Private: the file (and its WAL) is mode 0600.
* Fork-safe: the workers are forked while the sender's thread uses its connection; a fork waits until no thread
  of this process is inside SQLite for a spool (``_quiet_for_fork``), else the child can inherit SQLite's
  internal mutexes held, and hang on its first call.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from pathlib import Path

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
BUSY_TIMEOUT_S = 30.0  # how long a put or an ack waits for another process's transaction

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('dropped', 0), ('dropped_bytes', 0), ('unformattable', 0);
INSERT OR IGNORE INTO meta SELECT 'count', COUNT(*) FROM records;
INSERT OR IGNORE INTO meta SELECT 'bytes', COALESCE(SUM(size), 0) FROM records;
COMMIT;
"""


class SpoolBusy(RuntimeError):
    """Another process is sending from this spool."""


class Spool:
    """An ordered, bounded, persistent queue of byte records with explicit acknowledgement.

    ``send=False`` opens it as one more producer: ``put`` only, without the sender's lock."""

    def __init__(self, path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES, *, send: bool = True) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.sends = send
        self._lock = threading.RLock()
        self._lockfile = _take_lock(Path(f"{self.path}.lock")) if send else -1
        self._open = True
        _OPEN.add(self)
        with self._lock:  # a fork waits for this too (_quiet_for_fork)
            try:
                _private(self.path)
                self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                          timeout=BUSY_TIMEOUT_S)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
                try:
                    self.db.executescript(_SCHEMA)
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
                for suffix in ("-wal", "-shm"):
                    side = Path(f"{self.path}{suffix}")
                    if side.exists():
                        os.chmod(side, 0o600)
            except BaseException:
                if self._lockfile >= 0:
                    os.close(self._lockfile)
                raise

    def put(self, records: list[bytes]) -> int:
        """Append records in order (one transaction); returns how many old records were dropped to fit."""
        if not records:
            return 0
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT INTO records (size, data) VALUES (?, ?)",
                                    ((len(r), sqlite3.Binary(r)) for r in records))
                self._add(len(records), sum(map(len, records)))
                dropped = self._trim()
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return dropped

    def _add(self, count: int, size: int) -> None:
        """Inside a transaction: what waits grew (or shrank, negative) by ``count`` records of ``size`` bytes."""
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'count'", (count,))
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'bytes'", (size,))

    def _trim(self) -> int:
        """Inside a put's transaction: drop the oldest records, whoever put them, until the data fits."""
        (size,), = self.db.execute("SELECT value FROM meta WHERE name = 'bytes'")
        excess = int(size) - self.max_bytes
        if excess <= 0:
            return 0
        freed = n = 0
        cutoff = None
        for seq, length in self.db.execute("SELECT seq, size FROM records ORDER BY seq"):
            freed += length
            n += 1
            cutoff = seq
            if freed >= excess:
                break
        self.db.execute("DELETE FROM records WHERE seq <= ?", (cutoff,))
        self._add(-n, -freed)
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'dropped'", (n,))
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'dropped_bytes'", (freed,))
        return n

    def count_unformattable(self) -> None:
        """One more record that a producer could not format: counted here, where the sender reads it, since
        the producer may be another process."""
        with self._lock:
            self.db.execute("UPDATE meta SET value = value + 1 WHERE name = 'unformattable'")

    def peek(self, n: int) -> list[tuple[int, bytes]]:
        """The ``n`` oldest records as (seq, data), without removing them. The sender's alone."""
        self._sender("peek")
        with self._lock:
            rows = self.db.execute("SELECT seq, data FROM records ORDER BY seq LIMIT ?", (n,)).fetchall()
        return [(int(seq), bytes(data)) for seq, data in rows]

    def ack(self, up_to_seq: int) -> int:
        """Remove every record up to and including ``up_to_seq``: the receiver has them. Returns how many.
        The sender's alone."""
        self._sender("ack")
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                n, size = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM records WHERE seq <= ?",
                                          (up_to_seq,)).fetchone()
                self.db.execute("DELETE FROM records WHERE seq <= ?", (up_to_seq,))
                self._add(-int(n), -int(size))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return int(n)

    def _sender(self, what: str) -> None:
        if not self.sends:
            raise RuntimeError(f"a producer of spool {self.path} cannot {what}: only its sender does")

    def backlog(self) -> tuple[int, int]:
        """(records, bytes) waiting to be sent, whichever process put them."""
        counters = self.counters()
        return counters["count"], counters["bytes"]

    @property
    def dropped(self) -> int:
        """Records dropped because the spool was full, over the life of this spool file."""
        return self.counters()["dropped"]

    def counters(self) -> dict[str, int]:
        """``count`` and ``bytes`` waiting; ``dropped``, ``dropped_bytes`` and ``unformattable`` over the file's
        life."""
        with self._lock:
            return {name: int(value) for name, value in self.db.execute("SELECT name, value FROM meta")}

    def close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._open = False
            self.db.close()
            if self._lockfile >= 0:
                os.close(self._lockfile)
                self._lockfile = -1


_OPEN: weakref.WeakSet[Spool] = weakref.WeakSet()  # the spools of this process, held still across a fork
_HELD: list[threading.RLock] = []


def _quiet_for_fork() -> None:
    """Before ``fork()``: take every spool's lock, which each of its SQLite calls holds, so that no thread is
    inside SQLite (holding its memory or file mutexes) when the child's copy of the process is made."""
    for spool in list(_OPEN):
        spool._lock.acquire()
        _HELD.append(spool._lock)


def _after_fork() -> None:
    """After ``fork()``, in the parent and in the child (whose one thread is the one that took the locks)."""
    while _HELD:
        try:
            _HELD.pop().release()
        except RuntimeError:  # not held by this thread: nothing to give back
            pass


os.register_at_fork(before=_quiet_for_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def _private(path: Path) -> None:
    """Create the file mode 0600 before SQLite opens it (SQLite gives its WAL the same mode)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _take_lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolBusy(f"spool {path.with_suffix('')} is in use by another process") from None
    return fd
