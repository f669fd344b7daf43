"""The order of requests on a channel as a DFA, after Goldenberg & Wool (IJCIP 2013).

A polling master repeats a fixed cycle of requests, so the channel's traffic is a word of a tiny
regular language. Goldenberg & Wool learn it as a DFA whose states are the request symbols and whose
edges are the transitions seen; on a production network the model matched most PLCs perfectly with
no false alarm over 111 hours. Here a symbol is the function name; a transition never seen while
learning (a write in the middle of a read cycle, a cycle played in another order, a replay) is anomalous.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MIN_TRANSITIONS = 8  # transitions to learn from: fewer have not shown one full cycle of most polling schedules


@dataclass(slots=True)
class Dfa:
    """States are symbols; ``edges`` are the allowed (from, to) transitions; ``seen`` counts what was learned."""

    edges: set[tuple[str, str]] = field(default_factory=set)
    seen: int = 0

    @property
    def symbols(self) -> set[str]:
        return {s for edge in self.edges for s in edge}

    def fit(self, previous: str | None, codes: np.ndarray, names: Sequence[str]) -> Dfa:
        """Learn the transitions of the symbols ``names[codes]``, which follow ``previous`` (None at the start)."""
        for a, b in _transitions(previous, codes, names)[0]:
            self.edges.add((a, b))
        self.seen += max(len(codes) - (previous is None), 0)
        return self

    @property
    def trained(self) -> bool:
        return self.seen >= MIN_TRANSITIONS

    def unknown(self, previous: str | None, codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """True for each symbol ``names[codes[i]]`` reached by a transition never learned.

        Only transitions between known symbols count: a symbol the DFA has never seen at all is a new
        function, which the function allowlist reports; here it only breaks the chain.
        """
        known = self.symbols
        distinct, which = _transitions(previous, codes, names)
        verdict = np.array([(a, b) not in self.edges and a in known and b in known for a, b in distinct], dtype=bool)
        out = verdict[which] if len(distinct) else np.zeros(len(which), dtype=bool)
        return out if previous is not None else np.concatenate([[False], out])[:len(codes)]

    def successors(self, symbol: str) -> list[str]:
        return sorted(b for a, b in self.edges if a == symbol)

    def to_dict(self) -> dict:
        return {"transitions": [list(edge) for edge in sorted(self.edges)], "learned_from": self.seen}

    @classmethod
    def from_dict(cls, entry: dict) -> Dfa:
        return cls({(a, b) for a, b in entry["transitions"]}, int(entry.get("learned_from", MIN_TRANSITIONS)))


def _transitions(previous: str | None, codes: np.ndarray, names: Sequence[str]) -> tuple[list[tuple], np.ndarray]:
    """The distinct (from, to) transitions of the word and, per transition of the word, its index among them.

    Symbols arrive as integer codes into ``names`` so a long word costs numpy, not Python, per symbol; a word
    uses few symbols, so they are renumbered densely and transitions counted, not sorted.
    """
    codes = np.asarray(codes, dtype=np.int64)
    alphabet = list(names) + [previous]
    word = np.concatenate([[len(alphabet) - 1], codes]) if previous is not None else codes
    used, dense = _renumbered(word, len(alphabet))
    distinct, which = _renumbered(dense[:-1] * len(used) + dense[1:], len(used) ** 2)
    symbols = [alphabet[u] for u in used.tolist()]
    return [(symbols[p // len(symbols)], symbols[p % len(symbols)]) for p in distinct.tolist()], which


def _renumbered(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (in ``range(size)``), ascending, and each value's index among them."""
    distinct = np.flatnonzero(np.bincount(values, minlength=size))
    index = np.zeros(size, dtype=np.int64)
    index[distinct] = np.arange(len(distinct))
    return distinct, index[values]
