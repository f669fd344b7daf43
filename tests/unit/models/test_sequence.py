"""The DFA of a polling cycle: its own cycle passes, a new order is flagged, unknown symbols are left alone."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.sequence import Dfa

NAMES = ["read_coils", "read_discrete_inputs", "read_holding_registers", "write_single_coil"]
CYCLE = [0, 1, 2]


def word(*codes: int) -> np.ndarray:
    return np.array(codes, dtype=np.int64)


def test_cycle_is_learned_and_a_new_order_is_flagged():
    dfa = Dfa().fit(None, word(*CYCLE * 5), NAMES)
    assert dfa.trained and dfa.successors("read_coils") == ["read_discrete_inputs"]
    assert not dfa.unknown("read_holding_registers", word(*CYCLE * 2), NAMES).any()
    assert dfa.unknown("read_coils", word(2, 0), NAMES).tolist() == [True, False]
    assert dfa.unknown(None, word(2, 1), NAMES).tolist() == [False, True]


def test_unknown_symbols_are_the_allowlists_business():
    dfa = Dfa().fit(None, word(*CYCLE * 5), NAMES)
    assert not dfa.unknown("read_coils", word(3, 1), NAMES).any()


@given(st.lists(st.integers(0, 3), min_size=2, max_size=60), st.integers(1, 59))
def test_learning_in_pieces_equals_learning_at_once(symbols, cut):
    cut = min(cut, len(symbols) - 1)
    whole = Dfa().fit(None, word(*symbols), NAMES)
    pieces = Dfa().fit(None, word(*symbols[:cut]), NAMES).fit(NAMES[symbols[cut - 1]], word(*symbols[cut:]), NAMES)
    assert whole.edges == pieces.edges and whole.seen == pieces.seen == len(symbols) - 1
    assert not whole.unknown(None, word(*symbols), NAMES).any()
    assert Dfa.from_dict(whole.to_dict()).edges == whole.edges


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.lists(st.integers(0, 3), max_size=30),
       st.sampled_from([None, *NAMES]))
def test_unknown_is_every_unlearned_transition_between_known_symbols(learned, asked, previous):
    dfa = Dfa().fit(None, word(*learned), NAMES)
    symbols = [previous] + [NAMES[c] for c in asked]
    expected = [a is not None and (a, b) not in dfa.edges and a in dfa.symbols and b in dfa.symbols
                for a, b in zip(symbols, symbols[1:])]
    assert dfa.unknown(previous, word(*asked), NAMES).tolist() == expected
