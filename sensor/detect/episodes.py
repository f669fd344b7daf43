"""Findings become alerts per episode, not per packet.

A rule or a model reports a ``Finding``: the frames of one batch that show one kind of thing on one
channel. Findings of the same kind on the same channel (client, server, protocol) that follow each
other within ``EPISODE_GAP_S`` of packet time are one episode, whatever rule or model saw them: a
signature and a model that see the same messages join into one alert that names both. An alert that
grows is written again under the same ``id`` (stable: the episode's key and first frame), so a SIEM
and the store keep the newest copy.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np

from sensor.policy.check import alert_id

EPISODE_GAP_S = 300.0  # packet-time silence that ends an episode: a new burst is a new alert
MAX_ALERT_FRAMES = 100_000  # frames listed per alert; beyond it only the count grows (weird alert_frames_limit)
CATEGORIES = ("signature", "anomaly")


@dataclass(slots=True)
class Finding:
    """Frames of one batch that show one kind of thing on one channel (messages, or whole packets).

    ``kind`` is what joins findings into one episode: two findings about the same messages should
    name the same kind (``action:mode_change``, ``value:1/40001``, ``scan``).
    ``evidence`` says what was expected and what was seen; a model names itself under ``model``.
    """

    rule: str  # stable id, ``<protocol or family>.<what>``: ``modbus.force_listen_only``, ``baseline.new_function``
    category: str  # ``signature`` or ``anomaly``
    severity: int  # 0–10, as CEF
    kind: str
    client: str
    server: str
    protocol: str
    frame: np.ndarray  # in capture order
    ts: np.ndarray
    summary: str  # one sentence a person can act on
    evidence: dict


@dataclass(slots=True)
class Episode:
    key: tuple[str, str, str, str]  # client, server, protocol, kind
    file: str
    first_frame: int
    first_seen: float
    last_seen: float
    count: int = 0
    frames: list[tuple[str, int]] = field(default_factory=list)
    detections: dict[str, Finding] = field(default_factory=dict)  # rule -> the latest finding of that rule
    counts: dict[str, int] = field(default_factory=dict)  # rule -> frames it flagged
    truncated: bool = False
    id: str = ""

    def __post_init__(self) -> None:
        self.id = id_of(self)

    def alert(self) -> dict:
        """The contract alert: the most severe detection speaks; every detection is in the evidence."""
        primary = max(self.detections.values(), key=lambda f: (f.severity, f.category == "signature", f.rule))
        client, server, protocol, kind = self.key
        rules = sorted(self.detections)
        return {
            "id": self.id,
            "ts": self.first_seen,
            "rule": primary.rule,
            "rules": rules,
            "category": "signature" if any(f.category == "signature" for f in self.detections.values()) else "anomaly",
            "severity": max(f.severity for f in self.detections.values()),
            "src": client,
            "dst": server,
            "proto": protocol,
            "summary": primary.summary + (f" ({self.count} frames)" if self.count > 1 else ""),
            "evidence": {
                "kind": kind,
                "detections": [{"rule": r, "category": self.detections[r].category, "frames": self.counts[r],
                                **self.detections[r].evidence} for r in rules],
            },
            "frames": [list(f) for f in self.frames],
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "count": self.count,
        }


class Episodes:
    """Open episodes per (channel, kind); hands out the alerts that changed since it was last asked."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, str, str], Episode] = {}
        self._changed: dict[str, Episode] = {}
        self.limits: list[tuple[str, str]] = []  # (weird code, detail) hit since last asked

    def add(self, file: str, findings: list[Finding]) -> None:
        for f in sorted((part for f in findings for part in _split(f)), key=lambda f: (int(f.frame[0]), f.rule)):
            key = (f.client, f.server, f.protocol, f.kind)
            episode = self.open.get(key)
            if episode is None or float(f.ts[0]) - episode.last_seen > EPISODE_GAP_S:
                episode = Episode(key, file, int(f.frame[0]), float(f.ts[0]), float(f.ts[0]))
                self.open[key] = episode
            self._grow(episode, file, f)

    def _grow(self, episode: Episode, file: str, f: Finding) -> None:
        frames = f.frame.tolist()
        if episode.detections.keys() <= {f.rule}:  # one rule never reports a frame twice
            new = [(file, n) for n in frames]
        else:  # two rules may flag the same messages
            seen = set(episode.frames[-2 * len(frames):])
            new = [(file, n) for n in frames if (file, n) not in seen]
        room = MAX_ALERT_FRAMES - len(episode.frames)
        if len(new) > room and not episode.truncated:
            episode.truncated = True
            self.limits.append(("alert_frames_limit", f"alert {episode.id} lists its first "
                                                      f"{MAX_ALERT_FRAMES} frames; its count goes on"))
        episode.frames += new[:max(room, 0)]
        episode.count += len(new)
        episode.counts[f.rule] = episode.counts.get(f.rule, 0) + len(frames)
        episode.detections[f.rule] = f
        episode.last_seen = max(episode.last_seen, float(f.ts[-1]))
        self._changed[episode.id] = episode

    def changed(self) -> list[dict]:
        """Alerts of the episodes that began or grew since the last call, in order of first frame."""
        alerts = [e.alert() for e in sorted(self._changed.values(), key=lambda e: (e.file, e.first_frame, e.key))]
        self._changed = {}
        return alerts

    def take_limits(self) -> list[tuple[str, str]]:
        hit, self.limits = self.limits, []
        return hit


def _split(f: Finding) -> list[Finding]:
    """A finding cut where its own frames fall silent longer than an episode's gap (one batch can span it)."""
    if len(f.frame) < 2:
        return [f] if len(f.frame) else []
    cuts = (np.nonzero(np.diff(f.ts) > EPISODE_GAP_S)[0] + 1).tolist()
    if not cuts:
        return [f]
    bounds = [0, *cuts, len(f.frame)]
    return [replace(f, frame=f.frame[a:b], ts=f.ts[a:b]) for a, b in zip(bounds, bounds[1:])]


def id_of(episode: Episode) -> str:
    """Stable across reruns, and across mount points of the same evidence (the file's name, not its path)."""
    return alert_id("episode", *episode.key, os.path.basename(episode.file), episode.first_frame)
