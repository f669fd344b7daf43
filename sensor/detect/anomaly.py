"""The learned baseline as detection: each model's verdicts become ``Finding``s that say why.

Each model reports only what the models before it do not: a message on a communication that was
never learned is the communication's alert, not also a "new function"; a point is judged only for
a known function; a value only for a known point; a DFA only between known functions. So one
unusual thing is one alert, named by the model that describes it best.

Severity (CEF 0–10): 7 for what changes a process (new writes, operations, programs, modes, restarts,
values out of range) and for a new talker on an industrial protocol; 6 for a flood; 5 for other
news (a new read, a new IT conversation, a broken sequence, volume); 4 for a changed poll rate.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import numpy as np

from models.timing import FLOOD, SCHEDULE, SILENCE
from sensor.detect.baseline import Baseline
from sensor.detect.channels import WRITE_TABLES, BatchView, MessageGroup, communication, rows_of, service, split
from sensor.detect.engine import Observed
from sensor.detect.episodes import Finding
from sensor.detect.learn import by_channel, span, value_prefix, written
from sensor.detect.streams import Intervals, Windows
from sensor.detect.view import VERBS

CHANGES_PROCESS = {"write", "operate", "program_upload", "program_download", "firmware_update", "mode_change",
                   "restart"}
TIMING_SEVERITY = {FLOOD: 6, SILENCE: 5, SCHEDULE: 4}


class BaselineCheck:
    """A ``Check`` for the engine: every model of one baseline over each batch."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.intervals = Intervals()
        self.previous: dict[tuple, str] = {}
        self.windows = Windows(keep_frames=True, width=baseline.window_s)
        self.file: str | None = None
        self.pairs = {(c, s) for c, s, _, _ in baseline.communications.items}  # the forest's known channels

    def check(self, batch: Observed) -> list[Finding]:
        findings: list[Finding] = []
        if batch.file != self.file:
            findings += self._volume(self.windows.close())
            self.intervals.reset()
            self.previous.clear()
            self.file = batch.file
        view = BatchView.of(batch)
        known = self._communications(view, findings)
        groups = [g for g in view.messages if known.get(g.communication, g.communication in self.baseline.communications)]
        groups = self._functions(view, groups, findings)
        requests = [g for g in groups if g.request]
        self._points(view, requests, findings)
        self._values(view, requests, findings)
        self._timing(view, requests, findings)
        self._sequences(view, requests, findings)
        if self.baseline.forest is not None:  # counting windows costs; without a forest nobody reads them
            findings += self._volume(self.windows.feed(view))
        if batch.flows is None:
            findings += self._volume(self.windows.close())
        return findings

    def _communications(self, view: BatchView, findings: list[Finding]) -> dict[tuple, bool]:
        """Every packet of a conversation the baseline does not list is flagged."""
        known: dict[tuple, bool] = {}
        news = []
        for i, flow in enumerate(view.flows):
            key = communication(flow)
            known[key] = key in self.baseline.communications
            if not known[key]:
                news.append(i)
        for i, rows in zip(news, view.packets_of(news)):
            flow = view.flows[i]
            name = service(flow)
            protocol = flow.protocol or flow.transport
            others = sorted({f"{t}/{p}" for c, s, t, p in self.baseline.communications.items
                             if (c, s) == (flow.client, flow.server)})
            expected = others or "no communication between these hosts"
            findings.append(Finding(
                "baseline.new_communication", "anomaly", 7 if flow.protocol else 5, "communication",
                flow.client, flow.server, protocol, view.packet_frame[rows], view.packet_ts[rows],
                f"{flow.client} talked to {flow.server} on {flow.transport}/{flow.server_port} ({name}), "
                f"which it never did while learning",
                {"model": "allowlist.communications", "expected": expected,
                 "seen": f"{flow.transport}/{flow.server_port} ({name})"}))
        return known

    def _functions(self, view: BatchView, groups: list[MessageGroup], findings: list[Finding]) -> list[MessageGroup]:
        """Messages of a function a client never used on that server; returns the groups of known functions."""
        allowed = self.baseline.functions
        m = view.observed.messages
        kept = []
        for g in groups:
            if (g.client, g.server, g.protocol, g.action, g.function) in allowed:
                kept.append(g)
                continue
            usual = sorted(f for c, s, p, _, f in allowed.items if (c, s, p) == (g.client, g.server, g.protocol))
            findings.append(Finding(
                "baseline.new_function", "anomaly", 7 if g.action in CHANGES_PROCESS else 5, f"function:{g.function}",
                g.client, g.server, g.protocol, m.frame[g.rows], m.ts[g.rows],
                f"{g.client} used {g.function} ({g.action}) on {g.server}, which it never did while learning",
                {"model": "allowlist.functions", "expected": usual, "seen": g.function}))
        return kept

    def _points(self, view: BatchView, requests: list[MessageGroup], findings: list[Finding]) -> None:
        """Requests for addresses outside what their key touched while learning: judged all at once, told per group."""
        m = view.observed.messages
        points = self.baseline.points
        rows, which = rows_of(requests)
        addressed = m.address[rows] >= 0
        rows, which = rows[addressed], which[addressed]
        keys = [(g.client, g.server, g.protocol, g.unit, g.function) for g in requests]
        first, last = span(m.address[rows], m.quantity[rows])
        for i, bad in per_group(which, points.uncovered(keys, which, first, last)):
            g, key = requests[i], keys[i]
            seen = _distinct_spans(first[bad], last[bad])
            shown = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in seen[:5]) + (" ..." if len(seen) > 5 else "")
            findings.append(Finding(
                "baseline.new_point", "anomaly", 7 if g.action in CHANGES_PROCESS else 5, "points",
                g.client, g.server, g.protocol, m.frame[rows[bad]], m.ts[rows[bad]],
                f"{g.client} used {g.function} on unit {g.unit} of {g.server} at addresses {shown}, "
                f"outside what it touched while learning",
                {"model": "allowlist.points", "expected": points.expected(key), "seen": [list(s) for s in seen]}))

    def _values(self, view: BatchView, requests: list[MessageGroup], findings: list[Finding]) -> None:
        """Written values outside their point's learned range, one finding each; every write judged at once."""
        m = view.observed.messages
        ranges = self.baseline.values
        groups = [g for g in requests if g.function in WRITE_TABLES and ranges.knows(value_prefix(g))]
        if not groups:
            return
        prefixes = [value_prefix(g) for g in groups]
        rows, which = rows_of(groups)
        group_of = np.zeros(len(m), dtype=np.int64)
        group_of[rows] = which
        addresses, values, where = written(m, rows)
        which = group_of[where]
        outside, lows, highs = ranges.judge(prefixes, which, addresses, values)
        for i, bad in per_group(which, outside):
            g = groups[i]
            server, unit, table = prefixes[i]
            for address, value, row, low, high in zip(addresses[bad].tolist(), values[bad].tolist(),
                                                      where[bad].tolist(), lows[bad].tolist(), highs[bad].tolist()):
                findings.append(Finding(
                    "baseline.value_range", "anomaly", 7, f"value:{unit}/{table}/{address}",
                    g.client, g.server, g.protocol, m.frame[[row]], m.ts[[row]],
                    f"{g.client} wrote {value:g} to {table} {address} of unit {unit} on {server}, outside "
                    f"{low:g}–{high:g} seen while learning",
                    {"model": "values.ranges", "expected": [low, high], "seen": value}))

    def _timing(self, view: BatchView, requests: list[MessageGroup], findings: list[Finding]) -> None:
        """Request intervals against the learned schedule; a channel without one keeps no state (none is read)."""
        m = view.observed.messages
        merged: dict[tuple, list[np.ndarray]] = {}
        for g in requests:
            key = (*g.channel, g.function)
            if key in self.baseline.schedules:
                merged.setdefault(key, []).append(g.rows)
        for key, parts in merged.items():
            rows = np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0]
            history, intervals = self.intervals.feed(key, m.ts[rows])
            schedule = self.baseline.schedules[key]
            if not len(intervals):
                continue
            verdict, recent = schedule.judge(history, intervals)
            rows = rows[len(rows) - len(intervals):]  # the requests that end each interval
            client, server, protocol, unit, function = key
            for what in (FLOOD, SCHEDULE, SILENCE):
                bad = verdict == what
                if not bad.any():
                    continue
                seen = float(np.nanmax(intervals[bad])) if what == SILENCE else float(np.nanmedian(recent[bad]))
                text = {FLOOD: f"a flood: {function} every {seen:.3g} s", SILENCE: f"silent for {seen:.3g} s",
                        SCHEDULE: f"a new schedule: {function} every {seen:.3g} s"}[what]
                findings.append(Finding(
                    f"baseline.{what}", "anomaly", TIMING_SEVERITY[what], f"timing:{what}",
                    client, server, protocol, m.frame[rows[bad]], m.ts[rows[bad]],
                    f"{client} → {server} unit {unit}: {text}, where it polled every {schedule.period:.3g} s "
                    f"(jitter {schedule.jitter:.2g} s) while learning",
                    {"model": "timing.schedule", "expected": {"period": schedule.period, "jitter": schedule.jitter},
                     "seen": {"interval" if what == SILENCE else "recent_median": seen}}))

    def _sequences(self, view: BatchView, requests: list[MessageGroup], findings: list[Finding]) -> None:
        """Transitions between requests the channel's DFA never learned; a channel without one keeps no state."""
        m = view.observed.messages
        names = VERBS.column(2)
        sequences = self.baseline.sequences
        for channel, rows in by_channel([g for g in requests if g.channel in sequences]).items():
            codes = m.verb[rows]
            previous = self.previous.get(channel)
            self.previous[channel] = names[int(codes[-1])]
            dfa = sequences[channel]
            bad = dfa.unknown(previous, codes, names)
            if not bad.any():
                continue
            first = int(np.flatnonzero(bad)[0])
            before = names[int(codes[first - 1])] if first else previous
            after = names[int(codes[first])]
            client, server, protocol, unit = channel
            findings.append(Finding(
                "baseline.sequence", "anomaly", 5, "sequence", client, server, protocol, m.frame[rows[bad]],
                m.ts[rows[bad]],
                f"{client} sent {after} after {before} to unit {unit} of {server}, an order never seen while learning",
                {"model": "sequence.dfa", "expected": {before: dfa.successors(before)}, "seen": [before, after]}))

    def _volume(self, closed: list) -> list[Finding]:
        """Windows of known channels only: a pair that never talked is the communications allowlist's alert."""
        forest = self.baseline.forest
        closed = [w for w in closed if (w.client, w.server) in self.pairs]
        if forest is None or not closed:
            return []
        anomalous, scores, why = forest.check(np.array([w.row for w in closed]))
        findings = []
        for i in np.flatnonzero(anomalous).tolist():
            w = closed[i]
            if not len(w.frames):
                continue
            counts = ", ".join(f"{name} {seen:g} (learned {low:g}–{high:g})" for name, (low, high, seen) in why[i].items())
            findings.append(Finding(
                "baseline.volume", "anomaly", 5, "volume", w.client, w.server, "ip", w.frames, w.ts,
                f"{w.client} → {w.server} in the {self.baseline.window_s:g} s from "
                f"{datetime.fromtimestamp(w.start, timezone.utc):%Y-%m-%d %H:%M:%S} UTC: {counts}",
                {"model": "forest.windows", "expected": {k: [lo, hi] for k, (lo, hi, _) in why[i].items()},
                 "seen": {k: s for k, (_, _, s) in why[i].items()}, "score": round(float(scores[i]), 3),
                 "threshold": forest.threshold}))
        return findings


def _distinct_spans(first: np.ndarray, last: np.ndarray) -> list[tuple[int, int]]:
    """The distinct (first, last) address spans, sorted: sorted in numpy, since a scan brings thousands."""
    order = np.lexsort((last, first))
    first, last = first[order], last[order]
    new = np.r_[True, (first[1:] != first[:-1]) | (last[1:] != last[:-1])]
    return list(zip(first[new].tolist(), last[new].tolist()))


def per_group(which: np.ndarray, bad: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """For each group (``which``: a group number per entry) with bad entries, in group order: the group and the
    positions of its bad entries, in entry order."""
    hits = np.flatnonzero(bad)
    hits = hits[np.argsort(which[hits], kind="stable")]
    starts = np.flatnonzero(np.diff(which[hits])) + 1
    for part in split(hits, starts) if len(hits) else []:
        yield int(which[part[0]]), part
