"""Points: requests become coalesced address ranges; written values are kept per address (last one wins)."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from sensor.inventory.points import READ, WRITE, PointBook, coalesce
from sensor.pipeline import Options, Pipeline
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import Conversation, batches

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def adu(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def coil_bytes(bits: list[int]) -> bytes:
    """Coils packed LSB first (§6.11)."""
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i // 8] |= b << (i % 8)
    return bytes(out)


# --- coalesce: the vectorised interval merge --------------------------------------------------------

def merged(keys, start, end, ts):
    cols = coalesce(np.array(keys, dtype=np.int64), np.array(start, dtype=np.int64), np.array(end, dtype=np.int64),
                    np.array(ts, dtype=float))
    return [tuple(c) for c in zip(*(c.tolist() for c in cols))]


def test_overlapping_and_touching_ranges_merge_and_counts_add():
    # key 1: [0,10) and [5,15) overlap, [15,20) touches; [21,30) is one address apart; key 2 overlaps key 1
    got = merged([1, 1, 1, 1, 2], [0, 5, 15, 21, 0], [10, 15, 20, 30, 10], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert got == [(1, 0, 20, 3, 1.0, 3.0, 2), (1, 21, 30, 1, 4.0, 4.0, 3), (2, 0, 10, 1, 5.0, 5.0, 4)]


def test_input_order_does_not_matter_and_latest_is_by_time():
    # the same ranges shuffled, times not in input order: latest is the index of the largest ts in the group
    got = merged([1, 1, 1], [15, 0, 5], [20, 10, 15], [9.0, 3.0, 1.0])
    assert got == [(1, 0, 20, 3, 1.0, 9.0, 0)]


def test_a_range_inside_another_does_not_shrink_it():
    got = merged([4, 4, 4], [0, 2, 50], [100, 3, 60], [1.0, 2.0, 3.0])
    assert got == [(4, 0, 100, 3, 1.0, 3.0, 2)]


def test_coalesce_matches_a_plain_python_merge():
    rng = np.random.default_rng(7)
    n = 400
    keys = rng.integers(0, 5, n)
    start = rng.integers(0, 65535, n)
    quantity = rng.integers(1, 125, n)
    ts = rng.random(n) * 100
    got = merged(keys, start, start + quantity, ts)
    want = []
    for k in sorted(set(keys.tolist())):
        idx = sorted((i for i in range(n) if keys[i] == k), key=lambda i: (start[i], i))
        group: list[int] = []
        reach = -1
        for i in idx + [None]:
            if i is None or (group and start[i] > reach):
                lo = min(start[j] for j in group)
                latest = max(group, key=lambda j: ts[j])
                want.append((k, int(lo), int(reach), len(group), float(min(ts[group])), float(max(ts[group])),
                             latest))
                group, reach = [], -1
            if i is not None:
                group.append(i)
                reach = max(reach, int(start[i] + quantity[i]))
    assert got == want


def test_point_book_separates_pairs_units_functions_and_access():
    book = PointBook()
    pairs = book.pair_ids([(CLIENT, SERVER), ("10.0.0.9", SERVER), (CLIENT, SERVER)])
    assert pairs.tolist() == [0, 1, 0]
    a = lambda *v: np.array(v, dtype=np.int64)
    book.add_requests("f.pcap", a(0, 0, 1, 0, 0), a(1, 2, 1, 1, 1), a(3, 3, 3, 4, 3), READ, a(0, 5, 0, 0, 8),
                      a(10, 10, 10, 10, 4), np.array([1.0, 2.0, 3.0, 4.0, 5.0]), a(11, 12, 13, 14, 15))
    points = book.take()
    got = sorted((p.client, p.unit_id, p.function_code, p.access, p.table, p.address, p.quantity, p.count,
                  p.source.frame) for p in points)
    assert got == sorted([
        (CLIENT, 1, 3, "read", "holding_register", 0, 12, 2, 15),  # [0,10) + [8,12)
        (CLIENT, 2, 3, "read", "holding_register", 5, 10, 1, 12),
        ("10.0.0.9", 1, 3, "read", "holding_register", 0, 10, 1, 13),
        (CLIENT, 1, 4, "read", "input_register", 0, 10, 1, 14),
    ])
    assert all(p.last_values is None for p in points)
    assert book.take() == []  # taken means gone


# --- through the pipeline: what a client read and wrote -----------------------------------------------

def inventory_deltas(tmp_path, frames, size=None):
    """The real stages over crafted frames; the inventory's deltas before any store merge."""
    with Store.open(str(tmp_path / "inv.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(frames, size or len(frames)):
            pipeline._process(fb)
        pipeline._end_of_input("test.pcap")
        return pipeline.inventory.take()


def request_response(c: Conversation, tid: int, request_pdu: bytes, response_pdu: bytes, unit: int = 1) -> int:
    q = c.packet(True, adu(tid, request_pdu, unit))
    c.packet(False, adu(tid, response_pdu, unit))
    return q


def read(c, tid, fc, address, quantity, unit=1):
    size = (quantity + 7) // 8 if fc in (1, 2) else 2 * quantity
    return request_response(c, tid, struct.pack(">BHH", fc, address, quantity),
                            struct.pack(">BB", fc, size) + b"\0" * size, unit)


@pytest.mark.parametrize("size", [None, 3], ids=["one-batch", "batch-3"])
def test_read_ranges_from_requests(tmp_path, size):
    c = Conversation()
    c.handshake()
    read(c, 1, 3, 0, 10)
    read(c, 2, 3, 5, 10)  # overlaps
    read(c, 3, 3, 15, 5)  # touches
    last = read(c, 4, 3, 100, 10)  # apart
    read(c, 5, 4, 0, 10)  # another table
    read(c, 6, 3, 0, 10, unit=2)  # another unit
    read(c, 7, 1, 0, 16)  # coils
    points = inventory_deltas(tmp_path, c.frames, size).points
    got = sorted((p.unit_id, p.function_code, p.access, p.table, p.address, p.quantity, p.count) for p in points)
    assert got == sorted([
        (1, 3, "read", "holding_register", 0, 20, 3), (1, 3, "read", "holding_register", 100, 10, 1),
        (1, 4, "read", "input_register", 0, 10, 1), (2, 3, "read", "holding_register", 0, 10, 1),
        (1, 1, "read", "coil", 0, 16, 1),
    ])
    assert all((p.client, p.server) == (CLIENT, SERVER) for p in points)
    apart = next(p for p in points if p.address == 100)
    assert apart.source.frame == last
    assert (apart.first_seen, apart.last_seen) == (c.frames[last - 1][2],) * 2


def write_traffic() -> tuple[Conversation, dict]:
    c = Conversation()
    c.handshake()
    t = 1
    frames = {}

    def rr(name, req, resp):
        nonlocal t
        frames[name] = request_response(c, t, req, resp)
        t += 1

    rr("fc5 on", struct.pack(">BHH", 5, 3, 0xFF00), struct.pack(">BHH", 5, 3, 0xFF00))
    rr("fc5 off", struct.pack(">BHH", 5, 4, 0x0000), struct.pack(">BHH", 5, 4, 0x0000))
    bits = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
    rr("fc15", struct.pack(">BHHB", 15, 10, len(bits), 2) + coil_bytes(bits), struct.pack(">BHH", 15, 10, len(bits)))
    rr("fc5 again", struct.pack(">BHH", 5, 3, 0x0000), struct.pack(">BHH", 5, 3, 0x0000))
    rr("fc6", struct.pack(">BHH", 6, 40, 1234), struct.pack(">BHH", 6, 40, 1234))
    regs = [100, 101, 102, 103, 104]
    rr("fc16", struct.pack(">BHHB", 16, 38, 5, 10) + struct.pack(">5H", *regs), struct.pack(">BHH", 16, 38, 5))
    rr("fc6 later", struct.pack(">BHH", 6, 41, 7), struct.pack(">BHH", 6, 41, 7))
    w = [55, 66, 77]
    rr("fc23", struct.pack(">BHHHHB", 23, 200, 2, 60, 3, 6) + struct.pack(">3H", *w),
       struct.pack(">BB", 23, 4) + b"\0\x01\0\x02")
    return c, {"frames": frames, "bits": bits, "regs": regs, "w": w}


@pytest.mark.parametrize("size", [None, 4], ids=["one-batch", "batch-4"])
def test_last_written_values_per_address(tmp_path, size):
    c, info = write_traffic()
    points = inventory_deltas(tmp_path, c.frames, size).points
    by = {(p.function_code, p.access, p.address): p for p in points}
    regs = info["regs"]
    expected_holding = {a: v for a, v in zip(range(38, 43), regs)}
    expected_holding[40] = regs[2]  # FC16 (after FC6 wrote 1234 there) wins at 40
    expected_holding[41] = 7  # FC6 after FC16 wins at 41
    # coils 3 and 4 are one touching write range [3,5); FC5 wrote 3 ON then OFF, and 4 OFF
    assert by[(5, "write", 3)].quantity == 2 and by[(5, "write", 3)].count == 3
    assert by[(5, "write", 3)].last_values == [0, 0]
    assert by[(15, "write", 10)].last_values == info["bits"]
    assert by[(6, "write", 40)].quantity == 2  # [40,41) and [41,42) touch
    assert by[(6, "write", 40)].last_values == [expected_holding[40], expected_holding[41]]
    assert by[(16, "write", 38)].last_values == [expected_holding[a] for a in range(38, 43)]
    assert (by[(23, "write", 60)].table, by[(23, "write", 60)].quantity) == ("holding_register", 3)
    assert by[(23, "write", 60)].last_values == info["w"]
    assert (by[(23, "read", 200)].quantity, by[(23, "read", 200)].last_values) == (2, None)
    assert {p.access for p in points} == {"write", "read"}


def test_a_later_single_write_beats_an_earlier_multiple_write_in_one_batch(tmp_path):
    """Capture order decides the last value, whichever function codes wrote it."""
    c = Conversation()
    c.handshake()
    request_response(c, 1, struct.pack(">BHHB", 16, 10, 3, 6) + struct.pack(">3H", 1, 2, 3), struct.pack(">BHH", 16, 10, 3))
    request_response(c, 2, struct.pack(">BHH", 6, 11, 99), struct.pack(">BHH", 6, 11, 99))
    points = inventory_deltas(tmp_path, c.frames).points
    by = {p.function_code: p for p in points}
    assert by[6].last_values == [99]
    assert by[16].last_values == [1, 99, 3]


def test_a_later_multiple_write_beats_an_earlier_single_write(tmp_path):
    c = Conversation()
    c.handshake()
    request_response(c, 1, struct.pack(">BHH", 6, 11, 99), struct.pack(">BHH", 6, 11, 99))
    request_response(c, 2, struct.pack(">BHHB", 16, 10, 3, 6) + struct.pack(">3H", 1, 2, 3), struct.pack(">BHH", 16, 10, 3))
    points = inventory_deltas(tmp_path, c.frames).points
    by = {p.function_code: p for p in points}
    assert by[6].last_values == [2]
    assert by[16].last_values == [1, 2, 3]


def test_writes_to_other_servers_or_units_do_not_mix(tmp_path):
    a = Conversation(server="10.0.0.2")
    b = Conversation(server="10.0.0.3", t0=2000.0)
    for c in (a, b):
        c.handshake()
    request_response(a, 1, struct.pack(">BHH", 6, 5, 111), struct.pack(">BHH", 6, 5, 111))
    request_response(a, 2, struct.pack(">BHH", 6, 5, 222), struct.pack(">BHH", 6, 5, 222), unit=9)
    request_response(b, 1, struct.pack(">BHH", 6, 5, 333), struct.pack(">BHH", 6, 5, 333))
    points = inventory_deltas(tmp_path, a.frames + b.frames).points
    got = sorted((p.server, p.unit_id, p.address, p.last_values) for p in points)
    assert got == [("10.0.0.2", 1, 5, [111]), ("10.0.0.2", 9, 5, [222]), ("10.0.0.3", 1, 5, [333])]


def test_write_values_fill_only_written_addresses(tmp_path):
    """A write range merged from two writes shows None where nothing was written since the flush began."""
    c = Conversation()
    c.handshake()
    request_response(c, 1, struct.pack(">BHHB", 16, 0, 2, 4) + struct.pack(">2H", 5, 6), struct.pack(">BHH", 16, 0, 2))
    request_response(c, 2, struct.pack(">BHHB", 16, 1, 2, 4) + struct.pack(">2H", 7, 8), struct.pack(">BHH", 16, 1, 2))
    points = inventory_deltas(tmp_path, c.frames).points
    assert [(p.address, p.quantity, p.count, p.last_values) for p in points] == [(0, 3, 2, [5, 7, 8])]
    assert points[0].access == "write" and WRITE == 1
