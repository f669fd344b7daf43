"""Evaluation against labelled captures, next to the allowlist every learned model must beat.

Labels come per frame (the Lemay format: ``frame;label`` lines, 1 = attack) or as time ranges
(``start,end[,name]`` lines; times in epoch seconds or ISO 8601, naive times in UTC; every range is one
attack episode). Per-frame labels are cut into episodes where attack frames are more than
``EPISODE_GAP_S`` apart, the same gap that ends an alert's episode.

Scores: packet level (a frame is flagged when any alert lists it) precision, recall, F1 and false
positive rate over every frame of the capture; episode level, which attack episodes got an alert and
how long after their first frame (packet time), and how many alerts touch no attack frame at all.

The reference is the ~30-line allowlist of research note ``anomaly.md`` (§2): the (host pair,
transport, server port) and (source, destination, function code) seen while learning, every packet
that is not one of them flagged. It learns from exactly the frames the baseline learned from.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from sensor.capture.source import open_inputs
from sensor.detect.baseline import Baseline
from sensor.detect.checks import detection_checks
from sensor.detect.engine import Observed
from sensor.detect.episodes import EPISODE_GAP_S, Finding
from sensor.detect.learn import Cutoff, Learner
from sensor.detect.offline import run


class LabelError(Exception):
    """A label file that cannot be read; the message names the file and line."""


@dataclass(slots=True)
class Labels:
    """Per frame of one capture (index ``frame - 1``): its time and whether it is an attack; attack episodes."""

    ts: np.ndarray
    attack: np.ndarray
    episodes: list[np.ndarray]  # frame numbers of each episode


def frame_times(path: str) -> np.ndarray:
    """Every frame's timestamp, index ``frame - 1``."""
    (source,) = list(open_inputs([path]))
    parts = [(b.frame, b.ts) for b in source.batches()]
    ts = np.zeros(max((int(f[-1]) for f, _ in parts if len(f)), default=0))
    for frame, t in parts:
        ts[frame - 1] = t
    return ts


def load_labels(path: str, ts: np.ndarray) -> Labels:
    """Per-frame labels (``frame;label``) or time ranges (``start,end[,name]``), told apart by the separator."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except OSError as error:
        raise LabelError(f"{path}: {error.strerror or error}") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and
             not line.lstrip().startswith("#")]
    if lines and ";" in lines[0][1]:
        attack = _per_frame(path, lines, len(ts))
        return Labels(ts, attack, _split(np.flatnonzero(attack) + 1, ts))
    ranges = _ranges(path, lines)
    attack = np.zeros(len(ts), dtype=bool)
    episodes = []
    for start, end in ranges:
        inside = (ts >= start) & (ts <= end)
        attack |= inside
        if inside.any():
            episodes.append(np.flatnonzero(inside) + 1)
    return Labels(ts, attack, episodes)


def _per_frame(path: str, lines: list[tuple[int, str]], frames: int) -> np.ndarray:
    attack = np.zeros(frames, dtype=bool)
    for n, line in lines:
        frame, _, label = line.partition(";")
        if not frame.strip().isdigit():
            if n == lines[0][0]:
                continue  # a header
            raise LabelError(f"{path}: line {n}: expected frame;label, got {line!r}")
        k = int(frame)
        if 1 <= k <= frames and label.strip() not in ("", "0"):
            attack[k - 1] = True
    return attack


def _ranges(path: str, lines: list[tuple[int, str]]) -> list[tuple[float, float]]:
    out = []
    for n, row in zip([n for n, _ in lines], csv.reader(io.StringIO("\n".join(line for _, line in lines)))):
        try:
            out.append((parse_time(row[0]), parse_time(row[1])))
        except (ValueError, IndexError):
            if n == lines[0][0]:
                continue  # a header
            raise LabelError(f"{path}: line {n}: expected start,end[,name]") from None
    return out


def parse_time(text: str) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC when no zone is given)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _split(frames: np.ndarray, ts: np.ndarray) -> list[np.ndarray]:
    """Attack frames cut into episodes at silences longer than ``EPISODE_GAP_S``."""
    if not len(frames):
        return []
    gaps = np.flatnonzero(np.diff(ts[frames - 1]) > EPISODE_GAP_S) + 1
    return np.split(frames, gaps)


@dataclass(slots=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int
    detected: list[float | None]  # per attack episode: seconds from its first frame to the first flagged one
    false_alerts: int | None  # alerts that list no attack frame (None: the method has no alerts)
    alerts: int | None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0


def score(flagged: np.ndarray, labels: Labels, alerts: list[set[int]] | None) -> Scores:
    """Packet and episode scores of a per-frame verdict (``alerts``: the frames of each alert, when it has alerts)."""
    a = labels.attack
    detected: list[float | None] = []
    for episode in labels.episodes:
        hit = episode[flagged[episode - 1]]
        detected.append(float(labels.ts[hit[0] - 1] - labels.ts[episode[0] - 1]) if len(hit) else None)
    attack_frames = set((np.flatnonzero(a) + 1).tolist())
    false_alerts = sum(1 for frames in alerts if not frames & attack_frames) if alerts is not None else None
    return Scores(int((flagged & a).sum()), int((flagged & ~a).sum()), int((~flagged & a).sum()),
                  int((~flagged & ~a).sum()), detected, false_alerts, len(alerts) if alerts is not None else None)


class ReferenceAllowlist:
    """The reference: (host pair, transport, server port) and (source, destination, function code) allowlists.

    A ``Check`` that learns while ``learning`` (within ``cutoff``), then flags every packet of an unknown
    pair/port and every message of an unknown function code; it keeps its verdicts to itself (no findings).
    """

    def __init__(self, cutoff: Cutoff) -> None:
        self.cutoff = cutoff
        self.learning = True
        self.pairs: set[tuple] = set()
        self.codes: set[tuple] = set()
        self.flagged: dict[str, set[int]] = {}

    def check(self, batch: Observed) -> list[Finding]:
        fb, m = batch.flows, batch.messages
        if fb is not None and len(fb.row_flow):
            keys = [(frozenset((f.client, f.server)), f.transport, f.server_port) for f in fb.flows]
            rows = self._rows(batch.file, fb.packets.frame, fb.packets.ts)
            if self.learning:
                self.pairs.update(keys[g] for g in np.unique(fb.row_flow[rows]).tolist())
            else:
                unknown = np.array([key not in self.pairs for key in keys])
                self._flag(batch.file, fb.packets.frame[unknown[fb.row_flow]])
        if len(m):
            src, dst = m.src, m.dst
            rows = self._rows(batch.file, m.frame, m.ts)
            codes = list(zip(m.protocol[rows].tolist(), src[rows].tolist(), dst[rows].tolist(),
                             m.function_code[rows].tolist()))
            if self.learning:
                self.codes.update(codes)
            else:
                self._flag(batch.file, m.frame[rows][[c not in self.codes for c in codes]])
        return []

    def _rows(self, file: str, frame: np.ndarray, ts: np.ndarray) -> np.ndarray:
        limit = self.cutoff.limit(file) if self.learning else None
        return np.flatnonzero(limit(frame, ts)) if limit is not None else np.arange(len(frame))

    def _flag(self, file: str, frames: np.ndarray) -> None:
        self.flagged.setdefault(file, set()).update(frames.tolist())


@dataclass(slots=True)
class Report:
    capture: str
    frames: int
    attack_frames: int
    episodes: int
    ours: Scores
    reference: Scores
    alerts: list[dict] = field(default_factory=list)


def evaluate(capture: str, labels_path: str, train: list[str], cutoff: Cutoff,
             baseline: Baseline | None = None) -> Report:
    """Learn from ``train`` within ``cutoff`` (unless ``baseline`` is given), detect on ``capture``, score both.

    The reference allowlist always learns from ``train`` within ``cutoff``: the frames the baseline
    learned from.
    """
    reference = ReferenceAllowlist(cutoff)
    learner = Learner(cutoff)
    run(train, [reference] if baseline is not None else [learner, reference])
    baseline = baseline or learner.baseline()
    reference.learning = False
    alerts, _ = run([capture], [*detection_checks(baseline), reference])
    labels = load_labels(labels_path, frame_times(capture))
    frames = len(labels.ts)
    ours_frames = [{n for f, n in a["frames"] if f == capture} for a in alerts]
    ours = np.zeros(frames, dtype=bool)
    for alert_frames in ours_frames:
        ours[[n - 1 for n in alert_frames if n <= frames]] = True
    theirs = np.zeros(frames, dtype=bool)
    theirs[[n - 1 for n in reference.flagged.get(capture, ()) if n <= frames]] = True
    return Report(capture, frames, int(labels.attack.sum()), len(labels.episodes),
                  score(ours, labels, ours_frames), score(theirs, labels, None), alerts)


def format_report(report: Report) -> str:
    """The scores side by side, one metric per line."""
    def episodes(s: Scores) -> str:
        found = [d for d in s.detected if d is not None]
        first = f", first flag after {max(found):.3g} s at worst" if found else ""
        return f"{len(found)}/{len(s.detected)}{first}"

    rows = [("precision", lambda s: f"{s.precision:.4f}"), ("recall", lambda s: f"{s.recall:.4f}"),
            ("F1", lambda s: f"{s.f1:.4f}"), ("false positive rate", lambda s: f"{s.fpr:.4f}"),
            ("TP / FP / FN / TN", lambda s: f"{s.tp} / {s.fp} / {s.fn} / {s.tn}"),
            ("episodes detected", episodes),
            ("alerts (false)", lambda s: f"{s.alerts} ({s.false_alerts})" if s.alerts is not None else "-")]
    width = max(len(name) for name, _ in rows)
    out = [f"{report.capture}: {report.frames} frames, {report.attack_frames} labelled attack, "
           f"{report.episodes} attack episode(s)",
           f"{'':{width}}  {'baseline':>34}  {'allowlist (reference)':>34}"]
    out += [f"{name:{width}}  {get(report.ours):>34}  {get(report.reference):>34}" for name, get in rows]
    return "\n".join(out)
