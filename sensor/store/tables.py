"""Each merged table's rules, and the one function per record that turns a pipeline delta into a row."""
from __future__ import annotations

import heapq
from dataclasses import fields
from typing import Any

from protocols.modbus.codes import function_name
from sensor.inventory import timing
from sensor.inventory.model import AssetDelta, CommunicationDelta, NameDelta, PointDelta, PollStats, Service
from sensor.inventory.scans import ScanDelta, or_maps, port_summary

from .batch import FileCheckpoint
from .merge import Merge, TableSpec, add, add_counts, add_known, earliest, identities, keep_first, union

SAMPLE_FRAMES = 10  # per communication: enough to open the capture at the right place
ALERT_FRAMES = 20


def service_key(service: dict) -> tuple[str, str, int]:
    return (service["protocol"], service["transport"], service["port"])


def module_key(module: dict) -> str:
    """Modules of one asset are told apart by their slot (the later, fuller record of a slot wins)."""
    return str(module.get("slot"))


def frames(limit: int) -> Merge:
    """(file, frame) pairs, unique, the earliest ``limit`` kept: lowest file name, then lowest frame."""
    return union(key=tuple, cap=limit)


SEEN = {"first_seen": min, "last_seen": max}

ASSETS = TableSpec(
    "assets",
    key=("key",),  # the IP, or the MAC of a station seen only at layer 2
    json_columns=frozenset(
        {"device_type_reasons", "roles", "identity", "services", "unit_ids", "sources", "modules"}
    ),
    rules={
        **SEEN, "packets": add, "bytes": add, "roles": union(), "unit_ids": union(),
        "services": union(key=service_key), "sources": keep_first, "modules": union(key=module_key),
        "identity": identities,
    },
)
POINTS = TableSpec(
    "points",
    key=("client", "server", "protocol", "unit_id", "table_name", "name", "function_code", "access", "address"),
    json_columns=frozenset({"last_values", "values_seen", "source"}),  # merged as ranges: sensor.store.ranges
)
VISIBILITY_COLUMNS = ("responder_packets", "midstream_flows", "gap_bytes")  # what a communication let us see
COMMUNICATIONS = TableSpec(
    "communications",
    key=("initiator", "responder", "transport", "port"),
    json_columns=frozenset({"actions", "sample_frames"}),
    rules={
        **SEEN, "packets": add, "bytes": add, "flows": add, "actions": add_counts,
        "sample_frames": frames(SAMPLE_FRAMES), **dict.fromkeys(VISIBILITY_COLUMNS, add_known),
    },
)
POLLS = TableSpec(
    "polls",
    key=("client", "server"),
    json_columns=frozenset({"gaps"}),
    rules={
        **SEEN, **dict.fromkeys(
            ("requests", "reads", "writes", "diagnostics", "programs", "interval_sum", "interval_sumsq",
             "intervals", "cycle_sum", "cycle_count"), add
        ),
        "gaps": timing.add,
    },
)
ALERTS = TableSpec(
    "alerts",
    key=("id",),
    json_columns=frozenset({"evidence", "frames"}),
    # an alert carries its whole count so far (a re-check of the same store must not double it)
    rules={"ts": min, "last_seen": max, "count": max, "frames": frames(ALERT_FRAMES)},
    newest={"summary": "last_seen", "evidence": "last_seen"},
)
WEIRDS = TableSpec("weirds", key=("code", "file"), rules={"count": add, "first_frame": min})
FILES = TableSpec("files", key=("fingerprint",), rules={"first_analyzed": min}, json_columns=frozenset({"after"}))
SCANS = TableSpec(
    "scans", key=("source", "transport"), rules={**SEEN, "attempts": add, "targets": add, "ports": or_maps},
)
NAMES = TableSpec("names", key=("address", "name", "proto"), json_columns=frozenset({"source"}),
                  rules={**SEEN, "count": add, "source": earliest})
MAC_SIGHTINGS = TableSpec("mac_sightings", key=("mac", "ip", "kind"), json_columns=frozenset({"source"}),
                          rules={"source": earliest})
RUNS = TableSpec("runs", key=("id",), json_columns=frozenset({"files"}))  # appended, never merged


def asset_row(delta: AssetDelta) -> dict[str, Any]:
    return {
        "key": delta.key, "ip": delta.ip or None, "mac": delta.mac, "mac_vendor": delta.mac_vendor,
        "roles": sorted(delta.roles),
        "unit_ids": sorted(delta.unit_ids),
        "services": [service_json(s) for s in sorted(delta.services)],
        "identity": delta.identity.to_json() if delta.identity else None,
        "modules": [delta.modules[slot] for slot in sorted(delta.modules)],
        "first_seen": delta.first_seen, "last_seen": delta.last_seen,
        "packets": delta.packets, "bytes": delta.bytes,
        "sources": {attribute: source.to_json() for attribute, source in delta.sources.items()},
    }


FOLDED = ("identity", "roles", "unit_ids", "services", "modules", "first_seen", "last_seen", "packets", "bytes",
          "sources")
"""What a station seen first at layer 2 brings to the IP asset it turns out to be; its key, addresses and
derived columns (device type, zone) are the IP asset's."""


def fold_station(host: dict[str, Any], station: dict[str, Any]) -> dict[str, Any]:
    """The IP asset ``host`` with what its MAC-keyed ``station`` row knew merged in (decoded rows), identities
    joined as any two are (``merge.identities``: the earlier evidence wins where they differ)."""
    return {"key": host["key"], **ASSETS.merge(host, {c: station[c] for c in FOLDED})}


def service_json(service: Service) -> dict[str, Any]:
    return {"protocol": service.protocol, "transport": service.transport, "port": service.port}


def point_row(delta: PointDelta) -> dict[str, Any]:
    return {
        "client": delta.client, "server": delta.server, "protocol": delta.protocol, "unit_id": delta.unit_id,
        "name": delta.name, "function_code": delta.function_code,
        "function_name": delta.function_name or function_name(delta.function_code),
        "access": delta.access, "table_name": delta.table,
        "address": delta.address, "quantity": delta.quantity, "count": delta.count,
        "first_seen": delta.first_seen, "last_seen": delta.last_seen,
        "last_values": delta.last_values,
        "values_seen": None if delta.last_values is None else [
            None if v is None else delta.last_seen for v in delta.last_values],
        "source": delta.source.to_json() if delta.source else None,
        "source_seen": None if delta.source is None else delta.last_seen,
    }


def communication_row(delta: CommunicationDelta) -> dict[str, Any]:
    return {
        "initiator": delta.initiator, "responder": delta.responder, "transport": delta.transport,
        "port": delta.port, "protocol": delta.protocol, "first_seen": delta.first_seen,
        "last_seen": delta.last_seen, "packets": delta.packets, "bytes": delta.bytes, "flows": delta.flows,
        **{name: getattr(delta, name) for name in VISIBILITY_COLUMNS}, "actions": dict(delta.actions),
        "sample_frames": frames(SAMPLE_FRAMES)([], [list(f) for f in delta.sample_frames]),
    }


POLL_COLUMNS = tuple(f.name for f in fields(PollStats))  # the table's columns are its fields


def poll_row(stats: PollStats) -> dict[str, Any]:
    return {name: getattr(stats, name) for name in POLL_COLUMNS}


DESCRIPTIVE_ALERT_FIELDS = ("rule", "category", "severity", "src", "dst", "proto", "summary", "evidence")


def alert_row(alert: dict[str, Any]) -> dict[str, Any]:
    first = alert.get("first_seen", alert["ts"])
    return {
        "id": alert["id"], "ts": first, "last_seen": alert.get("last_seen", first),
        **{name: alert.get(name) for name in DESCRIPTIVE_ALERT_FIELDS},
        "frames": frames(ALERT_FRAMES)([], [list(f) for f in heapq.nsmallest(ALERT_FRAMES, map(tuple, alert.get("frames", ())))]),
        "count": alert.get("count", 1),
    }


def name_row(delta: NameDelta) -> dict[str, Any]:
    return {"address": delta.address, "name": delta.name, "proto": delta.proto, "first_seen": delta.first_seen,
            "last_seen": delta.last_seen, "count": delta.count, "source": delta.source.to_json()}


HOSTNAMES_SHOWN = 32  # names listed on one asset, newest first: a CDN address can carry hundreds


def names_json(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """An asset's ``hostnames`` (newest first: a conflicting newer name wins) and its ``names`` history (when
    and how each name was given), from the names rows of its IP and its MAC."""
    rows = sorted(rows, key=lambda r: (-r["last_seen"], r["name"], r["proto"], r["address"]))[:HOSTNAMES_SHOWN]
    hostnames = list(dict.fromkeys(r["name"] for r in rows))
    history = [{key: r[key] for key in ("name", "proto", "address", "first_seen", "last_seen", "count", "source")}
               for r in sorted(rows, key=lambda r: (r["first_seen"], r["name"], r["proto"], r["address"]))]
    return hostnames, history


def scan_row(delta: ScanDelta) -> dict[str, Any]:
    return {"source": delta.source, "transport": delta.transport, "first_seen": delta.first_seen,
            "last_seen": delta.last_seen, "attempts": delta.attempts, "targets": delta.targets, "ports": delta.ports}


SCAN_PORTS_SHOWN = 32


def scan_json(row: dict[str, Any]) -> dict[str, Any]:
    """A scans row as the asset shows it: the port map becomes a count and the lowest ports."""
    count, lowest = port_summary(row["ports"], SCAN_PORTS_SHOWN)
    return {"transport": row["transport"], "first_seen": row["first_seen"], "last_seen": row["last_seen"],
            "attempts": row["attempts"], "targets": row["targets"], "ports": count, "ports_tried": lowest}


def weird_row(code_file: tuple[str, str], count_first: tuple[int, int]) -> dict[str, Any]:
    (code, file), (count, first_frame) = code_file, count_first
    return {"code": code, "file": file, "count": count, "first_frame": first_frame}


def file_row(checkpoint: FileCheckpoint, now: str) -> dict[str, Any]:
    return {
        "fingerprint": checkpoint.fingerprint, "name": checkpoint.name, "size": checkpoint.size,
        "frames_done": checkpoint.frames_done, "complete": int(checkpoint.complete), "after": list(checkpoint.after),
        "first_analyzed": now, "last_analyzed": now,
    }
