"""Opening a database only to read it: evidence is often on read-only media, and a reading command must
neither create a database nor change one (``assets``, ``alerts``, ``paths``, ``policy suggest``)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from urllib.parse import quote

from sqlite_utils import Database

from .db import Store
from .schema import MIGRATIONS, applied, migrate

CANTOPEN_OR_READONLY = {8, 14}  # SQLITE_READONLY, SQLITE_CANTOPEN: the -wal/-shm files cannot be created


class MissingDatabase(Exception):
    """A reading command was given a path with no database: a typo, never a reason to create one."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: no such database (`otsensor analyze ... --db {path}` creates it)")


class _CopiedStore(Store):
    """A store read from a private copy, removed again on close."""

    def __init__(self, db: Database, folder: tempfile.TemporaryDirectory) -> None:
        super().__init__(db)
        self._folder = folder

    def close(self) -> None:
        super().close()
        self._folder.cleanup()


def open_for_reading(path: str) -> Store:
    """The database at ``path`` read-only; MissingDatabase when there is none.

    On read-only media SQLite cannot make the -shm file a WAL database needs: a database closed cleanly
    (no -wal left) is then opened immutable, and one with a -wal still holding commits is read from a
    private copy, so no committed row is missed. An older schema is brought up to date in a copy too.
    """
    if not os.path.isfile(path):
        raise MissingDatabase(path)
    conn = _connect(path, "mode=ro")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as error:
        conn.close()
        if getattr(error, "sqlite_errorcode", 0) & 0xFF not in CANTOPEN_OR_READONLY:
            raise
        if _wal_holds_commits(path):
            return _from_copy(path)
        conn = _connect(path, "immutable=1")
    db = Database(conn)
    if _pending(db):
        db.close()
        return _from_copy(path)
    return Store(db)


def _connect(path: str, query: str) -> sqlite3.Connection:
    uri = f"file:{quote(os.path.abspath(path))}?{query}"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def _wal_holds_commits(path: str) -> bool:
    try:
        return os.path.getsize(f"{path}-wal") > 0
    except OSError:
        return False


def _pending(db: Database) -> bool:
    """Whether this otsensor would migrate the schema (a newer schema is refused by ``migrate`` itself)."""
    names = applied(db)
    return len(names) < len(MIGRATIONS) or bool(set(names) - {name for name, _ in MIGRATIONS})


def _from_copy(path: str) -> Store:
    """The database and its -wal copied to a private folder, opened there (the copy replays the WAL)."""
    folder = tempfile.TemporaryDirectory(prefix="otsensor-read-")
    copy = os.path.join(folder.name, "copy.db")
    try:
        shutil.copyfile(path, copy)
        if _wal_holds_commits(path):
            shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        db = Database(sqlite3.connect(copy, isolation_level=None))
        migrate(db)
    except BaseException:
        folder.cleanup()
        raise
    return _CopiedStore(db, folder)
