"""Migrations: applied once, by name, each in its own transaction; a newer database is refused."""
from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from sqlite_utils import Database

from sensor.store import SchemaTooNew, Store, schema

TABLES = {"assets", "points", "communications", "polls", "alerts", "files", "weirds", "runs"}


def migration_rows(path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()


def test_fresh_database_gets_every_migration_once_by_name(tmp_path):
    path = tmp_path / "s.db"
    with Store.open(str(path)) as store:
        assert TABLES <= set(store.db.table_names())
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert store.db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    rows = migration_rows(path)
    assert [name for name, _ in rows] == [name for name, _ in schema.MIGRATIONS]
    assert rows[0][0] == "0001_initial"
    assert all(applied_at.endswith("+00:00") for _, applied_at in rows)


def test_reopening_applies_nothing(tmp_path):
    path = tmp_path / "s.db"
    Store.open(str(path)).close()
    before = migration_rows(path)
    with Store.open(str(path)) as store:
        assert schema.migrate(store.db) == []
    assert migration_rows(path) == before


def test_indexes_for_the_common_queries(store):
    assert ["responder"] in [index.columns for index in store.db["communications"].indexes]
    assert ["server"] in [index.columns for index in store.db["points"].indexes]


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Store.open(str(path)).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO _migrations (name, applied_at) VALUES ('0042_from_the_future', 'x')")
    with pytest.raises(SchemaTooNew, match="0042_from_the_future"):
        Store.open(str(path))


BUILT_IN = [name for name, _ in schema.MIGRATIONS]


def test_files_from_before_the_state_column_are_upgraded_in_place(tmp_path):
    """A database made before 0002 gains ``after`` (empty) and keeps its checkpoints."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        db = Database(conn)
        schema.MIGRATIONS[0][1](db)
        conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.execute("INSERT INTO _migrations VALUES ('0001_initial', 'then')")
        conn.execute("INSERT INTO files VALUES ('fp', 'a.pcap', 10, 5, 0, 'then', 'then')")
    with Store.open(str(path)) as store:
        assert store.file_progress("fp") == (5, False, ())


def test_new_migration_applies_on_reopen_and_only_once(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    Store.open(str(path)).close()

    def add_note(db):
        db["assets"].add_column("note", str)

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("9002_note", add_note)])
    with Store.open(str(path)) as store:
        assert "note" in store.db["assets"].columns_dict
    Store.open(str(path)).close()
    assert [name for name, _ in migration_rows(path)] == [*BUILT_IN, "9002_note"]


def test_failing_migration_leaves_no_trace(tmp_path, monkeypatch):
    path = tmp_path / "s.db"

    def half_done(db):
        db["half"].create({"x": int})
        raise RuntimeError("boom")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("9002_half", half_done)])
    with pytest.raises(RuntimeError, match="boom"):
        Store.open(str(path))
    monkeypatch.undo()
    with Store.open(str(path)) as store:
        assert "half" not in store.db.table_names()
        assert "assets" in store.db.table_names()  # the built-in ones ran in their own transactions and stayed
    assert [name for name, _ in migration_rows(path)] == BUILT_IN


def test_registering_a_name_twice_is_an_error(monkeypatch):
    monkeypatch.setattr(schema, "MIGRATIONS", list(schema.MIGRATIONS))
    with pytest.raises(ValueError, match="0001_initial"):
        schema.migration("0001_initial")(lambda db: None)


def test_points_of_a_modbus_only_database_are_upgraded_in_place(tmp_path):
    """A database written before 0005 keeps its Modbus points, now keyed by protocol too, and merges new ones."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        db = Database(conn)
        conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for name, fn in schema.MIGRATIONS:
            if name == "0005_points_protocol_neutral":
                break
            fn(db)
            conn.execute("INSERT INTO _migrations VALUES (?, 'then')", [name])
        conn.execute(
            "INSERT INTO points (client, server, unit_id, function_code, function_name, access, table_name, address,"
            " quantity, count, first_seen, last_seen) VALUES ('10.0.0.1', '10.0.0.2', 1, 3,"
            " 'read_holding_registers', 'read', 'holding_register', 0, 10, 7, 1.0, 2.0)")
    with Store.open(str(path)) as store:
        (row,) = store.points()
        assert (row["protocol"], row["name"], row["address"], row["quantity"], row["count"]) == ("modbus", "", 0, 10, 7)
        assert "0005_points_protocol_neutral" in [name for name, _ in migration_rows(path)]
