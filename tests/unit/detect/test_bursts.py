"""The vectorised burst window against a plain per-message reference, whatever the batch splits."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.detect.bursts import Window, advance


def reference(values: list[int], ts: list[float], window_s: float, threshold: int, every: bool) -> set[int]:
    """One message at a time: the frames (1-based positions) a burst includes."""
    latest: dict[int, tuple[float, int]] = {}
    picked: set[int] = set()
    firing = False
    for frame, (value, t) in enumerate(zip(values, ts), start=1):
        fresh = value not in latest or latest[value][0] + window_s <= t
        latest[value] = (t, frame)
        active = {v: tf for v, tf in latest.items() if tf[0] + window_s > t}
        if len(active) >= threshold:
            if not firing:
                picked.update(f for _, f in active.values())
            elif fresh or every:
                picked.add(frame)
            firing = True
        else:
            firing = False
    return picked


def run(values: list[int], ts: list[float], cuts: list[int], window_s: float, threshold: int, every: bool) -> set[int]:
    w = Window()
    picked: set[int] = set()
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(values))), len(values)]
    frames = np.arange(1, len(values) + 1)
    for a, b in zip(bounds, bounds[1:]):
        burst = advance(w, np.array(values[a:b]), np.array(ts[a:b], dtype=float), frames[a:b], window_s, threshold, every)
        picked.update(burst.frames.tolist())
    return picked


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 12), st.sampled_from([0.0, 0.5, 1.0, 3.0, 11.0])), min_size=1, max_size=80),
       cuts=st.lists(st.integers(0, 80), max_size=6), threshold=st.integers(1, 6), every=st.booleans())
def test_any_split_agrees_with_the_reference(steps, cuts, threshold, every) -> None:
    values = [v for v, _ in steps]
    ts = list(np.cumsum([d for _, d in steps]))
    expected = reference(values, ts, 10.0, threshold, every)
    assert run(values, ts, cuts, 10.0, threshold, every) == expected
    assert run(values, ts, [], 10.0, threshold, every) == expected


def test_a_scan_is_caught_and_polling_is_not() -> None:
    polls = [7, 8, 9] * 100  # three blocks, over and over
    assert run(polls, [i * 0.1 for i in range(300)], [50, 51, 200], 60.0, 8, False) == set()
    sweep = list(range(20))
    assert run(sweep, [i * 0.1 for i in range(20)], [5], 60.0, 8, False) == set(range(1, 21))


def test_a_window_keeps_a_bounded_number_of_values(monkeypatch) -> None:
    import sensor.detect.bursts as bursts

    monkeypatch.setattr(bursts, "MAX_WINDOW_VALUES", 10)
    w = Window()
    first = advance(w, np.arange(50), np.linspace(0, 1, 50), np.arange(1, 51), 60.0, 5, False)
    again = advance(w, np.arange(50, 100), np.linspace(1, 2, 50), np.arange(51, 101), 60.0, 5, False)
    assert first.overflowed and not again.overflowed  # said once
    assert len(w.values) == 10 and w.values.tolist() == list(range(90, 100))  # the newest are kept
