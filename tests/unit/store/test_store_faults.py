"""Write failures: a refused COMMIT leaves no transaction open, and a read-only database is found up front."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from sqlite_utils import Database

from sensor.store import Store
from sensor.store.schema import immediate


def test_refused_commit_is_rolled_back_and_its_error_kept(store):
    """A deferred foreign key fails at COMMIT itself, the way a full disk does, and SQLite keeps the
    transaction open; it must be rolled back, not left holding the write lock."""
    store.db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    store.db.execute("CREATE TABLE child (pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        with immediate(store.db):
            store.db.execute("INSERT INTO child VALUES (42)")
    assert not store.db.conn.in_transaction
    assert store.db.execute("SELECT count(*) FROM child").fetchone() == (0,)
    with immediate(store.db):  # the lock was released: the next batch commits
        store.db.execute("INSERT INTO parent VALUES (1)")
    assert store.db.execute("SELECT count(*) FROM parent").fetchone() == (1,)


def test_error_inside_a_transaction_sqlite_already_ended_is_not_masked(store):
    with pytest.raises(RuntimeError, match="boom"):
        with immediate(store.db):
            store.db.execute("ROLLBACK")  # as SQLite does by itself after SQLITE_FULL
            raise RuntimeError("boom")
    assert not store.db.conn.in_transaction


def test_check_writable_changes_nothing_on_a_writable_database(tmp_path):
    path = tmp_path / "w.db"
    with Store.open(str(path)) as store:
        store.check_writable()
        assert not store.db.conn.in_transaction
        assert store.db.execute("PRAGMA user_version").fetchone() == (0,)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_check_writable_refuses_a_database_sqlite_opened_read_only(tmp_path):
    """BEGIN IMMEDIATE alone succeeds here; only a write tells."""
    path = tmp_path / "r.db"
    Store.open(str(path)).close()
    store = Store(Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)))
    try:
        store.db.conn.execute("BEGIN IMMEDIATE")
        store.db.conn.execute("ROLLBACK")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.check_writable()
        assert not store.db.conn.in_transaction
    finally:
        store.close()
