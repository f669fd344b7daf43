"""Rows from the store as a terminal table, JSON or CSV: one renderer for every listing command."""
from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import UTC, datetime
from typing import Any

from sensor.services import by_port

ASSET_TABLE_COLUMNS = [
    "ip", "mac", "mac_vendor", "device_type", "roles", "identity", "services", "unit_ids", "first_seen",
    "last_seen",
]
# ``assets --format csv``: one flat cell per column (README, "CSV columns"); JSON keeps the nested fields.
ASSET_CSV_COLUMNS = [
    "ip", "mac", "mac_vendor", "hostnames", "device_type", "roles", "vendor", "product", "revision", "firmware",
    "services", "zone", "zone_level", "unit_ids", "points", "first_seen", "last_seen", "packets", "bytes",
]
IDENTITY_PARTS = ("vendor", "product", "revision", "firmware")
ALERT_TABLE_COLUMNS = ["ts", "severity", "rule", "src", "dst", "proto", "count", "summary"]
# On a narrow terminal, the columns left out first (then the last ones): what the rest already implies.
TABLE_DROPS = ["count", "proto", "unit_ids", "last_seen", "first_seen", "ts", "mac", "roles"]
# Packet times, in seconds since the epoch.
TIME_COLUMNS = frozenset({"ts", "first_seen", "last_seen", "values_seen", "source_seen"})
FORMATS = ("table", "json", "csv")


# CEF's bands of the 0-10 alert severity (ArcSight: 0-3 low, 4-6 medium, 7-8 high, 9-10 very high).
SEVERITY_NAMES = ((9, "critical"), (7, "high"), (4, "medium"), (0, "low"))
ELLIPSIS = "…"
GAP = "  "
WHOLE = TIME_COLUMNS | {"ip", "mac", "src", "dst", "severity"}  # elided last: half an address is no address
NARROWEST = 8
COMFORTABLE = 14  # columns are left out until the others get at least this many characters (or all they need)
WRAPPED = frozenset({"summary"})
WRAPPED_AT_LEAST = 24  # a wrapped last column is never squeezed below this while others are wider  # a column elided to fit the terminal keeps at least this many characters (or its header's)


def render(rows: list[dict[str, Any]], fmt: str, columns: list[str] | None = None, width: int | None = None) -> str:
    """Rows in ``fmt``; ``columns`` picks and orders fields (default: every field, in first-seen order).

    A table fits ``width`` characters (None: every cell whole) by eliding the longest cells. Tables and CSV
    show times as ISO 8601 UTC; JSON keeps the contract's epoch seconds."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if columns is not None:
        rows = [{name: row.get(name) for name in columns} for row in rows]
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False)
    columns = columns if columns is not None else list(dict.fromkeys(name for row in rows for name in row))
    return to_csv(rows, columns) if fmt == "csv" else to_table(rows, columns, width)


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Lists joined with ';', nested objects as compact JSON, so each cell stays one spreadsheet cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(row.get(name), name) for name in columns] for row in rows)
    return out.getvalue().removesuffix("\n")


def flat_asset(asset: dict[str, Any]) -> dict[str, Any]:
    """An asset as ASSET_CSV_COLUMNS: identity split into its parts, services as protocol/transport/port,
    points as how many register and coil ranges clients used (``--format json`` lists them)."""
    identity = asset.get("identity") or {}
    flat = {name: asset.get(name) for name in ASSET_CSV_COLUMNS if name not in IDENTITY_PARTS}
    flat.update({part: identity.get(part) for part in IDENTITY_PARTS})
    flat["services"] = [service(item) for item in asset.get("services") or ()]
    flat["points"] = len(asset.get("points") or ())
    return flat


def csv_cell(value: Any, column: str = "") -> str:
    if value is None:
        return ""
    if column in TIME_COLUMNS and isinstance(value, (int, float)):
        return iso_utc(value)
    if isinstance(value, list):
        return ";".join(compact(item) if isinstance(item, (dict, list)) else str(item) for item in value)
    if isinstance(value, dict):
        return compact(value)
    return str(value)


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_table(rows: list[dict[str, Any]], columns: list[str], width: int | None = None) -> str:
    """Aligned plain-text columns under a header and a rule of dashes, at most ``width`` characters wide.

    Too narrow for every column even with long cells elided, columns are left out (those of TABLE_DROPS
    first, in its order, then the last ones), and a last line names them."""
    if not columns:
        return ""
    cells = [columns] + [[table_cell(name, row.get(name)) for name in columns] for row in rows]
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    hidden: list[str] = []
    if width is not None:
        whole = [name in WHOLE for name in columns]
        floors = [min(w, max(len(name), NARROWEST)) for w, name in zip(widths, columns, strict=True)]
        least = [w if keep else min(w, max(len(name), COMFORTABLE))
                 for w, name, keep in zip(widths, columns, whole, strict=True)]
        order = [name for name in TABLE_DROPS if name in columns] + [n for n in reversed(columns) if n not in TABLE_DROPS]
        keep = list(range(len(columns)))
        while len(keep) > 1 and sum(least[i] for i in keep) + len(GAP) * (len(keep) - 1) > width:
            keep.remove(columns.index(order.pop(0)))
        hidden = [name for i, name in enumerate(columns) if i not in keep]
        cells = [[line[i] for i in keep] for line in cells]
        room = width - len(GAP) * (len(keep) - 1)
        wrapped = columns[keep[-1]] in WRAPPED  # prose in the last column wraps onto more lines instead
        natural = [widths[i] for i in keep]
        asked = natural[:-1] + [min(natural[-1], WRAPPED_AT_LEAST)] if wrapped else natural
        widths = fit(asked, [floors[i] for i in keep], room, [whole[i] for i in keep])
        if wrapped:
            widths[-1] = min(natural[-1], widths[-1] + room - sum(widths))
            cells = [part for line in cells for part in wrap_last(line, widths[-1])]
    cells = [[elide(cell, w) for cell, w in zip(line, widths, strict=True)] for line in cells]
    cells.insert(1, ["-" * w for w in widths])
    lines = [GAP.join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    if hidden:
        lines.append(elide(f"(not shown at this width: {', '.join(hidden)}; --wide shows every column)",
                           width or 0))
    return "\n".join(lines)


def wrap_last(line: list[str], width: int) -> list[list[str]]:
    """A row whose last cell is longer than ``width``, as rows: the cell's words go on under it."""
    parts = textwrap.wrap(line[-1], width) or [""]
    return [line[:-1] + parts[:1]] + [[""] * (len(line) - 1) + [part] for part in parts[1:]]


def fit(widths: list[int], floors: list[int], room: int, whole: list[bool]) -> list[int]:
    """Column widths within ``room``: free text gives way first, the widest column first, down to its floor;
    addresses and times give way only when the free text at its floor is still too wide."""
    kept = [w if keep else f for w, f, keep in zip(widths, floors, whole, strict=True)]
    if sum(kept) <= room:
        return _capped(widths, kept, room)
    return _capped(kept, floors, room)


def _capped(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Each width cut to the largest cap under which they all fit, but never below its floor."""
    low, high = 0, max(widths)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(w, cap)) for w, f in zip(widths, floors, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    return [max(f, min(w, low)) for w, f in zip(widths, floors, strict=True)]


def elide(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[:width - 1] + ELLIPSIS


def table_cell(column: str, value: Any) -> str:
    """What a person wants to read in one cell: times as ISO-8601 UTC, identity as one phrase."""
    if value is None:
        return ""
    if column in TIME_COLUMNS and isinstance(value, (int, float)):
        return iso_utc(value)
    if column == "severity" and isinstance(value, int):
        return f"{value} {severity_name(value)}"
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
    """modbus/tcp/502; tcp/3389 (rdp) when only the port names it (sensor.services); tcp/40000 when nothing does."""
    port = f"{item['transport']}/{item['port']}"
    if item["protocol"] != item["transport"]:
        return f"{item['protocol']}/{port}"
    named = by_port(item["transport"], item["port"])
    return f"{port} ({named})" if named else port


def table_item(item: Any) -> str:
    """One element of a list or value of a mapping: a frame as file:frame, anything nested as JSON."""
    if isinstance(item, list) and all(not isinstance(part, (dict, list)) for part in item):
        return ":".join(str(part) for part in item)
    if isinstance(item, (dict, list)):
        return compact(item)
    return str(item)


def severity_name(severity: int) -> str:
    """low, medium, high or critical: the band of CEF's 0-10 scale the severity falls in."""
    return next(name for bound, name in SEVERITY_NAMES if severity >= bound)


def iso_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
