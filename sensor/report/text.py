"""Wording both writers share: times and the conduit a violation nearly matched."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def when(ts: float | None) -> str:
    """A packet time as UTC text ('-' when unknown)."""
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def nearest_conduit(violation: Mapping[str, Any]) -> str | None:
    """The conduit that nearly matched a violation (its evidence names it) and why it did not."""
    conduit = (violation.get("evidence") or {}).get("conduit")
    if not isinstance(conduit, Mapping):
        return None
    services = ", ".join(map(str, conduit.get("services") or []))
    why = "; ".join(map(str, conduit.get("why_not") or []))
    return (f"{conduit.get('name')} ({conduit.get('from')} → {conduit.get('to')}"
            f"{', ' + services if services else ''}){': ' + why if why else ''}")
