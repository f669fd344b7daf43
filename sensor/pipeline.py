"""The one place that knows the order of the stages.

capture → decode → flows → dissectors → inventory (+ events) → store, batch by batch. Facts are
committed to the store every ``FLUSH_EVERY`` batches together with a per-file checkpoint, so a
run killed at any moment leaves a consistent database and the next run of the same file resumes
after the last committed frame instead of counting anything twice.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Callable

import numpy as np

from protocols import BUILTIN
from sensor.capture import CaptureError, FrameBatch
from sensor.capture.source import CaptureInput, open_inputs
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import SUPPORTED_LINKTYPES, decode
from sensor.decode.packets import Packets, Weird
from sensor.dissect.modbus import ModbusAnalyzer, ModbusBatch
from sensor.flows.dispatch import Dispatcher
from sensor.flows.table import TRANSPORT_NAMES, FlowTable
from sensor.inventory.observe import Inventory
from sensor.inventory.roles import infer_device_type
from sensor.progress import PCAP_RECORD_HEADER, Progress
from sensor.sinks.events import EventWriter
from sensor.sinks.flows import FlowWriter
from sensor.store import FileCheckpoint, Run, Store, StoreBatch

IP_PROTOCOL_NAMES = {**TRANSPORT_NAMES, -1: "ip", 2: "igmp", 47: "gre", 50: "esp", 89: "ospf", 132: "sctp"}
FLUSH_EVERY = 8  # batches between commits: bounds what a crash can lose and what memory holds
FINGERPRINT_BYTES = 1 << 20


@dataclass(slots=True)
class Options:
    events: IO[str] | None = None
    flows: IO[str] | None = None  # one JSON line per flow when it ends
    strict: bool = False
    modbus_ports: frozenset[int] = frozenset()
    fast_path: bool = True
    batch_frames: int = 65_536  # frames per batch: the unit of vectorised work and of checkpoints
    progress: Callable[[Progress], None] | None = None


@dataclass(slots=True)
class Summary:
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    packets: int = 0
    bytes: int = 0
    duration: float = 0.0  # seconds of traffic, summed over the inputs (each from its first to last frame)
    flows: int = 0
    protocols: Counter = field(default_factory=Counter)
    weirds: Counter = field(default_factory=Counter)
    assets: int = 0
    internal_errors: int = 0
    seconds: float = 0.0
    fast_rows: int = 0
    slow_rows: int = 0


def fingerprint(path: str) -> str | None:
    """Identifies a capture file by size and its first and last MiB; None for streams."""
    if not os.path.isfile(path):
        return None
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        digest.update(f.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            f.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(f.read())
    return digest.hexdigest()


class Pipeline:
    """State of one ``analyze`` run over several inputs."""

    def __init__(self, store: Store, options: Options) -> None:
        self.store = store
        self.options = options
        self.dispatcher = Dispatcher(BUILTIN, {"modbus": options.modbus_ports})
        self.flows = FlowTable(self.dispatcher.service_ports,
                               on_end=FlowWriter(options.flows) if options.flows is not None else None)
        self.fragments = FragmentReassembler()
        self.modbus = ModbusAnalyzer(fast_path=options.fast_path)
        self.inventory = Inventory()
        self.events = EventWriter(options.events) if options.events is not None else None
        self.summary = Summary()
        self._weird_counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._clock = time.perf_counter()

    def run(self, paths: list[str]) -> Summary:
        started = time.time()
        clock = self._clock = time.perf_counter()
        names = []
        for source in open_inputs(paths, skip_non_captures=True):
            names.append(source.name)
            try:
                self._analyze_input(source)
            except CaptureError as error:
                self.summary.errors.append(str(error))
            self.summary.warnings += source.warnings
        self._finish(names, started, time.perf_counter() - clock)
        return self.summary

    def _analyze_input(self, source: CaptureInput) -> None:
        name = source.name
        fp = fingerprint(name)
        size = os.path.getsize(name) if os.path.isfile(name) else 0  # 0: a stream (stdin, zip member)
        resume_after = 0
        if fp is not None:
            progress = self.store.file_progress(fp)
            if progress is not None and progress[1]:
                self.summary.skipped.append(name)
                return
            resume_after = progress[0] if progress else 0
        self.summary.files += 1
        batches = 0
        last_frame = resume_after
        consumed = 0
        unsupported: Counter[int] = Counter()
        first_ts, last_ts = float("inf"), float("-inf")
        for fb in source.batches(max_frames=self.options.batch_frames):
            consumed += int(fb.caplen.sum()) + PCAP_RECORD_HEADER * len(fb)
            unsupported.update(fb.linktype[~np.isin(fb.linktype, list(SUPPORTED_LINKTYPES))].tolist())
            if len(fb):
                first_ts, last_ts = min(first_ts, float(fb.ts.min())), max(last_ts, float(fb.ts.max()))
            if resume_after and fb.frame[-1] <= resume_after:
                continue
            if resume_after and fb.frame[0] <= resume_after:
                fb = _after(fb, resume_after)
            self._process(fb)
            last_frame = int(fb.frame[-1])
            batches += 1
            if self.options.progress is not None:
                self.options.progress(Progress(name, consumed, size, self.summary.packets,
                                               time.perf_counter() - self._clock))
            if batches % FLUSH_EVERY == 0:
                self._flush(FileCheckpoint(fp, name, size, last_frame, False) if fp else None)
        self.summary.duration += max(last_ts - first_ts, 0.0)
        for linktype, count in sorted(unsupported.items()):
            self.summary.warnings.append(f"{name}: link type {linktype} is not decoded; {count} frames only counted")
        self._end_of_input(name)
        self._flush(FileCheckpoint(fp, name, size, last_frame, True) if fp else None)

    def _process(self, fb: FrameBatch) -> None:
        s = self.summary
        s.packets += len(fb)
        s.bytes += int(fb.wirelen.sum())
        for packets in decode(fb, self.fragments):
            weirds = packets.weirds
            try:
                self._stages(packets, weirds)
            except Exception as error:  # traffic must never kill the sensor; strict runs (tests) re-raise
                if self.options.strict:
                    raise
                s.internal_errors += 1
                frame = int(packets.frame[0]) if len(packets) else 0
                weirds.append(Weird("internal_error", "sensor", fb.file, frame, 0.0, repr(error)))
            self._count_weirds(weirds)

    def _stages(self, packets: Packets, weirds: list[Weird]) -> None:
        s = self.summary
        arp = len(packets.arp.frame) if packets.arp is not None else 0
        if arp:
            self.inventory.observe_arp(packets.arp, packets.file)
            s.protocols["arp"] += arp
        if packets.non_ip > arp:
            s.protocols["other_non_ip"] += packets.non_ip - arp  # LLDP, STP, PROFINET DCP, ... (not decoded yet)
        fb = self.flows.update(packets, weirds)
        self.dispatcher.assign(fb)
        self.inventory.observe_flows(fb)
        protos, counts = np.unique(fb.packets.proto, return_counts=True)
        for proto, count in zip(protos.tolist(), counts.tolist()):
            s.protocols[IP_PROTOCOL_NAMES.get(proto, f"ip_proto_{proto}")] += count
        self._messages(self.modbus.analyze(fb, weirds), weirds)

    def _end_of_input(self, name: str) -> None:
        """Deliver what waits behind TCP holes, so nothing seen is left unparsed."""
        weirds: list[Weird] = []
        self._messages(self.modbus.flush(self.flows.flows(), name, weirds), weirds)
        self._count_weirds(weirds)

    def _messages(self, modbus: ModbusBatch | None, weirds: list[Weird]) -> None:
        """Dissected messages feed the inventory and, when asked for, the events file."""
        if modbus is not None:
            self.summary.protocols["modbus"] += len(modbus)
            self.inventory.observe_modbus(modbus)
        if self.events is not None:
            self.events.write(modbus, weirds)

    def _count_weirds(self, weirds: list[Weird]) -> None:
        for w in weirds:
            count, first = self._weird_counts.get((w.code, w.file), (0, w.frame))
            self._weird_counts[(w.code, w.file)] = (count + 1, min(first, w.frame))
            self.summary.weirds[w.code] += 1

    def _flush(self, checkpoint: FileCheckpoint | None) -> None:
        assets, comms, points, polls = self.inventory.take()
        batch = StoreBatch(assets=assets, points=points, communications=comms, polls=polls,
                           weirds=self._weird_counts, files=[checkpoint] if checkpoint else [],
                           macs=self.inventory.macs.corrections())
        self.store.commit(batch)
        self._weird_counts = {}

    def _finish(self, names: list[str], started: float, seconds: float) -> None:
        s = self.summary
        s.seconds = seconds
        s.flows = self.flows.total
        self.flows.close()
        s.fast_rows, s.slow_rows = self.modbus.fast_rows, self.modbus.slow_rows
        assets = self.store.assets()
        polls_by_client: dict[str, list[dict]] = {}
        for poll in self.store.polls():
            polls_by_client.setdefault(poll["client"], []).append(poll)
        types = [(a["ip"], *infer_device_type(a, polls_by_client.get(a["ip"], []))) for a in assets]
        run = Run(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                  time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), names, s.packets, s.bytes, round(seconds, 3))
        self.store.commit(StoreBatch(device_types=types, runs=[run]))
        s.assets = len(assets)


def _after(fb: FrameBatch, frame: int) -> FrameBatch:
    """The frames of a batch past a resume point."""
    keep = fb.frame > frame
    return FrameBatch(fb.data, fb.offset[keep], fb.caplen[keep], fb.wirelen[keep], fb.ts[keep], fb.linktype[keep],
                      fb.frame[keep], fb.file)


def format_summary(s: Summary) -> str:
    rate = s.packets / s.seconds if s.seconds > 0 else 0.0
    protocols = ", ".join(f"{name} {count}" for name, count in sorted(s.protocols.items(), key=lambda kv: -kv[1]))
    weird_total = sum(s.weirds.values())
    top_weirds = ", ".join(f"{code} {n}" for code, n in s.weirds.most_common(5))
    lines = [
        f"files       {s.files} analysed" + (f", {len(s.skipped)} already in the database" if s.skipped else "")
        + (f", {len(s.errors)} unreadable" if s.errors else ""),
        f"packets     {s.packets:,}",
        f"bytes       {s.bytes:,}",
        f"duration    {s.duration:,.3f} s of traffic",
        f"flows       {s.flows:,}",
        f"protocols   {protocols or '-'}",
        f"assets      {s.assets:,} in the inventory",
        f"weird       {weird_total:,}" + (f" ({top_weirds})" if top_weirds else ""),
        f"speed       {rate:,.0f} packets/s ({s.seconds:.2f} s)",
    ]
    if s.internal_errors:
        lines.append(f"internal errors {s.internal_errors} (see the weirds table, code internal_error)")
    return "\n".join(lines)
