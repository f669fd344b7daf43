"""Allowlists: exact sets of what was seen while learning, and address ranges per key.

An allowlist is the most explainable model there is: an item is allowed because it is listed, and a
person removes an item by deleting its entry. Keys are tuples of plain values (strings, ints).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.numbers import keyed, search

Key = tuple


@dataclass(slots=True)
class Allowlist:
    """A set of allowed keys whose positions are named by ``fields``."""

    fields: tuple[str, ...]
    items: set[Key] = field(default_factory=set)

    def fit(self, keys: Iterable[Key]) -> Allowlist:
        self.items.update(keys)
        return self

    def __contains__(self, key: Key) -> bool:
        return key in self.items

    def unknown(self, keys: Sequence[Key]) -> np.ndarray:
        """True where a key is not allowed (one set look-up per distinct key)."""
        verdict = {key: key not in self.items for key in set(keys)}
        return np.fromiter((verdict[key] for key in keys), dtype=bool, count=len(keys))

    def to_dict(self) -> list[dict]:
        return [dict(zip(self.fields, key)) for key in sorted(self.items, key=_order)]

    @classmethod
    def from_dict(cls, fields: tuple[str, ...], entries: list[dict]) -> Allowlist:
        return cls(fields, {tuple(entry[name] for name in fields) for entry in entries})


@dataclass(slots=True)
class RangeAllowlist:
    """Per key, the union of address intervals ``[first, last]`` seen (touching intervals merge).

    Nothing is widened: reading registers 0–9 and 20–29 does not allow 10–19, because a client that
    starts touching points it never touched is what this model exists to notice.
    """

    fields: tuple[str, ...]
    ranges: dict[Key, list[tuple[int, int]]] = field(default_factory=dict)
    _intervals: tuple[dict[Key, int], np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    _shown: dict[Key, list[list[int]]] = field(default_factory=dict, repr=False, compare=False)

    def fit(self, key: Key, first: np.ndarray, last: np.ndarray) -> RangeAllowlist:
        spans = set(zip(np.asarray(first).tolist(), np.asarray(last).tolist()))
        self.ranges[key] = merge(self.ranges.get(key, []) + sorted(spans))
        self._intervals = None
        self._shown.clear()
        return self

    def uncovered(self, keys: Sequence[Key], which: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """True where ``[first[i], last[i]]`` is not inside one allowed interval of ``keys[which[i]]`` (all of an
        unknown key). One search over every key: a batch holds requests of many keys."""
        ids, starts, ends = self._index()
        number = np.array([ids.get(k, -1) for k in keys], dtype=np.int64)[np.asarray(which, dtype=np.int64)]
        at = search(starts, keyed(number, first), side="right") - 1  # the interval starting at or before
        if not len(starts):
            return np.ones(len(at), dtype=bool)
        return ~((at >= 0) & (keyed(number, last) <= ends[np.maximum(at, 0)]))  # another key's interval ends before

    def _index(self) -> tuple[dict[Key, int], np.ndarray, np.ndarray]:
        """A number per key, and every interval's ends (``keyed``) sorted by key then start; built once."""
        if self._intervals is None:
            ids = {key: n for n, key in enumerate(self.ranges)}
            spans = [(ids[key], a, b) for key, intervals in self.ranges.items() for a, b in intervals]
            number = np.array([n for n, _, _ in spans], dtype=np.int64)
            self._intervals = (ids, keyed(number, np.array([a for _, a, _ in spans], dtype=np.int64)),
                               keyed(number, np.array([b for _, _, b in spans], dtype=np.int64)))
        return self._intervals

    def expected(self, key: Key) -> list[list[int]]:
        """The allowed intervals of ``key`` as evidence shows them; built once per key and shared (read only):
        a scan of random addresses names a long list in every alert."""
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = [list(span) for span in self.ranges.get(key, [])]
        return shown

    def to_dict(self) -> list[dict]:
        return [{**dict(zip(self.fields, key)), "addresses": [list(s) for s in spans]}
                for key, spans in sorted(self.ranges.items(), key=lambda kv: _order(kv[0]))]

    @classmethod
    def from_dict(cls, fields: tuple[str, ...], entries: list[dict]) -> RangeAllowlist:
        ranges: dict[Key, list[tuple[int, int]]] = {}
        for entry in entries:
            key = tuple(entry[name] for name in fields)
            ranges[key] = merge(ranges.get(key, []) + [(int(a), int(b)) for a, b in entry["addresses"]])
        return cls(fields, ranges)


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint intervals covering ``spans``; intervals that overlap or touch become one."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _order(key: Key) -> tuple:
    """Sorts keys mixing ints, strings and None without comparing across types."""
    return tuple((v is None, isinstance(v, str), "" if v is None else v) for v in key)
