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
    group_address,
)
from sensor.flows.half_open import KEY_COLUMNS, MAX_HALF_OPEN, TIMEOUT, Attempts, HalfOpen
from sensor.flows.hash_index import MISSING, HashIndex
from sensor.flows.reassembly import SEQ_MOD, TcpStream
from sensor.order import stable_order, unique_rows

MAX_FLOWS = 262_144  # flows tracked at once; the least recently active are evicted beyond it
EVICT_FRACTION = 0.125  # a full table sheds this share at once, so it is not sorted on every batch
UDP_STREAM = 2  # one-way datagrams of one flow that make it a conversation, not an attempt
REWIND = 1.0  # seconds: a flow's packet from another input stamped this much before its last is another recording
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
        "probes", "macs", "mac_frames", "server_side", "server_told", "votes", "by_probe", "l2_broadcast", "held_syn",
        "key_hash", "picked_up", "gaps_told", "last_file",
    )

    def __init__(self, flow_id: int, transport: str, initiator: str, init_port: int, responder: str,
                 resp_port: int, init_is_a: bool, ts: float, frame: int, file: str, picked_up: bool = False) -> None:
        self.id = flow_id
        self.transport = transport
        self.initiator, self.init_port = initiator, init_port
        self.responder, self.resp_port = responder, resp_port
        self.init_is_a = init_is_a
        self.first_ts = self.last_ts = ts
        self.first_frame, self.file = frame, file
        self.last_file = file  # the input of its latest packets
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
        self.server_told = False  # both ends on the protocol's port: its first request or response said which
        self.votes: dict[str, int] | None = None  # probes' verdicts so far, per protocol (-1: rejected)
        self.by_probe = False  # claimed by payload, not by port: given back when later bytes disagree
        self.held_syn: tuple[int, int] | None = None  # (seq, wscale) of the SYN it sent while an attempt
        self.key_hash = 0  # the flow table's hash of its key
        self.picked_up = picked_up  # TCP whose first packet seen had no SYN: the sensor joined it mid-stream
        self.gaps_told = 0  # bytes missing from its streams that the inventory has counted

    def begin_held(self) -> None:
        """A flow that was an attempt until this batch: its stream starts at the SYN the attempt held."""
        if self.held_syn is not None and self.streams is not None:
            seq, wscale = self.held_syn
            self.streams[0].syn(seq, wscale)
            self.streams[0].last_end = (seq + 1) % SEQ_MOD
        self.held_syn = None

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
    """All live flows of a run: ``Flow`` objects for conversations, columns for unanswered attempts
    (``HalfOpen``), each bounded by its limit (``MAX_FLOWS``, ``MAX_HALF_OPEN``)."""

    def __init__(self, service_ports: frozenset[int], on_end: Callable[[Flow], None] | None = None,
                 on_unanswered: Callable[[Attempts], None] | None = None) -> None:
        """``on_end`` hears of every flow that leaves the table (evicted, or at ``close``), attempts included;
        ``on_unanswered`` of every attempt that ended with no answer."""
        self.service_ports = service_ports
        self._service = np.array(sorted(service_ports), np.int64)
        self.on_end = on_end
        self.on_unanswered = on_unanswered
        self._flows: dict[tuple[int, ...], Flow] = {}
        self._flow_hashes = HashIndex()  # the key hashes of ``_flows``: most keys of a flood are in neither
        self.half_open = HalfOpen()
        self._next_id = 0
        self.total = 0

    def __len__(self) -> int:
        return len(self._flows) + len(self.half_open)

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
        uniq, first, group = unique_rows(key_hash)
        rep = first[group]
        if any(np.any(col != col[rep]) for col in columns):  # a hash collision: group exactly instead
            _, first, group = np.unique(np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True)
            group = group.reshape(-1)
        groups = len(first)
        group_hash = key_hash[first]
        known: list[Flow | None] = [None] * groups
        missing = np.ones(groups, bool)
        listed = np.flatnonzero(self._flow_hashes.find(group_hash) != MISSING)  # only these can be in the dict
        if len(listed):
            get = self._flows.get
            rows = first[listed].tolist()
            for g, key, row in zip(listed.tolist(), zip(*(c[first[listed]].tolist() for c in columns)), rows):
                known[g] = flow = get(key)
                if flow is not None and flow.last_file != ip.file and ip.ts[row] < flow.last_ts - REWIND:
                    self._end_flow(key, flow)  # the next input went back in time: not this conversation
                    weirds.append(Weird("flow_rewound", "flow", ip.file, int(ip.frame[row]), float(ip.ts[row]),
                                        f"{flow.last_ts - float(ip.ts[row]):.3f} s before the last packet of its "
                                        f"5-tuple in {flow.last_file}: a new conversation"))
                    known[g] = flow = None
                missing[g] = flow is None
        slots = np.full(groups, -1, np.int64)
        if missing.any():
            cand = np.flatnonzero(missing)
            slots[cand] = self.half_open.find(key_hash[first[cand]], tuple(c[first[cand]] for c in columns))
        attempt = self._attempts(ip, group, first, src_gt, missing, slots, key_hash)
        promoted = np.flatnonzero(missing & (slots >= 0) & ~attempt)
        born = np.flatnonzero(missing & (slots < 0))  # new this batch: ids in capture order, attempts too
        born = born[np.argsort(first[born])]  # first rows are distinct: no ties to keep in order
        ids = np.zeros(groups, np.int64)
        ids[born] = self._next_id + 1 + np.arange(len(born))
        self._next_id += len(born)
        self.total += len(born)
        earlier = np.zeros((groups, 2), np.int64)  # what promoted attempts counted before this batch
        earlier_octets = np.zeros((groups, 2), np.int64)
        new: list[Flow] = []
        if len(promoted):
            taken = self.half_open.take(slots[promoted])
            for g, flow in zip(promoted.tolist(), self._from_attempts(taken)):
                known[g] = flow
                earlier[g], earlier_octets[g] = flow.packets, flow.bytes
                new.append(flow)
        ids_l = ids.tolist()
        first_rows = first.tolist()
        fresh = born[~attempt[born]]
        for g in fresh.tolist():
            row = first_rows[g]
            flow = known[g] = self._create(ip, row, not bool(src_gt[row]), ids_l[g])
            new.append(flow)
        joined = np.r_[promoted, fresh]
        if len(joined):
            self._flow_hashes.add(group_hash[joined], np.zeros(len(joined), np.int64))
            for g, key in zip(joined.tolist(), zip(*(c[first[joined]].tolist() for c in columns))):
                flow = known[g]
                flow.key_hash = int(group_hash[g])
                self._flows[key] = flow
        new.sort(key=lambda f: f.id)
        if attempt.any():
            self._hold(ip, group, first, src_gt, attempt, slots, ids, key_hash, columns)
            keep = ~attempt[group]
            kept = np.flatnonzero(~attempt)
            renumber = np.full(groups, -1, np.int64)
            renumber[kept] = np.arange(len(kept))
            ip, group, src_gt = ip.select(keep), renumber[group[keep]], src_gt[keep]
            known = [known[g] for g in kept.tolist()]
            earlier, earlier_octets = earlier[kept], earlier_octets[kept]
        flows: list[Flow] = known  # type: ignore[assignment]
        init_is_a = np.array([f.init_is_a for f in flows], dtype=bool)
        direction = (init_is_a[group] == src_gt).astype(np.int64)  # src is side A when not src_gt
        counts, octets = self._count(ip, flows, group, direction)
        self._bound(packets, weirds)
        return FlowBatch(ip, flows, group, direction, new, counts + earlier, octets + earlier_octets)

    def _attempts(self, ip: Packets, group: np.ndarray, first: np.ndarray, src_gt: np.ndarray,
                  missing: np.ndarray, slots: np.ndarray, key_hash: np.ndarray) -> np.ndarray:
        """Per group: do its rows continue (or begin) an unanswered attempt? All of them must go one way,
        from the attempt's sender, and carry nothing a dissector reads: a bare SYN, ICMP, a datagram on no
        dissector's port. A UDP flow is a conversation from its ``UDP_STREAM``-th datagram on (a one-way
        stream, such as a producer's pushes, whose receiver is then an asset)."""
        groups = len(first)
        if not missing.any():
            return np.zeros(groups, bool)
        proto = ip.proto
        flags = ip.tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)
        # UDP below 1024 is a well-known service (NetBIOS, DHCP, SNMP...): a lone datagram there is a request
        # or the answer to a broadcast, a conversation; a flood's random ports are nearly all above
        udp_quiet = ((ip.sport >= 1024) & (ip.dport >= 1024) & ~np.isin(ip.sport, self._service)
                     & ~np.isin(ip.dport, self._service))
        quiet = np.where(proto == PROTO_TCP, (flags == TCP_SYN) & (ip.payload_len == 0),
                         (proto == PROTO_ICMP) | (proto == PROTO_ICMPV6) | ((proto == PROTO_UDP) & udp_quiet))
        quiet &= ~(ip.l2_broadcast | group_address(ip.dst_hi, ip.dst_lo))  # a broadcast is answered by nobody
        rows = np.bincount(group, minlength=groups)
        loud = np.bincount(group, weights=~quiet, minlength=groups) > 0
        from_gt = np.bincount(group, weights=src_gt, minlength=groups)
        one_way = (from_gt == 0) | (from_gt == rows)
        ok = missing & one_way & ~loud
        held = np.flatnonzero(ok & (slots >= 0))
        if len(held):
            stored = self.half_open._cols
            same_sender = stored["src_is_a"][slots[held]] == ~src_gt[first[held]]
            earlier = stored["packets"][slots[held]]
            udp = ip.proto[first[held]] == PROTO_UDP
            ok[held] = same_sender & ~(udp & (earlier + rows[held] >= UDP_STREAM))
        fresh = np.flatnonzero(ok & (slots == -1))
        ok[fresh] &= ~((ip.proto[first[fresh]] == PROTO_UDP) & (rows[fresh] >= UDP_STREAM))
        ok[slots == -2] = False
        _, twin, count = np.unique(key_hash[first], return_inverse=True, return_counts=True)
        ok[count[twin] > 1] = False  # two keys of one hash (a collision): the exact-keyed flows decide
        return ok

    def _hold(self, ip: Packets, group: np.ndarray, first: np.ndarray, src_gt: np.ndarray, attempt: np.ndarray,
              slots: np.ndarray, ids: np.ndarray, key_hash: np.ndarray, columns: tuple[np.ndarray, ...]) -> None:
        """Count the attempt rows into the half-open table."""
        rows = attempt[group]
        g = group[rows]
        order = stable_order(g)
        g_sorted = g[order]
        starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
        which = g_sorted[starts]
        r = np.flatnonzero(rows)[order]
        packets = np.diff(np.r_[starts, len(g_sorted)])
        octets = np.add.reduceat(ip.wirelen[r], starts).astype(np.int64)
        flags = np.bitwise_or.reduceat(ip.tcp_flags[r], starts).astype(np.int64)
        last_ts = np.maximum.reduceat(ip.ts[r], starts)
        broadcast = np.logical_or.reduceat(ip.l2_broadcast[r], starts)
        last = r[np.r_[starts[1:], len(r)] - 1]
        syn_seq, syn_wscale = ip.seq[last].astype(np.int64), ip.wscale[last].astype(np.int64)
        old = slots[which] >= 0
        if old.any():
            self.half_open.grow(slots[which[old]], packets[old], octets[old], flags[old], last_ts[old], broadcast[old],
                                syn_seq[old], syn_wscale[old])
        if not old.all():
            # in the order they began (which is the order the oldest end): a flood's attempts then take and
            # give back runs of neighbouring slots, and the columns are written and read in passes, not at random
            new = np.flatnonzero(~old)
            new = new[np.argsort(first[which[new]])]  # first rows are distinct: no ties
            at = which[new]
            head = first[at]
            macs = ip.mac_src[r[starts[new]]]
            values = {name: column[head] for name, column in zip(KEY_COLUMNS, columns)}
            values.update(src_is_a=~src_gt[head], id=ids[at], first_ts=ip.ts[head], last_ts=last_ts[new],
                          first_frame=ip.frame[head], packets=packets[new], bytes=octets[new], flags=flags[new],
                          mac=macs, mac_frame=np.where(macs != 0, ip.frame[head], 0),
                          l2_broadcast=broadcast[new], syn_seq=syn_seq[new], syn_wscale=syn_wscale[new])
            self.half_open.add(key_hash[head], values, ip.file)

    def _from_attempts(self, taken: Attempts) -> list[Flow]:
        """Flows for attempts that got an answer (or ended with someone listening), with what they counted."""
        out = []
        senders, targets, (sports, dports) = taken.sender(), taken.target(), taken.ports()
        protos = taken.proto().tolist()
        c = taken.columns
        for i, (s_hi, s_lo, t_hi, t_lo, sport, dport, proto) in enumerate(zip(
                senders[0].tolist(), senders[1].tolist(), targets[0].tolist(), targets[1].tolist(),
                sports.tolist(), dports.tolist(), protos)):
            src_is_a = bool(c["src_is_a"][i])
            flow = self._flow(int(c["id"][i]), proto, address_text(s_hi, s_lo), sport, address_text(t_hi, t_lo),
                              dport, src_is_a, float(c["first_ts"][i]), int(c["first_frame"][i]),
                              taken.files[int(c["file"][i])], int(c["flags"][i]))
            side = 0 if flow.init_is_a == src_is_a else 1
            flow.packets[side], flow.bytes[side] = int(c["packets"][i]), int(c["bytes"][i])
            flow.flags[side] = int(c["flags"][i])
            flow.last_ts = float(c["last_ts"][i])
            flow.l2_broadcast[side] = bool(c["l2_broadcast"][i])
            if c["mac"][i]:
                flow.macs[side], flow.mac_frames[side] = int(c["mac"][i]), int(c["mac_frame"][i])
            if flow.transport == "tcp":
                flow.held_syn = (int(c["syn_seq"][i]), int(c["syn_wscale"][i]))
            out.append(flow)
        return out

    def _create(self, ip: Packets, row: int, src_is_a: bool, flow_id: int) -> Flow:
        return self._flow(flow_id, int(ip.proto[row]), address_text(int(ip.src_hi[row]), int(ip.src_lo[row])),
                          int(ip.sport[row]), address_text(int(ip.dst_hi[row]), int(ip.dst_lo[row])),
                          int(ip.dport[row]), src_is_a, float(ip.ts[row]), int(ip.frame[row]), ip.file,
                          int(ip.tcp_flags[row]))

    def _flow(self, flow_id: int, proto: int, src: str, sport: int, dst: str, dport: int, src_is_a: bool,
              ts: float, frame: int, file: str, flags: int) -> Flow:
        """A flow from its first packet: who started it follows the SYN, else the service port."""
        transport = TRANSPORT_NAMES.get(proto, f"ip{proto}" if proto != PROTO_NONE else "ip")
        if transport == "tcp" and flags & TCP_SYN:
            src_started = not flags & TCP_ACK
        else:
            src_started = self._src_is_client(sport, dport)
        if src_started:
            initiator, iport, responder, rport, init_is_a = src, sport, dst, dport, src_is_a
        else:
            initiator, iport, responder, rport, init_is_a = dst, dport, src, sport, not src_is_a
        picked_up = transport == "tcp" and not flags & TCP_SYN
        return Flow(flow_id, transport, initiator, iport, responder, rport, init_is_a, ts, frame, file, picked_up)

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
        order = stable_order(slot)
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
            flow.last_file = ip.file
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
        self.end_attempts()
        for flow in sorted(self._flows.values(), key=lambda f: f.id):
            if self.on_end is not None:
                self.on_end(flow)
        self._flows.clear()
        self._flow_hashes = HashIndex()

    def end_attempts(self) -> None:
        """End every unanswered attempt (an input ended: what it left unanswered is counted with it)."""
        if len(self.half_open):
            self._end(self.half_open.take(self.half_open.all()))

    def expire(self, now: float) -> None:
        """Attempts idle for ``TIMEOUT`` at packet time ``now`` end. The pipeline calls this after every frame batch
        with the reader's clock, so workers that see a share of each batch end the same attempts at the same time."""
        if len(self.half_open):
            idle = self.half_open.idle(now - TIMEOUT)
            if len(idle):
                self._end(self.half_open.take(idle))

    def _bound(self, packets: Packets, weirds: list[Weird]) -> None:
        """Beyond a table's limit, the least recently active go."""
        if len(self.half_open) > MAX_HALF_OPEN:
            count = len(self.half_open) - int(MAX_HALF_OPEN * (1 - EVICT_FRACTION))
            self._end(self.half_open.take(self.half_open.oldest(count)))
            weirds.append(Weird("half_open_table_full", "flow", packets.file, int(packets.frame[-1]),
                                float(packets.ts[-1]), f"ended the {count} least recently active unanswered attempts"))
        if len(self._flows) > MAX_FLOWS:
            self._evict(weirds, packets)

    def _end(self, attempts: Attempts) -> None:
        if self.on_unanswered is not None:
            self.on_unanswered(attempts)
        if self.on_end is not None:
            for flow in self._from_attempts(attempts):
                self.on_end(flow)

    def _end_flow(self, key: tuple[int, ...], flow: Flow) -> None:
        del self._flows[key]
        self._flow_hashes.remove(np.array([flow.key_hash], np.uint64), np.zeros(1, np.int64))
        if self.on_end is not None:
            self.on_end(flow)

    def _evict(self, weirds: list[Weird], packets: Packets) -> None:
        """Beyond ``MAX_FLOWS``, flows go down to 7/8 of it: closed and reset ones first, then those no dissector
        reads, then the rest; least recently active first within each."""
        count = len(self._flows) - int(MAX_FLOWS * (1 - EVICT_FRACTION))
        by_value = sorted(self._flows.items(), key=lambda item: (_worth(item[1]), item[1].last_ts))[:count]
        self._flow_hashes.remove(np.array([flow.key_hash for _, flow in by_value], np.uint64),
                                 np.zeros(len(by_value), np.int64))
        for key, flow in by_value:
            del self._flows[key]
            if self.on_end is not None:
                self.on_end(flow)
        weirds.append(Weird("flow_table_full", "flow", packets.file, int(packets.frame[-1]), float(packets.ts[-1]),
                            f"evicted the {count} least valuable flows (ended first, then idle longest)"))


def _worth(flow: Flow) -> int:
    """What losing a flow's state costs: nothing once it ended, most for a dissected conversation."""
    if flow.state in ("closed", "reset"):
        return 0
    return 1 if flow.protocol is None else 2
