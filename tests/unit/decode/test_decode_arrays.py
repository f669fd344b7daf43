"""The gather helpers' shortcuts give what reading the bytes one at a time gives, at the buffer's end too (where a
read is clipped to the last bytes, and the callers' length checks mask it)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sensor.decode.arrays import one_of, u8, u16, u32, u48

offsets = st.lists(st.integers(0, 70), max_size=20)


@given(st.binary(min_size=1, max_size=64), offsets)
def test_u48_is_a_u16_then_a_u32(data: bytes, at: list[int]) -> None:
    buffer, at_ = np.frombuffer(data, dtype=np.uint8), np.array(at, dtype=np.int64)
    assert u48(buffer, at_).tolist() == ((u16(buffer, at_) << 32) | u32(buffer, at_ + 2)).tolist()


@given(st.binary(min_size=1, max_size=64), offsets, st.lists(st.integers(0, 255), min_size=1, max_size=4))
def test_one_of_is_isin(data: bytes, at: list[int], choices: list[int]) -> None:
    values = u8(np.frombuffer(data, dtype=np.uint8), np.array(at, dtype=np.int64))
    assert one_of(values, tuple(choices)).tolist() == np.isin(values, choices).tolist()
