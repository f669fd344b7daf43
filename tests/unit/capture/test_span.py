"""The span of an input leaves out a lone frame stamped far from its neighbours, wherever batches split it."""
from __future__ import annotations

import numpy as np
import pytest

from sensor.capture.span import Span

FAR = 4e8  # about 12 years


def span_of(ts: list[float], batch: int) -> tuple[float, list[int]]:
    span, found, times = Span(), [], np.array(ts, dtype=np.float64)
    frames = np.arange(1, len(ts) + 1)
    for k in range(0, len(ts), batch):
        found += span.add(times[k:k + batch], frames[k:k + batch])
    seconds, last = span.finish()
    return seconds, [frame for frame, _ in found + last]


@pytest.mark.parametrize("batch", [1, 2, 3, 100])
@pytest.mark.parametrize(("ts", "seconds", "outliers"), [
    ([100, 101, FAR, 102, 103], 3.0, [3]),  # in the middle
    ([0, FAR, FAR + 1, FAR + 2], 2.0, [1]),  # the first frame (a clock not yet set)
    ([100, 101, 102, FAR], 2.0, [4]),  # the last frame
    ([100, 101, 102, 200_000, 200_001], 199_901.0, []),  # a capture resumed the next days: a real span
    ([5], 0.0, []), ([5, 6], 1.0, []), ([5, FAR], FAR - 5, []),  # too few frames to tell
])
def test_outliers_are_left_out_of_the_span(ts: list[float], seconds: float, outliers: list[int], batch: int) -> None:
    assert span_of(ts, batch) == (seconds, outliers)
