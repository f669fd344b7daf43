"""Small edits to a valid message, for the fuzz tests of every protocol: the bytes a parser meets most often
are almost right (a flipped bit, a lost or extra octet, a message cut short), not random noise."""
from __future__ import annotations

from hypothesis import strategies as st

Edit = tuple[str, int, int]  # (what, where, the value flipped in or inserted)


def edits(max_at: int = 400) -> st.SearchStrategy[list[Edit]]:
    """One to four edits at positions up to ``max_at`` (taken modulo the message's length)."""
    return st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "cut"]), st.integers(0, max_at),
                              st.integers(0, 255)), min_size=1, max_size=4)


def mutate(seed: bytes, changes: list[Edit]) -> bytes:
    """``seed`` with the edits applied in order."""
    data = bytearray(seed)
    for op, at, value in changes:
        at = at % (len(data) + 1)
        if op == "flip" and at < len(data):
            data[at] ^= value or 1
        elif op == "insert":
            data[at:at] = bytes([value])
        elif op == "delete" and at < len(data):
            del data[at]
        elif op == "cut":
            del data[at:]
    return bytes(data)
