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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Callable, Protocol

import numpy as np

from protocols import BUILTIN
from sensor.capture import CaptureError, FrameBatch
from sensor.capture.members import member_fingerprint
from sensor.capture.source import CaptureInput, open_inputs
from sensor.capture.span import OUTLIER_S, Span
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import SUPPORTED_LINKTYPES, decode
from sensor.decode.packets import Packets, Weird
from sensor.detect.engine import Detector
from sensor.dissect.generic import MessageBatch, ProtocolAnalyzer
from sensor.dissect.linklayer import LinkBatch, link_batches
from sensor.dissect.modbus import PROTOCOL as MODBUS
from sensor.dissect.modbus import ModbusAnalyzer, ModbusBatch
from sensor.flows.dispatch import Dispatcher
from sensor.flows.table import TRANSPORT_NAMES, Flow, FlowBatch, FlowTable
from sensor.inventory.observe import Inventory
from sensor.inventory.roles import infer_device_type
from sensor.progress import PCAP_RECORD_HEADER, Progress
from sensor.sinks.flows import FlowWriter
from sensor.store import FileCheckpoint, Run, Store, StoreBatch

if TYPE_CHECKING:  # the events writer and its tables load only when --events asks for them
    from sensor.sinks.events import EventWriter

IP_PROTOCOL_NAMES = {**TRANSPORT_NAMES, -1: "ip", 2: "igmp", 47: "gre", 50: "esp", 89: "ospf", 132: "sctp"}
FLUSH_EVERY = 8  # batches between commits: bounds what a crash can lose and what memory holds
FINGERPRINT_BYTES = 1 << 20


class MessageLog(Protocol):
    """An output that writes each batch's dissected messages and each flow as it ends."""

    def messages(self, modbus: ModbusBatch | None, others: list[MessageBatch]) -> None: ...

    def flow_ended(self, flow: Flow) -> None: ...


@dataclass(slots=True)
class Options:
    events: IO[str] | None = None
    flows: IO[str] | None = None  # one JSON line per flow when it ends
    strict: bool = False
    decode_as: frozenset[tuple[str, str, int]] = frozenset()  # (protocol, transport, port) beyond the registered
    fast_path: bool = True
    batch_frames: int = 65_536  # frames per batch: the unit of vectorised work and of checkpoints
    progress: Callable[[Progress], None] | None = None
    broadcasts: frozenset[str] = frozenset()  # directed broadcasts of the policy's networks: never assets
    detector: Detector | None = None  # signatures and baseline checks; None: no detection
    on_alerts: Callable[[list[dict]], None] | None = None  # hears every alert that began or grew, as it does
    on_assets: Callable[[list[str]], None] | None = None  # hears the keys of the assets each commit changed
    logs: MessageLog | None = None  # protocol logs written per batch and per ended flow (Zeek's, --zeek-logs)
    flush_seconds: float | None = None  # commit at least this often (live capture), besides every FLUSH_EVERY batches
    shard: tuple[int, int] | None = None  # (k, n): this is worker k of n (sensor.parallel); the run is theirs together


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
        return member_fingerprint(path)  # a zip archive's member, or a stream (None)
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
        extra: dict[str, frozenset[tuple[str, int]]] = {}
        for name, transport, port in options.decode_as:
            extra[name] = extra.get(name, frozenset()) | {(transport, port)}
        self.dispatcher = Dispatcher(BUILTIN, extra)
        enders = [FlowWriter(options.flows)] if options.flows is not None else []
        enders += [options.logs.flow_ended] if options.logs is not None else []
        self.inventory = Inventory(options.broadcasts)
        self.inventory.macs.keep_sightings = options.shard is not None
        self.flows = FlowTable(self.dispatcher.service_ports, on_end=_each(enders),
                               on_unanswered=self.inventory.observe_unanswered)
        self.logs = options.logs
        self.fragments = FragmentReassembler()
        self.modbus = ModbusAnalyzer(fast_path=options.fast_path)  # Modbus has a vectorised analyzer of its own
        self.analyzers = [ProtocolAnalyzer(spec) for spec in BUILTIN if spec.name != MODBUS]
        self.events = _event_writer(options.events) if options.events is not None else None
        self.detector = options.detector
        self.on_alerts = options.on_alerts
        self._alerts: list[dict] = []  # alerts that began or grew since the last commit
        self.summary = Summary()
        self._weird_counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._clock = time.perf_counter()
        self._state_of: list[str] = []  # fingerprints of the inputs whose flow state the pipeline holds
        self._complete: dict[str, CaptureInput] = {}  # inputs of this command the database already has whole
        self._muted = False
        self._flushed = time.monotonic()
        # a worker's batches are shares of the reader's: it commits after as many frames as one process would
        self._flush_every = FLUSH_EVERY * (options.shard[1] if options.shard else 1)
        self._flush_offset = FLUSH_EVERY * options.shard[0] if options.shard else 0  # workers take turns to commit
        self._hidden_summary = Summary()  # swapped in while muted (see _mute)
        self._hidden_events: EventWriter | None = None
        self._hidden_logs: MessageLog | None = None
        self._hidden_on_end: Callable[[Flow], None] | None = None
        self._hidden_on_alerts: Callable[[list[dict]], None] | None = None

    def run(self, paths: list[str]) -> Summary:
        return self.run_inputs(open_inputs(paths, skip_non_captures=True))

    def run_inputs(self, inputs: Iterable[CaptureInput]) -> Summary:
        """Analyse these inputs in order: files, or a live capture whose ``batches()`` ends when it is stopped."""
        started = time.time()
        clock = self._clock = time.perf_counter()
        names = []
        for source in inputs:
            names.append(source.name)
            try:
                self._analyze_input(source)
            except CaptureError as error:
                self.summary.errors.append(str(error))
            self.summary.warnings += source.warnings
        self._finish(names, started, time.perf_counter() - clock)
        return self.summary

    def _analyze_input(self, source: CaptureInput) -> None:
        """Analyse one input, or skip it when the database has all of it.

        A file the database has part of is *replayed*: read again from its first frame with every stage
        running but nothing stored or written up to its checkpoint, so flows, reassembly and pairing
        stand exactly where one uninterrupted run had them, and from there on it is that run. Flow state
        carries from one input to the next, so the inputs analysed before it in its first run (recorded
        with its checkpoint) are replayed first when this command names them too.
        """
        name = source.name
        fp = shard_key(fingerprint(name), self.options.shard)
        progress = self.store.file_progress(fp) if fp is not None else None
        if progress is not None and progress.complete:
            self.summary.skipped.append(name)
            self._complete[fp] = source
            return
        resume_after = progress.frames_done if progress is not None else 0
        if resume_after and progress.after != tuple(self._state_of):
            self._replay_state(name, progress.after)
        self.summary.files += 1
        self._read(source, fp, resume_after)
        self._state_of.append(fp or "-")

    def _replay_state(self, name: str, inputs: tuple[str, ...]) -> None:
        """Rebuild the state the first run carried into ``name`` by replaying the inputs before it."""
        if self._state_of or not all(fp in self._complete for fp in inputs):
            self.summary.warnings.append(
                f"{name}: resumed without the state of the inputs analysed before it in its first run;"
                " connections open across them are picked up mid-stream")
            return
        for fp in inputs:
            self._read(self._complete[fp], fp, resume_after=0, replay_only=True)
            self._state_of.append(fp)

    def _read(self, source: CaptureInput, fp: str | None, resume_after: int, replay_only: bool = False) -> None:
        """Run the stages over one input. Frames up to ``resume_after`` (all of them with ``replay_only``)
        only rebuild state: their facts were stored by an earlier run."""
        name = source.name
        size = os.path.getsize(name) if os.path.isfile(name) else 0  # 0: a stream (stdin, zip member)
        after = tuple(self._state_of)
        muted = resume_after if not replay_only else float("inf")
        if muted:
            self._mute(True)
        batches = 0
        last_frame = 0
        consumed = 0
        unsupported: Counter[int] = Counter()
        span = Span()
        whole_input = self.options.shard is None  # a worker sees a share: the input's own facts are the reader's
        for whole in source.batches(max_frames=self.options.batch_frames):
            if whole_input:
                holes = skipped_records(whole, last_frame)
                self._count_weirds(holes)
                if holes and self.events is not None:
                    self.events.write(None, [], holes)
                unsupported.update(whole.linktype[~np.isin(whole.linktype, list(SUPPORTED_LINKTYPES))].tolist())
            consumed += int(whole.caplen.sum()) + PCAP_RECORD_HEADER * len(whole)
            if len(whole):
                self._time_outliers(whole.file, span.add(whole.ts, whole.frame), whole_input)
            for fb in _split(whole, muted):
                self._process(fb)
                last_frame = int(fb.frame[-1]) if len(fb) else last_frame  # a worker's share may be empty
                if self._muted and last_frame >= muted:  # the checkpoint: from here on this is the first run
                    self._flush(None)
                    self._mute(False)
            batches += 1
            if self.options.progress is not None:
                self.options.progress(Progress(name, consumed, size, self.summary.packets,
                                               time.perf_counter() - self._clock))
            if (batches + self._flush_offset) % self._flush_every == 0 or self._due():
                self._flush(FileCheckpoint(fp, name, size, last_frame, False, after) if fp else None)
        seconds, last_outlier = span.finish()
        self._time_outliers(name, last_outlier, whole_input)
        if not replay_only and whole_input:
            self.summary.duration += seconds
            self.summary.warnings += unsupported_warnings(name, unsupported)
        self._end_of_input(name)
        self._flush(FileCheckpoint(fp, name, size, last_frame, True, after) if fp else None)
        self._mute(False)


    def _mute(self, on: bool) -> None:
        """While muted the stages run for their state only: no counts, files or commits."""
        if on == self._muted:
            return
        self._muted = on
        self.summary, self._hidden_summary = self._hidden_summary, self.summary
        self.events, self._hidden_events = self._hidden_events, self.events
        self.logs, self._hidden_logs = self._hidden_logs, self.logs
        self.flows.on_end, self._hidden_on_end = self._hidden_on_end, self.flows.on_end
        self.on_alerts, self._hidden_on_alerts = self._hidden_on_alerts, self.on_alerts

    def _process(self, fb: FrameBatch) -> None:
        s = self.summary
        s.packets += len(fb)
        s.bytes += int(fb.wirelen.sum())
        for packets in decode(fb, self.fragments):
            weirds = packets.weirds
            with self._guard(weirds, fb.file, int(packets.frame[0]) if len(packets) else 0):
                self._stages(packets, weirds)
            self._count_weirds(weirds)
        now = fb.clock if fb.clock is not None else float(fb.ts.max()) if len(fb) else None
        if now is not None:  # what waited too long ends by the reader's clock, the same for every worker
            self.flows.expire(now)
            abandoned = self.fragments.expire(now)
            self._count_weirds(abandoned)
            if abandoned and self.events is not None:
                self.events.write(None, [], abandoned)

    @contextmanager
    def _guard(self, weirds: list[Weird], file: str, frame: int) -> Iterator[None]:
        """Traffic must never kill the sensor: an unexpected error is counted as a weird and the run goes
        on. Strict runs (the tests) re-raise it; so does every run for OSError, which is the machine's."""
        try:
            yield
        except OSError:
            raise  # the machine, not the traffic: an output that cannot be written ends the run
        except Exception as error:
            if self.options.strict:
                raise
            self.summary.internal_errors += 1
            weirds.append(Weird("internal_error", "sensor", file, frame, 0.0, repr(error)))

    def _stages(self, packets: Packets, weirds: list[Weird]) -> None:
        s = self.summary
        arp = len(packets.arp.frame) if packets.arp is not None else 0
        if arp:
            self.inventory.observe_arp(packets.arp, packets.file)
            s.protocols["arp"] += arp
        links, decoded = link_batches(packets, BUILTIN, weirds)  # link-layer protocols, by ethertype
        if packets.non_ip > arp + decoded:
            s.protocols["other_non_ip"] += packets.non_ip - arp - decoded  # LLDP, STP, PROFINET I/O, ... (not decoded)
        for batch in links:
            s.protocols[batch.protocol] += len(batch)
            self.inventory.observe_link(batch)
        if links and self.events is not None:
            self.events.hold(links)  # written with this batch's other events, in frame order
        fb = self.flows.update(packets, weirds)  # without the rows of unanswered attempts (sensor.flows.half_open)
        self.dispatcher.assign(fb)
        self.inventory.observe_flows(fb)
        protos, counts = np.unique(packets.proto[packets.ip_version != 0], return_counts=True)
        for proto, count in zip(protos.tolist(), counts.tolist()):
            s.protocols[IP_PROTOCOL_NAMES.get(proto, f"ip_proto_{proto}")] += count
        modbus = self.modbus.analyze(fb, weirds)
        present = {flow.protocol for flow in fb.flows}  # an analyzer reads only its protocol's flows: skip the rest
        others = [batch for analyzer in self.analyzers
                  if analyzer.spec.name in present and (batch := analyzer.analyze(fb, weirds)) is not None]
        self.inventory.observe_gaps(fb.flows)
        for code, detail in self.inventory.limits_hit():
            weirds.append(Weird(code, "inventory", packets.file, int(packets.frame[-1]), float(packets.ts[-1]), detail))
        self._messages(modbus, others, weirds, fb, links=links)

    def _end_of_input(self, name: str) -> None:
        """Deliver what waits behind TCP holes, so nothing seen is left unparsed."""
        weirds: list[Weird] = []
        with self._guard(weirds, name, 0):
            self.flows.end_attempts()
            flows = self.flows.flows()
            others = [batch for analyzer in self.analyzers if (batch := analyzer.flush(flows, name, weirds)) is not None]
            self._messages(self.modbus.flush(flows, name, weirds), others, weirds, None, name)
            self.inventory.observe_gaps(flows)
        limits = [Weird(code, "inventory", name, 0, 0.0, detail) for code, detail in self.inventory.limits_hit()]
        if limits and self.events is not None:
            self.events.write(None, [], limits)  # hit by the last batch's messages, after its events were written
        self._count_weirds(weirds + limits)

    def _messages(self, modbus: ModbusBatch | None, others: list[MessageBatch], weirds: list[Weird],
                  fb: FlowBatch | None, file: str = "", links: Sequence[LinkBatch] = ()) -> None:
        """Dissected messages feed the inventory, detection and, when asked for, the events file."""
        if modbus is not None:
            self.summary.protocols[MODBUS] += len(modbus)
            self.inventory.observe_modbus(modbus)
        for batch in others:
            self.summary.protocols[batch.protocol] += len(batch)
            self.inventory.observe_messages(batch)
        if self.detector is not None:
            self.detector.observe(fb.packets.file if fb is not None else file, modbus, others, fb, weirds, links)
        if self.events is not None:
            self.events.write(modbus, others, weirds)
        if self.logs is not None:
            self.logs.messages(modbus, others)

    def _alert(self, alerts: list[dict]) -> None:
        """Alerts go to the store at the next commit and, as they happen, to whoever listens."""
        if not alerts or self._muted:  # muted: an earlier run stored and wrote these already
            return
        self._alerts += alerts
        if self.on_alerts is not None:
            self.on_alerts(alerts)

    def _time_outliers(self, file: str, found: list[tuple[int, float]], whole_input: bool) -> None:
        """Frames stamped far from both neighbours (sensor.capture.span): weirds, left out of the duration."""
        if not found or not whole_input:
            return
        weirds = time_outliers(file, found)
        self._count_weirds(weirds)
        if self.events is not None:
            self.events.write(None, [], weirds)

    def _count_weirds(self, weirds: list[Weird]) -> None:
        tally(weirds, self._weird_counts)
        self.summary.weirds.update(w.code for w in weirds)

    @property
    def last_commit(self) -> float:
        """``time.monotonic()`` of the last commit."""
        return self._flushed

    def commit_if_due(self) -> None:
        """Between batches: commit when ``flush_seconds`` passed since the last commit (a live capture gone quiet)."""
        if self._due():
            self._flush(None)

    def _due(self) -> bool:
        """A live capture's state must never be older than ``flush_seconds`` in the database."""
        every = self.options.flush_seconds
        return every is not None and time.monotonic() - self._flushed >= every

    def _flush(self, checkpoint: FileCheckpoint | None) -> None:
        self._flushed = time.monotonic()
        if self.detector is not None:  # alerts that grew are written at commits, not per batch: each copy is whole
            self._alert(self.detector.changed())
        deltas = self.inventory.take()
        # workers leave MACs to the run, which weighs all their evidence at the end (sensor.parallel)
        sharded = self.options.shard is not None
        macs = self.inventory.macs.changes([a.ip for a in deltas.assets if a.ip]) if not sharded else []
        batch = StoreBatch(assets=deltas.assets, points=deltas.points, communications=deltas.communications,
                           polls=deltas.polls, names=deltas.names,
                           scans=self.inventory.scans.take(),
                           weirds=self._weird_counts, files=[checkpoint] if checkpoint else [],
                           macs=macs, alerts=self._alerts,
                           mac_sightings=self.inventory.macs.take_sightings() if sharded else [],
                           fold_stations=self.options.flush_seconds is not None)  # live: now; offline: at the end
        self._weird_counts = {}
        self._alerts = []
        if not self._muted:  # muted: an earlier run stored these facts already
            self.store.commit(batch)
            if self.options.on_assets is not None and deltas.assets:
                self.options.on_assets(sorted({a.key for a in deltas.assets}))

    def _finish(self, names: list[str], started: float, seconds: float) -> None:
        s = self.summary
        s.seconds = seconds
        s.flows = self.flows.total
        self.flows.close()
        s.fast_rows, s.slow_rows = self.modbus.fast_rows, self.modbus.slow_rows
        if self.options.shard is None:  # the workers' run is recorded once, by the process that started them
            record_run(self.store, names, started, s)


def record_run(store: Store, names: list[str], started: float, s: Summary) -> None:
    """What is settled once the run's facts are all in: stations folded into the IP assets their MACs turned out
    to be, device types, and the run's own record."""
    store.commit(StoreBatch(fold_stations=True))
    assets = store.assets(with_points=False)  # types need roles, services and unit ids; points are the bulk
    polls_by_client: dict[str, list[dict]] = {}
    for poll in store.polls():
        polls_by_client.setdefault(poll["client"], []).append(poll)
    types = [(a["ip"] or a["mac"], *infer_device_type(a, polls_by_client.get(a["ip"], []))) for a in assets]
    run = Run(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), names, s.packets, s.bytes, round(s.seconds, 3))
    store.commit(StoreBatch(device_types=types, runs=[run]))
    s.assets = len(assets)


def tally(weirds: list[Weird], counts: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Add weirds to the store's rows of them: (code, file) -> (count, first frame)."""
    for w in weirds:
        count, first = counts.get((w.code, w.file), (0, w.frame))
        counts[(w.code, w.file)] = (count + 1, min(first, w.frame))


def shard_key(fp: str | None, shard: tuple[int, int] | None) -> str | None:
    """A file's checkpoint key: its fingerprint, and for worker k of n ``FP#k/n`` (each worker resumes its share)."""
    if fp is None or shard is None:
        return fp
    return f"{fp}#{shard[0]}/{shard[1]}"


def skipped_records(fb: FrameBatch, previous: int) -> list[Weird]:
    """The reader skips a record it cannot take (an oversized caplen between sound records) but keeps
    its frame number, as tshark does: each hole in the numbering is a counted weird."""
    if not len(fb):
        return []
    numbers = np.r_[previous, fb.frame]
    holes = np.nonzero(np.diff(numbers) > 1)[0]
    return [Weird("capture_record_skipped", "capture", fb.file, frame, float(fb.ts[i]),
                  "record skipped by the reader (see the warning)")
            for i in holes.tolist() for frame in range(int(numbers[i]) + 1, int(numbers[i + 1]))]


def time_outliers(file: str, found: list[tuple[int, float]]) -> list[Weird]:
    """The weirds of frames Span left out of an input's duration (one process and the sharding reader alike)."""
    return [Weird("capture_time_outlier", "capture", file, frame, ts,
                  f"stamped more than {OUTLIER_S:,.0f} s from both neighbouring frames; left out of the duration")
            for frame, ts in found]


def unsupported_warnings(name: str, unsupported: Counter[int]) -> list[str]:
    return [f"{name}: link type {linktype} is not decoded; {count} frames only counted"
            for linktype, count in sorted(unsupported.items())]


def _event_writer(out: IO[str]) -> EventWriter:
    from sensor.sinks.events import EventWriter

    return EventWriter(out)


def _each(calls: list[Callable[[Flow], None]]) -> Callable[[Flow], None] | None:
    """One flow-end hook that calls every output's, or None when there is none."""
    if len(calls) <= 1:
        return calls[0] if calls else None
    return lambda flow: [call(flow) for call in calls] and None


def _split(fb: FrameBatch, frame: float) -> list[FrameBatch]:
    """The batch, cut after ``frame`` when that falls inside it (a rerun with other batch sizes)."""
    if not len(fb) or not fb.frame[0] <= frame < fb.frame[-1]:
        return [fb]
    return [frame_rows(fb, fb.frame <= frame), frame_rows(fb, fb.frame > frame)]


def frame_rows(fb: FrameBatch, keep: np.ndarray) -> FrameBatch:
    """The frames where ``keep`` holds, sharing the byte buffer."""
    return FrameBatch(fb.data, fb.offset[keep], fb.caplen[keep], fb.wirelen[keep], fb.ts[keep], fb.linktype[keep],
                      fb.frame[keep], fb.file, fb.clock)


def format_summary(s: Summary) -> str:
    rate = s.packets / s.seconds if s.seconds > 0 else 0.0
    most_first = lambda kv: (-kv[1], kv[0])  # noqa: E731 - ties by name, whatever order the counts came in
    dissected = {spec.name for spec in BUILTIN}  # counted in messages; transports, arp and the rest in packets
    counts = sorted(s.protocols.items(), key=most_first)
    protocols = "; ".join(
        f"{', '.join(f'{name} {count:,}' for name, count in part)} {unit}"
        for unit, part in (("packets", [kv for kv in counts if kv[0] not in dissected]),
                           ("messages", [kv for kv in counts if kv[0] in dissected])) if part)
    weird_total = sum(s.weirds.values())
    top_weirds = ", ".join(f"{code} {n}" for code, n in sorted(s.weirds.items(), key=most_first)[:5])
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
