"""Rows from the store as a terminal table, JSON or CSV: one renderer for every listing command."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

ASSET_TABLE_COLUMNS = [
    "ip", "mac", "mac_vendor", "device_type", "roles", "identity", "services", "unit_ids", "first_seen",
    "last_seen",
]
# Packet times, in seconds since the epoch.
TIME_COLUMNS = frozenset({"ts", "first_seen", "last_seen", "values_seen", "source_seen"})
FORMATS = ("table", "json", "csv")


def render(rows: list[dict[str, Any]], fmt: str, columns: list[str] | None = None) -> str:
    """Rows in ``fmt``; ``columns`` picks and orders fields (default: every field, in first-seen order)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if columns is not None:
        rows = [{name: row.get(name) for name in columns} for row in rows]
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False)
    columns = columns if columns is not None else list(dict.fromkeys(name for row in rows for name in row))
    return (to_csv if fmt == "csv" else to_table)(rows, columns)


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Lists joined with ';', nested objects as compact JSON, so each cell stays one spreadsheet cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(row.get(name)) for name in columns] for row in rows)
    return out.getvalue().removesuffix("\n")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(compact(item) if isinstance(item, (dict, list)) else str(item) for item in value)
    if isinstance(value, dict):
        return compact(value)
    return str(value)


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Aligned plain-text columns under a header and a rule of dashes."""
    if not columns:
        return ""
    cells = [columns] + [[table_cell(name, row.get(name)) for name in columns] for row in rows]
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    cells.insert(1, ["-" * width for width in widths])
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in cells)
    return "\n".join(line.rstrip() for line in lines)


def table_cell(column: str, value: Any) -> str:
    """What a person wants to read in one cell: times as ISO-8601 UTC, identity as one phrase."""
    if value is None:
        return ""
    if column in TIME_COLUMNS and isinstance(value, (int, float)):
        return iso_utc(value)
    if column == "identity" and isinstance(value, dict):
        return " ".join(str(value[part]) for part in ("vendor", "product", "revision") if value.get(part))
    if column == "services" and isinstance(value, list):
        return ", ".join(service(item) for item in value)
    if isinstance(value, list):
        return ", ".join(table_item(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={table_item(item)}" for key, item in value.items())
    return str(value).replace("\n", " ")


def service(item: dict[str, Any]) -> str:
    """modbus/tcp/502, or tcp/8080 when nothing more than the transport is known."""
    port = f"{item['transport']}/{item['port']}"
    return port if item["protocol"] == item["transport"] else f"{item['protocol']}/{port}"


def table_item(item: Any) -> str:
    """One element of a list or value of a mapping: a frame as file:frame, anything nested as JSON."""
    if isinstance(item, list) and all(not isinstance(part, (dict, list)) for part in item):
        return ":".join(str(part) for part in item)
    if isinstance(item, (dict, list)):
        return compact(item)
    return str(item)


def iso_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
