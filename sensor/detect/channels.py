"""One batch seen by the learned models: its messages and packets grouped by the keys the models use.

Learning and detecting read the same groups, built once per batch with numpy: rows are grouped on
integer codes (flow id, unit, verb) by one sort, and Python runs once per *distinct* group, never per
row. Everything is keyed by addresses, never by flow ids, so a new TCP connection per poll (common
in SCADA) is the same channel, and a worker that owns an address pair computes the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocols.base import REQUEST
from sensor.detect.engine import Observed
from sensor.detect.view import VERBS
from sensor.flows.table import Flow
from sensor.order import stable_order

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
class BatchView:
    """The columns and groups of one batch that the models read."""

    file: str
    observed: Observed
    messages: list[MessageGroup]
    flows: list[Flow]  # the flows with packets in this batch, in the order of ``FlowBatch.flows``
    flow_index: np.ndarray  # their index in ``FlowBatch.flows``
    packet_frame: np.ndarray
    packet_ts: np.ndarray

    @classmethod
    def of(cls, batch: Observed) -> BatchView:
        groups = _message_groups(batch)
        fb = batch.flows
        if fb is None or not len(fb.row_flow):
            none = np.zeros(0, dtype=np.int64)
            return cls(batch.file, batch, groups, [], none, none, np.zeros(0))
        present = np.flatnonzero(np.bincount(fb.row_flow, minlength=len(fb.flows)))
        return cls(batch.file, batch, groups, [fb.flows[i] for i in present.tolist()], present, fb.packets.frame,
                   fb.packets.ts)

    def packets_of(self, chosen: list[int]) -> list[np.ndarray]:
        """Rows of the packets of each chosen flow (positions in ``flows``, ascending), in capture order.
        Only their packets are sorted: the flows worth a look (news) are few, the batch's packets many."""
        fb = self.observed.flows
        if fb is None or not chosen:
            return []
        wanted = np.zeros(len(fb.flows), dtype=bool)
        wanted[self.flow_index[chosen]] = True
        rows = np.flatnonzero(wanted[fb.row_flow])
        order, starts = grouped(fb.row_flow[rows])
        return split(rows[order], starts)


def communication(flow: Flow) -> tuple[str, str, str, int]:
    """Who talks to whom on what: (client, server, transport, server port)."""
    return flow.client, flow.server, flow.transport, int(flow.server_port)


def service(flow: Flow) -> str:
    """The flow's protocol when a dissector claimed it, else ``transport/port``."""
    return flow.protocol or f"{flow.transport}/{flow.server_port}"


def grouped(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by integer ``columns`` (the first most significant; ties in row order), and where each run of
    equal keys starts in that order."""
    n = len(columns[0])
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = stable_order(*columns)
    changed = np.zeros(n - 1, dtype=bool)
    for column in columns:
        changed |= np.diff(column[order]) != 0
    return order, np.flatnonzero(changed) + 1


def split(rows: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """``np.split`` by slicing, for the many short groups of a batch (``np.split`` costs microseconds a piece)."""
    edges = [0, *starts.tolist(), len(rows)]
    return [rows[a:b] for a, b in zip(edges, edges[1:])]


def rows_of(groups: list[MessageGroup]) -> tuple[np.ndarray, np.ndarray]:
    """The groups' rows end to end, and the position in ``groups`` of each row's group."""
    if not groups:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return (np.concatenate([g.rows for g in groups]),
            np.repeat(np.arange(len(groups)), [len(g.rows) for g in groups]))


def _message_groups(batch: Observed) -> list[MessageGroup]:
    """Groups of (flow, unit, verb): one flow's messages of one function and direction for one unit."""
    m = batch.messages
    if not len(m):
        return []
    order, starts = grouped(m.flow + 1, m.unit + 1, m.verb)  # -1 (link layer: no flow; no unit) first
    parts = split(order, starts)
    first = order[np.concatenate([[0], starts])]
    columns = zip(m.verb[first].tolist(), m.client[first].tolist(), m.server[first].tolist(), m.unit[first].tolist(),
                  m.transport[first].tolist(), m.server_port[first].tolist())
    groups = []
    for rows, (verb, client, server, unit, transport, port) in zip(parts, columns):
        protocol, direction, function, action = VERBS.parts[verb]
        client, server = str(client), str(server)
        groups.append(MessageGroup(rows, client, server, protocol, unit, function, action, direction == REQUEST,
                                   (client, server, str(transport), port)))
    return groups
