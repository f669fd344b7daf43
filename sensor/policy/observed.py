"""The observed communications the policy engine reads, built from the store's plain dicts.

The store hands out communications as dicts with the keys of ``CommunicationDelta``. Several rows
may share one key (initiator, responder, transport, port) when files were merged or workers sharded
the capture, so the engine folds them into one record per key first: one verdict, one alert.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sensor.policy.services import Observed

SAMPLE_FRAMES = 5  # frames kept per communication as evidence
_observed = lru_cache(maxsize=4096)(Observed)  # few distinct services, asked for by every conduit check


@dataclass(frozen=True, slots=True)
class Communication:
    """An initiator talking to a responder on one service, over the whole input."""

    initiator: str
    responder: str
    transport: str
    port: int
    protocol: str
    first_seen: float
    last_seen: float
    packets: int = 0
    bytes: int = 0
    flows: int = 0
    actions: Mapping[str, int] = field(default_factory=dict)  # function_name -> count
    sample_frames: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.initiator, self.responder, self.transport, self.port)

    @property
    def service(self) -> Observed:
        return _observed(self.transport, self.port, self.protocol)


def from_dict(row: Mapping[str, Any]) -> Communication:
    """One store row (or ``CommunicationDelta`` as a dict) as a record."""
    return Communication(
        initiator=str(row["initiator"]), responder=str(row["responder"]),
        transport=str(row.get("transport") or "tcp"), port=int(row.get("port") or 0),
        protocol=str(row.get("protocol") or row.get("transport") or "tcp"),
        first_seen=float(row["first_seen"]), last_seen=float(row["last_seen"]),
        packets=int(row.get("packets") or 0), bytes=int(row.get("bytes") or 0), flows=int(row.get("flows") or 0),
        actions={str(k): int(v) for k, v in (row.get("actions") or {}).items()},
        sample_frames=tuple(_frame(f) for f in (row.get("sample_frames") or ())),
    )


def _frame(item: Any) -> tuple[str, int]:
    if isinstance(item, Mapping):
        return (str(item["file"]), int(item["frame"]))
    file, frame = item
    return (str(file), int(frame))


def merge(rows: Iterable[Mapping[str, Any] | Communication]) -> list[Communication]:
    """One record per key: counts added, actions summed, times widened; sorted by key for determinism."""
    merged: dict[tuple[str, str, str, int], Communication] = {}
    for row in rows:
        comm = row if isinstance(row, Communication) else from_dict(row)
        old = merged.get(comm.key)
        merged[comm.key] = comm if old is None else _fold(old, comm)
    return [merged[key] for key in sorted(merged)]


def _fold(a: Communication, b: Communication) -> Communication:
    actions = dict(a.actions)
    for name, count in b.actions.items():
        actions[name] = actions.get(name, 0) + count
    protocol = a.protocol if a.service.identified else b.protocol
    frames = tuple(sorted(set(a.sample_frames) | set(b.sample_frames)))[:SAMPLE_FRAMES]
    return Communication(
        a.initiator, a.responder, a.transport, a.port, protocol,
        min(a.first_seen, b.first_seen), max(a.last_seen, b.last_seen),
        a.packets + b.packets, a.bytes + b.bytes, a.flows + b.flows, actions, frames,
    )
