"""Which SYNs of a batch begin a new connection on ports an earlier one used (port reuse), in capture order.

A client may open a new connection from the same port to the same server once the old one is gone; the
flow table keeps one flow per 4-tuple, so each direction's ``TcpStream`` must start over at such a SYN
(tshark: "TCP port numbers reused"). A SYN begins a new connection when the old one had ended (a FIN or RST
was seen since it began) or when its sequence number is more than ``MAX_SEQ_JUMP`` away from where its sender
last was (a fresh initial sequence number). Otherwise it is a retransmitted SYN, or a stray one inside a live
connection, which a receiver answers with an ACK and nothing else (RFC 9293 §3.10.7.4, RFC 5961 §4): the
stream goes on.

Decisions use only the batch's rows and what each ``TcpStream`` recorded at the end of the previous batch
(``last_end``, ``ended``), so they do not depend on where batches split. A new connection restarts the
count of ``epoch`` in its flow: rows of different epochs are different connections (receiver windows,
runs of segments).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensor.decode.packets import TCP_FIN, TCP_RST, TCP_SYN
from sensor.flows.reassembly import MAX_SEQ_JUMP, SEQ_MASK, SEQ_MOD, seq_diff
from sensor.flows.table import FlowBatch


@dataclass(frozen=True, slots=True)
class Syn:
    """A SYN as one direction's stream meets it: ``restart`` when a new connection begins there; ``seq`` is
    None when the SYN came from the other side (only the restart concerns this direction)."""

    restart: bool
    seq: int | None
    wscale: int = -1


@dataclass(slots=True)
class Handshakes:
    """The batch's SYNs in capture order, per direction's stream (``slot`` = flow * 2 + direction)."""

    row: list[int] = field(default_factory=list)
    slot: list[int] = field(default_factory=list)
    syn: list[Syn] = field(default_factory=list)
    epoch: np.ndarray | None = None  # per batch row: connections begun in its flow up to it (None: none)
    began: dict[int, int] = field(default_factory=dict)  # flow -> connections begun in the batch
    wscale: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (flow, epoch, side) -> first SYN's

    def add(self, row: int, slot: int, syn: Syn) -> None:
        self.row.append(row)
        self.slot.append(slot)
        self.syn.append(syn)

    def epoch_of(self, rows: np.ndarray) -> np.ndarray:
        return np.zeros(len(rows), np.int64) if self.epoch is None else self.epoch[rows]


def handshakes(fb: FlowBatch, in_flow: np.ndarray, rows: np.ndarray, slot: np.ndarray) -> Handshakes:
    """Decide every SYN of the flows under reassembly; ``rows`` are their payload rows sorted by ``slot``.

    Updates each stream's ``last_end`` and ``ended`` to what holds after the batch."""
    p = fb.packets
    found = Handshakes()
    end = (p.seq[rows].astype(np.int64) + p.payload_len[rows]) & SEQ_MASK
    control = np.nonzero(in_flow & ((p.tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST)) != 0))[0]
    flow, side = fb.row_flow[control], fb.direction[control]
    before = np.searchsorted(position_keys(slot, rows, len(p.seq)), position_keys(flow * 2 + side, control,
                                                                                  len(p.seq))) - 1
    data_row, data_end = _previous(before, rows, slot, end, flow * 2 + side)
    began: dict[int, int] = {}  # flow -> row of its latest new connection in this batch
    starts: list[tuple[int, int]] = []  # (flow, row) of every new connection in this batch
    ended: dict[int, list[bool]] = {}  # flow -> FIN or RST seen from each side since the connection began
    syn_end: dict[int, tuple[int, int]] = {}  # slot -> (row, sequence end) of its latest SYN in this batch
    for row, flags, g, d, seq, wscale, data in zip(
            control.tolist(), p.tcp_flags[control].tolist(), flow.tolist(), side.tolist(), p.seq[control].tolist(),
            p.wscale[control].tolist(), zip(data_row.tolist(), data_end.tolist())):
        s = g * 2 + d
        streams = fb.flows[g].streams
        assert streams is not None
        sides = ended.setdefault(g, [streams[0].ended, streams[1].ended])
        if flags & TCP_SYN:
            last = _last_end(max(data, syn_end.get(s, (-1, 0))), began.get(g, -1), streams[d].last_end)
            restart = any(sides) or (last is not None and abs(seq_diff(seq + 1, last)) > MAX_SEQ_JUMP)
            if restart:
                began[g] = row
                starts.append((g, row))
                sides[:] = [False, False]
                found.add(row, s ^ 1, Syn(True, None))
            found.add(row, s, Syn(restart, seq, wscale))
            syn_end[s] = (row, (seq + 1) % SEQ_MOD)
        if flags & (TCP_FIN | TCP_RST):
            sides[d] = True
    for g, sides in ended.items():
        for d, stream in enumerate(fb.flows[g].streams or ()):
            stream.ended = sides[d]
    found.epoch = _epochs(fb, starts)
    for g, _ in starts:
        found.began[g] = found.began.get(g, 0) + 1
    _record_last_ends(fb, rows, slot, end, syn_end, began)
    _first_wscales(fb, found)
    return found


def position_keys(slot: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Sort keys for batch rows by (direction's stream, capture order); ``n`` is the batch's row count."""
    return slot.astype(np.int64) * (n + 1) + rows


def _previous(before: np.ndarray, rows: np.ndarray, slot: np.ndarray, end: np.ndarray,
              wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, sequence end) of the payload row at sorted position ``before`` when it is of the ``wanted`` slot,
    else (-1, 0): each control row's latest segment with data in its direction."""
    if len(rows) == 0:
        return np.full(len(before), -1), np.zeros(len(before), np.int64)
    at = np.maximum(before, 0)
    hit = (before >= 0) & (slot[at] == wanted)
    return np.where(hit, rows[at], -1), np.where(hit, end[at], 0)


def _last_end(latest: tuple[int, int], began: int, stored: int | None) -> int | None:
    """Where a side's sender was before a SYN: the end of its ``latest`` (row, end) segment with data or SYN if in
    the current connection, what its stream recorded if the connection began before the batch, else None."""
    if latest[0] >= 0 and latest[0] >= began:
        return latest[1]
    return stored if began < 0 else None


def _epochs(fb: FlowBatch, starts: list[tuple[int, int]]) -> np.ndarray | None:
    """Per batch row, how many new connections its flow began at or before it."""
    if not starts:
        return None
    n = len(fb.row_flow)
    at = np.sort(np.array([g * (n + 1) + r for g, r in starts], dtype=np.int64))
    flow = fb.row_flow.astype(np.int64) * (n + 1)
    return np.searchsorted(at, flow + np.arange(n), side="right") - np.searchsorted(at, flow)


def _record_last_ends(fb: FlowBatch, rows: np.ndarray, slot: np.ndarray, end: np.ndarray,
                      syn_end: dict[int, tuple[int, int]], began: dict[int, int]) -> None:
    """Each stream's ``last_end`` after the batch (None for a side silent since its flow's new connection)."""
    latest: dict[int, tuple[int, int]] = {}
    if len(rows):
        last = np.r_[slot[1:] != slot[:-1], True]
        latest = {s: (r, e) for s, r, e in zip(slot[last].tolist(), rows[last].tolist(), end[last].tolist())}
    for s, hit in syn_end.items():
        latest[s] = max(latest.get(s, hit), hit)
    for g in began:
        for s in (g * 2, g * 2 + 1):
            if latest.get(s, (-1, 0))[0] < began[g]:
                latest[s] = (-1, -1)
    for s, (_, e) in latest.items():
        streams = fb.flows[s >> 1].streams
        assert streams is not None
        streams[s & 1].last_end = None if e < 0 else e


def _first_wscales(fb: FlowBatch, found: Handshakes) -> None:
    """The window scale option of each side's first SYN per connection of the batch."""
    epoch = found.epoch
    for row, s, syn in zip(found.row, found.slot, found.syn):
        if syn.seq is not None:
            key = (s >> 1, 0 if epoch is None else int(epoch[row]), s & 1)
            found.wscale.setdefault(key, syn.wscale)
