"""Bidirectional flows: who started the conversation, counters each way, TCP state.

Rows are grouped by flow with array operations (a hash of the canonical 5-tuple, then
``np.unique``); Python touches each *flow* once per batch, never each packet.

The initiator is the sender of a bare SYN (or the receiver of a SYN-ACK). A flow picked up
mid-stream, and every UDP flow, is oriented by its service port: a port a dissector is registered
on, else a port below 1024, else the lower port; failing all that, the first sender initiated.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sensor.decode.packets import (
    PROTO_ICMP,
    PROTO_ICMPV6,
    PROTO_NONE,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Packets,
    Weird,
    address_text,
)
from sensor.flows.reassembly import TcpStream

MAX_FLOWS = 262_144  # flows tracked at once; the least recently active are evicted beyond it
EVICT_FRACTION = 0.125
TRANSPORT_NAMES = {PROTO_TCP: "tcp", PROTO_UDP: "udp", PROTO_ICMP: "icmp", PROTO_ICMPV6: "icmp6"}
_K = [np.uint64(k) for k in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                             0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD)]


class Flow:
    """One conversation. Side 0 is the initiator, side 1 the responder.

    The protocol's server is usually the responder, but not always: a controller may open the TCP
    connection to a peer and then answer Modbus requests on port 502 over it. ``server_side`` says
    which side the application protocol treats as the server.
    """

    __slots__ = (
        "id", "transport", "initiator", "responder", "init_port", "resp_port", "init_is_a", "first_ts",
        "last_ts", "first_frame", "file", "packets", "bytes", "flags", "streams", "protocol", "session",
        "probes", "macs", "mac_frames", "server_side", "votes", "by_probe", "l2_broadcast",
    )

    def __init__(self, flow_id: int, transport: str, initiator: str, init_port: int, responder: str,
                 resp_port: int, init_is_a: bool, ts: float, frame: int, file: str) -> None:
        self.id = flow_id
        self.transport = transport
        self.initiator, self.init_port = initiator, init_port
        self.responder, self.resp_port = responder, resp_port
        self.init_is_a = init_is_a
        self.first_ts = self.last_ts = ts
        self.first_frame, self.file = frame, file
        self.packets = [0, 0]
        self.bytes = [0, 0]
        self.flags = [0, 0]
        self.streams: list[TcpStream] | None = None  # reassembly state, made once a dissector claims the flow
        self.protocol: str | None = None
        self.session: object | None = None
        self.probes = 0
        self.macs = [0, 0]  # first source MAC each side sent from
        self.mac_frames = [0, 0]  # ... and the frame that showed it
        self.l2_broadcast = [False, False]  # a frame of this direction went to the link's broadcast MAC
        self.server_side = 1  # which side the dissected protocol calls the server (see Dispatcher.assign)
        self.votes: dict[str, int] | None = None  # probes' verdicts so far, per protocol (-1: rejected)
        self.by_probe = False  # claimed by payload, not by port: given back when later bytes disagree

    def dissect_as(self, protocol: str, server_side: int) -> None:
        """Hand the flow to a dissector: only then is TCP reassembly state worth its memory."""
        self.protocol, self.server_side = protocol, server_side
        if self.transport == "tcp":
            self.streams = [TcpStream(), TcpStream()]

    def give_back(self) -> None:
        """A probe's claim was wrong (later bytes are not that protocol): no dissector reads this flow again."""
        if self.votes is not None and self.protocol is not None:
            self.votes[self.protocol] = -1
        self.protocol, self.streams, self.session, self.by_probe = None, None, None, False

    @property
    def server(self) -> str:
        return self.responder if self.server_side else self.initiator

    @property
    def client(self) -> str:
        return self.initiator if self.server_side else self.responder

    @property
    def server_port(self) -> int:
        return self.resp_port if self.server_side else self.init_port

    @property
    def client_port(self) -> int:
        return self.init_port if self.server_side else self.resp_port

    @property
    def state(self) -> str:
        """A coarse TCP state from the flags each side sent (Zeek's conn_state, simplified)."""
        if self.transport != "tcp":
            return "-"
        f0, f1 = self.flags
        if (f0 | f1) & TCP_RST:
            return "reset"
        if f0 & TCP_FIN and f1 & TCP_FIN:
            return "closed"
        if f0 & TCP_SYN and f1 & TCP_SYN:
            return "established"
        if f0 & TCP_SYN:
            return "syn_sent"
        return "midstream"


@dataclass(slots=True)
class FlowBatch:
    """The batch's IP rows tied to their flows. ``direction`` is 0 from the initiator, 1 back."""

    packets: Packets
    flows: list[Flow]  # the flows this batch touched; ``row_flow`` indexes this list
    row_flow: np.ndarray
    direction: np.ndarray
    new_flows: list[Flow]
    counts: np.ndarray  # (len(flows), 2): this batch's packets per flow and direction
    octets: np.ndarray  # (len(flows), 2): this batch's bytes on the wire


class FlowTable:
    """All live flows of a run, bounded by ``MAX_FLOWS``."""

    def __init__(self, service_ports: frozenset[int], on_end: Callable[[Flow], None] | None = None) -> None:
        """``on_end`` hears of every flow that leaves the table (evicted, or at ``close``)."""
        self.service_ports = service_ports
        self.on_end = on_end
        self._flows: dict[tuple[int, ...], Flow] = {}
        self._next_id = 0
        self.total = 0

    def __len__(self) -> int:
        return len(self._flows)

    def flows(self) -> list[Flow]:
        return list(self._flows.values())

    def update(self, packets: Packets, weirds: list[Weird]) -> FlowBatch:
        ip = packets.select(packets.ip_version != 0)
        n = len(ip)
        if n == 0:
            empty = np.zeros(0, np.int64)
            return FlowBatch(ip, [], empty, empty, [], np.zeros((0, 2), np.int64), np.zeros((0, 2), np.int64))
        ports_proto = (np.maximum(ip.proto, 0).astype(np.uint64) << np.uint64(32))
        src_gt = (ip.src_hi > ip.dst_hi) | ((ip.src_hi == ip.dst_hi) & (
            (ip.src_lo > ip.dst_lo) | ((ip.src_lo == ip.dst_lo) & (ip.sport > ip.dport))))
        a_hi = np.where(src_gt, ip.dst_hi, ip.src_hi)
        a_lo = np.where(src_gt, ip.dst_lo, ip.src_lo)
        b_hi = np.where(src_gt, ip.src_hi, ip.dst_hi)
        b_lo = np.where(src_gt, ip.src_lo, ip.dst_lo)
        a_port = np.where(src_gt, ip.dport, ip.sport).astype(np.uint64)
        b_port = np.where(src_gt, ip.sport, ip.dport).astype(np.uint64)
        ports_proto |= (a_port << np.uint64(16)) | b_port
        columns = (a_hi, a_lo, b_hi, b_lo, ports_proto)
        key_hash = (a_hi * _K[0]) ^ (a_lo * _K[1]) ^ (b_hi * _K[2]) ^ (b_lo * _K[3]) ^ (ports_proto * _K[4])
        uniq, first, group = np.unique(key_hash, return_index=True, return_inverse=True)
        rep = first[group]
        if any(np.any(col != col[rep]) for col in columns):  # a hash collision: group exactly instead
            _, first, group = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
            group = group.reshape(-1)
        flows: list[Flow] = [None] * len(first)  # type: ignore[list-item]
        new: list[Flow] = []
        cols = [c[first].tolist() for c in columns]
        first_rows = first.tolist()
        for g in np.argsort(first, kind="stable").tolist():  # in capture order, so ids follow first frames
            row = first_rows[g]
            key = (cols[0][g], cols[1][g], cols[2][g], cols[3][g], cols[4][g])
            flow = self._flows.get(key)
            if flow is None:
                flow = self._create(ip, row, not bool(src_gt[row]))
                self._flows[key] = flow
                new.append(flow)
            flows[g] = flow
        init_is_a = np.array([f.init_is_a for f in flows], dtype=bool)
        direction = (init_is_a[group] == src_gt).astype(np.int64)  # src is side A when not src_gt
        counts, octets = self._count(ip, flows, group, direction)
        if len(self._flows) > MAX_FLOWS:
            self._evict(weirds, ip)
        return FlowBatch(ip, flows, group, direction, new, counts, octets)

    def _create(self, ip: Packets, row: int, src_is_a: bool) -> Flow:
        proto = int(ip.proto[row])
        transport = TRANSPORT_NAMES.get(proto, f"ip{proto}" if proto != PROTO_NONE else "ip")
        src = address_text(int(ip.src_hi[row]), int(ip.src_lo[row]))
        dst = address_text(int(ip.dst_hi[row]), int(ip.dst_lo[row]))
        sport, dport = int(ip.sport[row]), int(ip.dport[row])
        flags = int(ip.tcp_flags[row])
        if transport == "tcp" and flags & TCP_SYN:
            src_started = not flags & TCP_ACK
        else:
            src_started = self._src_is_client(sport, dport)
        if src_started:
            initiator, iport, responder, rport, init_is_a = src, sport, dst, dport, src_is_a
        else:
            initiator, iport, responder, rport, init_is_a = dst, dport, src, sport, not src_is_a
        self._next_id += 1
        self.total += 1
        return Flow(self._next_id, transport, initiator, iport, responder, rport, init_is_a,
                    float(ip.ts[row]), int(ip.frame[row]), ip.file)

    def _src_is_client(self, sport: int, dport: int) -> bool:
        for ports in (self.service_ports, range(1, 1024)):
            if (dport in ports) != (sport in ports):
                return dport in ports
        return dport <= sport

    @staticmethod
    def _count(ip: Packets, flows: list[Flow], group: np.ndarray, direction: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        slot = group * 2 + direction
        size = len(flows) * 2
        pkt_counts = np.bincount(slot, minlength=size)
        octet_counts = np.bincount(slot, weights=ip.wirelen, minlength=size).astype(np.int64)
        pkts, octets = pkt_counts.tolist(), octet_counts.tolist()
        order = np.argsort(slot, kind="stable")
        present = np.bincount(slot, minlength=size) > 0
        starts = np.searchsorted(slot[order], np.nonzero(present)[0])
        where = np.full(size, -1, dtype=np.int64)
        where[present] = np.arange(len(starts))
        flags = np.bitwise_or.reduceat(ip.tcp_flags[order], starts).tolist()
        broadcast = np.logical_or.reduceat(ip.l2_broadcast[order], starts).tolist()
        last_ts = np.maximum.reduceat(ip.ts[order], starts).tolist()
        macs = ip.mac_src[order][starts].tolist()
        mac_frames = ip.frame[order][starts].tolist()
        where_l = where.tolist()
        for g, flow in enumerate(flows):
            for d in (0, 1):
                s = 2 * g + d
                k = where_l[s]
                if k < 0:
                    continue
                flow.packets[d] += pkts[s]
                flow.bytes[d] += octets[s]
                flow.flags[d] |= flags[k]
                flow.l2_broadcast[d] |= broadcast[k]
                if not flow.macs[d] and macs[k]:
                    flow.macs[d], flow.mac_frames[d] = macs[k], mac_frames[k]
                if last_ts[k] > flow.last_ts:
                    flow.last_ts = last_ts[k]
        return pkt_counts.reshape(-1, 2), octet_counts.reshape(-1, 2)

    def close(self) -> None:
        """End of the run: every flow still in the table ends, in the order flows began."""
        for flow in sorted(self._flows.values(), key=lambda f: f.id):
            if self.on_end is not None:
                self.on_end(flow)
        self._flows.clear()

    def _evict(self, weirds: list[Weird], ip: Packets) -> None:
        by_age = sorted(self._flows.items(), key=lambda item: item[1].last_ts)
        for key, flow in by_age[: int(MAX_FLOWS * EVICT_FRACTION)]:
            del self._flows[key]
            if self.on_end is not None:
                self.on_end(flow)
        weirds.append(Weird("flow_table_full", "flow", ip.file, int(ip.frame[-1]), float(ip.ts[-1]),
                            f"evicted the {int(MAX_FLOWS * EVICT_FRACTION)} least recently active flows"))
