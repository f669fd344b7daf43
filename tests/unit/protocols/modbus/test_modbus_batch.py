"""The fast path reads each ADU's header bytes in one gather of rows; they must be the bytes one read at a time
gives, at the buffer's end too (a byte past it reads as the last one, and the length checks mask it)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from protocols.modbus.batch import HEADER, _header_bytes


@given(st.binary(min_size=1, max_size=64), st.lists(st.integers(0, 80), max_size=20))
def test_header_rows_are_the_bytes_read_one_by_one(data: bytes, offsets: list[int]) -> None:
    buffer = np.frombuffer(data, dtype=np.uint8)
    off = np.array(offsets, dtype=np.int64)
    one_by_one = buffer[np.minimum(off[:, None] + np.arange(HEADER), len(buffer) - 1)]
    assert np.array_equal(_header_bytes(buffer, off), one_by_one.reshape(len(off), HEADER))
