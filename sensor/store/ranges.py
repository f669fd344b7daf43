"""Merging point rows as address ranges: the store-side twin of ``sensor.inventory.points``.

Rows of one (client, server, unit, function, access) group whose ranges overlap or touch become one
row: counts add, first/last seen widen, and the last written value of every address is the one
seen most recently. Applying deltas in any split gives the same ranges and counts.
"""
from __future__ import annotations

from typing import Any

GROUP = ("client", "server", "unit_id", "function_code", "access")


def group_of(row: dict[str, Any]) -> tuple:
    return tuple(row[c] for c in GROUP)


def merge_ranges(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coalesce the rows of one group (stored and incoming alike)."""
    merged: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: (r["address"], r["quantity"])):
        if merged and row["address"] <= merged[-1]["address"] + merged[-1]["quantity"]:
            merged[-1] = _combine(merged[-1], row)
        else:
            merged.append(dict(row))
    return merged


def _newer(a_seen: float | None, b_seen: float | None) -> bool:
    """True when b was seen at or after a (None: never seen)."""
    return b_seen is not None and (a_seen is None or b_seen >= a_seen)


def _values(row: dict[str, Any]) -> dict[int, tuple[int, float]]:
    """Address -> (value, when seen) for the addresses this row knows a written value of."""
    values = row.get("last_values")
    if not values:
        return {}
    return {row["address"] + i: (v, row["values_seen"]) for i, v in enumerate(values) if v is not None}


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    start = a["address"]
    end = max(a["address"] + a["quantity"], b["address"] + b["quantity"])
    out = dict(a)
    out.update(quantity=end - start, count=a["count"] + b["count"], first_seen=min(a["first_seen"], b["first_seen"]),
               last_seen=max(a["last_seen"], b["last_seen"]))
    if _newer(a["source_seen"], b["source_seen"]):
        out.update(source=b["source"], source_seen=b["source_seen"])
    written = _values(a)
    for address, (value, seen) in _values(b).items():
        if address not in written or _newer(written[address][1], seen):
            written[address] = (value, seen)
    if a["last_values"] is None and b["last_values"] is None:
        out.update(last_values=None, values_seen=None)
    else:
        out["last_values"] = [written[x][0] if x in written else None for x in range(start, end)]
        out["values_seen"] = max((seen for _, seen in written.values()), default=None)
    return out
