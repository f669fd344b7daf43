"""Learn, then detect, in one run: the appliance learns its plant for a set period after it starts.

For the first ``seconds`` of traffic (packet time, from the first packet seen) a ``Learner`` learns
every message and packet; at the first batch past the period the baseline is fitted, written to
``path`` (a file a person reviews and edits like any other baseline) and loaded into the checks, so
detection runs with it from the next batch on. The signatures run all along; once the baseline
exists they are quiet for what it learned, as with ``--baseline``.
"""
from __future__ import annotations

import numpy as np

from sensor.detect.anomaly import BaselineCheck
from sensor.detect.baseline import Baseline
from sensor.detect.engine import Observed
from sensor.detect.episodes import Finding
from sensor.detect.learn import Cutoff, Learner
from sensor.detect.signatures import Signatures


class LearnFirst:
    """A ``Check``: learns until ``seconds`` after the first packet, then checks with what it learned."""

    def __init__(self, seconds: float, path: str, signatures: Signatures) -> None:
        self.seconds = seconds
        self.path = path
        self.signatures = signatures
        self.learner: Learner | None = None
        self.until = float("inf")
        self.detecting: BaselineCheck | None = None
        self.baseline: Baseline | None = None

    def check(self, batch: Observed) -> list[Finding]:
        if self.detecting is not None:
            return self.detecting.check(batch)
        if self.learner is None:
            first = _first_ts(batch)
            if first is None:
                return []
            self.until = first + self.seconds
            self.learner = Learner(Cutoff(until=self.until))
        self.learner.check(batch)  # rows past ``until`` are not learned (the cutoff)
        last = _last_ts(batch)
        if (last is not None and last > self.until) or batch.flows is None:
            return self._start_detecting().check(_after(batch, self.until))
        return []

    def _start_detecting(self) -> BaselineCheck:
        """Fit and save the baseline, and check with it from here on."""
        assert self.learner is not None
        self.baseline = self.learner.baseline()
        self.baseline.save(self.path)
        self.signatures.learn(self.baseline.learned_functions())
        self.detecting = BaselineCheck(self.baseline)
        return self.detecting


def _first_ts(batch: Observed) -> float | None:
    fb = batch.flows
    if fb is not None and len(fb.packets.ts):
        return float(fb.packets.ts.min())
    return float(batch.messages.ts.min()) if len(batch.messages) else None


def _last_ts(batch: Observed) -> float | None:
    fb = batch.flows
    if fb is not None and len(fb.packets.ts):
        return float(fb.packets.ts.max())
    return float(batch.messages.ts.max()) if len(batch.messages) else None


def _after(batch: Observed, until: float) -> Observed:
    """The part of the batch past the learning period: what the new baseline judges first."""
    m, fb = batch.messages, batch.flows
    messages = m.take(np.flatnonzero(m.ts > until))
    if fb is not None:
        keep = fb.packets.ts > until
        fb = type(fb)(fb.packets.select(keep), fb.flows, fb.row_flow[keep], fb.direction[keep], fb.new_flows,
                      fb.counts, fb.octets)
    return Observed(messages, fb, batch.weirds)
