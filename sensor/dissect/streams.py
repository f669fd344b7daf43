"""Reassembled TCP bytes into a protocol's framers, for any protocol that cuts messages out of a stream.

Per flow, ``FramedFlow`` holds one framer per direction (made by the protocol: ``framer(is_request)``).
``Framed`` collects what the framers complete, in completion order, with the weirds of reassembly
(gaps, out-of-window data, overlap conflicts) and marks the messages built from disputed bytes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocols.base import Malformed
from sensor.decode.packets import Weird
from sensor.flows.dispatch import StreamRuns
from sensor.flows.reassembly import Disputed, Note
from sensor.flows.table import Flow, FlowBatch


class FramedFlow:
    """Framing state of both directions of one flow.

    A framer may say it is ``done`` (an attribute; framers without it never are): nothing more in its direction
    can be read (TLS after ChangeCipherSpec). That direction's segments are then dropped before reassembly, so
    bulk data costs nothing, until a new connection on the same ports gives it a fresh framer."""

    __slots__ = ("framers", "disputed", "malformed", "make_framer", "server_side")

    def __init__(self, make_framer: Callable[[bool], Any], server_side: int) -> None:
        self.make_framer, self.server_side = make_framer, server_side
        self.framers = tuple(make_framer(direction != server_side) for direction in (0, 1))
        self.disputed = [False, False]  # a partial message waiting in the framer holds disputed bytes
        self.malformed = 0  # bytes the framer could not take as the protocol

    def forget(self, direction: int) -> None:
        """A new connection on the same ports: drop the start of a message waiting in that direction (the rest
        of it will not come); a framer that was done with the old connection starts over."""
        if getattr(self.framers[direction], "done", False):
            fresh = self.make_framer(direction != self.server_side)
            self.framers = (fresh, self.framers[1]) if direction == 0 else (self.framers[0], fresh)
        else:
            self.framers[direction].gap()
        self.disputed[direction] = False

    def done(self, direction: int) -> bool:
        """Whether that direction's framer reads nothing more."""
        return getattr(self.framers[direction], "done", False)


def framed(flow: Flow, make_framer: Callable[[bool], Any]) -> FramedFlow:
    """The flow's framing state, made on first use."""
    if flow.session is None:
        flow.session = FramedFlow(make_framer, flow.server_side)
    return flow.session  # type: ignore[return-value]


def has_buffered(flow: Flow, direction: int) -> bool:
    """Whether the flow's framer in that direction holds the start of a message."""
    return flow.session is not None and flow.session.framers[direction].pending > 0  # type: ignore[union-attr]


class Framed:
    """Messages completed by the framers, in the order they completed, with disputed ones marked."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.rows: list[tuple[int, float, int, int, Any]] = []  # (frame, ts, flow index, sending side, message)
        self.disputed: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.rows)

    def run(self, fb: FlowBatch, runs: StreamRuns, i: int, make_framer: Callable[[bool], Any],
            weirds: list[Weird]) -> None:
        """Reassemble run ``i`` (one flow, one direction) segment by segment and frame what comes out."""
        p = fb.packets
        g, direction = int(runs.flow[i]), int(runs.direction[i])
        flow = fb.flows[g]
        if flow.protocol != self.protocol:
            return  # given back while its other direction was read
        stream = flow.streams[direction]
        state = framed(flow, make_framer)
        for syn in runs.before.get(i, ()):
            if syn.restart:  # a new connection on the same ports: the old one's partial message is lost
                self.items(stream.restart(), state, direction, g, p.file, weirds)
                state.forget(direction)
            if syn.seq is not None:
                stream.syn(syn.seq, syn.wscale)
        for k in range(int(runs.start[i]), int(runs.stop[i])):
            if state.done(direction):
                return  # the framer reads nothing more: the rest is dropped without reassembly
            row = int(runs.rows[k])
            start, size = int(p.payload_off[row]), int(p.payload_len[row])
            tag = (int(p.frame[row]), float(p.ts[row]))
            items = stream.deliver(int(p.seq[row]), p.data[start:start + size].tobytes(), tag, runs.window(k))
            self.items(items, state, direction, g, p.file, weirds)
            if flow.by_probe and state.malformed:
                self._give_back(flow, g, tag, p.file, weirds)
                return
        if runs.last[i]:
            self.items(stream.acknowledged(stream.window), state, direction, g, p.file, weirds)

    def _give_back(self, flow: Flow, g: int, tag: tuple[int, float], file: str, weirds: list[Weird]) -> None:
        """The bytes of a flow a probe claimed are not the protocol after all: drop what was read from it."""
        keep = [k for k, row in enumerate(self.rows) if row[2] != g]
        self.disputed = {keep.index(k) for k in self.disputed if k in keep}
        self.rows = [self.rows[k] for k in keep]
        flow.give_back()
        weirds.append(Weird("probe_claim_withdrawn", self.protocol, file, tag[0], tag[1],
                            f"later bytes are not {self.protocol}; the flow is no longer decoded as it"))

    def items(self, items: list, state: FramedFlow, direction: int, g: int, file: str, weirds: list[Weird]) -> None:
        """Feed reassembled bytes, gaps and notes of one direction to its framer; collect messages and weirds."""
        framer = state.framers[direction]
        for data, (frame, ts) in items:
            if isinstance(data, Note):
                weirds.append(Weird(data.code, "tcp", file, frame, ts, data.detail))
                if data.other is not None:  # a conflicting copy: what was built from either copy is disputed
                    self._dispute(g, {frame, data.other[0]})
                    state.disputed[direction] |= framer.pending > 0
                continue
            if isinstance(data, int):
                framer.gap()
                state.disputed[direction] = False
                weirds.append(Weird("tcp_gap", "tcp", file, frame, ts, f"{data} bytes missing before this segment"))
                continue
            disputed = isinstance(data, Disputed) or state.disputed[direction]
            for (done_frame, done_ts), outcome in framer.feed(data, (frame, ts)):
                if isinstance(outcome, Malformed):
                    weirds.append(Weird(outcome.code, self.protocol, file, done_frame, done_ts, outcome.detail))
                    state.malformed += 1
                    continue
                if outcome.weird:
                    weirds.append(Weird(outcome.weird, self.protocol, file, done_frame, done_ts))
                if disputed:
                    self.disputed.add(len(self.rows))
                self.rows.append((done_frame, done_ts, g, direction, outcome))
            state.disputed[direction] = isinstance(data, Disputed) and framer.pending > 0

    def flush(self, flows: list[Flow], protocol: str, file: str, make_framer: Callable[[bool], Any],
              weirds: list[Weird]) -> list[Flow]:
        """End of input: what waits behind holes in the protocol's flows is delivered after a gap.

        Returns the flows it looked at; the collected rows index that list."""
        mine = [f for f in flows if f.protocol == protocol and f.streams is not None
                and any(s.pending for s in f.streams)]
        for g, flow in enumerate(mine):
            for direction, stream in enumerate(flow.streams):
                self.items(stream.flush(), framed(flow, make_framer), direction, g, file, weirds)
        return mine

    def _dispute(self, g: int, frames: set[int]) -> None:
        for k, (frame, _, flow, _, _) in enumerate(self.rows):
            if flow == g and frame in frames:
                self.disputed.add(k)
