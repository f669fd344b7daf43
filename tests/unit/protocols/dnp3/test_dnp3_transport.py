"""transport.Reassembler: FIR/FIN/sequence rules of IEEE 1815-2012 §8.2 and its named bounds."""
from __future__ import annotations

from protocols.dnp3.transport import MAX_FRAGMENT, MAX_REASSEMBLIES, Completed, Reassembler
from protocols.dnp3.wire import TransportHeader


def seg(fir: bool, fin: bool, seq: int) -> TransportHeader:
    return TransportHeader(fin=fin, fir=fir, sequence=seq)


def test_single_segment_fragment() -> None:
    assert Reassembler().add("k", seg(True, True, 9), b"abc") == [Completed(b"abc", 1, None)]


def test_three_segments_wrapping_the_sequence_and_keeping_the_first_weird() -> None:
    r = Reassembler()
    assert r.add("k", seg(True, False, 62), b"a") == []
    assert r.add("k", seg(False, False, 63), b"b", "dnp3_bad_data_crc") == []
    assert r.pending == 2 and r.partials == 1
    assert r.add("k", seg(False, True, 0), b"c", "dnp3_bad_header_crc") == [Completed(b"abc", 3, "dnp3_bad_data_crc")]
    assert r.pending == 0


def test_sequence_errors_duplicates_and_orphans() -> None:
    r = Reassembler()
    r.add("k", seg(True, False, 1), b"a")
    assert r.add("k", seg(False, False, 1), b"a") == []  # a retry of the same segment
    assert r.add("k", seg(False, False, 5), b"x") == ["dnp3_transport_sequence"]
    assert r.add("k", seg(False, True, 6), b"y") == ["dnp3_transport_no_first"]


def test_keys_reassemble_independently_and_are_bounded() -> None:
    r = Reassembler(max_reassemblies=2)
    r.add(1, seg(True, False, 0), b"1")
    r.add(2, seg(True, False, 0), b"2")
    assert r.add(3, seg(True, False, 0), b"3") == ["dnp3_too_many_reassemblies"]
    assert r.add(1, seg(False, True, 1), b"!") == ["dnp3_transport_no_first"]  # key 1 was the oldest
    assert r.add(2, seg(False, True, 1), b"!") == [Completed(b"2!", 2, None)]


def test_fragment_size_is_bounded() -> None:
    r = Reassembler(max_fragment=4)
    r.add("k", seg(True, False, 0), b"abc")
    assert r.add("k", seg(False, True, 1), b"de") == ["dnp3_fragment_too_long"]
    assert r.partials == 0
    assert MAX_FRAGMENT >= 2048 and MAX_REASSEMBLIES >= 1


def test_clear_forgets_partials() -> None:
    r = Reassembler()
    r.add("k", seg(True, False, 0), b"abc")
    r.clear()
    assert r.pending == 0 and r.add("k", seg(False, True, 1), b"d") == ["dnp3_transport_no_first"]
