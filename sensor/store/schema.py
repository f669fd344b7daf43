"""Named schema migrations: the database records which ones it has, so opening it applies only the rest.

Each migration is a small function registered in order under a stable name. Names are never reused or
renamed: a database that lists a name this code does not know was written by a newer otsensor, and is
refused rather than guessed at.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlite_utils import Database

Migration = Callable[[Database], None]

MIGRATIONS: list[tuple[str, Migration]] = []
MIGRATIONS_TABLE = "_migrations"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer otsensor: its schema has migrations this version lacks."""


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a migration under ``name``; registration order is application order."""

    def register(fn: Migration) -> Migration:
        if any(known == name for known, _ in MIGRATIONS):
            raise ValueError(f"migration {name!r} is registered twice")
        MIGRATIONS.append((name, fn))
        return fn

    return register


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """One write transaction, taking the write lock up front so two writers never deadlock mid-way."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.conn.execute("COMMIT")  # inside the try: a COMMIT refused (disk full, busy) is rolled back too
    except BaseException:
        rollback(db.conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """End a failed transaction without hiding why it failed.

    After SQLITE_FULL or SQLITE_IOERR SQLite may already have rolled back by itself, and a second
    ``ROLLBACK`` would raise "no transaction is active" in place of "database or disk is full".
    """
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is closed next; SQLite rolls back whatever is left then


def applied(db: Database) -> list[str]:
    """Names of the migrations this database has, in the order they were applied."""
    if not db[MIGRATIONS_TABLE].exists():
        return []
    return [row["name"] for row in db.query(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY rowid")]


def migrate(db: Database) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied now."""
    unknown = sorted(set(applied(db)) - {name for name, _ in MIGRATIONS})
    if unknown:
        raise SchemaTooNew(
            f"database schema is newer than this otsensor (unknown migrations: {', '.join(unknown)}); "
            "upgrade otsensor to read it"
        )
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = []
    for name, fn in MIGRATIONS:
        with immediate(db):
            # Checked again under the write lock: another process may have applied it meanwhile.
            if db.execute(f"SELECT 1 FROM {MIGRATIONS_TABLE} WHERE name = ?", [name]).fetchone():
                continue
            fn(db)
            db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(UTC).isoformat(timespec="seconds")],
            )
            done.append(name)
    return done


def create(db: Database, name: str, columns: dict[str, type], pk: str | tuple[str, ...],
           nullable: tuple[str, ...] = (), defaults: dict[str, object] | None = None) -> None:
    """A table whose columns are NOT NULL unless named: a fact we may not know is the exception."""
    db[name].create(columns, pk=pk, not_null=[c for c in columns if c not in nullable], defaults=defaults)


@migration("0001_initial")
def initial(db: Database) -> None:
    """Inventory, communications, alerts and run bookkeeping."""
    create(db, "assets", {
        "ip": str, "mac": str, "mac_vendor": str, "hostnames": str, "device_type": str,
        "device_type_reasons": str, "roles": str, "identity": str, "services": str, "unit_ids": str,
        "zone": str, "zone_level": float, "first_seen": float, "last_seen": float, "packets": int, "bytes": int, "sources": str,
    }, pk="ip", nullable=("mac", "mac_vendor", "device_type", "identity", "zone", "zone_level"),
        defaults={"device_type_reasons": "[]"})  # derived later, by set_device_types
    # values_seen (per address, aligned with last_values) and source_seen say when those were observed,
    # so the newest wins however the deltas were split
    # however the deltas were split into batches.
    create(db, "points", {
        "client": str, "server": str, "unit_id": int, "function_code": int, "function_name": str,
        "access": str, "table_name": str, "address": int, "quantity": int, "count": int,
        "first_seen": float, "last_seen": float, "last_values": str, "values_seen": str,
        "source": str, "source_seen": float,
    }, pk=("client", "server", "unit_id", "function_code", "access", "address"),
        nullable=("function_name", "last_values", "values_seen", "source", "source_seen"))
    db["points"].create_index(["server"])
    create(db, "communications", {
        "initiator": str, "responder": str, "transport": str, "port": int, "protocol": str,
        "first_seen": float, "last_seen": float, "packets": int, "bytes": int, "flows": int,
        "actions": str, "sample_frames": str,
    }, pk=("initiator", "responder", "transport", "port"))
    db["communications"].create_index(["responder"])
    create(db, "polls", {
        "client": str, "server": str, "requests": int, "reads": int, "writes": int, "diagnostics": int,
        "first_seen": float, "last_seen": float, "interval_sum": float, "interval_sumsq": float,
        "intervals": int,
    }, pk=("client", "server"))
    create(db, "alerts", {
        "id": str, "ts": float, "last_seen": float, "rule": str, "category": str, "severity": int,
        "src": str, "dst": str, "proto": str, "summary": str, "evidence": str, "frames": str, "count": int,
    }, pk="id", nullable=("src", "dst", "proto", "evidence"))
    db["alerts"].create_index(["ts"])
    create(db, "files", {
        "fingerprint": str, "name": str, "size": int, "frames_done": int, "complete": int,
        "first_analyzed": str, "last_analyzed": str,
    }, pk="fingerprint")
    create(db, "weirds", {"code": str, "file": str, "count": int, "first_frame": int}, pk=("code", "file"))
    # Raw DDL for AUTOINCREMENT, which sqlite-utils cannot declare: a run id is never reused.
    db.execute(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL,"
        " finished TEXT NOT NULL, files TEXT NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
        " seconds REAL NOT NULL)"
    )


@migration("0002_files_state_after")
def files_state_after(db: Database) -> None:
    """Which inputs' flow state a file's analysis carried on from, so a resumed run can replay them."""
    db.execute("ALTER TABLE files ADD COLUMN after TEXT NOT NULL DEFAULT '[]'")


@migration("0003_asset_modules")
def asset_modules(db: Database) -> None:
    """Cards of a chassis seen behind an asset (a CPU in slot 0 behind an EtherNet/IP module)."""
    db.execute("ALTER TABLE assets ADD COLUMN modules TEXT NOT NULL DEFAULT '[]'")


@migration("0004_polls_behaviour")
def polls_behaviour(db: Database) -> None:
    """Program actions and a histogram of request gaps per client and server, to type devices by behaviour."""
    db.execute("ALTER TABLE polls ADD COLUMN programs INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE polls ADD COLUMN gaps TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE polls ADD COLUMN cycle_sum REAL NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE polls ADD COLUMN cycle_count INTEGER NOT NULL DEFAULT 0")


@migration("0005_points_protocol_neutral")
def points_protocol_neutral(db: Database) -> None:
    """Points of any protocol: ``protocol`` and ``name`` (a tag, for named address spaces) join the key;
    ``table_name`` holds the protocol's own space (Modbus table, DNP3 group, S7 area, CIP class).
    Existing rows are Modbus's, kept as they were."""
    db.execute("ALTER TABLE points RENAME TO points_0004")
    create(db, "points", {
        "client": str, "server": str, "protocol": str, "unit_id": int, "table_name": str, "name": str,
        "function_code": int, "function_name": str, "access": str, "address": int, "quantity": int, "count": int,
        "first_seen": float, "last_seen": float, "last_values": str, "values_seen": str,
        "source": str, "source_seen": float,
    }, pk=("client", "server", "protocol", "unit_id", "table_name", "name", "function_code", "access", "address"),
        nullable=("function_name", "last_values", "values_seen", "source", "source_seen"))
    db.execute(
        "INSERT INTO points SELECT client, server, 'modbus', unit_id, table_name, '', function_code, function_name,"
        " access, address, quantity, count, first_seen, last_seen, last_values, values_seen, source, source_seen"
        " FROM points_0004")
    db.execute("DROP TABLE points_0004")
    db["points"].create_index(["server"])


@migration("0006_assets_keyed_by_mac")
def assets_keyed_by_mac(db: Database) -> None:
    """Assets are keyed by ``key``: the IP, or the MAC of a station seen only at layer 2 (a PROFINET DCP
    responder with no IP traffic), whose ``ip`` is null. Existing rows are IP assets: their key is their IP.
    The table is rebuilt (SQLite cannot change a primary key in place) with every column it has."""
    db.execute("ALTER TABLE assets ADD COLUMN key TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE assets SET key = ip")
    for sql in db["assets"].transform_sql(pk="key", not_null={"ip": False}, column_order=("key",)):
        db.execute(sql)
    db["assets"].create_index(["mac"])


@migration("0007_scans")
def scans(db: Database) -> None:
    """Unanswered connection attempts counted on their sender (sensor.inventory.scans): the targets of a scan
    are not assets. ``ports`` is a zlib-compressed 65,536-bit map of the target ports tried."""
    create(db, "scans", {
        "source": str, "transport": str, "first_seen": float, "last_seen": float, "attempts": int, "targets": int,
        "ports": bytes,
    }, pk=("source", "transport"))


@migration("0008_mac_sightings")
def mac_sightings(db: Database) -> None:
    """MAC evidence kept by workers (sensor.parallel): each (MAC, IP, kind) with its earliest source, so the run
    decides every IP's MAC from all of it at its end, even after a kill and a resume."""
    create(db, "mac_sightings", {"mac": str, "ip": str, "kind": str, "source": str}, pk=("mac", "ip", "kind"))


@migration("0009_names")
def names(db: Database) -> None:
    """Names live in their own table, keyed by the address they name (an IP or a MAC), with when and where each
    was given: a DNS answer or a DHCP lease names an address that may not be an asset (yet), and a newer name
    must win without losing the history. The names assets held move here, dated by the asset's times."""
    create(db, "names", {"address": str, "name": str, "proto": str, "first_seen": float, "last_seen": float,
                         "count": int, "source": str}, pk=("address", "name", "proto"))
    db.execute(
        "INSERT OR IGNORE INTO names SELECT assets.key, h.value,"
        " coalesce(json_extract(assets.sources, '$.\"hostname:' || h.value || '\".proto'), 'unknown'),"
        " first_seen, last_seen, 1,"
        " coalesce(json_extract(assets.sources, '$.\"hostname:' || h.value || '\"'),"
        " json_object('proto', 'unknown', 'file', '', 'frame', 0, 'detail', ''))"
        " FROM assets, json_each(assets.hostnames) AS h")
    db.execute("ALTER TABLE assets DROP COLUMN hostnames")


@migration("0010_communication_visibility")
def communication_visibility(db: Database) -> None:
    """What each communication let the sensor see: packets back from the responder (none on TCP: a one-way
    mirror), flows joined mid-stream, and bytes the capture lost. Rows stored before are unknown (NULL), not 0:
    an older run did not count them, and 0 responder packets would read as one-way."""
    for column in ("responder_packets", "midstream_flows", "gap_bytes"):
        db.execute(f"ALTER TABLE communications ADD COLUMN {column} INTEGER")
