"""A disk spool of formatted SIEM records, so nothing is lost while the SIEM is down or the sensor dies.

One SQLite file of its own (not the inventory database: a busy SIEM link must never hold up the store)::

    records(seq INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER, data BLOB)   -- in send order
    meta(name TEXT PRIMARY KEY, value INTEGER)                                -- dropped, dropped_bytes

* Crash-safe: WAL with ``synchronous=FULL``; every ``put`` and every ``ack`` is one transaction, so after
  ``kill -9`` or a power cut a record is either wholly in the spool or not, and the ack counter never
  runs ahead of what was sent. Whatever was not acknowledged is sent again by the next process.
* AUTOINCREMENT: sequence numbers are never reused, so ``ack(seq)`` can never remove a record that arrived
  after the batch it acknowledges.
* Bounded: at most ``max_bytes`` of record data (default 256 MiB). When a put would go beyond, the
  **oldest** records are dropped (the newest alerts matter most to an operator) and counted in ``dropped``,
  which persists in the file and is reported by ``health()``; never silently.
* Private: the file (and its WAL) is mode 0600, and a lock file stops two processes from sending the same
  spool at once.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path

DEFAULT_MAX_BYTES = 256 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('dropped', 0), ('dropped_bytes', 0);
"""


class SpoolBusy(RuntimeError):
    """Another process is using this spool."""


class Spool:
    """An ordered, bounded, persistent queue of byte records with explicit acknowledgement."""

    def __init__(self, path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._lock = threading.RLock()
        self._lockfile = _take_lock(Path(f"{self.path}.lock"))
        try:
            _private(self.path)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            for suffix in ("-wal", "-shm"):
                side = Path(f"{self.path}{suffix}")
                if side.exists():
                    os.chmod(side, 0o600)
            count, size = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM records").fetchone()
        except BaseException:
            os.close(self._lockfile)
            raise
        self._count, self._bytes = int(count), int(size)

    def put(self, records: list[bytes]) -> int:
        """Append records in order (one transaction); returns how many old records were dropped to fit."""
        if not records:
            return 0
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT INTO records (size, data) VALUES (?, ?)",
                                    ((len(r), sqlite3.Binary(r)) for r in records))
                count, size = self._count + len(records), self._bytes + sum(map(len, records))
                dropped, dropped_bytes = self._trim(size)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self._count, self._bytes = count - dropped, size - dropped_bytes
            return dropped

    def _trim(self, size: int) -> tuple[int, int]:
        """Inside a put's transaction: drop the oldest records until the data fits ``max_bytes``."""
        excess = size - self.max_bytes
        if excess <= 0:
            return 0, 0
        freed = n = 0
        cutoff = None
        for seq, length in self.db.execute("SELECT seq, size FROM records ORDER BY seq"):
            freed += length
            n += 1
            cutoff = seq
            if freed >= excess:
                break
        self.db.execute("DELETE FROM records WHERE seq <= ?", (cutoff,))
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'dropped'", (n,))
        self.db.execute("UPDATE meta SET value = value + ? WHERE name = 'dropped_bytes'", (freed,))
        return n, freed

    def peek(self, n: int) -> list[tuple[int, bytes]]:
        """The ``n`` oldest records as (seq, data), without removing them."""
        with self._lock:
            rows = self.db.execute("SELECT seq, data FROM records ORDER BY seq LIMIT ?", (n,)).fetchall()
        return [(int(seq), bytes(data)) for seq, data in rows]

    def ack(self, up_to_seq: int) -> int:
        """Remove every record up to and including ``up_to_seq``: the receiver has them. Returns how many."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                n, size = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM records WHERE seq <= ?",
                                          (up_to_seq,)).fetchone()
                self.db.execute("DELETE FROM records WHERE seq <= ?", (up_to_seq,))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self._count -= int(n)
            self._bytes -= int(size)
            return int(n)

    def backlog(self) -> tuple[int, int]:
        """(records, bytes) waiting to be sent."""
        with self._lock:
            return self._count, self._bytes

    @property
    def dropped(self) -> int:
        """Records dropped because the spool was full, over the life of this spool file."""
        return self.counters()["dropped"]

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {name: int(value) for name, value in self.db.execute("SELECT name, value FROM meta")}

    def close(self) -> None:
        with self._lock:
            if self._lockfile < 0:
                return
            self.db.close()
            os.close(self._lockfile)
            self._lockfile = -1


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
