"""The checks a run applies: the signatures always, and the models of a learned baseline when given one.

``analyze`` and ``evaluate`` both build their detector here, so what is scored is what is deployed.
"""
from __future__ import annotations

from sensor.detect.anomaly import BaselineCheck
from sensor.detect.baseline import Baseline
from sensor.detect.engine import Check
from sensor.detect.signatures import Signatures


def detection_checks(baseline: Baseline | None = None) -> list[Check]:
    if baseline is None:
        return [Signatures()]
    return [Signatures(baseline.learned_functions()), BaselineCheck(baseline)]
