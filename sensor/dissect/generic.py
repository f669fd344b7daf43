"""Any registered protocol over the flow layer: its framer on TCP streams, its datagram parser on UDP.

The package gives protocol-neutral ``Message`` records; this module places them in the batch (frame,
time, flow), in capture order, and pairs responses with their requests by the package's
``pair_key`` within one flow. Modbus has a vectorised path of its own (``sensor.dissect.modbus``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocols.base import REQUEST, RESPONSE, Malformed, Message, ProtocolSpec
from sensor.decode.packets import Weird
from sensor.dissect.streams import Framed, has_buffered
from sensor.flows.dispatch import stream_runs
from sensor.flows.table import Flow, FlowBatch

MAX_PENDING_REQUESTS = 65_536  # unanswered requests remembered per protocol, all flows together


@dataclass(slots=True)
class MessageBatch:
    """Every message of one protocol in one batch, in capture order.

    ``flow`` indexes ``flows``; ``request_frame``/``response_time`` are set on responses whose request
    was seen (in this batch or an earlier one), else -1 / NaN.
    """

    protocol: str
    flows: list[Flow]
    file: str
    frame: np.ndarray
    ts: np.ndarray
    flow: np.ndarray
    side: np.ndarray  # which end of the flow sent it: 0 the initiator, 1 the responder
    messages: list[Message]
    disputed: np.ndarray
    request_frame: np.ndarray
    response_time: np.ndarray

    def __len__(self) -> int:
        return len(self.messages)


class ProtocolAnalyzer:
    """One protocol's messages out of each batch; owns its request table."""

    def __init__(self, spec: ProtocolSpec) -> None:
        self.spec = spec
        self.pending: dict[tuple[int, object], tuple[int, float, Message]] = {}  # (flow id, pair key) -> request

    def analyze(self, fb: FlowBatch, weirds: list[Weird]) -> MessageBatch | None:
        found = Framed(self.spec.name)
        if self.spec.framer is not None and "tcp" in self.spec.transports:
            runs = stream_runs(fb, self.spec.name, has_buffered)
            for i in range(len(runs.start)):
                found.run(fb, runs, i, self.spec.framer, weirds)
        if self.spec.datagram is not None:
            self._datagrams(fb, found, weirds)
        return self._finish(fb.flows, fb.packets.file, found, weirds)

    def flush(self, flows: list[Flow], file: str, weirds: list[Weird]) -> MessageBatch | None:
        """End of input: what waits behind TCP holes is delivered after a gap."""
        if self.spec.framer is None:
            return None
        found = Framed(self.spec.name)
        mine = found.flush(flows, self.spec.name, file, self.spec.framer, weirds)
        return self._finish(mine, file, found, weirds)

    def _datagrams(self, fb: FlowBatch, found: Framed, weirds: list[Weird]) -> None:
        mine = np.array([f.protocol == self.spec.name and f.transport == "udp" for f in fb.flows], dtype=bool)
        if not mine.any():
            return
        p = fb.packets
        rows = np.nonzero(mine[fb.row_flow] & (p.payload_len > 0))[0]
        parse = self.spec.datagram
        assert parse is not None
        for row in rows.tolist():
            g = int(fb.row_flow[row])
            is_request = int(fb.direction[row]) != fb.flows[g].server_side
            start, size = int(p.payload_off[row]), int(p.payload_len[row])
            frame, ts = int(p.frame[row]), float(p.ts[row])
            try:
                messages = parse(p.data[start:start + size].tobytes(), is_request)
            except Malformed as bad:
                weirds.append(Weird(bad.code, self.spec.name, p.file, frame, ts, bad.detail))
                continue
            flow = fb.flows[g]
            for message in messages:
                if message.weird:
                    weirds.append(Weird(message.weird, self.spec.name, p.file, frame, ts))
                found.rows.append((frame, ts, g, int(fb.direction[row]), message))
                if not flow.server_told and flow.init_port == flow.resp_port and message.direction in (REQUEST, RESPONSE):
                    # both ends on the protocol's port (BACnet 47808, NBNS 137): the port cannot say which end
                    # serves; whoever sent the first request is the client (a device's I-Am may come first)
                    sender = int(fb.direction[row])
                    flow.server_side = 1 - sender if message.direction == REQUEST else sender
                    flow.server_told = True

    def _finish(self, flows: list[Flow], file: str, found: Framed, weirds: list[Weird]) -> MessageBatch | None:
        if not found:
            return None
        order = sorted(range(len(found.rows)), key=lambda k: found.rows[k][0])  # capture order, stable
        rows = [found.rows[k] for k in order]
        batch = MessageBatch(
            protocol=self.spec.name, flows=flows, file=file,
            frame=np.array([r[0] for r in rows], dtype=np.int64), ts=np.array([r[1] for r in rows], dtype=float),
            flow=np.array([r[2] for r in rows], dtype=np.int64), side=np.array([r[3] for r in rows], dtype=np.int64),
            messages=[r[4] for r in rows],
            disputed=np.array([k in found.disputed for k in order], dtype=bool),
            request_frame=np.full(len(rows), -1, dtype=np.int64), response_time=np.full(len(rows), np.nan))
        self._pair(batch, weirds)
        return batch

    def _pair(self, batch: MessageBatch, weirds: list[Weird]) -> None:
        dropped = 0
        for i, message in enumerate(batch.messages):
            if message.pair_key is None:
                continue
            key = (batch.flows[int(batch.flow[i])].id, message.pair_key)
            if message.direction == REQUEST:
                self.pending.pop(key, None)  # a repeated key replaces the older request
                self.pending[key] = (int(batch.frame[i]), float(batch.ts[i]), message)
                if len(self.pending) > MAX_PENDING_REQUESTS:
                    del self.pending[next(iter(self.pending))]
                    dropped += 1
            elif message.direction == RESPONSE and key in self.pending:
                frame, ts, request = self.pending.pop(key)
                batch.request_frame[i] = frame
                batch.response_time[i] = float(batch.ts[i]) - ts
                if self.spec.complete is not None:
                    batch.messages[i] = self.spec.complete(request, message)
        if dropped:
            weirds.append(Weird(f"{self.spec.name}_request_table_full", self.spec.name, batch.file,
                                int(batch.frame[-1]), float(batch.ts[-1]), f"{dropped} unanswered requests forgotten"))
