"""Turn flows, ARP and Modbus messages into asset, communication, point and polling deltas.

The ``Inventory`` accumulates what a stretch of batches taught it and hands the deltas to the
store at each flush (``take``). Group-bys are numpy; Python runs once per group, not per message.
"""
from __future__ import annotations

import ipaddress
from typing import NamedTuple

import numpy as np

from protocols import NAMING
from protocols.base import ADDRESS, REQUEST, Fact, Message, Point
from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of, function_name
from sensor.decode.packets import IPV4_MAPPED_LO_PREFIX, ArpRows, address_text, group_address
from sensor.dissect.generic import MessageBatch
from sensor.dissect.linklayer import LinkBatch
from sensor.dissect.modbus import PROTOCOL, ModbusBatch
from sensor.flows.half_open import Attempts
from sensor.flows.table import Flow, FlowBatch
from sensor.inventory import timing
from sensor.inventory.addresses import address_kind, is_host
from sensor.inventory.macs import MAX_ADDRESSES, MacBook, is_station
from sensor.inventory.model import (
    AssetDelta,
    CommunicationDelta,
    Identity,
    NameDelta,
    PointDelta,
    PollStats,
    Service,
    Source,
)
from sensor.inventory.oui import mac_vendor
from sensor.inventory.points import READ, WRITE, PointBook
from sensor.inventory.scans import MAX_SCAN_PAIRS, ScanBook
from sensor.order import first_rows, stable_order, unique_rows

SAMPLE_FRAMES = 10  # frames kept per communication as evidence
READ_RANGE_CODES = (1, 2, 3, 4, 23)  # requests whose address/quantity name the points read
WRITE_RANGE_CODES = (5, 6, 15, 16, 22)  # ... and written (23's write half comes from its message)
KINDS = ("read", "write", "diagnostic", "program", "other")  # what a poller does, for device typing
READ_KIND, WRITE_KIND, DIAGNOSTIC_KIND, PROGRAM_KIND, OTHER_KIND = range(len(KINDS))
KIND_OF_ACTION = {
    "read": READ_KIND, "write": WRITE_KIND, "operate": WRITE_KIND, "diagnostics": DIAGNOSTIC_KIND,
    "discovery": DIAGNOSTIC_KIND, "program_upload": PROGRAM_KIND, "program_download": PROGRAM_KIND,
    "firmware_update": PROGRAM_KIND, "mode_change": PROGRAM_KIND, "restart": PROGRAM_KIND,
    **dict.fromkeys(("session", "time_sync", "file_transfer", "other"), OTHER_KIND),
}
_MODBUS_KINDS = np.array([KIND_OF_ACTION[action_of(function_name(fc))] for fc in range(256)], dtype=np.int64)
REFINED_CODES = (8, 43, 90)
MAX_POINT_QUANTITY = 1 << 16  # points one request can name: more is a malformed range, not a plant  # function codes whose sub-function decides the action (codes.action_name)
MAX_ARP_HOSTS = 4096  # addresses ARP alone makes assets: a segment past it is an ARP flood, not a plant
MAX_NAMES = 65_536  # distinct (address, name, protocol) sightings between two flushes (names_table_full)
MAX_POLLED_FLOWS = 65_536  # connections whose last request time is remembered for poll intervals
FEW_GAPS = 2  # a connection with no more request gaps than this in a batch is added up without numpy


class Deltas(NamedTuple):
    """What the inventory learned between two flushes, as the store merges it."""

    assets: list[AssetDelta]
    communications: list[CommunicationDelta]
    points: list[PointDelta]
    polls: list[PollStats]
    names: list[NameDelta]


class Inventory:
    """Accumulates deltas between flushes; identity objects persist for the whole run."""

    def __init__(self, broadcasts: frozenset[str] = frozenset()) -> None:
        """``broadcasts``: directed broadcast addresses of known networks, which are no hosts either; others
        are told per flow from the link layer (``party``)."""
        self._broadcasts = broadcasts
        self._reset()
        self._identity_objects: dict[str, dict[int, tuple[str, Source]]] = {}
        self._identity_facts: dict[tuple[str, str], dict[str, object]] = {}  # (ip, protocol) -> what is known
        self._identity_sources: dict[tuple[str, str], Source] = {}
        self._identity_protocols: dict[str, set[str]] = {}  # device -> the protocols that told its identity
        self._module_facts: dict[tuple[str, str], dict[str, object]] = {}  # (ip, slot) -> what is known
        self._last_request_ts: dict[int, float] = {}
        self.macs = MacBook()
        self._limits: list[tuple[str, str]] = []
        self.points = PointBook()
        self._pending_services: dict[int, Flow] = {}  # undecided flows whose responder answered
        self._rows_seen = 0  # Modbus rows so far: the capture order of written values across batches
        self.scans = ScanBook()  # unanswered attempts, per sender; taken at each flush like the deltas
        self._arp_hosts = _GrowingSet()  # IPv4 addresses ARP made assets (MAX_ARP_HOSTS)
        self._arp_held = _GrowingSet()  # IPv4 senders whose ARP evidence the MAC book holds
        self._arp_limit_told = False
        self._scan_limit_told = False

    def _reset(self) -> None:
        self.assets: dict[str, AssetDelta] = {}
        self.stations: dict[str, AssetDelta] = {}  # MAC -> a device seen at layer 2 (folded into its IP asset by the store)
        self.communications: dict[tuple, CommunicationDelta] = {}
        self.polls: dict[tuple[str, str], PollStats] = {}
        self.protocol_points: dict[tuple, PointDelta] = {}  # points of protocols other than Modbus
        self.names: dict[tuple[str, str, str], NameDelta] = {}  # (address, name, protocol) -> sightings
        self._names_refused = 0

    def _asset(self, ip: str, ts: float) -> AssetDelta:
        """The delta of the device at ``ip``, seen at ``ts`` (whatever teaches something of it dates it too, so the
        times do not depend on which flow, batch or worker brought the lesson)."""
        asset = self.assets.get(ip)
        if asset is None:
            asset = self.assets[ip] = AssetDelta(ip=ip, first_seen=ts, last_seen=ts)
        elif not asset.first_seen <= ts <= asset.last_seen:
            asset.first_seen, asset.last_seen = min(asset.first_seen, ts), max(asset.last_seen, ts)
        return asset

    # flows ------------------------------------------------------------------------------------
    def observe_flows(self, fb: FlowBatch) -> None:
        """Addresses, counters, MAC evidence and communications of the flows a batch touched."""
        counts, octets = fb.counts, fb.octets
        new_ids = {f.id for f in fb.new_flows}
        for g, flow in enumerate(fb.flows):
            packets = int(counts[g, 0] + counts[g, 1])
            size = int(octets[g, 0] + octets[g, 1])
            hosts = [(side, ip) for side, ip in ((0, flow.initiator), (1, flow.responder)) if self.party(flow, side)]
            for side, ip in hosts:
                asset = self._asset(ip, flow.first_ts)
                asset.first_seen = min(asset.first_seen, flow.first_ts)
                asset.last_seen = max(asset.last_seen, flow.last_ts)
                asset.packets += packets
                asset.bytes += size
                if flow.macs[side]:
                    self.macs.saw_packet(ip, flow.macs[side], Source("ethernet", flow.file, flow.mac_frames[side],
                                                                     "source MAC of its packets"))
            if len(hosts) < 2:
                continue  # to a broadcast or multicast group: it counts for its sender, no conversation
            if flow.transport in ("tcp", "udp") and flow.packets[1] > 0 and flow.protocol is None:
                # named by its dissector once a valid message confirms it; decided at the flush
                self._pending_services[flow.id] = flow
            self._communicate(flow, packets, size, int(counts[g, 1]), flow.id in new_ids)

    def is_host(self, ip: str) -> bool:
        return is_host(ip) and ip not in self._broadcasts

    def party(self, flow: Flow, side: int) -> bool:
        """Is this side of the flow a host? Not when ``is_host`` says no, nor when it never sent in this flow and what
        it received went to the link's broadcast MAC: an IPv4 directed broadcast (10.20.1.255 of a /24), known
        without a policy. Judged per flow, so it does not depend on which flows were seen first (or by which
        worker)."""
        ip = flow.initiator if side == 0 else flow.responder
        if not self.is_host(ip):
            return False
        return ":" in ip or flow.packets[side] > 0 or not flow.l2_broadcast[1 - side]

    @staticmethod
    def _add_service(asset: AssetDelta, service: Service, source: Source) -> None:
        asset.services.add(service)
        cite(asset.sources, f"service:{service.protocol}/{service.port}", source)

    def _communicate(self, flow: Flow, packets: int, size: int, back: int, is_new: bool) -> None:
        comm = self._communication(flow)
        comm.first_seen = min(comm.first_seen, flow.first_ts)
        comm.last_seen = max(comm.last_seen, flow.last_ts)
        comm.packets += packets
        comm.bytes += size
        comm.responder_packets += back
        if is_new:
            comm.flows += 1
            comm.midstream_flows += flow.picked_up
            if len(comm.sample_frames) < SAMPLE_FRAMES:
                comm.sample_frames.append((flow.file, flow.first_frame))

    def observe_gaps(self, flows: list[Flow]) -> None:
        """Bytes the capture lost inside reassembled streams, on the flow's communication: where the sensor
        was blind. Read after dissection, which is where reassembly finds the holes."""
        for flow in flows:
            streams = flow.streams
            if streams is None:
                continue
            missing = streams[0].gap_bytes + streams[1].gap_bytes
            if missing != flow.gaps_told:
                self._communication(flow).gap_bytes += missing - flow.gaps_told
                flow.gaps_told = missing

    def _communication(self, flow: Flow) -> CommunicationDelta:
        """The flow's communication delta since the last flush, made anew when a flush took the last one
        (messages delivered at the end of input belong to flows no recent batch touched)."""
        key = (flow.initiator, flow.responder, flow.transport, flow.resp_port)
        comm = self.communications.get(key)
        if comm is None:
            comm = self.communications[key] = CommunicationDelta(
                flow.initiator, flow.responder, flow.transport, flow.resp_port, flow.transport,
                flow.first_ts, flow.last_ts)
        return comm

    def observe_unanswered(self, attempts: Attempts) -> None:
        """Attempts that ended with no answer: counted on their senders (``scans``), their targets are no assets."""
        if not len(attempts):
            return
        for sender in self.scans.observe(attempts):
            if not self.is_host(sender.ip):
                continue
            asset = self._asset(sender.ip, sender.first_seen)
            asset.first_seen = min(asset.first_seen, sender.first_seen)
            asset.last_seen = max(asset.last_seen, sender.last_seen)
            asset.packets += sender.packets
            asset.bytes += sender.bytes
            if sender.mac is not None:
                mac, frame, file = sender.mac
                self.macs.saw_packet(sender.ip, mac, Source("ethernet", file, frame, "source MAC of its packets"))
        if self.scans.full and not self._scan_limit_told:
            self._scan_limit_told = True
            self._limits.append(("scan_pairs_full", f"more than {MAX_SCAN_PAIRS:,} (sender, target) pairs of "
                                                    "unanswered attempts: later targets may count twice"))

    def observe_arp(self, arp: ArpRows, file: str) -> None:
        """ARP senders: authoritative MAC evidence, and assets for addresses that may never send IP. Past
        ``MAX_ARP_HOSTS`` such addresses an ARP flood makes no more (their IP traffic still does)."""
        ip = arp.sender_ip.astype(np.int64)
        # ARP probes (RFC 5227) announce no address yet; multicast and broadcast senders are forged
        group = group_address(np.zeros(len(ip), np.uint64), arp.sender_ip.astype(np.uint64) | IPV4_MAPPED_LO_PREFIX)
        sound = (ip != 0) & (arp.sender_mac != 0) & ~group
        rows = np.flatnonzero(sound)
        if not len(rows):
            return
        senders, first, which = unique_rows(ip[rows])
        earliest = np.full(len(senders), np.inf)
        latest = np.full(len(senders), -np.inf)
        np.minimum.at(earliest, which, arp.ts[rows])
        np.maximum.at(latest, which, arp.ts[rows])
        heads = rows[first]  # each sender's first ARP in the batch: its evidence
        broadcasts = {int(ipaddress.IPv4Address(b)) for b in self._broadcasts if "." in b}
        repeats = self.macs.repeats_arp(senders, arp.sender_mac[heads], file)
        if repeats.any():  # a sender whose evidence the book holds: at most its asset's times change
            hosts = np.isin(senders, self._arp_hosts.array()) & ~np.isin(senders, list(broadcasts)) & repeats
            for value, seen_first, seen_last in zip(senders[hosts].tolist(), earliest[hosts].tolist(),
                                                    latest[hosts].tolist()):
                self._asset(address_text(0, IPV4_MAPPED_LO_PREFIX | value), seen_first)
                self._asset(address_text(0, IPV4_MAPPED_LO_PREFIX | value), seen_last)
            fresh = ~repeats
            senders, heads, earliest, latest = senders[fresh], heads[fresh], earliest[fresh], latest[fresh]
        if self.macs.arp_full:  # a flood: a new sender can be neither evidence nor asset, only counted (at C speed)
            known = np.isin(senders, self._arp_held.array()) | np.isin(senders, list(broadcasts))
            self.macs.refused += len(senders) - int(known.sum())
            senders, heads, earliest, latest = senders[known], heads[known], earliest[known], latest[known]
        for value, row, seen_first, seen_last in zip(senders.tolist(), heads.tolist(), earliest.tolist(),
                                                     latest.tolist()):
            text = address_text(0, IPV4_MAPPED_LO_PREFIX | value)
            if text in self._broadcasts:
                continue
            if self.macs.saw_arp(text, int(arp.sender_mac[row]), Source("arp", file, int(arp.frame[row]),
                                                                        "ARP sender")):
                self._arp_held.add(value)
            if value not in self._arp_hosts:
                if len(self._arp_hosts) >= MAX_ARP_HOSTS:
                    if not self._arp_limit_told:
                        self._arp_limit_told = True
                        self._limits.append(("arp_hosts_full", f"more than {MAX_ARP_HOSTS:,} addresses known only "
                                                               "from ARP: later ones are assets only once they send IP"))
                    continue
                self._arp_hosts.add(value)
            self._asset(text, seen_first)
            self._asset(text, seen_last)

    # modbus -----------------------------------------------------------------------------------
    def observe_modbus(self, mb: ModbusBatch) -> None:
        ts = mb.ts
        flows = mb.flows
        connections, firsts = first_rows(mb.flow)
        by_frame = np.argsort(firsts, kind="stable")  # the earliest message is the evidence
        for g, first_row in zip(connections[by_frame].tolist(), firsts[by_frame].tolist()):
            flow = flows[g]
            server = self._asset(flow.server, flow.first_ts)
            client = self._asset(flow.client, flow.first_ts)
            source = Source("modbus", mb.file, int(mb.frame[first_row]))
            self._add_service(server, Service(PROTOCOL, "tcp", flow.server_port), source)
            self._communication(flow).protocol = PROTOCOL  # confirmed by a valid message, not by the port
            server.roles.add("modbus_server")
            cite(server.sources, "role:modbus_server", source)
            client.roles.add("modbus_client")
            cite(client.sources, "role:modbus_client", source)
        pairs, pair_rows = first_rows(mb.flow * 256 + mb.unit_id)
        by_frame = np.argsort(pair_rows, kind="stable")  # the earliest message is the evidence
        for pair, row in zip(pairs[by_frame].tolist(), pair_rows[by_frame].tolist()):
            server = self._asset(flows[pair // 256].server, flows[pair // 256].first_ts)
            if pair % 256 not in server.unit_ids:
                server.unit_ids.add(pair % 256)
                cite(server.sources, "unit_ids", Source("modbus", mb.file, int(mb.frame[row])))
        requests = mb.is_request
        self._actions(mb, requests)
        self._points(mb, requests, ts)
        self._modbus_polls(mb, requests, ts)
        self._identities(mb)
        self._rows_seen += len(mb)

    def _actions(self, mb: ModbusBatch, requests: np.ndarray) -> None:
        """Functions used per communication, named as the action table names them (sub-functions that
        change the action, such as 8/1 restart, are told apart)."""
        flows = mb.flows
        refined = requests & np.isin(mb.function_code, REFINED_CODES)
        plain = requests & ~refined
        key = mb.flow[plain] * 256 + mb.function_code[plain]
        uniq, counts = np.unique(key, return_counts=True)
        used = [(flows[k // 256], function_name(k % 256), c) for k, c in zip(uniq.tolist(), counts.tolist())]
        for i in np.nonzero(refined)[0].tolist():
            message = mb.message(i)
            name = message.action_name if message is not None else function_name(int(mb.function_code[i]))
            used.append((flows[int(mb.flow[i])], name, 1))
        for flow, name, count in used:
            comm = self._communication(flow)
            comm.actions[name] = comm.actions.get(name, 0) + count

    def _points(self, mb: ModbusBatch, requests: np.ndarray, ts: np.ndarray) -> None:
        """Requests become address ranges per (client, server, unit, function, read/write)."""
        rows = np.nonzero(requests & (mb.address != NONE) & (mb.quantity > 0))[0]
        if len(rows) == 0:
            return
        pair_ids = self.points.pair_ids([(f.client, f.server) for f in mb.flows])
        fc = mb.function_code[rows]
        for access, codes in ((READ, READ_RANGE_CODES), (WRITE, WRITE_RANGE_CODES)):
            pick = rows[np.isin(fc, codes)]
            if len(pick):
                self.points.add_requests(mb.file, pair_ids[mb.flow[pick]], mb.unit_id[pick],
                                         mb.function_code[pick], access, mb.address[pick], mb.quantity[pick],
                                         ts[pick], mb.frame[pick])
        single = rows[np.isin(fc, (5, 6))]
        if len(single):
            self.points.add_values(pair_ids[mb.flow[single]], mb.unit_id[single], mb.function_code[single],
                                   mb.address[single], mb.value[single], self._rows_seen + single)
        multi = rows[np.isin(fc, (15, 16, 23))]
        in_buffer = mb.adu_off[multi] != NONE  # whole, validated ADUs of the fast path: FC15/16 only
        self._bulk_writes(mb, multi[in_buffer], pair_ids)
        self._multi_writes(mb, multi[~in_buffer], pair_ids, ts)

    def _bulk_writes(self, mb: ModbusBatch, rows: np.ndarray, pair_ids: np.ndarray) -> None:
        """Values of validated FC15/16 requests, read straight from the packet buffer.

        Layout after the MBAP header: fc, address u16, quantity u16, byte count u8, then the values
        (registers big-endian; coils packed LSB first), so value ``j`` sits at ADU offset 13 + 2j or bit j.
        """
        if len(rows) == 0:
            return
        quantity = mb.quantity[rows]
        owner = np.repeat(np.arange(len(rows)), quantity)
        j = np.arange(len(owner)) - np.repeat(np.cumsum(quantity) - quantity, quantity)
        start = mb.adu_off[rows][owner] + 13
        last = len(mb.data) - 1
        data = mb.data
        register = (data[np.minimum(start + 2 * j, last)].astype(np.int64) << 8) | data[np.minimum(start + 2 * j + 1, last)]
        coil = (data[np.minimum(start + j // 8, last)].astype(np.int64) >> (j % 8)) & 1
        fc = mb.function_code[rows][owner]
        row = rows[owner]
        self.points.add_values(pair_ids[mb.flow[row]], mb.unit_id[row], fc, mb.address[row] + j,
                               np.where(fc == 16, register, coil), self._rows_seen + row)

    def _multi_writes(self, mb: ModbusBatch, rows: np.ndarray, pair_ids: np.ndarray, ts: np.ndarray) -> None:
        """Writes of many values parsed on the slow path (and 23's write half): from each full message."""
        cols: list[list[int]] = [[], [], [], [], [], []]
        ranges: list[list] = [[], [], [], [], [], [], []]
        for i in rows.tolist():
            message = mb.message(i)
            if message is None or not message.values:
                continue
            fc = message.function_code
            address = message.write_address if fc == 23 else message.address
            if address is None:
                continue
            flow_id = int(pair_ids[mb.flow[i]])
            for offset, value in enumerate(message.values):
                for col, v in zip(cols, (flow_id, message.unit_id, fc, address + offset, value, self._rows_seen + i)):
                    col.append(v)
            if fc == 23 and message.write_quantity:
                for col, v in zip(ranges, (flow_id, message.unit_id, fc, address, message.write_quantity,
                                           float(ts[i]), int(mb.frame[i]))):
                    col.append(v)
        if cols[0]:
            self.points.add_values(*(np.array(c, dtype=np.int64) for c in cols))
        if ranges[0]:
            ints = [np.array(c, dtype=np.int64) for c in ranges[:5]]
            self.points.add_requests(mb.file, *ints[:3], WRITE, ints[3], ints[4],
                                     np.array(ranges[5]), np.array(ranges[6], dtype=np.int64))

    def _modbus_polls(self, mb: ModbusBatch, requests: np.ndarray, ts: np.ndarray) -> None:
        """Request timing and kinds per client and server; the action of each request as its table says."""
        idx = np.nonzero(requests)[0]
        if len(idx) == 0:
            return
        kinds = _MODBUS_KINDS[mb.function_code[idx]]
        for k in np.nonzero(np.isin(mb.function_code[idx], REFINED_CODES))[0].tolist():
            message = mb.message(int(idx[k]))
            if message is not None:
                kinds[k] = KIND_OF_ACTION[action_of(message.action_name)]
        self._polls(mb.flows, mb.flow[idx], ts[idx], kinds)

    def _polls(self, flows: list[Flow], g: np.ndarray, ts: np.ndarray, kinds: np.ndarray) -> None:
        """Requests (flow index, time, kind: READ_KIND...) become poll statistics per client and server.

        A connection with at most ``FEW_GAPS`` gaps in the batch (a client that connects for every poll) is added up
        in plain Python from lists: numpy's calls cost more than the few numbers they would sum."""
        order = stable_order(g)
        g_of, times_sorted, kinds = g[order], ts[order], kinds[order]
        starts = np.nonzero(np.r_[True, g_of[1:] != g_of[:-1]])[0]
        stops = np.r_[starts[1:], len(g_of)]
        groups = [flows[i] for i in g_of[starts].tolist()]
        previous = [self._last_request_ts.get(flow.id) for flow in groups]
        gaps_all = np.diff(times_sorted, prepend=times_sorted[:1])  # each request's gap from the one before it
        known = [i for i, t in enumerate(previous) if t is not None]
        if known:  # a connection's first request here: its gap from its last request of an earlier batch
            at = starts[known]
            gaps_all[at] = times_sorted[at] - np.array([previous[i] for i in known])
        bins, times, kind_of = timing.bins(gaps_all).tolist(), times_sorted.tolist(), kinds.tolist()
        gap_of = gaps_all.tolist()
        for flow, before, s, e in zip(groups, previous, starts.tolist(), stops.tolist()):
            first, last = times[s], times[e - 1]
            self._last_request_ts[flow.id] = last
            key = (flow.client, flow.server)
            poll = self.polls.get(key)
            if poll is None:
                poll = self.polls[key] = PollStats(flow.client, flow.server, 0, 0, 0, 0, first, last, 0.0, 0.0, 0)
            poll.requests += e - s
            poll.first_seen = min(poll.first_seen, first)
            poll.last_seen = max(poll.last_seen, last)
            g0 = s if before is not None else s + 1  # the first row with a gap
            if e - g0 > FEW_GAPS:
                self._add_many(poll, gaps_all[g0:e], kinds[s:e])
                continue
            kinds_here = kind_of[s:e]
            poll.reads += kinds_here.count(READ_KIND)
            poll.writes += kinds_here.count(WRITE_KIND)
            poll.diagnostics += kinds_here.count(DIAGNOSTIC_KIND)
            poll.programs += kinds_here.count(PROGRAM_KIND)
            gaps = gap_of[g0:e]
            poll.interval_sum += _sum_few(gaps)
            poll.interval_sumsq += _sum_few([x * x for x in gaps])
            poll.intervals += len(gaps)
            if gaps:
                counts = list(poll.gaps) or [0] * timing.BINS
                for b in bins[g0:e]:
                    counts[b] += 1
                poll.gaps = counts
                cycles = [x for x in gaps if x >= timing.BURST_GAP_S]
                poll.cycle_sum += _sum_few(cycles)
                poll.cycle_count += len(cycles)
        if len(self._last_request_ts) > MAX_POLLED_FLOWS:
            self._last_request_ts.clear()
            self._limits.append(("poll_table_full", f"forgot the last request time of {MAX_POLLED_FLOWS + 1:,} "
                                                    "connections; their next interval is not measured"))

    @staticmethod
    def _add_many(poll: PollStats, gaps: np.ndarray, kinds: np.ndarray) -> None:
        """One connection's requests of a batch, with more than ``FEW_GAPS`` gaps, added to its poll statistics."""
        counted = np.bincount(kinds, minlength=len(KINDS))
        poll.reads += int(counted[READ_KIND])
        poll.writes += int(counted[WRITE_KIND])
        poll.diagnostics += int(counted[DIAGNOSTIC_KIND])
        poll.programs += int(counted[PROGRAM_KIND])
        poll.interval_sum += float(gaps.sum())
        poll.interval_sumsq += float((gaps * gaps).sum())
        poll.intervals += len(gaps)
        poll.gaps = timing.add(poll.gaps, timing.histogram(gaps).tolist())
        cycles = gaps[gaps >= timing.BURST_GAP_S]
        poll.cycle_sum += float(cycles.sum())
        poll.cycle_count += len(cycles)

    def limits_hit(self) -> list[tuple[str, str]]:
        """(weird code, detail) for each bound the inventory hit since the last call."""
        hits, self._limits = self._limits, []
        refused = self.macs.take_refused()
        if refused:
            hits.append(("mac_table_full", f"MAC evidence of {refused:,} addresses not kept "
                                           f"(limit {MAX_ADDRESSES:,} addresses)"))
        return hits

    def _identities(self, mb: ModbusBatch) -> None:
        """Read Device Identification (43/14) responses name the server's vendor, product and revision."""
        for row, message in mb.messages.items():
            if message.is_request or not message.objects:
                continue
            flow = mb.flows[int(mb.flow[row])]
            source = Source("modbus", mb.file, int(mb.frame[row]), "43/14 read device identification")
            objects = self._identity_objects.setdefault(flow.server, {})
            for obj in message.objects:
                objects.setdefault(obj.object_id, (obj.value, source))
            asset = self._asset(flow.server, float(mb.ts[row]))
            asset.identity = _identity(objects)
            cite(asset.sources, "identity", source)

    # any protocol -----------------------------------------------------------------------------
    def observe_messages(self, mb: MessageBatch) -> None:
        """Services, roles, actions, identities and names from any protocol's messages."""
        protocol = mb.protocol
        industrial = protocol not in NAMING  # a DNS lookup or a DHCP request is no engineering work
        flows = mb.flows
        seen_flows: set[int] = set()
        requests: list[tuple[int, float, int]] = []
        for i, message in enumerate(mb.messages):
            g = int(mb.flow[i])
            flow = flows[g]
            source = Source(protocol, mb.file, int(mb.frame[i]))
            side = int(mb.side[i])
            sender = flow.initiator if side == 0 else flow.responder
            receiver = flow.responder if side == 0 else flow.initiator
            parties = {"client": flow.client, "server": flow.server, "src": sender, "dst": receiver}
            hosts = {ip for s, ip in ((0, flow.initiator), (1, flow.responder)) if self.party(flow, s)}
            conversation = self.party(flow, 0) and self.party(flow, 1)
            if g not in seen_flows and conversation:
                seen_flows.add(g)
                server = self._asset(flow.server, flow.first_ts)
                self._add_service(server, Service(protocol, flow.transport, flow.server_port), source)
                self._communication(flow).protocol = protocol  # confirmed by a valid message, not by the port
            if message.direction == REQUEST and conversation:
                comm = self._communication(flow)
                comm.actions[message.function_name] = comm.actions.get(message.function_name, 0) + 1
            ts = float(mb.ts[i])
            if message.direction == REQUEST and conversation and industrial:
                requests.append((g, ts, KIND_OF_ACTION.get(message.action, OTHER_KIND)))
            for fact in message.facts:
                if fact.about == ADDRESS:
                    self._addressed(fact, protocol, source, ts)
                    continue
                ip = parties[fact.about]
                if ip not in hosts:
                    continue
                if fact.kind == "point":
                    if conversation:
                        self._point(flow, protocol, message, fact.value, source, ts)
                else:
                    self._fact(fact, ip, protocol, source, ts)
        self._generic_polls(flows, requests)

    def observe_link(self, lb: LinkBatch) -> None:
        """Link-layer messages: every sending station is a device known by its MAC, and what a message says of
        its sender or receiver (identity, roles, names) is about the station with that MAC. The store lists it
        under the IP asset that MAC belongs to, or on its own when it has none."""
        for i, message in enumerate(lb.messages):
            ts = float(lb.ts[i])
            source = Source(lb.protocol, lb.file, int(lb.frame[i]))
            ends = {"src": lb.src[i], "dst": lb.dst[i]}
            sender = self._station(ends["src"], ts, source)
            if sender is not None:
                sender.packets += 1
            for fact in message.facts:
                if fact.about == ADDRESS:
                    self._addressed(fact, lb.protocol, source, ts)
                    continue
                station = self._station(ends.get(fact.about), ts, source)
                if station is not None:
                    self._fact(fact, station.mac, lb.protocol, source, ts, station)

    def _fact(self, fact: Fact, key: str, protocol: str, source: Source, ts: float,
              station: AssetDelta | None = None) -> None:
        """What a fact teaches of the device keyed ``key``: its IP, or its MAC when it is the ``station`` given."""
        if fact.kind == "role":
            self._role(key, f"{protocol}_{fact.value}", source, ts, station)
        elif fact.kind == "identity":
            self._identity(key, protocol, fact.value, source, ts, station)
        elif fact.kind == "module" and station is None:
            self._module(key, protocol, fact.value, source, ts)
        elif fact.kind == "hostname":
            self._name(key, str(fact.value), protocol, source, ts)

    def _addressed(self, fact: Fact, protocol: str, source: Source, ts: float) -> None:
        """A fact about a device that is not an end of the message. A name only names whatever asset has (or
        will have) that address: a DNS answer must not make the address an asset. Anything else (a device
        behind a router announcing itself) makes the device an asset, as if it had sent the message itself."""
        kind = address_kind(fact.address or "")
        if kind is None or (kind == "ip" and not self.is_host(fact.address)) or (
                kind == "mac" and not is_station(fact.address)):
            return
        if fact.kind == "mac":  # a lease: the device at this IP has this MAC, as sure as its own ARP reply
            if kind == "ip" and address_kind(str(fact.value)) == "mac" and is_station(fact.value):
                self.macs.saw_arp(fact.address, int(fact.value.replace(":", ""), 16),
                                  Source(protocol, source.file, source.frame, "address lease"))
        elif fact.kind == "hostname":
            self._name(fact.address, str(fact.value), protocol, source, ts)
        elif kind == "ip":
            self._fact(fact, fact.address, protocol, source, ts)
        else:
            station = self._station(fact.address, ts, source)
            if station is not None:
                self._fact(fact, station.mac, protocol, source, ts, station)

    def _name(self, address: str, name: str, protocol: str, source: Source, ts: float) -> None:
        """A name given to an address, kept with when and where (``NameDelta``); equal sightings add up."""
        name = name.strip().rstrip(".")
        if not name:
            return
        key = (address, name, protocol)
        delta = self.names.get(key)
        if delta is None:
            if len(self.names) >= MAX_NAMES:
                if self._names_refused == 0:
                    self._limits.append(("names_table_full", f"more than {MAX_NAMES:,} names in one flush: "
                                                             f"{address} named {name!r} by {protocol} not kept"))
                self._names_refused += 1
                return
            delta = self.names[key] = NameDelta(address, name, protocol, ts, ts, 0, source)
        delta.count += 1
        delta.first_seen, delta.last_seen = min(delta.first_seen, ts), max(delta.last_seen, ts)
        if (source.file, source.frame) < (delta.source.file, delta.source.frame):
            delta.source = source

    def _station(self, mac: str | None, ts: float, source: Source) -> AssetDelta | None:
        """The delta of the station with this unicast MAC (group addresses are no devices)."""
        if mac is None or (address_kind(mac) == "mac" and not is_station(mac)):
            return None
        station = self.stations.get(mac)
        if station is None:
            if len(self.stations) >= MAX_ADDRESSES:
                self.macs.refused += 1  # counted as mac_table_full
                return None
            vendor = mac_vendor(mac) if address_kind(mac) == "mac" else None
            station = self.stations[mac] = AssetDelta(ip="", first_seen=ts, last_seen=ts, mac=mac, mac_vendor=vendor)
            station.sources["mac"] = Source(source.proto, source.file, source.frame, "source MAC of its frames")
        station.first_seen, station.last_seen = min(station.first_seen, ts), max(station.last_seen, ts)
        return station

    def _point(self, flow: Flow, protocol: str, message: Message, point: Point, source: Source, ts: float) -> None:
        """A point read or written, in the protocol's own space; equal requests add up until the flush, and
        the store merges touching address ranges as it does for Modbus."""
        address = point.address if point.address is not None else 0
        if point.quantity > MAX_POINT_QUANTITY:
            self._limits.append(("point_range_too_wide", f"{protocol} {point.space} {address}+{point.quantity}: "
                                                         f"counted as {MAX_POINT_QUANTITY} points, values dropped"))
            point = Point(point.space, address, MAX_POINT_QUANTITY, point.access, point.name, None)
        key = (flow.client, flow.server, protocol, point.space, point.name or "", message.function_code,
               point.access, address, point.quantity)
        delta = self.protocol_points.get(key)
        if delta is None:
            delta = self.protocol_points[key] = PointDelta(
                flow.client, flow.server, 0, message.function_code, point.access, point.space, address,
                point.quantity, 0, ts, ts, source=source, protocol=protocol, name=point.name or "",
                function_name=message.function_name)
        delta.count += 1
        delta.first_seen, delta.last_seen = min(delta.first_seen, ts), max(delta.last_seen, ts)
        if point.access == "write" and point.values is not None and len(point.values) == point.quantity:
            delta.last_values = list(point.values)

    def _generic_polls(self, flows: list[Flow], requests: list[tuple[int, float, int]]) -> None:
        if requests:
            g, ts, kinds = (np.array(column) for column in zip(*requests))
            self._polls(flows, g.astype(np.int64), ts.astype(float), kinds.astype(np.int64))

    def _role(self, ip: str, role: str, source: Source, ts: float, asset: AssetDelta | None = None) -> None:
        asset = asset or self._asset(ip, ts)
        asset.roles.add(role)
        cite(asset.sources, f"role:{role}", source)

    def _module(self, ip: str, protocol: str, value: dict, source: Source, ts: float) -> None:
        """A card of the chassis behind ``ip``: what is known of each slot accumulates, as identities do."""
        slot = str(value.get("slot"))
        known = self._module_facts.setdefault((ip, slot), {"slot": value.get("slot")})
        for key, item in value.items():
            if item is not None and item != "":
                known.setdefault(key, item)
        known.setdefault("source", f"{protocol}, {source.file} frame {source.frame}")
        if len(known) > 2:  # more than the slot and its source: worth listing
            self._asset(ip, ts).modules[slot] = dict(sorted(known.items()))

    def _identity(self, ip: str, protocol: str, value: dict, source: Source, ts: float,
                  asset: AssetDelta | None = None) -> None:
        """Identity facts accumulate per device and protocol: a later message adds what an earlier lacked. The
        device's identity joins what every protocol said of it, the protocol with the earliest evidence first
        where two say different things (the store's ``merge.identities`` rule, so workers agree).
        ``ip`` is the device's key (its MAC for a station seen at layer 2, whose ``asset`` is given)."""
        known = self._identity_facts.setdefault((ip, protocol), {})
        for key, item in value.items():
            if item is not None and item != "":
                known.setdefault(key, item)
        first = self._identity_sources.get((ip, protocol))
        if first is None or (source.file, source.frame) < (first.file, first.frame):
            first = self._identity_sources[(ip, protocol)] = source  # the earliest, in any order (workers)
        self._identity_protocols.setdefault(ip, set()).add(protocol)
        told = sorted(((self._identity_sources[(ip, p)], p) for p in self._identity_protocols[ip]),
                      key=lambda sp: (sp[0].file, sp[0].frame, sp[1]))
        joined: dict[str, object] = {}
        for _, p in told:
            for key, item in self._identity_facts[(ip, p)].items():
                joined.setdefault(key, item)
        earliest, by = told[0]
        asset = asset or self._asset(ip, ts)
        core = {"vendor": joined.get("vendor"), "product": joined.get("product") or joined.get("model"),
                "revision": joined.get("revision") or joined.get("firmware")}
        details = tuple((k, v) for k, v in sorted(joined.items()) if k not in ("vendor", "product", "revision"))
        asset.identity = Identity(**{k: None if v is None else str(v) for k, v in core.items()},
                                  source=f"{by}, {earliest.file} frame {earliest.frame}", details=details)
        cite(asset.sources, "identity", earliest)

    # flush ------------------------------------------------------------------------------------
    def take(self) -> Deltas:
        """Hand over the deltas learned since the last flush, with MAC facts and services resolved."""
        for flow in self._pending_services.values():
            if flow.protocol is None:  # still no dissector: a plain transport service
                responder = self._asset(flow.responder, flow.first_ts)
                self._add_service(responder, Service(flow.transport, flow.transport, flow.resp_port),
                                  Source(flow.transport, flow.file, flow.first_frame, "answered"))
        self._pending_services = {}
        out = Deltas(list(self.assets.values()) + list(self.stations.values()), list(self.communications.values()),
                     self.points.take() + list(self.protocol_points.values()), list(self.polls.values()),
                     list(self.names.values()))
        self._reset()
        return out

def cite(sources: dict[str, Source], attribute: str, source: Source) -> None:
    """Record why we believe an attribute: the lowest (file name, frame) that showed it, whichever flow or worker
    met it first (the store keeps the same rule: ``merge.keep_first``)."""
    had = sources.get(attribute)
    if had is None or (source.file, source.frame) < (had.file, had.frame):
        sources[attribute] = source


def _sum_few(values: list[float]) -> float:
    """At most ``FEW_GAPS`` floats added as numpy's sum adds them, so that both ways of adding up polls agree to
    the last bit: from 0.0, left to right (numpy pairs terms differently only from three on)."""
    total = 0.0
    for value in values:
        total += value
    return total


def _identity(objects: dict[int, tuple[str, Source]]) -> Identity:
    def value(oid: int) -> str | None:
        return objects[oid][0] if oid in objects else None

    first_source = min((s for _, s in objects.values()), key=lambda s: s.frame)
    return Identity(
        vendor=value(0), product=value(1), revision=value(2),
        source=f"modbus 43/14 read device identification, {first_source.file} frame {first_source.frame}",
        vendor_url=value(3), product_name=value(4), model_name=value(5), user_application_name=value(6),
        extra=tuple((oid, v) for oid, (v, _) in sorted(objects.items()) if oid > 6),
    )


class _GrowingSet:
    """Integers that are only ever added, with their array for numpy's bulk membership (rebuilt when one was)."""

    def __init__(self) -> None:
        self._items: set[int] = set()
        self._array = np.empty(0, np.int64)

    def add(self, value: int) -> None:
        self._items.add(value)

    def __contains__(self, value: int) -> bool:
        return value in self._items

    def __len__(self) -> int:
        return len(self._items)

    def array(self) -> np.ndarray:
        if len(self._array) != len(self._items):
            self._array = np.fromiter(self._items, np.int64, len(self._items))
        return self._array
