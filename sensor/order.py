"""The order that sorts rows by integer keys, ties in row order: what ``np.lexsort`` and a stable ``argsort``
give, several times faster.

The keys (each shifted to start at 0) and the row number are packed into one int64, and that is sorted with
numpy's plain sort, which is several times faster than its stable sorts and than ``lexsort``; the row number
makes every packed value distinct, so the order is the stable one. Keys too wide to pack together fall back to
``lexsort``. ``first_rows`` and ``groups`` give what ``np.unique`` gives with its first rows or its inverse, from
that sort or, for keys of a narrow span (a batch's flows, streams, codes), from a table of flags: no sort at all.
"""
from __future__ import annotations

import numpy as np

DENSE = 1 << 21  # keys spanning fewer values than this are grouped through a table of flags, not a sort


def stable_order(*keys: np.ndarray) -> np.ndarray:
    """Row indices ordered by ``keys`` (the first most significant), ties in row order."""
    n = len(keys[0])
    if n < 2:
        return np.arange(n)
    shifted = [k.astype(np.int64) - int(k.min()) for k in keys]
    widths = [int(k.max()).bit_length() for k in shifted] + [(n - 1).bit_length()]
    if sum(widths) > 63:
        return np.lexsort(keys[::-1])
    packed = np.zeros(n, dtype=np.int64)
    for key, width in zip((*shifted, np.arange(n)), widths):
        packed = (packed << width) | key
    packed.sort()
    return packed & ((1 << widths[-1]) - 1)


def first_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, increasing, and the row where each first occurs: ``np.unique(keys,
    return_index=True)``, from ``stable_order``'s packed sort instead of numpy's stable merge sort."""
    order = stable_order(keys)
    ordered = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first], order[first]


def groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, increasing, and each row's index among them: ``np.unique(keys, return_inverse=True)``,
    through a table of flags over the keys' span where it is narrow (a batch's flows, streams, codes)."""
    if not len(keys):
        return keys[:0], np.zeros(0, dtype=np.int64)
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    if span > max(8 * len(keys) + 4096, DENSE):
        distinct, inverse = np.unique(keys, return_inverse=True)
        return distinct, inverse.reshape(-1)
    shifted = keys - low
    seen = np.zeros(span, dtype=bool)
    seen[shifted] = True
    distinct = np.flatnonzero(seen)
    index = np.empty(span, dtype=np.int64)
    index[distinct] = np.arange(len(distinct))
    return (distinct + low).astype(keys.dtype, copy=False), index[shifted]
