"""The same capture gives the same events and inventory as the reviewed golden files.

Compared as parsed JSON (so key order and whitespace don't matter) and in order: output is deterministic,
times are packet times, so nothing is masked. After an intended change: `python tests/golden/regenerate.py`,
then review the diff.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import regenerate


def first_difference(expected: list[dict], got: list[dict]) -> str:
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            keys = sorted(k for k in set(e) | set(g) if e.get(k) != g.get(k))
            return f"item {i}: " + "; ".join(f"{k}: expected {e.get(k)!r}, got {g.get(k)!r}" for k in keys)
    return f"lengths differ: expected {len(expected)}, got {len(got)}"


@pytest.mark.parametrize("name", sorted(regenerate.CASES))
def test_golden(name: str, corpus: Path, otsensor: Callable) -> None:
    if not (regenerate.HERE / name / "events.jsonl").exists():
        pytest.fail(f"no golden files for {name}: run python tests/golden/regenerate.py {name} and review")
    want_events, want_assets = regenerate.load(name)
    events, assets = regenerate.produce(name, corpus)
    assert events == want_events, f"events of {name}: {first_difference(want_events, events)}"
    assert assets == want_assets, f"assets of {name}: {first_difference(want_assets, assets)}"
    assert events, "a golden case must produce events, or it checks nothing"
