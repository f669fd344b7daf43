"""pcapng: sections of both byte orders, interfaces with their own link type and clock, every
packet block type, skipped blocks, and damaged files."""
from __future__ import annotations

import struct

import pytest
from capture_builders import (
    Frame,
    NonSeekable,
    block,
    end_of_options,
    epb,
    idb,
    option,
    payload,
    pb,
    read_bytes,
    sample_pcapng,
    shb,
    spb,
)

from sensor.capture.source import open_stream

LE, BE = "<", ">"


def same_frames(got: list[Frame], want: list[Frame]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g.number, g.caplen, g.wirelen, g.linktype, g.data) == (w.number, w.caplen, w.wirelen, w.linktype,
                                                                       w.data)
        # float64 holds a 2026 epoch to ~0.2 µs; the reader and the test add the parts in different orders.
        assert g.ts == pytest.approx(w.ts, abs=1e-6)


@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
@pytest.mark.parametrize("max_bytes", [1, 50, 1 << 24])
@pytest.mark.parametrize("max_frames", [1, 3, 65536])
def test_every_field_of_every_frame(seekable: bool, max_bytes: int, max_frames: int) -> None:
    raw, want, _ = sample_pcapng()
    got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes, max_frames=max_frames,
                               name="t.pcapng")
    same_frames(got, want)
    assert warnings == []


def test_sample_covers_what_it_claims() -> None:
    raw, want, _ = sample_pcapng()
    assert {f.linktype for f in want} == {1, 101, 113, 228}
    assert raw[8:12] == b"\x4d\x3c\x2b\x1a"  # first section little endian
    assert b"\x1a\x2b\x3c\x4d" in raw  # second section big endian


NAMES = {0x0A0D0D0A: "Section Header Block", 1: "Interface Description Block", 2: "Packet Block",
         3: "Simple Packet Block", 6: "Enhanced Packet Block"}


def test_sample_layout_is_what_the_reader_must_walk() -> None:
    raw, want, layout = sample_pcapng()
    assert [t for _s, _e, t in layout].count(0x0A0D0D0A) == 2
    assert sum(t in (2, 3, 6) for _s, _e, t in layout) == len(want)
    assert {t for _s, _e, t in layout} - set(NAMES) == {4, 5, 0xBAD, 0x40000BAD}
    assert layout[-1][1] == len(raw)


def test_truncated_at_every_byte() -> None:
    raw, want, layout = sample_pcapng()
    ends = {end for _start, end, _t in layout}
    for cut in range(4, len(raw) + 1):
        done = [(s, e, t) for s, e, t in layout if e <= cut]
        n = sum(t in (2, 3, 6) for _s, _e, t in done)
        if cut in ends:
            expect = []
        else:
            start, end, btype = layout[len(done)]
            have = cut - start
            if have < 8:
                what = f"truncated block header at byte {start}: {have} of 8 bytes"
            elif btype == 0x0A0D0D0A and have < 12:
                what = f"truncated Section Header Block at byte {start}: {have} of at least 28 bytes"
            else:
                name = NAMES.get(btype, f"block type 0x{btype:08x}")
                frame = f" (frame {n + 1})" if btype in (2, 3, 6) else ""
                what = f"truncated {name} at byte {start}{frame}: {have} of {end - start} bytes"
            expect = [f"t.pcapng: {what}; {n} frames read"]
        for seekable, max_bytes in ((False, 1 << 24), (True, 1 << 24), (False, 17), (True, 40)):
            got, warnings = read_bytes(raw[:cut], seekable=seekable, max_bytes=max_bytes, name="t.pcapng")
            same_frames(got, want[:n])
            assert warnings == expect, (cut, seekable, max_bytes)


def _file(*blocks: bytes) -> bytes:
    return shb(LE) + idb(LE, 1) + b"".join(blocks)


GOOD = epb(LE, 0, 5_000_000, payload(9, 30))


@pytest.mark.parametrize(
    "bad,reason",
    [
        (struct.pack("<II", 6, 0) + b"\0" * 40, "Enhanced Packet Block length 0 is shorter than its fixed part (32)"),
        (struct.pack("<II", 0xBAD, 8) + b"\0" * 40, "block type 0x00000bad length 8 is shorter"),
        (struct.pack("<II", 6, 50) + b"\0" * 60, "Enhanced Packet Block length 50 is not a multiple of 4"),
        (struct.pack("<II", 5, 0x7FFFFFF0) + b"\0" * 40, "exceeds 16777216"),
        (struct.pack("<II", 6, 0x01000004) + b"\0" * 40, "Enhanced Packet Block length 16777220 exceeds 16777216"),
        (struct.pack("<II", 6, 400000) + b"\0" * 400000, "Enhanced Packet Block length 400000 but trailer says 0"),
        (epb(LE, 0, 1, b"abc")[:-4] + struct.pack("<I", 99), "Enhanced Packet Block length 36 but trailer says 99"),
        (block(LE, 4, b"abcd")[:-4] + struct.pack("<I", 0), "block type 0x00000004 length 16 but trailer says 0"),
        (epb(LE, 1, 1, b"abc"), "names interface 1 but the section defines 1"),
        (block(LE, 6, struct.pack("<IIIII", 0, 0, 0, 100, 100) + b"x" * 8),
         "captured length 100 does not fit its 40-byte block"),
        (block(LE, 6, struct.pack("<IIIII", 0, 0, 0, 300000, 300000) + b"x" * 8), "captured length 300000 exceeds"),
        (spb(LE, b"abc", 1000), "Simple Packet Block captured length 1000 does not fit its 20-byte block"),
        (block(LE, 0x0A0D0D0A, b"\x01\x02\x03\x04" + b"\0" * 16), "bad byte-order magic 0x01020304"),
        (shb(LE, major=2), "unsupported pcapng version 2.0"),
    ],
)
@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
def test_corrupt_block_keeps_frames_before_and_stops(bad: bytes, reason: str, seekable: bool) -> None:
    head = _file(GOOD, GOOD)
    raw = head + bad + GOOD
    got, warnings = read_bytes(raw, seekable=seekable, name="c.pcapng")
    assert len(got) == 2
    assert len(warnings) == 1
    assert warnings[0].startswith(f"c.pcapng: corrupt block at byte {len(head)}: "), warnings
    assert reason in warnings[0]
    assert warnings[0].endswith("; 2 frames read")


def test_first_block_must_be_a_section_header() -> None:
    raw = shb(LE)[:4] + b"\0" * 24  # right magic, then garbage length
    got, warnings = read_bytes(raw, name="x")
    assert got == [] and len(warnings) == 1 and "corrupt block at byte 0" in warnings[0]


def test_simple_packet_block_needs_an_interface() -> None:
    raw = shb(LE) + spb(LE, b"abcd")
    got, warnings = read_bytes(raw, name="x")
    assert got == [] and "Simple Packet Block before any Interface Description Block" in warnings[0]


def test_interface_ids_restart_in_each_section() -> None:
    raw = (shb(LE) + idb(LE, 1) + idb(LE, 101) + epb(LE, 1, 0, b"a")
           + shb(LE) + idb(LE, 228) + epb(LE, 0, 0, b"b") + epb(LE, 1, 0, b"c"))
    got, warnings = read_bytes(raw, name="x")
    assert [(f.linktype, f.data) for f in got] == [(101, b"a"), (228, b"b")]
    assert "names interface 1 but the section defines 1" in warnings[0]


def test_interface_must_be_defined_before_its_packets() -> None:
    raw = shb(LE) + idb(LE, 1) + epb(LE, 0, 0, b"a") + epb(LE, 1, 0, b"b") + idb(LE, 101) + epb(LE, 1, 0, b"c")
    got, warnings = read_bytes(raw, name="x")
    assert [f.data for f in got] == [b"a"]
    assert "names interface 1 but the section defines 1" in warnings[0]


@pytest.mark.parametrize(
    "tsresol,units,expect",
    [
        (None, 1_500_000, 1.5),
        (6, 1_500_000, 1.5),
        (0, 3, 3.0),
        (3, 1_500, 1.5),
        (9, 1_000_000_001, 1.000000001),
        (19, 15 * 10**18, 1.5),  # 10^19 ticks per second still fits 64 bits
        (0x80 | 0, 7, 7.0),
        (0x80 | 1, 3, 1.5),
        (0x80 | 20, (5 << 20) + (1 << 19), 5.5),
        (0x80 | 63, 1 << 63, 1.0),
    ],
)
def test_if_tsresol_both_forms(tsresol: int | None, units: int, expect: float) -> None:
    raw = shb(LE) + idb(LE, 1, tsresol=tsresol) + epb(LE, 0, units, b"abc")
    got, warnings = read_bytes(raw, name="x")
    assert got[0].ts == pytest.approx(expect, abs=1e-9) and warnings == []


@pytest.mark.parametrize("tsresol", [20, 0x80 | 64, 0xFF])
def test_if_tsresol_out_of_range_falls_back_to_microseconds(tsresol: int) -> None:
    raw = shb(LE) + idb(LE, 1, tsresol=tsresol) + epb(LE, 0, 2_000_000, b"abc")
    got, warnings = read_bytes(raw, name="x")
    assert got[0].ts == 2.0
    assert warnings == [f"x: interface 0: if_tsresol 0x{tsresol:02x} out of range; assuming microseconds"]


def test_if_tsoffset_is_signed_seconds() -> None:
    raw = shb(BE) + idb(BE, 1, tsoffset=-1000) + epb(BE, 0, 1_500_000_000, b"abc")
    got, _ = read_bytes(raw, name="x")
    assert got[0].ts == pytest.approx(500.0)


def test_first_tsresol_wins_and_other_options_are_ignored() -> None:
    opts = option(LE, 2, b"eth0") + option(LE, 9, b"\x03") + option(LE, 9, b"\x09")
    raw = shb(LE) + idb(LE, 1, extra_options=opts + end_of_options(LE)) + epb(LE, 0, 1500, b"a")
    got, _ = read_bytes(raw, name="x")
    assert got[0].ts == pytest.approx(1.5)


def test_option_overrunning_its_block_is_a_warning_not_an_error() -> None:
    bad_opt = struct.pack("<HH", 9, 200) + b"\x03\0\0\0"
    raw = shb(LE) + idb(LE, 1, extra_options=bad_opt) + epb(LE, 0, 1_000_000, b"a")
    got, warnings = read_bytes(raw, name="x")
    assert got[0].ts == 1.0
    assert warnings == ["x: interface 0: option 9 overruns its block; ignoring the rest of its options"]


def test_simple_packet_blocks_take_the_previous_timestamp() -> None:
    raw = (shb(LE) + idb(LE, 1) + spb(LE, b"first") + epb(LE, 0, 7_250_000, b"e") + spb(LE, b"s1")
           + spb(LE, b"s2"))
    got, _ = read_bytes(raw, name="x")
    assert [f.ts for f in got] == [0.0, 7.25, 7.25, 7.25]
    # ... also across chunk boundaries
    got, _ = read_bytes(raw, name="x", max_bytes=1)
    assert [f.ts for f in got] == [0.0, 7.25, 7.25, 7.25]


def test_only_section_and_interfaces_means_no_frames() -> None:
    raw = shb(LE) + idb(LE, 1) + idb(LE, 105)
    assert read_bytes(raw, name="x") == ([], [])


def test_big_non_packet_block_is_skipped_across_chunks() -> None:
    raw = shb(LE) + idb(LE, 1) + block(LE, 0x0A, b"k" * 100_000) + epb(LE, 0, 0, b"after")
    for seekable in (False, True):
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=4096, name="x")
        assert [f.data for f in got] == [b"after"] and warnings == []


def test_obsolete_packet_block_fields() -> None:
    raw = shb(BE) + idb(BE, 1) + idb(BE, 9, tsresol=3) + pb(BE, 1, 12_345, b"ppp", 99)
    got, _ = read_bytes(raw, name="x")
    assert [(f.linktype, f.caplen, f.wirelen, f.data) for f in got] == [(9, 3, 99, b"ppp")]
    assert got[0].ts == pytest.approx(12.345)


# ---------------------------------------------------------------- oversized packet blocks

BIG = 300_000  # over MAX_CAPLEN (262144)


def skipped(at: int, frame: int, name: str = "Enhanced Packet Block", cap: int = BIG) -> str:
    return f"x: skipped {name} at byte {at} (frame {frame}): captured length {cap} exceeds 262144"


def _good(i: int) -> bytes:
    return epb(LE, 0, 1_000_000 * (i + 1), payload(i, 20 + i))


READS = [(False, 1 << 24, 65536), (True, 1 << 24, 65536), (False, 4096, 2), (True, 4096, 1), (False, 100, 3)]


@pytest.mark.parametrize("cap", [262_145, BIG, 1_000_000], ids=["just-over", "over", "far-over"])
def test_oversized_enhanced_packet_block_is_skipped_and_keeps_its_frame_number(cap: int) -> None:
    head = _file(_good(0), _good(1), _good(2))
    bad = epb(LE, 0, 3_500_000, b"\xee" * cap)
    raw = head + bad + _good(3) + _good(4)
    for seekable, max_bytes, max_frames in READS:
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes, max_frames=max_frames, name="x")
        assert [f.number for f in got] == [1, 2, 3, 5, 6]
        assert [f.data for f in got] == [payload(i, 20 + i) for i in (0, 1, 2, 3, 4)]
        assert [f.ts for f in got] == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert warnings == [skipped(len(head), 4, cap=cap)], (seekable, max_bytes)


def test_oversized_blocks_first_last_and_in_a_row() -> None:
    bad = epb(LE, 0, 0, b"\xee" * BIG)
    head = _file()
    raw = head + bad + bad + _good(0) + bad + _good(1) + bad
    at = [len(head), len(head) + len(bad), len(head) + 2 * len(bad) + len(_good(0)),
          len(head) + 3 * len(bad) + len(_good(0)) + len(_good(1))]
    for seekable, max_bytes, max_frames in READS:
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes, max_frames=max_frames, name="x")
        assert [f.number for f in got] == [3, 5]
        assert warnings == [skipped(a, k) for a, k in zip(at, (1, 2, 4, 6))]


def test_oversized_simple_and_obsolete_packet_blocks_are_skipped_too() -> None:
    head = _file(_good(0))
    big_spb = spb(LE, b"s" * BIG)
    big_pb = pb(LE, 0, 7, b"p" * BIG)
    raw = head + big_spb + _good(1) + big_pb + spb(LE, b"after")
    got, warnings = read_bytes(raw, name="x")
    assert [(f.number, f.data) for f in got] == [(1, payload(0, 20)), (3, payload(1, 21)), (5, b"after")]
    assert got[-1].ts == 2.0  # a Simple Packet Block takes the time of the frame before it that was read
    assert warnings == [skipped(len(head), 2, "Simple Packet Block"),
                        skipped(len(head) + len(big_spb) + len(_good(1)), 4, "Packet Block")]


def test_batches_split_around_a_skipped_block() -> None:
    raw = _file(_good(0), _good(1), epb(LE, 0, 0, b"\xee" * BIG), _good(2), _good(3), _good(4))
    batches = list(open_stream(NonSeekable(raw), "x").batches(max_frames=2))
    assert [b.frame.tolist() for b in batches] == [[1, 2], [4, 5], [6]]


def _oversized_epb(**change: int) -> bytes:
    """An oversized EPB with one field changed: iface, cap (declared), trailer."""
    data = b"\xee" * BIG
    body = struct.pack("<IIIII", change.get("iface", 0), 0, 0, change.get("cap", BIG), BIG) + data
    total = len(body) + 12
    return struct.pack("<II", 6, total) + body + struct.pack("<I", change.get("trailer", total))


@pytest.mark.parametrize(
    "bad,reason",
    [
        (_oversized_epb(trailer=12), f"Enhanced Packet Block length {BIG + 32} but trailer says 12"),
        (_oversized_epb(cap=BIG + 8), f"captured length {BIG + 8} exceeds 262144"),
        (_oversized_epb(iface=3), f"captured length {BIG} exceeds 262144"),  # stops: no interface 3
    ],
    ids=["trailer", "cap-beyond-block", "interface"],
)
@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
def test_oversized_block_that_is_also_broken_stops_as_before(bad: bytes, reason: str, seekable: bool) -> None:
    head = _file(GOOD, GOOD)
    for max_bytes in (1 << 24, 4096):
        got, warnings = read_bytes(head + bad + GOOD, seekable=seekable, max_bytes=max_bytes, name="c.pcapng")
        assert len(got) == 2
        assert len(warnings) == 1 and warnings[0].startswith(f"c.pcapng: corrupt block at byte {len(head)}: ")
        assert reason in warnings[0] and warnings[0].endswith("; 2 frames read")


def test_oversized_block_cut_short_is_a_truncation() -> None:
    head = _file(GOOD)
    raw = head + epb(LE, 0, 0, b"\xee" * BIG) + GOOD
    cut = raw[: len(head) + 1000]
    got, warnings = read_bytes(cut, name="x")
    assert len(got) == 1
    assert warnings == [f"x: truncated Enhanced Packet Block at byte {len(head)} (frame 2): 1000 of {BIG + 32} bytes; "
                        "1 frames read"]


def test_frames_read_in_later_warnings_leave_out_skipped_blocks() -> None:
    head = _file(_good(0), epb(LE, 0, 0, b"\xee" * BIG))
    raw = head + _good(1) + _good(2)
    got, warnings = read_bytes(raw[:-3], name="x")
    assert [f.number for f in got] == [1, 3]
    assert warnings[0] == skipped(len(shb(LE) + idb(LE, 1) + _good(0)), 2)
    assert warnings[1] == (f"x: truncated Enhanced Packet Block at byte {len(head) + len(_good(1))} (frame 4): "
                           f"{len(_good(2)) - 3} of {len(_good(2))} bytes; 2 frames read")
