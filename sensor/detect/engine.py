"""The detection stage: every check over each batch's messages, findings joined into episodes.

A check is anything with ``check(batch) -> list[Finding]``: the signatures (``signatures``) and the
checks a learned baseline makes (``baseline``). Checks keep their own state per channel or per host
(never of the whole network), so workers that shard flows by address pair compute the same thing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sensor.decode.packets import Weird
from sensor.detect.episodes import Episodes, Finding
from sensor.detect.view import Messages, concat, from_link, from_messages, from_modbus
from sensor.dissect.generic import MessageBatch
from sensor.dissect.linklayer import LinkBatch
from sensor.dissect.modbus import ModbusBatch
from sensor.flows.table import FlowBatch


@dataclass(slots=True)
class Observed:
    """What one batch shows a check: its messages, its packets (None at end of input) and its weirds."""

    messages: Messages
    flows: FlowBatch | None
    weirds: list[Weird] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.messages.file


class Check(Protocol):
    def check(self, batch: Observed) -> list[Finding]: ...


class Detector:
    """Runs the checks batch by batch; ``changed()`` gives the alerts that began or grew."""

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks
        self.episodes = Episodes()

    def observe(self, file: str, modbus: ModbusBatch | None, others: list[MessageBatch], flows: FlowBatch | None,
                weirds: list[Weird], links: Sequence[LinkBatch] = ()) -> None:
        parts = ([from_modbus(modbus)] if modbus is not None else []) + [from_messages(b) for b in others] \
            + [from_link(b) for b in links]
        batch = Observed(concat(parts, file), flows, list(weirds))
        findings = [f for check in self.checks for f in check.check(batch)]
        self.episodes.add(file, findings)
        limits = self.episodes.take_limits()
        for check in self.checks:
            take = getattr(check, "take_limits", None)  # checks with bounded state report what they dropped
            limits += take() if take is not None else []
        frame, ts = (int(batch.messages.frame[-1]), float(batch.messages.ts[-1])) if len(batch.messages) else (0, 0.0)
        weirds += [Weird(code, "detect", file, frame, ts, detail) for code, detail in limits]

    def changed(self) -> list[dict]:
        return self.episodes.changed()
