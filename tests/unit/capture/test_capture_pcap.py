"""Classic pcap: every magic and byte order, every field of every frame, and damaged files."""
from __future__ import annotations

import struct

import pytest
from capture_builders import (
    Frame,
    NonSeekable,
    pcap_header,
    pcap_record,
    read_bytes,
    read_error,
    sample_pcap,
)

from sensor.capture import LINKTYPE_LINUX_SLL
from sensor.capture.source import open_stream

VARIANTS = [
    pytest.param(order, nanos, modified, id=f"{'le' if order == '<' else 'be'}-{kind}")
    for order in "<>"
    for nanos, modified, kind in ((False, False, "us"), (True, False, "ns"), (False, True, "modified"))
]


def same_frames(got: list[Frame], want: list[Frame]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g.number, g.caplen, g.wirelen, g.linktype, g.data) == (w.number, w.caplen, w.wirelen, w.linktype,
                                                                       w.data)
        assert g.ts == pytest.approx(w.ts, abs=1e-9)


@pytest.mark.parametrize("order,nanos,modified", VARIANTS)
@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
def test_every_field_of_every_frame(order: str, nanos: bool, modified: bool, seekable: bool) -> None:
    raw, want, _ = sample_pcap(order, nanos=nanos, modified=modified, linktype=LINKTYPE_LINUX_SLL)
    got, warnings = read_bytes(raw, seekable=seekable)
    same_frames(got, want)
    assert warnings == []


def test_magic_is_read_in_the_files_byte_order() -> None:
    raw, _, _ = sample_pcap(">")
    assert raw[:4] == b"\xa1\xb2\xc3\xd4"
    raw, _, _ = sample_pcap("<", nanos=True)
    assert raw[:4] == b"\x4d\x3c\xb2\xa1"


def test_negative_fraction_counts_back_from_the_second() -> None:
    # Seen in the corpus (malcolm_DHCP.pcap): a time-shifting tool wrote usec = -268432.
    raw = pcap_header() + pcap_record("<", 1614582000, -268432, b"x" * 20)
    got, _ = read_bytes(raw)
    assert got[0].ts == pytest.approx(1614581999.731568, abs=1e-9)


def test_fcs_bits_are_not_part_of_the_linktype() -> None:
    field = (2 << 28) | (1 << 26) | 1  # FCS length 2 (16-bit words), F bit set, Ethernet
    raw = pcap_header(linktype=field) + pcap_record("<", 1, 0, b"y" * 30)
    got, warnings = read_bytes(raw)
    assert got[0].linktype == 1
    assert warnings == ["t.pcap: file header says every frame ends in a 4-byte FCS"]


def test_header_only_file_has_no_frames_and_no_warnings() -> None:
    assert read_bytes(pcap_header()) == ([], [])


@pytest.mark.parametrize("max_frames", [1, 2, 5, 65536])
@pytest.mark.parametrize("max_bytes", [1, 40, 100, 1 << 24])
def test_batch_limits_do_not_change_the_frames(max_frames: int, max_bytes: int) -> None:
    raw, want, _ = sample_pcap(n=9)
    for seekable in (False, True):
        got, warnings = read_bytes(raw, seekable=seekable, max_frames=max_frames, max_bytes=max_bytes)
        same_frames(got, want)
        assert warnings == []


def test_batches_respect_max_frames_and_span_only_their_frames() -> None:
    raw, _, _ = sample_pcap(n=9)
    batches = list(open_stream(NonSeekable(raw), "in.pcap").batches(max_frames=4))
    assert [len(b) for b in batches] == [4, 4, 1]
    assert [b.frame.tolist() for b in batches] == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    for b in batches:
        assert b.offset[0] == 0
        assert len(b.data) == b.offset[-1] + b.caplen[-1]
        assert b.file == "in.pcap"


@pytest.mark.parametrize("order,nanos,modified", VARIANTS)
def test_truncated_at_every_byte(order: str, nanos: bool, modified: bool) -> None:
    raw, want, ends = sample_pcap(order, nanos=nanos, modified=modified, n=4)
    hlen = 24 if modified else 16
    for cut in range(4, len(raw) + 1):
        complete = [f for f, end in zip(want, ends) if end <= cut]
        for seekable, max_bytes in ((False, 1 << 24), (True, 1 << 24), (False, 13), (True, 29)):
            got, warnings = read_bytes(raw[:cut], seekable=seekable, max_bytes=max_bytes)
            same_frames(got, complete)
            if cut < 24:
                assert warnings == [f"t.pcap: truncated file header: {cut} of 24 bytes; 0 frames read"]
            elif cut == 24 or cut in ends:
                assert warnings == []
            else:
                start = ends[len(complete) - 1] if complete else 24
                have = cut - start
                n = len(complete)
                if have < hlen:
                    expect = (f"t.pcap: truncated record header at byte {start} (frame {n + 1}): "
                              f"{have} of {hlen} bytes; {n} frames read")
                else:
                    total = hlen + want[n].caplen
                    expect = (f"t.pcap: truncated record at byte {start} (frame {n + 1}): "
                              f"{have} of {total} bytes; {n} frames read")
                assert warnings == [expect], (cut, seekable, max_bytes)


@pytest.mark.parametrize("cut", [0, 1, 3])
def test_too_short_for_a_magic_is_not_a_capture(cut: int) -> None:
    err = read_error(sample_pcap()[0][:cut], name="short.pcap")
    assert err.path == "short.pcap"
    assert "not a pcap or pcapng file" in str(err) and str(err).startswith("short.pcap: ")


@pytest.mark.parametrize("bad_caplen", [262145, 0x7FFFFFFF, 0xFFFFFFFF])
@pytest.mark.parametrize("where", ["middle", "last"])
def test_absurd_caplen_stops_the_file_keeping_frames_before(bad_caplen: int, where: str) -> None:
    raw, want, ends = sample_pcap(n=5)
    k = 3 if where == "middle" else 5  # frames kept
    start = ends[k - 1]
    bad = pcap_record("<", 7, 7, b"z" * 64, caplen=bad_caplen)
    # Followed by the rest (or by nothing): a reader must not try to read 4 GiB.
    damaged = raw[:start] + bad + raw[start:]
    for seekable in (False, True):
        got, warnings = read_bytes(damaged, seekable=seekable)
        same_frames(got, want[:k])
        expect = (f"t.pcap: corrupt record at byte {start} (frame {k + 1}): caplen {bad_caplen} "
                  f"exceeds 262144; {k} frames read")
        assert warnings == [expect]


def test_caplen_beyond_snaplen_is_tolerated_up_to_a_margin() -> None:
    hdr = pcap_header(snaplen=100)
    ok = pcap_record("<", 1, 0, b"a" * 1500)  # snaplen too small, but the data is there
    got, warnings = read_bytes(hdr + ok)
    assert [f.caplen for f in got] == [1500] and warnings == []
    bad = pcap_record("<", 2, 0, b"b" * (100 + 65536 + 1))
    got, warnings = read_bytes(hdr + ok + bad)
    assert [f.caplen for f in got] == [1500]
    # The file ends exactly after it, so its bytes are there: skipped, not a corrupt length.
    assert warnings == [f"t.pcap: skipped oversized record at byte {24 + len(ok)} (frame 2): "
                        "caplen 65637 exceeds 65636"]


def test_unknown_major_version_is_read_with_a_warning() -> None:
    raw = pcap_header(major=3) + pcap_record("<", 5, 6, b"q" * 10)
    got, warnings = read_bytes(raw)
    assert len(got) == 1 and warnings == ["t.pcap: unexpected pcap version 3.4; reading anyway"]


def test_frame_larger_than_a_chunk_still_reads() -> None:
    big = bytes(range(256)) * 1000  # 256000 bytes, under the 262144 limit
    raw = pcap_header() + pcap_record("<", 1, 2, b"s" * 10) + pcap_record("<", 3, 4, big)
    for seekable in (False, True):
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=4096)
        assert [f.data for f in got] == [b"s" * 10, big] and warnings == []


def test_record_header_struct_matches_the_draft() -> None:
    # ts_sec, ts_frac, caplen, wirelen: four 32-bit words (draft-ietf-opsawg-pcap section 5).
    rec = pcap_record(">", 0x01020304, 0x05060708, b"\xaa", 0x0A0B0C0D)
    assert struct.unpack(">IIII", rec[:16]) == (0x01020304, 0x05060708, 1, 0x0A0B0C0D)


# ---------------------------------------------------------------- oversized records

BIG = 300_000  # over MAX_CAPLEN (262144)


def oversized_file(order: str = "<", *, nanos: bool = False, modified: bool = False, where: tuple[int, ...] = (3,),
                   n: int = 6, size: int = BIG, snaplen: int = 262144) -> tuple[bytes, list[Frame], list[int]]:
    """``n`` good records with an oversized one (real bytes, ``size`` of them) before each index in ``where``.

    Returns (bytes, the good frames with the numbers a reader must give them, byte offset of each oversized one).
    """
    units = 1_000_000_000 if nanos else 1_000_000
    out = [pcap_header(order, nanos=nanos, modified=modified, snaplen=snaplen)]
    pos = len(out[0])
    frames, at = [], []
    number = 0
    for i in range(n + 1):
        if i in where:
            number += 1
            rec = pcap_record(order, 1_600_000_000 + i, 5, bytes([i]) * size, modified=modified)
            at.append(pos)
            out.append(rec)
            pos += len(rec)
        if i == n:
            break
        number += 1
        data = bytes((i * 7 + k) & 0xFF for k in range(20 + 9 * i))
        sec, frac = 1_600_000_000 + i, (i * 123457) % units
        rec = pcap_record(order, sec, frac, data, len(data) + 4, modified=modified)
        out.append(rec)
        pos += len(rec)
        frames.append(Frame(number, sec + frac / units, len(data), len(data) + 4, 1, data))
    return b"".join(out), frames, at


def skip_line(at: int, frame: int, caplen: int = BIG, limit: int = 262144) -> str:
    return f"t.pcap: skipped oversized record at byte {at} (frame {frame}): caplen {caplen} exceeds {limit}"


READS = [(False, 1 << 24), (True, 1 << 24), (False, 4096), (True, 4096), (False, 100)]


@pytest.mark.parametrize("order,nanos,modified", VARIANTS)
def test_oversized_record_in_the_middle_is_skipped_and_keeps_its_frame_number(order: str, nanos: bool,
                                                                              modified: bool) -> None:
    raw, want, at = oversized_file(order, nanos=nanos, modified=modified)
    assert [f.number for f in want] == [1, 2, 3, 5, 6, 7]
    for seekable, max_bytes in READS:
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes)
        same_frames(got, want)
        assert warnings == [skip_line(at[0], 4)], (seekable, max_bytes)


@pytest.mark.parametrize("where", [(0,), (6,), (0, 2, 4), (1, 6)], ids=["first", "last", "several", "and-last"])
def test_oversized_records_first_last_and_several(where: tuple[int, ...]) -> None:
    raw, want, at = oversized_file(where=where)
    numbers = sorted(set(range(1, 7 + len(where))) - {f.number for f in want})
    assert len(numbers) == len(where)
    for seekable, max_bytes in READS:
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes)
        same_frames(got, want)
        assert warnings == [skip_line(a, k) for a, k in zip(at, numbers)], (seekable, max_bytes)


def test_batches_split_around_a_skipped_frame() -> None:
    raw, want, _ = oversized_file()
    batches = list(open_stream(NonSeekable(raw), "t.pcap").batches(max_frames=2))
    assert [b.frame.tolist() for b in batches] == [[1, 2], [3], [5, 6], [7]]


def test_record_beyond_the_snaplen_margin_is_skipped_too() -> None:
    raw, want, at = oversized_file(snaplen=100, size=70_000)
    got, warnings = read_bytes(raw)
    same_frames(got, want)
    assert warnings == [skip_line(at[0], 4, 70_000, 65636)]


def test_frames_read_in_later_warnings_leave_out_the_skipped_record() -> None:
    raw, want, _ = oversized_file(n=4)
    cut = raw[:-5]  # the last good record loses its last bytes
    got, warnings = read_bytes(cut)
    same_frames(got, want[:-1])
    assert len(warnings) == 2 and warnings[0].startswith("t.pcap: skipped oversized record")
    assert warnings[1].startswith(f"t.pcap: truncated record at byte {len(raw) - 16 - want[-1].caplen} (frame 5): ")
    assert warnings[1].endswith("; 3 frames read")


def _after_oversized(follow: bytes) -> tuple[bytes, int]:
    """Three good records, an oversized one with its bytes really there, then ``follow``."""
    raw, _, ends = sample_pcap(n=3)
    bad = pcap_record("<", 1_600_000_003, 0, b"o" * BIG)
    return raw + bad + follow, ends[-1]


def _header(sec: int = 1_600_000_003, frac: int = 0, caplen: int = 40, wirelen: int = 40) -> bytes:
    return struct.pack("<IiII", sec, frac, caplen, wirelen)


@pytest.mark.parametrize(
    "follow",
    [
        pytest.param(bytes(range(256)) * 4, id="garbage"),
        pytest.param(b"\0" * 200, id="zeros"),
        pytest.param(_header(sec=1_600_000_003 + 86400 * 30) + b"x" * 40, id="time-far-ahead"),
        pytest.param(_header(sec=1_000) + b"x" * 40, id="time-far-behind"),
        pytest.param(_header(frac=1_000_000) + b"x" * 40, id="fraction-of-a-second-too-big"),
        pytest.param(_header(caplen=300_000, wirelen=300_000) + b"x" * 40, id="next-also-oversized"),
        pytest.param(_header(caplen=60, wirelen=40) + b"x" * 60, id="caplen-over-wirelen"),
        pytest.param(_header(caplen=0, wirelen=0), id="zero-wirelen"),
        pytest.param(_header()[:9], id="partial-header-at-eof"),
    ],
)
@pytest.mark.parametrize("seekable", [False, True], ids=["stream", "file"])
def test_oversized_record_followed_by_nonsense_stops_as_before(follow: bytes, seekable: bool) -> None:
    raw, start = _after_oversized(follow)
    _, want, _ = sample_pcap(n=3)
    for max_bytes in (1 << 24, 1000):
        got, warnings = read_bytes(raw, seekable=seekable, max_bytes=max_bytes)
        same_frames(got, want)
        assert warnings == [f"t.pcap: corrupt record at byte {start} (frame 4): caplen {BIG} exceeds 262144; "
                            "3 frames read"]


def test_oversized_record_whose_bytes_are_not_there_stops() -> None:
    raw, start = _after_oversized(b"")
    got, warnings = read_bytes(raw[:-1])  # one byte short of ending exactly after it
    assert len(got) == 3
    assert warnings == [f"t.pcap: corrupt record at byte {start} (frame 4): caplen {BIG} exceeds 262144; "
                        "3 frames read"]
    got, warnings = read_bytes(raw)  # ends exactly after it: skipped
    assert len(got) == 3 and warnings == [skip_line(start, 4)]


def test_plausible_next_header_is_judged_against_the_last_frame() -> None:
    # A day either side of the last good frame is believed; the oversized record's own time does not matter.
    raw, _, _ = sample_pcap(n=3)
    last_sec = 1_600_000_002
    for sec, skipped in ((last_sec + 86400, True), (last_sec - 86400, True), (last_sec + 86401, False)):
        bad = pcap_record("<", 7, 0, b"o" * BIG)
        got, warnings = read_bytes(raw + bad + pcap_record("<", sec, -5, b"n" * 30))
        assert len(got) == (4 if skipped else 3), sec
        assert warnings[0].startswith("t.pcap: skipped" if skipped else "t.pcap: corrupt"), sec
        if skipped:
            assert got[-1].number == 5 and got[-1].data == b"n" * 30
