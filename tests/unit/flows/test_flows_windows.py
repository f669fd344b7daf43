"""Receiver windows (sensor.flows.windows) against a plain model of RFC 9293 §3.10.7.4 and RFC 7323 §2.2.

``receiver_windows`` takes every batch's ACKs and data rows at once, in numpy; the model (``expected``) walks the
batch's rows one by one in capture order and keeps, per (flow, direction, connection), the largest ACK and right
edge the receiver announced so far, unwrapped around the stream's stored window or else its first ACK of the
batch. The traffic is real Ethernet/IPv4/TCP frames (scapy) through the real pipeline, cut into batches of every
size: several Modbus connections interleaved, window scale options in some SYNs and not others, sequence numbers
across the 2**32 wrap, ACKs that jump back, far ahead or half a turn away, segments outside the window (forged),
RSTs, and new connections on the same ports. ``receiver_windows`` is wrapped where ``stream_runs`` calls it:
its answer for each data row, and every stream's window afterwards, must be the model's exactly.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sensor.capture import LINKTYPE_ETHERNET
from sensor.decode.packets import TCP_ACK, TCP_RST, TCP_SYN
from sensor.flows import dispatch
from sensor.flows.reassembly import Window
from sensor.flows.windows import UNKNOWN, in_window
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import analyze, batches

TURN = 1 << 32
UNKNOWN_SHIFT = 14  # RFC 7323 §2.2's largest shift, assumed when the handshake was not seen


def signed(x: int) -> int:
    """A sequence-space distance as a signed 32-bit number."""
    return (x + (1 << 31)) % TURN - (1 << 31)


def shift_of(fb, shakes, g: int, epoch: int, acker: int) -> int:
    """The shift the acking side's windows take: its SYN's option when both SYNs carried one, 0 when either
    lacked it, the largest when the handshake is unknown."""
    def option(side: int) -> int | None:
        stream = fb.flows[g].streams[side]
        if epoch == 0 and stream.wscale is not None:
            return stream.wscale
        return shakes.wscale.get((g, epoch, side))
    mine, other = option(acker), option(1 - acker)
    if mine is None or other is None:
        return UNKNOWN_SHIFT
    return mine if mine >= 0 and other >= 0 else 0


def expected(fb, in_flow, rows, shakes) -> tuple[list[tuple[int, int]], dict[tuple[int, int], Window | None]]:
    """The model: each data row's (ack, edge), and every stream's window after the batch."""
    p = fb.packets
    windows = {(g, side): flow.streams[side].window for g, flow in enumerate(fb.flows) if flow.streams
               for side in (0, 1)}
    for g in shakes.began:
        windows[(g, 0)] = windows[(g, 1)] = None
    state: dict[tuple[int, int, int], list] = {}  # (flow, side, connection) -> [base, ack, edge] (relative)

    def of(g: int, side: int, epoch: int) -> list:
        if (g, side, epoch) not in state:
            stored = windows[(g, side)] if epoch == 0 else None
            state[(g, side, epoch)] = [None, None, None] if stored is None else [
                stored.ack, 0, signed(stored.edge - stored.ack)]
        return state[(g, side, epoch)]

    data_rows = set(rows.tolist())
    read: dict[int, tuple[int, int]] = {}
    for r in range(len(in_flow)):
        if not in_flow[r]:
            continue
        g, d = int(fb.row_flow[r]), int(fb.direction[r])
        epoch = 0 if shakes.epoch is None else int(shakes.epoch[r])
        flags = int(p.tcp_flags[r])
        if flags & TCP_ACK and not flags & TCP_RST:  # speaks of the other side's bytes
            s = of(g, 1 - d, epoch)
            ack = int(p.ack[r])
            if s[0] is None:
                s[0] = ack
            acked = signed(ack - s[0])
            shift = 0 if flags & TCP_SYN else shift_of(fb, shakes, g, epoch, d)
            edge = acked + (int(p.window[r]) << shift)
            s[1] = acked if s[1] is None else max(s[1], acked)
            s[2] = edge if s[2] is None else max(s[2], edge)
        if r in data_rows:
            s = of(g, d, epoch)
            read[r] = (UNKNOWN, UNKNOWN) if s[1] is None else ((s[0] + s[1]) % TURN, (s[0] + s[2]) % TURN)
    after = dict(windows)
    for (g, side, epoch), (base, ack, edge) in state.items():
        if ack is not None and epoch == shakes.began.get(g, 0):
            after[(g, side)] = Window((base + ack) % TURN, (base + edge) % TURN)
    return [read[r] for r in rows.tolist()], after


class Traffic:
    """Frames of several connections between two hosts, client ports 40000.., server port 502."""

    def __init__(self, isns: list[tuple[int, int]]) -> None:
        self.next = [list(isn) for isn in isns]
        self.port = [40000 + k for k in range(len(isns))]
        self.frames: list[tuple[bytes, int, float]] = []
        self.t = 1000.0

    def send(self, k: int, from_client: bool, flags: str, payload: bytes = b"", *, seq_jump: int = 0,
             ack_jump: int = 0, window: int = 8192, wscale: int | None = None) -> None:
        me, peer = (0, 1) if from_client else (1, 0)
        ends = (("10.0.0.1", self.port[k]), ("10.0.0.2", 502))
        (src, sp), (dst, dp) = ends[me], ends[peer]
        seq = (self.next[k][me] + seq_jump) % TURN
        options = [("WScale", wscale)] if wscale is not None else []
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst) / TCP(
            sport=sp, dport=dp, seq=seq, ack=(self.next[k][peer] + ack_jump) % TURN, flags=flags,
            window=window, options=options) / Raw(payload)
        if seq_jump == 0:
            self.next[k][me] += len(payload) + (1 if "S" in flags or "F" in flags else 0)
        self.frames.append((bytes(pkt), LINKTYPE_ETHERNET, round(self.t, 6)))
        self.t += 0.01


near_wrap = st.sampled_from([0, 1_000, TURN - 40, TURN - 1, 1 << 31]) | st.integers(0, TURN - 1)
jumps = st.sampled_from([0, 0, 0, 0, -6, 100, 70_000, 1 << 31, -(1 << 31) + 1, TURN - 12, 3 << 30])
steps = st.tuples(
    st.integers(0, 2),  # connection
    st.booleans(),  # from the client
    st.sampled_from(["data", "data", "data", "ack", "handshake", "restart", "rst", "fin"]),
    st.integers(1, 12),  # payload bytes
    jumps,  # sequence number off where the sender is (retransmitted, forged, out of window)
    jumps,  # acknowledgment number off what the peer sent
    st.sampled_from([0, 1, 512, 8192, 65535]),
    st.sampled_from([None, None, 0, 3, 7, 14]),  # window scale option in a SYN
)


def traffic(isns: list[tuple[int, int]], script: list[tuple]) -> list[tuple]:
    t = Traffic(isns)
    for k, from_client, kind, size, seq_jump, ack_jump, window, wscale in script:
        k %= len(isns)
        if kind == "handshake":
            t.send(k, True, "S", window=window, wscale=wscale)
            t.send(k, False, "SA", window=window, wscale=None if wscale is None else (wscale + 2) % 15)
            t.send(k, True, "A", window=window)
        elif kind == "restart":  # fresh initial sequence numbers on the same ports: a new connection
            t.next[k] = [(t.next[k][0] + (1 << 30)) % TURN, (t.next[k][1] + (1 << 29)) % TURN]
            t.send(k, True, "S", window=window, wscale=wscale)
            t.send(k, False, "SA", window=window, wscale=wscale)
        elif kind == "rst":
            t.send(k, from_client, "R" if ack_jump else "RA", seq_jump=seq_jump, window=window)
        elif kind == "fin":
            t.send(k, from_client, "FA", window=window)
        else:
            payload = struct.pack(">HHHBBHH", size, 0, 6, 1, 3, 0, 2)[:size] if kind == "data" else b""
            t.send(k, from_client, "PA" if payload else "A", payload, seq_jump=seq_jump, ack_jump=ack_jump,
                   window=window)
    return t.frames


def run_checked(frames: list[tuple], size: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """The pipeline at batch ``size``, every receiver_windows call checked; (calls, rows with a known window)."""
    real = dispatch.receiver_windows
    calls, known = [0], [0]

    def checked(fb, in_flow, rows, shakes):
        want, after = expected(fb, in_flow, rows, shakes)
        ack, edge = real(fb, in_flow, rows, shakes)
        assert ack.dtype == edge.dtype == np.int64
        assert list(zip(ack.tolist(), edge.tolist())) == want
        got = {(g, side): flow.streams[side].window for g, flow in enumerate(fb.flows) if flow.streams
               for side in (0, 1)}
        assert got == after
        for w in got.values():
            assert w is None or (type(w.ack), type(w.edge)) == (int, int)
        calls[0] += 1
        known[0] += int((ack != UNKNOWN).sum())
        return ack, edge

    with monkeypatch.context() as m:
        m.setattr(dispatch, "receiver_windows", checked)
        store = Store.open(":memory:")
        try:
            analyze(store, batches(frames, size))
        finally:
            store.close()
    return calls[0], known[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(near_wrap, near_wrap), min_size=1, max_size=3), st.lists(steps, min_size=1, max_size=30),
       st.integers(1, 40))
def test_every_batch_agrees_with_the_model(isns, script, size):
    frames = traffic(isns, script)
    with pytest.MonkeyPatch.context() as mp:
        run_checked(frames, size, mp)


def test_a_forged_segment_beyond_the_window_is_judged_by_what_came_before(monkeypatch):
    """Two connections, a window opened only after a forged segment, a SYN-less pickup across the wrap, at every
    batch size: the model agrees, and windows are known for the rows after the first ACK (the check is not
    vacuous)."""
    t = Traffic([(TURN - 30, 5_000), (7, TURN - 3)])
    t.send(0, True, "S", wscale=2)
    t.send(0, False, "SA", window=100, wscale=3)
    t.send(0, True, "A")
    t.send(1, True, "PA", b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02")  # picked up mid-stream
    t.send(0, True, "PA", b"x" * 12)
    t.send(0, True, "PA", b"y" * 12, seq_jump=1_000)  # beyond the 100 << 3 window the server announced
    t.send(0, False, "A", window=60_000)  # opens it afterwards: the forged segment stays outside
    t.send(1, False, "A", window=1)
    t.send(1, True, "PA", b"z" * 12, seq_jump=2)
    t.send(0, True, "PA", b"w" * 12)
    for size in range(1, len(t.frames) + 1):
        calls, known = run_checked(t.frames, size, monkeypatch)
        assert calls >= 1 and known >= 3, size


def test_in_window_is_the_signed_distance_rule():
    """A segment fits when it ends at or before ``edge`` and at most one window span (at least 1) behind ``ack``,
    in signed 32-bit distances; an unknown receiver takes everything. Checked around every place where the
    32-bit arithmetic turns over."""
    rng = np.random.default_rng(7)
    turns = np.array([0, 1, 2, (1 << 31) - 2, (1 << 31) - 1, 1 << 31, (1 << 31) + 1, TURN - 2, TURN - 1])
    n = 20_000
    seq = rng.choice(turns, n)
    size = rng.choice(np.array([0, 1, 2, 1460, 65535]), n)
    ack = np.where(rng.random(n) < 0.05, UNKNOWN, (seq + rng.choice(turns, n) - rng.integers(0, 3, n)) % TURN)
    edge = np.where(ack == UNKNOWN, UNKNOWN, (ack + rng.choice(turns, n)) % TURN)
    got = in_window(seq, size, ack, edge).tolist()
    for s, z, a, e, ok in zip(seq.tolist(), size.tolist(), ack.tolist(), edge.tolist(), got):
        end = s + z
        want = a == UNKNOWN or (signed(end - e) <= 0 and signed(a - end) <= max(signed(e - a), 1))
        assert ok == want, (s, z, a, e)
