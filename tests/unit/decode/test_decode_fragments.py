"""IPv4 fragment reassembly (RFC 791 §3.2): fragments cut by scapy, delivered in any order, across batches."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sensor.capture import LINKTYPE_ETHERNET, LINKTYPE_RAW
from sensor.decode.fragments import TIMEOUT_S, FragmentReassembler
from sensor.decode.layers import decode
from sensor.decode.packets import PROTO_NONE, PROTO_TCP, PROTO_UDP, address_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import frame_batch

SRC, DST = "10.0.0.1", "10.0.0.2"
PAYLOAD = bytes(range(100))  # 100 bytes: TCP 20 + 100 = 120 bytes of IP payload
SEGMENT = IP(src=SRC, dst=DST, id=0x4242) / TCP(sport=40000, dport=502, seq=123456, flags="PA") / Raw(PAYLOAD)


def three_fragments(packet=SEGMENT) -> list[bytes]:
    pieces = fragment(packet, fragsize=48)
    assert len(pieces) == 3
    return [bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x0800) / p) for p in pieces]


def run(frames: list[tuple], reassembler: FragmentReassembler | None = None, **kw):
    fb = frame_batch(frames, **kw)
    return decode(fb, reassembler or FragmentReassembler()), fb


def check_reassembled(parts, frame: int, ts: float, payload: bytes = PAYLOAD) -> None:
    assert len(parts) == 2
    whole = parts[1]
    assert len(whole) == 1
    assert whole.frame.tolist() == [frame]
    assert whole.ts.tolist() == [ts]
    assert whole.ip_version.tolist() == [4]
    assert whole.proto.tolist() == [PROTO_TCP]
    assert address_text(int(whole.src_hi[0]), int(whole.src_lo[0])) == SRC
    assert address_text(int(whole.dst_hi[0]), int(whole.dst_lo[0])) == DST
    assert (whole.sport[0], whole.dport[0], whole.seq[0]) == (40000, 502, 123456)
    assert whole.tcp_flags[0] == int(TCP(flags="PA").flags)
    start = int(whole.payload_off[0])
    assert whole.payload_len[0] == len(payload)
    assert whole.data[start:start + len(payload)].tobytes() == payload
    assert whole.weirds == []


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_three_fragments_in_any_order_make_one_row_at_the_last_frame(order):
    pieces = three_fragments()
    frames = [(pieces[i], LINKTYPE_ETHERNET, 100.0 + n) for n, i in enumerate(order)]
    parts, _ = run(frames, first=20)
    first = parts[0]
    # the fragments themselves are IP rows without a transport header
    assert first.ip_version.tolist() == [4, 4, 4]
    assert first.proto.tolist() == [PROTO_NONE] * 3
    assert first.payload_len.tolist() == [0, 0, 0]
    assert first.weirds == []
    check_reassembled(parts, frame=22, ts=102.0)


def test_fragments_across_batches():
    pieces = three_fragments()
    frag = FragmentReassembler()
    parts, _ = run([(pieces[2], 1, 1.0), (pieces[0], 1, 2.0)], frag, first=1)
    assert len(parts) == 1
    parts, _ = run([(b"\x00" * 20, LINKTYPE_RAW, 3.0), (pieces[1], 1, 4.0)], frag, first=3)
    check_reassembled(parts, frame=4, ts=4.0)


def test_udp_datagram_and_interleaved_datagrams():
    udp = IP(src=DST, dst=SRC, id=7) / UDP(sport=47808, dport=47808) / Raw(b"U" * 60)
    upieces = [bytes(p) for p in fragment(udp, fragsize=32)]
    tpieces = three_fragments()
    assert len(upieces) == 3
    frames = [(tpieces[0], 1, 0.0), (upieces[1], LINKTYPE_RAW, 0.1), (tpieces[1], 1, 0.2),
              (upieces[0], LINKTYPE_RAW, 0.3), (upieces[2], LINKTYPE_RAW, 0.4), (tpieces[2], 1, 0.5)]
    parts, _ = run(frames, first=1)
    whole = parts[1]
    assert whole.frame.tolist() == [5, 6]
    assert whole.proto.tolist() == [PROTO_UDP, PROTO_TCP]
    assert whole.payload_len.tolist() == [60, len(PAYLOAD)]
    start = int(whole.payload_off[0])
    assert whole.data[start:start + 60].tobytes() == b"U" * 60


def test_same_id_different_protocol_or_address_do_not_mix():
    pieces = three_fragments()
    other = three_fragments(IP(src="10.0.0.3", dst=DST, id=0x4242) / TCP(sport=1, dport=2) / Raw(b"x" * 100))
    frames = [(pieces[0], 1, 0.0), (other[1], 1, 0.1), (pieces[1], 1, 0.2), (other[2], 1, 0.3)]
    parts, _ = run(frames)
    assert len(parts) == 1  # neither is complete: datagram 2 lacks its first fragment, datagram 1 its last
    assert parts[0].weirds == []


def test_duplicate_fragment_is_a_weird():
    pieces = three_fragments()
    frames = [(pieces[0], 1, 0.0), (pieces[1], 1, 0.1), (pieces[1], 1, 0.2), (pieces[2], 1, 0.3)]
    parts, _ = run(frames, first=10)
    assert [(w.code, w.frame) for w in parts[0].weirds] == [("ipv4_fragment_overlap", 12)]
    check_reassembled(parts, frame=13, ts=0.3)


def test_partially_overlapping_fragment_is_a_weird():
    """A fragment starting inside another one (offset 24 of [0, 48)) overlaps it: the classic evasion."""
    pieces = three_fragments()
    transport = bytes(SEGMENT[TCP])
    overlap = IP(src=SRC, dst=DST, id=0x4242, proto=6, flags="MF", frag=3) / Raw(transport[24:72])
    frames = [(pieces[0], 1, 0.0), (bytes(overlap), LINKTYPE_RAW, 0.1), (pieces[1], 1, 0.2), (pieces[2], 1, 0.3)]
    parts, _ = run(frames, first=1)
    weirds = [(w.code, w.frame) for p in parts for w in p.weirds]
    assert ("ipv4_fragment_overlap", 2) in weirds


def test_incomplete_datagram_times_out():
    """Abandoned by the reader's clock after each batch (``expire``), as a weird at its first fragment: the same
    whichever other traffic (or worker) came between."""
    pieces = three_fragments()
    frag = FragmentReassembler()
    parts, _ = run([(pieces[0], 1, 1000.0)], frag, first=1)
    assert parts[0].weirds == [] and frag.expire(1000.0 + TIMEOUT_S) == []
    late = 1000.0 + TIMEOUT_S + 0.5
    assert [(w.code, w.frame, w.ts) for w in frag.expire(late)] == [("ipv4_fragment_timeout", 1, 1000.0)]
    # the rest of the expired datagram can no longer complete it
    parts, _ = run([(pieces[1], 1, late + 1), (pieces[2], 1, late + 2)], frag, first=3)
    assert len(parts) == 1


def test_a_late_fragment_of_its_own_ends_a_datagram_before_any_clock_does():
    pieces = three_fragments()
    frag = FragmentReassembler()
    late = TIMEOUT_S + 1
    parts, _ = run([(pieces[0], 1, 0.0), (pieces[1], 1, late), (pieces[2], 1, late + 1)], frag, first=1)
    assert [(w.code, w.frame) for w in parts[0].weirds] == [("ipv4_fragment_timeout", 1)]
    assert len(parts) == 1  # the first fragment's datagram is gone: the other two cannot complete it


def test_within_the_timeout_it_still_completes():
    pieces = three_fragments()
    frames = [(pieces[0], 1, 0.0), (pieces[1], 1, TIMEOUT_S / 2), (pieces[2], 1, TIMEOUT_S)]
    parts, _ = run(frames, first=1)
    check_reassembled(parts, frame=3, ts=TIMEOUT_S)
