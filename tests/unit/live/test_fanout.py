"""The fanout program of ``live --workers``: a symmetric hash of the address pair, 0 without IP, spread over N.

The program is run by ``fanout.evaluate``, the Python reading of the same instructions; that the kernel runs it
the same way is shown by tests/e2e/test_live_workers.py (each worker receives exactly the frames the evaluator
gives it).
"""
from __future__ import annotations

import ipaddress
import struct
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from sensor.live import fanout
from sensor.live.fanout import evaluate, member, program

MACS = bytes.fromhex("020000000001") + bytes.fromhex("020000000002")
CODE = program()

ipv4 = st.integers(0, 2**32 - 1).map(lambda n: ipaddress.IPv4Address(n).packed)
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n).packed)
ports = st.integers(0, 65535)
transports = st.sampled_from([6, 17])


def ethernet(ethertype: int, payload: bytes, tags: tuple[int, ...] = ()) -> bytes:
    """A frame, with each of ``tags`` (a TPID: 0x8100, 0x88a8) as one VLAN tag in front of ``ethertype``."""
    return MACS + b"".join(struct.pack("!HH", tpid, 100 + i) for i, tpid in enumerate(tags)) + \
        struct.pack("!H", ethertype) + payload


def l4(transport: int, sport: int, dport: int) -> bytes:
    return struct.pack("!HH", sport, dport) + bytes(16 if transport == 6 else 4)


def v4_frame(src: bytes, dst: bytes, transport: int = 6, sport: int = 40000, dport: int = 502,
             tags: tuple[int, ...] = ()) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, transport, 0, src, dst)
    return ethernet(0x0800, header + l4(transport, sport, dport), tags)


def v6_frame(src: bytes, dst: bytes, transport: int = 6, sport: int = 40000, dport: int = 502,
             tags: tuple[int, ...] = ()) -> bytes:
    header = struct.pack("!IHBB16s16s", 6 << 28, 20, transport, 64, src, dst)
    return ethernet(0x86DD, header + l4(transport, sport, dport), tags)


@given(ipv4, ipv4, transports, ports, ports, ports, ports)
def test_ipv4_both_directions_and_every_connection_of_a_pair_hash_alike(a, b, transport, p1, p2, p3, p4) -> None:
    one = evaluate(CODE, v4_frame(a, b, transport, p1, p2))
    assert evaluate(CODE, v4_frame(b, a, transport, p2, p1)) == one
    assert evaluate(CODE, v4_frame(b, a, 6 if transport == 17 else 17, p3, p4)) == one


@given(ipv6, ipv6, transports, ports, ports)
def test_ipv6_both_directions_hash_alike(a, b, transport, sport, dport) -> None:
    assert evaluate(CODE, v6_frame(a, b, transport, sport, dport)) == evaluate(CODE, v6_frame(b, a, transport,
                                                                                          dport, sport))


@given(ipv4, ipv4, ipv6, ipv6, st.sampled_from([(0x8100,), (0x88A8,), (0x88A8, 0x8100)]))
def test_a_vlan_tag_left_in_the_frame_changes_nothing(a, b, c, d, tags) -> None:
    """The kernel usually takes the tag out before the program runs; a tag left in (or the inner one of two)
    is stepped over. Two tags both in the frame do not occur on a packet socket (the outer one is always taken
    out): that frame is not IP to the program, and goes to worker 0."""
    if len(tags) == 2:
        assert evaluate(CODE, v4_frame(a, b, tags=tags)) == 0
        return
    assert evaluate(CODE, v4_frame(a, b, tags=tags)) == evaluate(CODE, v4_frame(b, a))
    assert evaluate(CODE, v6_frame(c, d, tags=tags)) == evaluate(CODE, v6_frame(d, c))


def test_frames_without_ip_go_to_worker_0() -> None:
    arp = ethernet(0x0806, bytes(28))
    lldp = ethernet(0x88CC, bytes(40))
    dcp = ethernet(0x8892, bytes(40))
    tagged_arp = ethernet(0x0806, bytes(28), (0x8100,))
    truncated = v4_frame(b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")[:14 + 18]  # the destination cut off
    runt = MACS[:10]
    for frame in (arp, lldp, dcp, tagged_arp, truncated, runt):
        assert evaluate(CODE, frame) == 0


def test_pairs_spread_over_the_workers() -> None:
    """A plant's pairs (HMIs and engineering stations to PLCs, one subnet) fill every worker near its share."""
    clients = [ipaddress.IPv4Address("192.168.1.10") + i for i in range(20)]
    plcs = [ipaddress.IPv4Address("192.168.1.100") + i for i in range(10)]
    frames = [v4_frame(c.packed, p.packed) for c in clients for p in plcs]
    frames6 = [v6_frame((ipaddress.IPv6Address("fd00::10") + i).packed,
                        (ipaddress.IPv6Address("fd00::100") + j).packed) for i in range(20) for j in range(10)]
    for n in (2, 3, 4, 8):
        for share in (frames, frames6):
            counts = Counter(member(frame, n, CODE) for frame in share)
            assert set(counts) == set(range(n)), (n, counts)
            assert min(counts.values()) >= len(share) / n / 2, (n, counts)


def test_the_program_is_what_the_kernel_accepts() -> None:
    """Jumps forward within the program (the assembler's check), scratch memory written before it is read on
    every path, and a return at the end: what the kernel's checker of classic programs asks."""
    assert 0 < len(CODE) <= 4096
    assert CODE[-1][0] & 0x07 == fanout.RET
    for i, (op, jt, jf, k) in enumerate(CODE):
        if op & 0x07 == fanout.JMP:
            targets = [i + 1 + k] if op == fanout.JMP | fanout.JA else [i + 1 + jt, i + 1 + jf]
            assert all(t < len(CODE) for t in targets), i
    assert _unwritten_reads(CODE) == []


def _unwritten_reads(code: fanout.Program) -> list[int]:
    """Instructions that may read a scratch word no path to them wrote."""
    written: list[set[int] | None] = [None] * len(code)
    written[0] = set()
    bad = []
    for i, (op, jt, jf, k) in enumerate(code):
        have = written[i]
        if have is None:
            continue  # not reached
        cls = op & 0x07
        if cls in (fanout.LD, fanout.LDX) and op & 0xE0 == fanout.MEM and k not in have:
            bad.append(i)
        after = have | {k} if cls in (fanout.ST, fanout.STX) else have
        if cls == fanout.RET:
            continue
        nexts = ([i + 1 + k] if op == fanout.JMP | fanout.JA else [i + 1 + jt, i + 1 + jf]) \
            if cls == fanout.JMP else [i + 1]
        for t in nexts:
            written[t] = after if written[t] is None else written[t] & after  # type: ignore[operator]
    return bad
