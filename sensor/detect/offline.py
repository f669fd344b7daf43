"""Running checks over capture files outside ``analyze``: for ``learn`` and ``evaluate``.

The normal pipeline runs (so learning and evaluation see exactly what ``analyze`` sees) into a
throw-away database; only the alerts, the newest copy of each, are kept.
"""
from __future__ import annotations

import os
import tempfile

from sensor.detect.engine import Check, Detector
from sensor.pipeline import Options, Pipeline, Summary
from sensor.store import Store


def run(paths: list[str], checks: list[Check], decode_as: frozenset = frozenset()) -> tuple[list[dict], Summary]:
    """Analyse ``paths`` with ``checks``; the alerts (newest copy per id, by first frame) and the summary."""
    alerts: dict[str, dict] = {}

    def hear(changed: list[dict]) -> None:
        alerts.update((a["id"], a) for a in changed)

    with tempfile.TemporaryDirectory(prefix="otsensor-") as folder:
        with Store.open(os.path.join(folder, "scratch.db")) as store:
            options = Options(detector=Detector(checks), on_alerts=hear, decode_as=decode_as)
            summary = Pipeline(store, options).run(paths)
    return sorted(alerts.values(), key=lambda a: (a["ts"], a["id"])), summary
