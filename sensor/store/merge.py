"""How a stored row and an incoming one combine, declared per column.

Every rule here is associative, so folding deltas inside a batch and then into the database gives the same
row however the deltas were split into batches. Rows are in decoded form (JSON columns as Python values).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

Merge = Callable[[Any, Any], Any]  # (stored, incoming) -> merged


def add(stored: Any, incoming: Any) -> Any:
    return stored + incoming


def add_known(stored: Any, incoming: Any) -> Any:
    """A counter an older run did not keep: unknown (None) stays unknown, since part of the count is missing."""
    return None if stored is None or incoming is None else stored + incoming


def replace(stored: Any, incoming: Any) -> Any:
    """A scalar fact: the incoming value wins only when it knows something."""
    return stored if incoming is None else incoming


def keep_first(stored: dict, incoming: dict) -> dict:
    """Per key, the first evidence stays: a later sighting does not make a fact more true. First is the lowest
    (file name, frame), as for sample frames, whichever commit brought it: runs, and workers that commit their
    shares in any order, keep the same."""
    merged = {**incoming, **stored}
    for key, new in incoming.items():
        old = stored.get(key)
        if old is not None and _earlier(new, old):
            merged[key] = new
    return merged


def identities(stored: dict | None, incoming: dict | None) -> dict | None:
    """Two identities of one device, from two commits (workers, runs, protocols): every key either knows, and
    where both know one, the value of the identity with the earlier evidence (its ``source``), as one process
    that met the messages in capture order would keep."""
    if stored is None or incoming is None:
        return stored if incoming is None else incoming
    first, other = (incoming, stored) if _identity_evidence(incoming) < _identity_evidence(stored) else (stored, incoming)
    return {**other, **{key: value for key, value in first.items() if value is not None}}


def _identity_evidence(identity: dict) -> tuple[str, int, str]:
    """(file, frame) of an identity's ``source``, written "protocol ..., FILE frame N" (``Inventory._identity``)."""
    text = str(identity.get("source") or "")
    head, _, frame = text.rpartition(" frame ")
    return (head.partition(", ")[2], int(frame) if frame.isdigit() else 1 << 62, text)


def earliest(stored: dict, incoming: dict) -> dict:
    """One piece of evidence: the lowest (file name, frame)."""
    return incoming if _earlier(incoming, stored) else stored


def _earlier(a: Any, b: Any) -> bool:
    return (isinstance(a, dict) and isinstance(b, dict) and isinstance(a.get("frame"), int)
            and isinstance(b.get("frame"), int) and (str(a.get("file")), a["frame"]) < (str(b.get("file")), b["frame"]))


def add_counts(stored: dict[str, int], incoming: dict[str, int]) -> dict[str, int]:
    names = sorted(stored.keys() | incoming.keys())
    return {name: stored.get(name, 0) + incoming.get(name, 0) for name in names}


def union(key: Callable[[Any], Hashable] = lambda item: item, cap: int | None = None) -> Merge:
    """Set union kept sorted by ``key``; with a cap, the lowest ``cap`` items (for frames: the earliest)."""

    def merge(stored: Iterable, incoming: Iterable) -> list:
        unique = {key(item): item for item in (*stored, *incoming)}
        return [unique[k] for k in sorted(unique)][:cap]

    return merge


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Canonical JSON, so the same facts are the same bytes (one encoder: json.dumps builds one per call)."""
    return _CANONICAL.encode(value)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table's key, its JSON columns, and how each column merges (``replace`` unless listed)."""

    name: str
    key: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    rules: dict[str, Merge] = field(default_factory=dict)
    # column -> the timestamp column saying when its value was seen: the newest non-None value wins.
    newest: dict[str, str] = field(default_factory=dict)

    def key_of(self, row: dict) -> tuple:
        return tuple(row[column] for column in self.key)

    def merge(self, stored: dict, incoming: dict) -> dict:
        """The incoming row's columns merged into the stored row; columns it lacks are left alone."""
        merged = {}
        for column, value in incoming.items():
            if column in self.key:
                merged[column] = value
            elif column in self.newest:
                seen = self.newest[column]
                newer = value is not None and (stored[column] is None or incoming[seen] >= stored[seen])
                merged[column] = value if newer else stored[column]
            else:
                merged[column] = self.rules.get(column, replace)(stored[column], value)
        return merged

    def encode(self, row: dict) -> dict:
        return {c: _dumps(v) if c in self.json_columns and v is not None else v for c, v in row.items()}

    def decode(self, row: dict) -> dict:
        return {c: _loads(v) if c in self.json_columns and v is not None else v for c, v in row.items()}


def _dumps(value: Any) -> str:
    """``dumps``, with empty lists and dicts (most cells of most rows) spelled without the encoder."""
    if not value and isinstance(value, (list, dict)):
        return "[]" if isinstance(value, list) else "{}"
    return dumps(value)


def _loads(text: str) -> Any:
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text)
