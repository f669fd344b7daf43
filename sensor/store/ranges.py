"""Merging point rows as address ranges: the store-side twin of ``sensor.inventory.points``.

Rows of one (client, server, protocol, unit, space, name, function, access) group whose ranges overlap or touch become one
row: counts add, first/last seen widen, and the last written value of every address is the one
seen most recently (``values_seen`` keeps that time per address, aligned with ``last_values``). Applying deltas in any split gives the same ranges and counts.
"""
from __future__ import annotations

from typing import Any

MAX_VALUE_SPAN = 1 << 16  # a merged range wider than this keeps no per-address values (a Modbus table's size)
GROUP = ("client", "server", "protocol", "unit_id", "table_name", "name", "function_code", "access")


def group_of(row: dict[str, Any]) -> tuple:
    return tuple(row[c] for c in GROUP)


def merge_ranges(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coalesce the rows of one group (stored rows first, then incoming: on equal times the later wins)."""
    runs: list[list[tuple[int, dict[str, Any]]]] = []
    end = -1
    for position, row in sorted(enumerate(rows), key=lambda item: item[1]["address"]):
        if runs and row["address"] <= end:
            runs[-1].append((position, row))
            end = max(end, row["address"] + row["quantity"])
        else:
            runs.append([(position, row)])
            end = row["address"] + row["quantity"]
    return [run[0][1] if len(run) == 1 else _combine([row for _, row in sorted(run, key=lambda item: item[0])])
            for run in runs]


def _combine(run: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for overlapping ranges; ``run`` is in the order the rows were given."""
    start = min(r["address"] for r in run)
    end = max(r["address"] + r["quantity"] for r in run)
    out = dict(run[0])
    out.update(address=start, quantity=end - start, count=sum(r["count"] for r in run),
               first_seen=min(r["first_seen"] for r in run), last_seen=max(r["last_seen"] for r in run))
    for r in run[1:]:
        if _newer(out["source_seen"], r["source_seen"]):
            out.update(source=r["source"], source_seen=r["source_seen"])
    written: dict[int, tuple[int, float]] = {}
    for r in run:
        for i, (value, seen) in enumerate(zip(r["last_values"] or (), r["values_seen"] or ())):
            address = r["address"] + i
            if value is not None and (address not in written or _newer(written[address][1], seen)):
                written[address] = (value, seen)
    if all(r["last_values"] is None for r in run) or end - start > MAX_VALUE_SPAN:
        out.update(last_values=None, values_seen=None)
    else:
        span = range(start, end)
        out["last_values"] = [written[x][0] if x in written else None for x in span]
        out["values_seen"] = [written[x][1] if x in written else None for x in span]
    return out


def _newer(a_seen: float | None, b_seen: float | None) -> bool:
    """True when b was seen at or after a (None: never seen)."""
    return b_seen is not None and (a_seen is None or b_seen >= a_seen)
