"""Findings become alerts per episode, not per packet.

A rule or a model reports a ``Finding``: the frames of one batch that show one kind of thing between
one client and one server. Findings between the same two hosts that follow each other within
``EPISODE_GAP_S`` of packet time are one episode, whatever rule or model saw them and whatever kind of
thing they show: a scan seen as a new conversation by the allowlist and as distinct units by a
signature, a flood seen as volume, sequence and schedule, a 43/14 read seen as a new function and as
fingerprinting are each one alert that names every detection (``rules``, and per detection its
``kind``, ``expected`` and ``seen``) and speaks with the most severe. An alert that grows is written
again under the same ``id`` (stable: the two hosts, the file's name and the first frame), so a SIEM
and the store keep the newest copy. An anomaly that never stops keeps its episode open, so something
worse between the same hosts later raises that alert's severity and rules rather than a new alert.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import numpy as np

from sensor.policy.check import alert_id

EPISODE_GAP_S = 300.0  # packet-time silence that ends an episode: a new burst is a new alert
MAX_OPEN_EPISODES = 65_536  # episodes kept open; beyond it the stalest close (weird episode_table_full)
MAX_ALERT_FRAMES = 100_000  # frames listed per alert; beyond it only the count grows (weird alert_frames_limit)


@dataclass(slots=True)
class Finding:
    """Frames of one batch that show one kind of thing between two hosts (messages, or whole packets).

    ``kind`` says what was seen (``action:mode_change``, ``scan``, ``volume``); ``evidence`` says what
    was expected and what was seen, and a model names itself under ``model``. ``protocol`` is ``ip``
    where a model counts packets of every protocol.
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
    key: tuple[str, str]  # client, server
    file: str
    first_frame: int
    first_seen: float
    last_seen: float
    count: int = 0
    frames: list[list] = field(default_factory=list)  # [file, frame], as alerts list them
    detections: dict[str, Finding] = field(default_factory=dict)  # rule -> the latest finding of that rule
    counts: dict[str, int] = field(default_factory=dict)  # rule -> frames it flagged
    kinds: dict[str, str] = field(default_factory=dict)  # rule -> the kind it saw
    listed: set[tuple[str, int]] | None = None  # frames already listed, once a second rule joins
    truncated: bool = False
    id: str = ""

    def __post_init__(self) -> None:
        self.id = id_of(self)

    @property
    def protocol(self) -> str:
        """The most specific protocol a detection named (a packet-counting model says only ``ip``)."""
        named = sorted({f.protocol for f in self.detections.values()} - {"ip"})
        return named[0] if len(named) == 1 else "+".join(named) if named else "ip"

    def alert(self) -> dict:
        """The contract alert: the most severe detection speaks; every detection is in the evidence."""
        primary = max(self.detections.values(), key=lambda f: (f.severity, f.category == "signature", f.rule))
        client, server = self.key
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
            "proto": self.protocol,
            "summary": primary.summary + (f" ({self.count} frames)" if self.count > 1 else ""),
            "evidence": {
                "kinds": sorted(set(self.kinds.values())),
                "detections": [{"rule": r, "category": self.detections[r].category, "kind": self.kinds[r],
                                "frames": self.counts[r], **self.detections[r].evidence} for r in rules],
            },
            "frames": list(self.frames),  # a copy of the list; the [file, frame] pairs are shared, never changed
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "count": self.count,
        }


class Episodes:
    """Open episodes per (client, server); hands out the alerts that changed since it was last asked."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], Episode] = {}
        self._changed: dict[str, Episode] = {}
        self.limits: list[tuple[str, str]] = []  # (weird code, detail) hit since last asked

    def add(self, file: str, findings: list[Finding]) -> None:
        for f in sorted((part for f in findings for part in _split(f)), key=lambda f: (int(f.frame[0]), f.rule)):
            key = (f.client, f.server)
            episode = self.open.get(key)
            if episode is None or float(f.ts[0]) - episode.last_seen > EPISODE_GAP_S:
                episode = Episode(key, file, int(f.frame[0]), float(f.ts[0]), float(f.ts[0]))
                self.open[key] = episode
            self._grow(episode, file, f)
        if len(self.open) > MAX_OPEN_EPISODES:
            self._close_stale()

    def _close_stale(self) -> None:
        """Forget episodes that have ended (silent longer than the gap); past the limit, the stalest."""
        now = max(e.last_seen for e in self.open.values())
        self.open = {key: e for key, e in self.open.items() if now - e.last_seen <= EPISODE_GAP_S}
        if len(self.open) > MAX_OPEN_EPISODES:
            keep = sorted(self.open, key=lambda key: self.open[key].last_seen)[-MAX_OPEN_EPISODES:]
            self.limits.append(("episode_table_full", f"{len(self.open) - MAX_OPEN_EPISODES} open episodes closed "
                                                      f"early (more than {MAX_OPEN_EPISODES} at once)"))
            self.open = {key: self.open[key] for key in keep}

    def _grow(self, episode: Episode, file: str, f: Finding) -> None:
        frames = f.frame.tolist()
        if episode.detections.keys() <= {f.rule}:  # one rule never reports a frame twice
            fresh = frames
        else:  # two rules may flag the same messages
            if episode.listed is None:
                episode.listed = {(file_, n) for file_, n in episode.frames}
            fresh = [n for n in frames if (file, n) not in episode.listed]
        room = max(MAX_ALERT_FRAMES - len(episode.frames), 0)
        if len(fresh) > room and not episode.truncated:
            episode.truncated = True
            self.limits.append(("alert_frames_limit", f"alert {episode.id} lists its first "
                                                      f"{MAX_ALERT_FRAMES} frames; its count goes on"))
        episode.frames += [[file, n] for n in fresh[:room]]
        if episode.listed is not None:
            episode.listed.update((file, n) for n in fresh[:room])
        episode.count += len(fresh)
        episode.counts[f.rule] = episode.counts.get(f.rule, 0) + len(frames)
        episode.detections[f.rule] = f
        episode.kinds[f.rule] = f.kind
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
