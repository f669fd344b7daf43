"""Decide which dissector reads a flow, and hand it the flow's payload in stream order.

A flow is given to a protocol when one of its ports is one the protocol is registered on (or the
user added with ``--decode-as``), otherwise when ``PROBE_AGREEMENT`` payloads pass the protocol's probe
and none failed it; such a claim is given back when the protocol's framer later finds bytes that are
not the protocol (an LDAP server whose first bytes happened to look like Modbus).
The side on the service port is the protocol's server, whoever opened the connection. TCP payload reaches dissectors through ``TcpStream`` reassembly, except for *clean* runs:
segments of one direction that continue exactly where the stream stood, with nothing buffered.
Those can be parsed in place, in bulk.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from protocols.base import ProtocolSpec, Verdict
from sensor.decode.packets import TCP_SYN
from sensor.flows.connections import Handshakes, Syn, handshakes, position_keys
from sensor.flows.reassembly import SEQ_MASK, Window, starts_nothing
from sensor.flows.table import Flow, FlowBatch
from sensor.flows.windows import UNKNOWN, in_window, receiver_windows
from sensor.order import stable_order

MAX_PROBES = 4  # payload-bearing packets a flow may show before we stop probing it
PROBE_AGREEMENT = 2  # payloads a probe must accept before it claims a flow off the protocol's ports


class Dispatcher:
    """Port and probe based assignment of flows to protocols."""

    def __init__(self, specs: tuple[ProtocolSpec, ...], extra_ports: dict[str, frozenset[tuple[str, int]]]) -> None:
        """``extra_ports``: protocol name -> more (transport, port) pairs to decode it on (``--decode-as``)."""
        self.specs = specs
        self.ports = {spec.name: spec.ports | extra_ports.get(spec.name, frozenset()) for spec in specs}
        # Looked up per flow (a flood brings a million): the first spec, in registry order, on each port, and the
        # specs that probe with their transports, built once
        self._first_on: dict[tuple[str, int], int] = {}
        for rank, spec in enumerate(specs):
            for pair in self.ports[spec.name]:
                self._first_on.setdefault(pair, rank)
        self._probers = [(spec, spec.transports) for spec in specs if spec.probe is not None]

    @property
    def service_ports(self) -> frozenset[int]:
        return frozenset(port for pairs in self.ports.values() for _, port in pairs)

    def assign(self, fb: FlowBatch) -> None:
        none = len(self.specs)
        for flow in fb.new_flows:
            resp, init = (flow.transport, flow.resp_port), (flow.transport, flow.init_port)
            on_resp, on_init = self._first_on.get(resp, none), self._first_on.get(init, none)
            rank = min(on_resp, on_init)  # the first spec on either port; on both, the responder's port wins
            if rank < none:
                spec = self.specs[rank]
                # the service port marks the server, even when that side opened the connection
                flow.dissect_as(spec.name, 1 if rank == on_resp else 0)
                flow.by_probe = (resp if rank == on_resp else init) in spec.shared_ports  # another's bytes give it back
            flow.begin_held()
        undecided = [g for g, f in enumerate(fb.flows) if f.protocol is None and f.probes < MAX_PROBES]
        if not undecided:
            return
        has_payload = fb.packets.payload_len > 0
        wanted = np.zeros(len(fb.flows), dtype=bool)
        wanted[undecided] = True
        rows = np.nonzero(has_payload & wanted[fb.row_flow])[0]
        data = fb.packets.data
        for row in rows.tolist():
            flow = fb.flows[int(fb.row_flow[row])]
            if flow.protocol is not None or flow.probes >= MAX_PROBES:
                continue
            flow.probes += 1
            start, size = int(fb.packets.payload_off[row]), int(fb.packets.payload_len[row])
            payload = data[start:start + size].tobytes()
            votes = flow.votes = flow.votes if flow.votes is not None else {}
            for spec, transports in self._probers:
                if flow.transport not in transports or votes.get(spec.name, 0) < 0:
                    continue
                verdict = spec.probe(payload)
                if verdict is Verdict.REJECT:
                    votes[spec.name] = -1
                elif verdict is Verdict.ACCEPT:
                    votes[spec.name] = votes.get(spec.name, 0) + 1
                    if votes[spec.name] >= PROBE_AGREEMENT:
                        flow.dissect_as(spec.name, 1)
                        flow.by_probe = True
                        break


@dataclass(slots=True)
class StreamRuns:
    """Payload rows of one protocol, ordered by (flow, direction, capture order), cut into runs.

    ``start``/``stop`` delimit runs of one (flow, direction) each: one per direction, cut where a SYN must be
    applied between two of its segments (``before``: a new connection on the same ports, or a SYN after data).
    A run may hold no row: SYNs after the direction's last segment, or segments waiting behind a hole that the
    receiver may have acknowledged since (``last``: the direction's final run, after which its receiver's
    final window applies). ``clean`` says whether a run can be parsed in place because it continues the stream
    exactly and nothing is buffered.
    """

    rows: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    clean: np.ndarray
    ack: np.ndarray  # per row: what its receiver had acknowledged, or UNKNOWN
    edge: np.ndarray  # per row: the right edge of the receiver's window, or UNKNOWN
    flow: np.ndarray  # per run: its flow in the batch
    direction: np.ndarray  # per run
    last: np.ndarray  # per run: the last of its (flow, direction) in the batch
    before: dict[int, list[Syn]] = field(default_factory=dict)  # run -> SYNs to apply before its first row

    def window(self, i: int) -> Window | None:
        """The receiver's state when row ``rows[i]`` arrived."""
        return runs_window(int(self.ack[i]), int(self.edge[i]))


def runs_window(ack: int, edge: int) -> Window | None:
    """The receiver's state from the batch columns (UNKNOWN: no ACK seen yet)."""
    return None if ack == UNKNOWN else Window(ack, edge)


def _no_runs() -> StreamRuns:
    empty = np.zeros(0, dtype=np.int64)
    return StreamRuns(empty, empty, empty, np.zeros(0, dtype=bool), empty, empty, empty, empty,
                      np.zeros(0, dtype=bool))


def stream_runs(fb: FlowBatch, protocol: str, has_buffered: Callable[[Flow, int], bool],
                restarts_in_place: bool = False) -> StreamRuns:
    """Group the protocol's TCP payload rows per (flow, direction), cut them where SYNs fall, find the clean runs.

    ``has_buffered(flow, direction)`` tells whether the dissector holds a partial message there.
    ``restarts_in_place``: the dissector's framers keep nothing across a new connection on the same ports but a
    partial message, so a restart before a direction's first segment of the batch, with nothing held, is applied
    here and the run after it may be clean (a client that connects for every poll); else the dissector applies
    every restart itself, in order (``StreamRuns.before``).
    """
    mine = np.array([f.protocol == protocol and f.transport == "tcp" for f in fb.flows], dtype=bool)
    p = fb.packets
    if not mine.any():
        return _no_runs()
    in_flow = mine[fb.row_flow]
    rows = np.nonzero(in_flow & (p.payload_len > 0))[0]
    slot = fb.row_flow[rows] * 2 + fb.direction[rows]
    order = stable_order(slot)
    rows, slot = rows[order], slot[order]
    shakes = handshakes(fb, in_flow, rows, slot)
    before, trailing, restarts = _place_syns(fb, shakes, rows, slot, has_buffered if restarts_in_place else None)
    ack, edge = receiver_windows(fb, in_flow, rows, shakes)
    _restart(fb, restarts)  # after the windows: the old connection's rows still read its window scale
    boundary = np.ones(len(rows), dtype=bool)
    boundary[1:] = slot[1:] != slot[:-1]
    boundary[list(before)] = True
    start = np.nonzero(boundary)[0]
    stop = np.append(start[1:], len(rows))[:len(start)]
    run_of_row = np.repeat(np.arange(len(start)), stop - start)
    last = np.append(slot[start[1:]] != slot[start[:-1]], True)[:len(start)]
    runs = StreamRuns(rows, start, stop, np.zeros(len(start), dtype=bool), ack, edge, fb.row_flow[rows[start]],
                      fb.direction[rows[start]], last, {int(run_of_row[k]): syns for k, syns in before.items()})
    _add_empty_runs(fb, runs, np.nonzero(mine)[0], set(slot[start].tolist()), trailing)
    runs.clean[:len(start)] = _clean(fb, runs, slot, boundary, run_of_row, has_buffered)
    return runs


def _place_syns(fb: FlowBatch, shakes: Handshakes, rows: np.ndarray, slot: np.ndarray,
                has_buffered: Callable[[Flow, int], bool] | None
                ) -> tuple[dict[int, list[Syn]], dict[int, list[Syn]], dict[int, list[Syn]]]:
    """Where each SYN takes effect among its direction's segments.

    A SYN before the direction's first segment of the batch (and before any new connection there) is applied
    now, as the handshake of a connection usually is. So is a new connection there, later (``restarts``: slot ->
    SYNs, from that one on), when ``has_buffered`` is given and neither the stream nor the dissector holds
    anything of the old one. Any other cuts the direction's rows before its next segment (``before``: sorted
    position -> SYNs) or, after its last one, waits for an empty run (``trailing``: slot -> SYNs).
    Returns (before, trailing, restarts)."""
    n = len(fb.row_flow)
    keys = position_keys(slot, rows, n)
    before: dict[int, list[Syn]] = {}
    trailing: dict[int, list[Syn]] = {}
    restarts: dict[int, list[Syn]] = {}
    waiting: set[int] = set()  # slots where a SYN waits, so later ones must wait too (capture order)
    nexts = np.searchsorted(keys, position_keys(np.array(shakes.slot, np.int64), np.array(shakes.row, np.int64), n))
    for k, s, syn in zip(nexts.tolist(), shakes.slot, shakes.syn):  # k: the direction's next segment, if any
        here = k < len(keys) and int(slot[k]) == s
        first = k == 0 or int(slot[k - 1]) != s  # no segment of the direction before the SYN
        if first and s in restarts:
            restarts[s].append(syn)
            continue
        if first and s not in waiting:
            flow = fb.flows[s >> 1]
            stream = flow.streams[s & 1]  # type: ignore[index]
            if not syn.restart:
                stream.syn(syn.seq, syn.wscale)  # type: ignore[arg-type]
                continue
            if here and has_buffered is not None and not stream.pending and not has_buffered(flow, s & 1):
                restarts[s] = [syn]
                continue
        waiting.add(s)
        (before.setdefault(k, []) if here else trailing.setdefault(s, [])).append(syn)
    return before, trailing, restarts


def _restart(fb: FlowBatch, restarts: dict[int, list[Syn]]) -> None:
    """Apply the new connections ``_place_syns`` found nothing in the way of, with the SYNs after them."""
    for s, syns in restarts.items():
        stream = fb.flows[s >> 1].streams[s & 1]  # type: ignore[index]
        for syn in syns:
            if syn.restart:
                stream.restart()  # holds nothing behind a hole: nothing to deliver
            if syn.seq is not None:
                stream.syn(syn.seq, syn.wscale)


def _add_empty_runs(fb: FlowBatch, runs: StreamRuns, mine: np.ndarray, with_rows: set[int],
                    trailing: dict[int, list[Syn]]) -> None:
    """Runs without rows: for SYNs after a direction's last segment, and for a direction without segments in
    the batch whose stream holds segments behind a hole (the receiver's ACKs may have ended the wait)."""
    extra: dict[int, list[Syn]] = dict(trailing)
    for g in mine.tolist():
        for d, stream in enumerate(fb.flows[g].streams or ()):
            if stream.pending and g * 2 + d not in with_rows:
                extra.setdefault(g * 2 + d, [])
    if not extra:
        return
    slots = sorted(extra)
    at = np.full(len(slots), len(runs.rows), dtype=np.int64)
    for k, s in enumerate(slots):
        runs.last[runs.flow * 2 + runs.direction == s] = False
        if extra[s]:
            runs.before[len(runs.start) + k] = extra[s]
    runs.start, runs.stop = np.r_[runs.start, at], np.r_[runs.stop, at]
    runs.flow = np.r_[runs.flow, np.array(slots, dtype=np.int64) >> 1]
    runs.direction = np.r_[runs.direction, np.array(slots, dtype=np.int64) & 1]
    runs.last = np.r_[runs.last, np.ones(len(slots), dtype=bool)]
    runs.clean = np.r_[runs.clean, np.zeros(len(slots), dtype=bool)]


def _clean(fb: FlowBatch, runs: StreamRuns, slot: np.ndarray, boundary: np.ndarray, run_of_row: np.ndarray,
           has_buffered: Callable[[Flow, int], bool]) -> np.ndarray:
    """Runs (with rows) that continue their stream exactly, in the receiver's window, with nothing buffered."""
    p = fb.packets
    rows, ack, edge = runs.rows, runs.ack, runs.edge
    n_runs = int(run_of_row[-1]) + 1 if len(rows) else 0
    seq = p.seq[rows]
    size = p.payload_len[rows]
    contiguous = np.ones(len(rows), dtype=bool)
    contiguous[1:] = (seq[1:] == (seq[:-1] + size[:-1]) & SEQ_MASK) | boundary[1:]
    syn_data = (p.tcp_flags[rows] & TCP_SYN) != 0
    bad = ~contiguous | syn_data | ~in_window(seq, size, ack, edge)
    clean = np.bincount(run_of_row[bad], minlength=n_runs) == 0
    for i, first in enumerate(runs.start[:n_runs].tolist()):
        if not clean[i]:
            continue
        if i in runs.before:
            clean[i] = False  # a SYN to apply first: the slow path does it in order
            continue
        row = int(rows[first])
        flow = fb.flows[int(fb.row_flow[row])]
        stream = flow.streams[int(fb.direction[row])]
        if stream.pending or has_buffered(flow, int(fb.direction[row])) or (
                stream.next_seq is not None and stream.next_seq != int(p.seq[row])) or (
                stream.next_seq is None and starts_nothing(int(p.seq[row]), int(p.payload_len[row]), runs_window(
                    int(ack[first]), int(edge[first])))):
            clean[i] = False  # the slow path decides (a mid-stream keep-alive, TcpStream.deliver)
    return clean
