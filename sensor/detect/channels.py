"""One batch seen by the learned models: its messages and packets grouped by the keys the models use.

Learning and detecting read the same groups, built once per batch with numpy: rows are grouped on
integer codes (flow id, unit, function code), and Python runs once per *distinct* group, never per
row. Everything is keyed by addresses, never by flow ids, so a new TCP connection per poll (common
in SCADA) is the same channel, and a worker that owns an address pair computes the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocols.base import REQUEST
from sensor.decode.packets import TCP_ACK, TCP_SYN
from sensor.detect.engine import Observed
from sensor.detect.view import VERBS
from sensor.flows.table import Flow

WRITE_TABLES = {"write_single_coil": "coil", "write_multiple_coils": "coil",
                "write_single_register": "holding_register", "write_multiple_registers": "holding_register"}
"""Modbus writes whose values are modelled, and the address space (table) each writes to."""


@dataclass(slots=True)
class MessageGroup:
    """Messages of one flow with the same unit, function and direction (one verb), in capture order."""

    rows: np.ndarray  # sorted
    client: str
    server: str
    protocol: str
    unit: int
    function: str
    action: str
    request: bool
    communication: tuple[str, str, str, int]  # see ``communication``

    @property
    def channel(self) -> tuple[str, str, str, int]:
        """The polling channel: client, server, protocol, unit."""
        return self.client, self.server, self.protocol, self.unit


@dataclass(slots=True)
class FlowGroup:
    """The batch's packets of one flow."""

    rows: np.ndarray  # rows of ``BatchView.packet_*``
    flow: Flow

    @property
    def key(self) -> tuple[str, str, str, int]:
        return communication(self.flow)


@dataclass(slots=True)
class BatchView:
    """The columns and groups of one batch that the models read."""

    file: str
    observed: Observed
    messages: list[MessageGroup]
    flows: list[FlowGroup]
    packet_frame: np.ndarray
    packet_ts: np.ndarray
    packet_bytes: np.ndarray
    packet_opens: np.ndarray  # a SYN without ACK: a connection being opened
    packet_pair: np.ndarray  # index into ``pairs`` (client, server) of each packet's flow
    pairs: list[tuple[str, str]]
    packet_port: np.ndarray  # the server port of each packet's flow

    @classmethod
    def of(cls, batch: Observed) -> BatchView:
        m = batch.messages
        groups = _message_groups(batch)
        fb = batch.flows
        if fb is None or not len(fb.row_flow):
            none = np.zeros(0, dtype=np.int64)
            return cls(batch.file, batch, groups, [], none, np.zeros(0), none, np.zeros(0, dtype=bool), none, [], none)
        order = np.argsort(fb.row_flow, kind="stable")
        bounds = np.flatnonzero(np.diff(fb.row_flow[order])) + 1
        flows = [FlowGroup(rows, fb.flows[int(fb.row_flow[rows[0]])]) for rows in np.split(order, bounds)]
        pair_index: dict[tuple[str, str], int] = {}
        per_flow = np.array([pair_index.setdefault((f.client, f.server), len(pair_index)) for f in fb.flows])
        p = fb.packets
        flags = p.tcp_flags
        return cls(m.file, batch, groups, flows, p.frame, p.ts, p.wirelen,
                   ((flags & TCP_SYN) != 0) & ((flags & TCP_ACK) == 0), per_flow[fb.row_flow], list(pair_index),
                   np.array([f.server_port for f in fb.flows], dtype=np.int64)[fb.row_flow])


def communication(flow: Flow) -> tuple[str, str, str, int]:
    """Who talks to whom on what: (client, server, transport, server port)."""
    return flow.client, flow.server, flow.transport, int(flow.server_port)


def service(flow: Flow) -> str:
    """The flow's protocol when a dissector claimed it, else ``transport/port``."""
    return flow.protocol or f"{flow.transport}/{flow.server_port}"


def _message_groups(batch: Observed) -> list[MessageGroup]:
    """Groups of (flow, unit, verb): one flow's messages of one function and direction for one unit."""
    m = batch.messages
    if not len(m):
        return []
    code = (m.flow.astype(np.int64) << 30) | (((m.unit + 1) & 0x1FF) << 21) | m.verb
    _, inverse = np.unique(code, return_inverse=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    bounds = np.flatnonzero(np.diff(inverse.reshape(-1)[order])) + 1
    groups = []
    for rows in np.split(order, bounds):
        i = int(rows[0])
        protocol, direction, function, action = VERBS.parts[int(m.verb[i])]
        client, server = str(m.client[i]), str(m.server[i])
        groups.append(MessageGroup(rows, client, server, protocol, int(m.unit[i]), function, action,
                                   direction == REQUEST, (client, server, str(m.transport[i]), int(m.server_port[i]))))
    return groups
