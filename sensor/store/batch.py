"""What one ``Store.commit`` applies: everything in a batch lands together or not at all."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sensor.inventory.model import AssetDelta, CommunicationDelta, NameDelta, PointDelta, PollStats, Source
from sensor.inventory.scans import ScanDelta


class FileCheckpoint(NamedTuple):
    """How far the pipeline got through one capture file; committed with the facts it learned there."""

    fingerprint: str
    name: str
    size: int
    frames_done: int
    complete: bool
    after: tuple[str, ...] = ()  # fingerprints of the inputs whose flow state the run carried into this one


class FileProgress(NamedTuple):
    """A file's checkpoint as stored: frames done, whether all of it is in, whose flow state it continued."""

    frames_done: int
    complete: bool
    after: tuple[str, ...]


class Run(NamedTuple):
    """One invocation of the sensor: wall-clock bookkeeping, not analysis output."""

    started: str  # ISO-8601
    finished: str
    files: list[str]
    packets: int
    bytes: int
    seconds: float


@dataclass(slots=True)
class StoreBatch:
    """Deltas and derived facts that must be applied atomically, together with the file checkpoints."""

    assets: list[AssetDelta] = field(default_factory=list)
    points: list[PointDelta] = field(default_factory=list)
    communications: list[CommunicationDelta] = field(default_factory=list)
    polls: list[PollStats] = field(default_factory=list)
    scans: list[ScanDelta] = field(default_factory=list)
    names: list[NameDelta] = field(default_factory=list)
    # Contract fields (id, ts, rule, category, severity, src, dst, proto, summary, evidence, frames)
    # plus optional first_seen (defaults to ts), last_seen (defaults to first_seen) and count (default 1).
    alerts: list[dict[str, Any]] = field(default_factory=list)
    # (code, file) -> (count, first_frame)
    weirds: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    files: list[FileCheckpoint] = field(default_factory=list)
    # Derived columns, applied after the deltas above so a new asset can be typed in the same batch.
    device_types: list[tuple[str, str | None, list[str]]] = field(default_factory=list)  # (ip, type, reasons)
    zones: list[tuple[str, str | None, float | None]] = field(default_factory=list)  # (ip, zone, Purdue level)
    # (ip, mac, vendor, evidence): what is believed of an IP's MAC now (None: a MAC given before was a router's)
    macs: list[tuple[str, str | None, str | None, Source | None]] = field(default_factory=list)
    mac_sightings: list[tuple[str, str, str, Source]] = field(default_factory=list)  # workers': MacBook.take_sightings
    runs: list[Run] = field(default_factory=list)
    # Fold stations known by MAC into the IP asset with that MAC (Store._fold_stations). An offline run folds once,
    # at its end, when every MAC is known: folding at each commit would depend on which MACs came first.
    fold_stations: bool = True
