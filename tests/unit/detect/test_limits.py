"""Every bounded table of detection says when its bound is hit."""
from __future__ import annotations

import numpy as np
import pytest

import sensor.detect.episodes as episodes
import sensor.detect.signatures as signatures
from sensor.detect.bursts import Window
from sensor.detect.episodes import Episodes, Finding


def finding(client: str, frame: int, ts: float, frames: int = 1) -> Finding:
    return Finding("test.rule", "signature", 5, "action:write", client, "10.0.0.9", "modbus",
                   np.arange(frame, frame + frames), np.full(frames, ts), "test", {"expected": 0, "seen": 1})


def test_open_episodes_are_bounded_and_ended_ones_are_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(episodes, "MAX_OPEN_EPISODES", 2)
    e = Episodes()
    e.add("f", [finding("10.0.0.1", 1, 0.0)])
    e.add("f", [finding("10.0.0.2", 2, 1000.0), finding("10.0.0.3", 3, 1000.0)])  # .1 has ended: forgotten quietly
    assert set(e.open) == {("10.0.0.2", "10.0.0.9"), ("10.0.0.3", "10.0.0.9")} and not e.take_limits()
    e.add("f", [finding("10.0.0.4", 4, 1001.0)])
    assert len(e.open) == 2 and [code for code, _ in e.take_limits()] == ["episode_table_full"]


def test_alert_frames_are_bounded_and_the_count_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(episodes, "MAX_ALERT_FRAMES", 5)
    e = Episodes()
    e.add("f", [finding("10.0.0.1", 1, 0.0, frames=8)])
    [alert] = e.changed()
    assert len(alert["frames"]) == 5 and alert["count"] == 8
    assert [code for code, _ in e.take_limits()] == ["alert_frames_limit"]


def test_burst_windows_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signatures, "MAX_WINDOWS", 2)
    s = signatures.Signatures()
    for k in range(4):
        w = s.windows.setdefault(("modbus.unit_scan", f"10.0.0.{k}", "10.0.0.9"), Window())
        w.values, w.ts, w.frames = np.array([1]), np.array([100.0 + k]), np.array([k])
    s._forget(101.0)
    assert set(s.windows) == {("modbus.unit_scan", "10.0.0.2", "10.0.0.9"), ("modbus.unit_scan", "10.0.0.3", "10.0.0.9")}
    assert [code for code, _ in s.take_limits()] == ["burst_windows_full"]
