"""The SQLite store: merges what the pipeline learned, one atomic batch at a time, and reads it back."""
from __future__ import annotations

import ipaddress
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from sensor.inventory.model import AssetDelta, Source

from .batch import FileProgress, StoreBatch
from .merge import TableSpec, dumps
from .ranges import GROUP, group_of, merge_ranges
from .schema import immediate, migrate, rollback
from .tables import (
    ALERTS,
    ASSETS,
    COMMUNICATIONS,
    FILES,
    MAC_SIGHTINGS,
    NAMES,
    POINTS,
    POLLS,
    RUNS,
    SCANS,
    WEIRDS,
    alert_row,
    asset_row,
    communication_row,
    file_row,
    fold_station,
    name_row,
    names_json,
    point_row,
    poll_row,
    scan_json,
    scan_row,
    weird_row,
)

ASSET_FIELDS = (  # the contract's fields first, then what a person digging further wants
    "ip", "mac", "mac_vendor", "hostnames", "device_type", "roles", "identity", "modules", "services", "zone",
    "first_seen", "last_seen", "device_type_reasons", "unit_ids", "zone_level", "packets", "bytes", "sources", "names",
)
JOINED = frozenset({"hostnames", "names"})  # from the names table (``names_json``), not the assets row


def ip_key(address: str) -> tuple[int, int, str]:
    """Numeric order, IPv4 before IPv6; anything that is not an address sorts last, by its text."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return (7, 0, address)
    return (parsed.version, int(parsed), "")


def connect(path: str) -> Database:
    """WAL, and transactions that are all explicit: the driver never opens or commits one by itself."""
    db = Database(sqlite3.connect(path, isolation_level=None))
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")  # with WAL: a killed process loses nothing committed
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 10000")  # shard workers share one database: wait, don't fail
    return db


class Store:
    """Inventory, communications, alerts and file checkpoints in one SQLite file."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: str) -> Store:
        """Open (or create) the database and bring its schema up to date."""
        db = connect(path)
        try:
            migrate(db)
        except BaseException:
            db.close()
            raise
        return cls(db)

    def check_writable(self) -> None:
        """Raise ``sqlite3.OperationalError`` now if commits will be refused, before any work is done.

        ``BEGIN IMMEDIATE`` alone succeeds on a file SQLite could only open read-only (an immutable
        file, say); SQLite refuses at the first page written. So one write is made and rolled back.
        """
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute(f"PRAGMA user_version = {version}")  # writes the header page, changes nothing
        finally:
            rollback(conn)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------

    def commit(self, batch: StoreBatch) -> None:
        """Apply a whole batch in one transaction: after a crash the database holds all of it or none."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with immediate(self.db):
            self._merge(ASSETS, map(asset_row, self._widen_times(batch.assets)))
            self._merge_points([point_row(p) for p in batch.points])
            self._merge(COMMUNICATIONS, map(communication_row, batch.communications))
            self._merge(POLLS, map(poll_row, batch.polls))
            self._merge(SCANS, map(scan_row, batch.scans))
            self._merge(NAMES, map(name_row, batch.names))
            self._merge(MAC_SIGHTINGS, ({"mac": mac, "ip": ip, "kind": kind, "source": source.to_json()}
                                        for mac, ip, kind, source in batch.mac_sightings))
            self._merge(ALERTS, map(alert_row, batch.alerts))
            self._merge(WEIRDS, (weird_row(k, v) for k, v in batch.weirds.items()))
            self._merge(FILES, (file_row(f, now) for f in batch.files))
            self.db.conn.executemany(
                "UPDATE assets SET device_type = ?, device_type_reasons = ? WHERE key = ?",
                [(kind, dumps(sorted(reasons)), ip) for ip, kind, reasons in batch.device_types],
            )
            self.db.conn.executemany(
                "UPDATE assets SET zone = ?, zone_level = ? WHERE key = ?",
                [(zone, level, ip) for ip, zone, level in batch.zones]
            )
            self.db.conn.executemany(  # a MAC and its evidence; a MAC later shown to be a router's is taken back
                "UPDATE assets SET mac = ?1, mac_vendor = ?2, sources = CASE WHEN ?1 IS NULL"
                " THEN json_remove(sources, '$.mac') ELSE json_set(sources, '$.mac', json(?4)) END WHERE key = ?3",
                [(mac, vendor, ip, dumps(source.to_json()) if source else None) for ip, mac, vendor, source in batch.macs],
            )
            if batch.fold_stations:
                self._fold_stations()
            if batch.runs:
                self.db["runs"].insert_all(RUNS.encode(run._asdict()) for run in batch.runs)

    def _fold_stations(self) -> None:
        """A station keyed by its MAC (seen at layer 2 only) whose MAC is now an IP asset's is that asset: its row
        joins the IP asset's and is removed, so a device is listed once. When several IP assets share the MAC
        (a device whose address changed), the one the station announced as its own (identity ``ip_address``)
        is chosen; with none announced the station stays on its own."""
        candidates: dict[str, list[str]] = defaultdict(list)
        for station_key, host_key in self.db.execute(
                "SELECT s.key, a.key FROM assets s JOIN assets a ON a.mac = s.mac AND a.ip IS NOT NULL"
                " WHERE s.ip IS NULL ORDER BY s.key, a.key"):
            candidates[station_key].append(host_key)
        for station_key, hosts in candidates.items():
            rows = {row["key"]: row for row in self._stored(ASSETS, [(station_key,), *((h,) for h in hosts)])}
            station = rows[station_key]
            announced = (station.get("identity") or {}).get("ip_address")
            host_key = hosts[0] if len(hosts) == 1 else announced if announced in hosts else None
            if host_key is None:
                continue
            self.db.execute("DELETE FROM assets WHERE key = ?", [station_key])
            self._upsert(ASSETS, [ASSETS.encode(fold_station(rows[host_key], station))])

    def set_device_types(self, rows: list[tuple[str, str | None, list[str]]]) -> None:
        self.commit(StoreBatch(device_types=rows))

    def set_zones(self, rows: list[tuple[str, str | None, float | None]]) -> None:
        self.commit(StoreBatch(zones=rows))

    def _merge(self, spec: TableSpec, rows: Iterable[dict[str, Any]]) -> None:
        """Fold the rows by key, merge each into its stored row, and upsert the result."""
        pending: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            key = spec.key_of(row)
            pending[key] = spec.merge(pending[key], row) if key in pending else row
        if not pending:
            return
        for stored in self._stored(spec, pending):
            key = spec.key_of(stored)
            pending[key] = spec.merge(stored, pending[key])
        self._upsert(spec, [spec.encode(row) for row in pending.values()])

    def _widen_times(self, assets: list[AssetDelta]) -> list[AssetDelta]:
        """Widen the stored times of the assets whose delta holds nothing else (``AssetDelta.only_times``) in
        place, as their merge would (``SEEN``), without reading and rewriting whole rows; the others, and those
        not stored yet, are returned for the merge."""
        whole = {a.key for a in assets if not a.only_times()}
        timed = [a for a in assets if a.key not in whole]
        if not timed:
            return assets
        stored = {key for (key,) in self.db.execute(
            "SELECT key FROM assets WHERE key IN (SELECT value FROM json_each(?))", [dumps([a.key for a in timed])])}
        self.db.conn.executemany(
            "UPDATE assets SET first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?) WHERE key = ?",
            [(a.first_seen, a.last_seen, a.key) for a in timed if a.key in stored])
        return [a for a in assets if a.key in whole or a.key not in stored]

    def _merge_points(self, rows: list[dict[str, Any]]) -> None:
        """Points are address ranges: each group's stored and new ranges are coalesced and rewritten."""
        if not rows:
            return
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(group_of(row), []).append(row)
        columns = ", ".join(GROUP)
        parts = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(GROUP)))
        where = f"({columns}) IN (SELECT {parts} FROM json_each(?))"
        keys = dumps([list(k) for k in groups])
        stored: dict[tuple, list[dict[str, Any]]] = {}
        for row in map(POINTS.decode, self.db.query(f"SELECT * FROM points WHERE {where}", [keys])):
            stored.setdefault(group_of(row), []).append(row)
        for key in groups:  # stored rows first: on equal times the incoming values win
            groups[key] = stored.get(key, []) + groups[key]
        self.db.execute(f"DELETE FROM points WHERE {where}", [keys])
        merged = [POINTS.encode(r) for group in groups.values() for r in merge_ranges(group)]
        self._upsert(POINTS, merged)

    def _upsert(self, spec: TableSpec, rows: list[dict[str, Any]]) -> None:
        """Write merged rows, touching only their columns (derived ones such as zone stay put).

        One prepared statement through executemany: sqlite-utils' upsert_all inspects every value and
        would double the time of a large commit.
        """
        columns = list(rows[0])
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in spec.key)
        sql = (
            f"INSERT INTO {spec.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}"
        )
        self.db.conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])

    def _stored(self, spec: TableSpec, keys: Iterable[tuple]) -> list[dict[str, Any]]:
        """The stored rows for these keys, fetched in one query (the keys travel as one JSON array)."""
        columns = ", ".join(spec.key)
        parts = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(spec.key)))
        sql = f"SELECT * FROM {spec.name} WHERE ({columns}) IN (SELECT {parts} FROM json_each(?))"
        return [spec.decode(row) for row in self.db.query(sql, [dumps(list(keys))])]

    # -- reading ---------------------------------------------------------------------------------------

    def file_progress(self, fingerprint: str) -> FileProgress | None:
        """How far an earlier run got through a file, so the pipeline can skip or resume it."""
        row = self.db.execute(
            "SELECT frames_done, complete, after FROM files WHERE fingerprint = ?", [fingerprint]
        ).fetchone()
        return None if row is None else FileProgress(row[0], bool(row[1]), tuple(json.loads(row[2])))

    def shard_progress(self, fingerprint: str) -> dict[tuple[int, int], FileProgress]:
        """The checkpoints workers (``sensor.parallel``) keep of a file, by (worker, number of workers)."""
        out = {}
        for key, done, complete, after in self.db.execute(
                "SELECT fingerprint, frames_done, complete, after FROM files WHERE fingerprint LIKE ? || '#%'",
                [fingerprint]):
            k, n = key.rsplit("#", 1)[1].split("/")
            out[(int(k), int(n))] = FileProgress(done, bool(complete), tuple(json.loads(after)))
        return out

    def mac_sightings(self) -> list[tuple[str, str, str, Source]]:
        return [(r["mac"], r["ip"], r["kind"], Source(**r["source"])) for r in self._rows(MAC_SIGHTINGS)]

    def assets(self, keys: Iterable[str] | None = None, with_points: bool = True) -> list[dict[str, Any]]:
        """Assets in the contract's shape, each with the points it read or wrote as a client (unless
        ``with_points`` is false); only those keyed (IP, or MAC) by ``keys`` when given."""
        points: dict[str, list[dict]] = defaultdict(list)
        for point in self.points() if with_points else ():
            points[point["client"]].append({
                "server": point["server"], "protocol": point["protocol"], "unit_id": point["unit_id"],
                "function_code": point["function_code"], "function_name": point["function_name"],
                "access": point["access"], "table": point["table_name"], "name": point["name"] or None,
                "address": point["address"],
                "quantity": point["quantity"], "count": point["count"], "last_values": point["last_values"],
            })
        scans: dict[str, list[dict]] = defaultdict(list)
        keys = None if keys is None else list(keys)
        where = "" if keys is None else " WHERE source IN (SELECT value FROM json_each(?))"
        for row in self.db.query(f"SELECT * FROM scans{where} ORDER BY source, transport",
                                 [] if keys is None else [dumps(keys)]):
            scans[row["source"]].append(scan_json(row))
        rows = self._rows(ASSETS) if keys is None else self._stored(ASSETS, [(key,) for key in keys])
        names = self._names_of({address for row in rows for address in (row["ip"], row["mac"]) if address})
        assets = []
        for row in rows:
            joined = dict(zip(("hostnames", "names"), names_json(names.get(row["ip"], []) + names.get(row["mac"], []))))
            assets.append({**{name: joined[name] if name in JOINED else row[name] for name in ASSET_FIELDS},
                           "scans": scans.get(row["key"], []),
                           "points": points.get(row["ip"], []) if row["ip"] else []})
        if not with_points:
            for asset in assets:
                del asset["points"]
        return sorted(assets, key=lambda asset: ip_key(asset["ip"] or asset["mac"] or ""))  # MAC-keyed: last

    def _names_of(self, addresses: set[str]) -> dict[str, list[dict[str, Any]]]:
        """The names rows of these addresses, by address (one query; all rows when there are many)."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if addresses:
            for row in map(NAMES.decode, self.db.query(
                    "SELECT * FROM names WHERE address IN (SELECT value FROM json_each(?))", [dumps(sorted(addresses))])):
                out[row["address"]].append(row)
        return out

    def names(self) -> list[dict[str, Any]]:
        """Every name given to an address, whether or not an asset has that address."""
        return self._rows(NAMES, order="address, name, proto")

    def points(self) -> list[dict[str, Any]]:
        return sorted(self._rows(POINTS), key=lambda p: (
            ip_key(p["client"]), ip_key(p["server"]), p["protocol"], p["unit_id"], p["function_code"],
            p["table_name"], p["name"], p["address"], p["quantity"],
        ))

    def communications(self) -> list[dict[str, Any]]:
        return sorted(self._rows(COMMUNICATIONS), key=lambda c: (
            ip_key(c["initiator"]), ip_key(c["responder"]), c["transport"], c["port"],
        ))

    def polls(self) -> list[dict[str, Any]]:
        return sorted(self._rows(POLLS), key=lambda p: (ip_key(p["client"]), ip_key(p["server"])))

    def alerts(self) -> list[dict[str, Any]]:
        return self._rows(ALERTS, order="ts, id")

    def weirds(self) -> list[dict[str, Any]]:
        return self._rows(WEIRDS, order="file, code")

    def runs(self) -> list[dict[str, Any]]:
        return self._rows(RUNS, order="id")

    def _rows(self, spec: TableSpec, order: str | None = None) -> list[dict[str, Any]]:
        return [spec.decode(row) for row in self.db[spec.name].rows_where(order_by=order)]
