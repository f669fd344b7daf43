"""Assets for a SIEM: each asset is handed on when it appears or when what describes it changes.

Counters and times move with every packet; an asset event is news only when its identity, roles,
services, names, zone or device type change, so those are what a digest compares. The digests live in
the process: a restarted sensor sends each asset it sees again once (at-least-once; a SIEM that keys
on the event id, the asset key and its digest, drops the copy).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sensor.store import Store
from sensor.store.merge import dumps

VOLATILE = frozenset({"first_seen", "last_seen", "packets", "bytes", "sources", "names"})  # never news on their own


def digest(asset: dict) -> str:
    """What describes the asset, hashed: equal for an asset whose counters alone moved."""
    return hashlib.sha256(dumps({k: v for k, v in asset.items() if k not in VOLATILE}).encode()).hexdigest()[:16]


class AssetFeed:
    """Called with the keys a commit changed (``Options.on_assets``), and with None for all at the end."""

    def __init__(self, store: Store, send: Callable[[list[dict]], None]) -> None:
        self.store = store
        self.send = send
        self.sent: dict[str, str] = {}  # asset key -> digest last sent

    def __call__(self, keys: Iterable[str] | None = None) -> None:
        fresh = []
        for asset in self.store.assets(keys, with_points=False):
            key = asset["ip"] or asset["mac"]
            asset["digest"] = digest(asset)
            if self.sent.get(key) != asset["digest"]:
                self.sent[key] = asset["digest"]
                fresh.append(asset)
        if fresh:
            self.send(fresh)
