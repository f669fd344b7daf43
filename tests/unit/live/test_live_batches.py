"""FrameBatches built from received frames (BatchBuilder, make_batches), and a real capture on loopback."""
from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from sensor.capture import LINKTYPE_ETHERNET
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import decode
from sensor.live.capture import BatchBuilder, Frames, LiveCapture, LiveCaptureError, make_batches

MODBUS = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2")
               / TCP(sport=40000, dport=502, flags="PA") / bytes.fromhex("000100000006010300000002"))
PING_LIKE = bytes(Ether() / IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=9, dport=9) / b"hello")


def test_frames_become_one_batch_with_their_columns() -> None:
    builder = BatchBuilder(max_bytes=1 << 16)
    builder.add(MODBUS, sec=1_700_000_000, nsec=123_456_789)
    builder.add(PING_LIKE, wirelen=1000, sec=1_700_000_001, nsec=5)
    [batch] = make_batches([builder.take()], 7, "live:eth9", 100)
    assert len(batch) == 2 and batch.file == "live:eth9"
    assert batch.frame.tolist() == [7, 8]
    assert batch.linktype.tolist() == [LINKTYPE_ETHERNET] * 2
    assert batch.caplen.tolist() == [len(MODBUS), len(PING_LIKE)]
    assert batch.wirelen.tolist() == [len(MODBUS), 1000], "the length on the wire is kept apart"
    for i, frame in enumerate((MODBUS, PING_LIKE)):
        start = int(batch.offset[i])
        assert batch.data[start:start + int(batch.caplen[i])].tobytes() == frame
    # the same float the pcap reader makes of a nanosecond record: sec + nsec / 1e9
    assert batch.ts.tolist() == [1_700_000_000 + 123_456_789 / 1_000_000_000, 1_700_000_001 + 5 / 1_000_000_000]
    assert len(builder) == 0 and builder.pos == 0, "taking empties the builder"


def test_the_batch_decodes_like_a_capture_file() -> None:
    builder = BatchBuilder(max_bytes=1 << 16)
    for frame in (MODBUS, PING_LIKE):
        builder.add(frame, sec=100)
    [packets] = decode(make_batches([builder.take()], 1, "live:x", 10)[0], FragmentReassembler())
    assert packets.proto.tolist() == [6, 17]
    assert packets.dport.tolist() == [502, 9]


def test_parts_join_and_split_at_max_frames() -> None:
    parts = []
    for n in (3, 4):
        builder = BatchBuilder(max_bytes=1 << 16)
        for i in range(n):
            builder.add(MODBUS[:-1] + bytes([len(parts) * 10 + i]), sec=i)
        parts.append(builder.take())
    batches = make_batches(parts, 1, "live:x", 5)
    assert [len(b) for b in batches] == [5, 2]
    assert [b.frame.tolist() for b in batches] == [[1, 2, 3, 4, 5], [6, 7]]
    last_bytes = [int(b.data[o + c - 1]) for b in batches for o, c in zip(b.offset.tolist(), b.caplen.tolist())]
    assert last_bytes == [0, 1, 2, 10, 11, 12, 13]
    assert make_batches([], 1, "live:x", 5) == []
    empty = Frames(*(np.zeros(0, dtype=t) for t in (np.uint8, np.int64, np.int64, np.int64, np.int64, np.int64)))
    assert make_batches([empty], 1, "live:x", 5) == []


def test_a_stripped_vlan_tag_is_put_back() -> None:
    """NICs that strip 802.1Q in hardware report the tag beside the frame; the batch has it in place again."""
    builder = BatchBuilder(max_bytes=1 << 16)
    builder.add(MODBUS, sec=1, vlan=(0x8100, (3 << 13) | 42))
    [batch] = make_batches([builder.take()], 1, "live:x", 10)
    tagged = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(prio=3, vlan=42)
                   / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=502, flags="PA")
                   / bytes.fromhex("000100000006010300000002"))
    assert batch.data[:int(batch.caplen[0])].tobytes() == tagged
    assert batch.caplen.tolist() == batch.wirelen.tolist() == [len(MODBUS) + 4]


def test_snaplen_cuts_the_capture_not_the_wire_length() -> None:
    builder = BatchBuilder(max_bytes=1 << 16, snaplen=20)
    builder.add(MODBUS)
    frames = builder.take()
    assert frames.caplen.tolist() == [20] and frames.wirelen.tolist() == [len(MODBUS)]


def test_a_missing_interface_is_a_one_line_error() -> None:
    with pytest.raises(LiveCaptureError, match=r"^live:nosuchif0: no such interface 'nosuchif0'$"):
        LiveCapture("nosuchif0").open()


def test_a_bad_filter_is_a_one_line_error() -> None:
    with pytest.raises(LiveCaptureError, match=r"^live:lo: bad filter 'tcp port banana': "):
        LiveCapture("lo", "tcp port banana").open()


@pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs CAP_NET_RAW")
@pytest.mark.parametrize("ring_bytes", [1 << 22, 0], ids=["ring", "recvmsg"])
def test_loopback_capture_sees_each_datagram_once(ring_bytes: int) -> None:
    """On lo every frame is sent and received by the host: ignoring outgoing frames leaves one copy of each.
    The filter keeps the rest of the machine's loopback traffic out."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    capture = LiveCapture("lo", f"udp dst port {port}", ring_bytes=ring_bytes, promiscuous=False,
                          batch_seconds=0.05)
    capture.open()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    before = time.time()
    for i in range(5):
        sender.sendto(b"live %d" % i, ("127.0.0.1", port))
    deadline = time.monotonic() + 5
    seen = []

    def tick() -> None:
        if sum(len(b) for b in seen) >= 5 or time.monotonic() > deadline:
            time.sleep(0.2)  # anything more (a duplicate) would arrive by now
            capture.stop()

    capture.on_tick = tick
    for batch in capture.batches(max_frames=3):
        seen.append(batch)
    frames = [b.data[o:o + c].tobytes() for b in seen for o, c in zip(b.offset.tolist(), b.caplen.tolist())]
    assert [f[-6:] for f in frames] == [b"live %d" % i for i in range(5)]
    assert [n for b in seen for n in b.frame.tolist()] == [1, 2, 3, 4, 5]
    assert all(before - 1 < t < time.time() + 1 for b in seen for t in b.ts.tolist()), "kernel time stamps"
    assert capture.kernel_packets == 5 and capture.kernel_drops == 0
    assert capture.ignore_outgoing
    sender.close()
    receiver.close()
