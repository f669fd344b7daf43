"""The isolation forest: deterministic, silent on its own windows, loud (and specific) on a flood."""
from __future__ import annotations

import numpy as np

from models.forest import MIN_WINDOWS, WindowForest

FEATURES = ("packets", "requests", "exceptions")


def normal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(90, 110, n), rng.integers(28, 32, n), np.zeros(n)], axis=1)


def test_needs_enough_windows():
    assert WindowForest.fit(FEATURES, normal(MIN_WINDOWS - 1)) is None


def test_silent_on_normal_windows_and_names_what_grew():
    forest = WindowForest.fit(FEATURES, normal(200))
    anomalous, _, _ = forest.check(normal(50, seed=1))
    assert not anomalous.any()
    anomalous, _, why = forest.check(np.array([[1000, 300, 0], [100, 30, 60]]))
    assert anomalous.tolist() == [True, True]
    assert set(why[0]) == {"packets", "requests"} and set(why[1]) == {"exceptions"}


def test_round_trip_gives_the_same_scores():
    forest = WindowForest.fit(FEATURES, normal(100))
    again = WindowForest.from_dict(forest.to_dict())
    probe = np.array([[100, 30, 0], [500, 30, 9]])
    assert np.allclose(forest.score(probe), again.score(probe)) and again.threshold == forest.threshold
