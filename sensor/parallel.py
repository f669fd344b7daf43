"""``analyze --workers N``: the pipeline on N cores, each worker on its share of the conversations.

The starting process reads every input once and shares each batch out by a hash of the frame's unordered
address pair (``shard_of``), so both directions of a conversation, and every other conversation between the same
two hosts, reach the same worker: what the inventory and the detection compute per pair of hosts (polls,
channels, bursts, baselines) is then what one process computes. Frames without an IP header (ARP, LLDP,
PROFINET DCP) all go to worker 0. The reader does as little as it can per batch, as it shares the cores with
the workers: it copies the batch once into a block of shared memory (``sensor.batch_ring``) with the worker of
each frame, and sends every worker the same small ticket; each worker picks its own frames out of the block
(``frame_rows``) and lets the block go when it is done with them. A batch that does not fit, or that finds no
block free, is sent pickled instead, each worker its share. The shared memory is anonymous and inherited by the
forked workers: nothing is left in /dev/shm however the run ends. Each worker runs the whole pipeline on its
share and merges its facts into the one database, as separate runs merge today (every commit is one transaction;
SQLite serialises the writers), with a checkpoint of its own per file (``FP#k/n``): a run that was killed resumes
with the same N. What belongs to the whole run is done once the workers are done, by the starting process: the
input's own facts (frames the reader skipped, link types not decoded, its duration), device types, the run
record, the output files (each worker writes a part; they are merged by frame), and the policy check (by the
caller).
"""
from __future__ import annotations

import dataclasses
import heapq
import json
import os
import queue
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import IO, Any

import numpy as np

from sensor.batch_ring import BatchRing, Ticket
from sensor.capture import CaptureError, FrameBatch
from sensor.capture.chunks import DEFAULT_MAX_BYTES, MAX_CAPLEN
from sensor.capture.source import CaptureInput
from sensor.capture.span import Span
from sensor.decode.layers import SUPPORTED_LINKTYPES, address_pairs
from sensor.decode.packets import Weird
from sensor.inventory.macs import MacBook
from sensor.inventory.oui import mac_vendor
from sensor.pipeline import (
    Options,
    Pipeline,
    Summary,
    fingerprint,
    frame_rows,
    record_run,
    skipped_records,
    tally,
    time_outliers,
    unsupported_warnings,
)
from sensor.progress import PCAP_RECORD_HEADER, Progress
from sensor.store import Store, StoreBatch

# Batches waiting for each worker: how far the reader may run ahead of the slowest worker. Shares are uneven for
# a while (a stretch of a capture whose busy host pairs hash 10 to 6), and only a reader running ahead lets the
# other worker work ahead meanwhile. Simulating the queues on modbus_5m_apart's shares, with a reader costing
# nothing, two workers do at best 1.72x one with 4, 1.88x with 8. Each batch waiting holds a block of the ring.
QUEUE_BATCHES = 8
RING_BLOCKS = QUEUE_BATCHES + 3  # the slowest worker's queue, its batch, the one it has not let go yet, the next
RING_BYTES = DEFAULT_MAX_BYTES + MAX_CAPLEN  # a batch's frames: one chunk of the reader (larger ones are pickled)
ONE_PROCESS = {"learn_for": "--learn-for"}  # not sharded yet: the baseline is learned by one process
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
_FRAME = re.compile(rb'"frame": ?(\d+)')
_FILE = re.compile(rb'"file": ?"((?:[^"\\]|\\.)*)"')


class WorkerFailed(RuntimeError):
    """A worker stopped with an error; the run stops and the database keeps its last checkpoints."""


def shard_of(fb: FrameBatch, n: int) -> np.ndarray:
    """The worker of each frame: a hash of its unordered address pair, modulo ``n``; 0 without IP. In the
    smallest unsigned type that holds ``n - 1``, as the ring carries it."""
    ip, s_hi, s_lo, d_hi, d_lo = address_pairs(fb)
    if s_hi.any() or d_hi.any():  # IPv6 in the batch: order the pairs by (hi, lo)
        src_low = (s_hi < d_hi) | ((s_hi == d_hi) & (s_lo <= d_lo))
        low = np.where(src_low, s_hi, d_hi) * _MIX[0] ^ np.where(src_low, s_lo, d_lo)
        high = np.where(src_low, d_hi, s_hi) * _MIX[0] ^ np.where(src_low, d_lo, s_lo)
    else:  # the same values for IPv4 alone (hi = 0), in a few passes instead of a dozen: the reader's time
        low, high = np.minimum(s_lo, d_lo), np.maximum(s_lo, d_lo)
    low *= _MIX[0]
    high *= _MIX[1]
    low ^= high
    low ^= low >> np.uint64(29)
    if n & (n - 1):
        low %= np.uint64(n)
    else:
        low &= np.uint64(n - 1)  # the same as % for a power of two, cheaper
    low *= ip  # 0 without IP
    return low.astype(np.min_scalar_type(n - 1))


def workers_for(args: Any, one_process: Mapping[str, str] = ONE_PROCESS) -> tuple[int, str | None]:
    """How many workers this run uses, and a note when it uses fewer than asked (``one_process``: the options,
    by attribute, that keep a run in one process, with their flags)."""
    asked = getattr(args, "workers", 1)
    single = [flag for attr, flag in one_process.items() if getattr(args, attr, None)]
    if asked > 1 and single:
        return 1, f"{', '.join(single)} runs in one process: --workers {asked} ignored"
    return asked, None


def run_sharded(inputs: Iterable[CaptureInput], n: int, db: str, options: Options,
                outputs: dict[str, IO[str]], alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]],
                store: Store) -> tuple[Summary, set[str]]:
    """Analyse the inputs with ``n`` workers into ``db``; return the run's summary and the ids of the alerts
    the workers raised. ``outputs`` are the open events/flows/alerts files (by option name) the workers' parts
    are merged into; ``alert_writer(part)`` makes a worker's on-alerts hook writing to its part. Inputs that
    share themselves out (a live capture's AF_PACKET fanout, sensor.live.workers) run their own way."""
    shares_itself = getattr(inputs, "run_sharded", None)
    if shares_itself is not None:
        return shares_itself(n, db, options, outputs, alert_writer, store)
    import multiprocessing  # only for runs that use it: start-up time is every command's

    from sensor.sinks.zeek.parts import merge_parts, part_folder, remove_parts

    ctx = multiprocessing.get_context("fork")  # the ring is inherited, not named: fork only
    ring = BatchRing(n, RING_BLOCKS, options.batch_frames, RING_BYTES)
    queues = [ctx.Queue(QUEUE_BATCHES) for _ in range(n)]
    results = ctx.Queue()
    parts = {kind: [f"{out.path}.part{k}" for k in range(n)] for kind, out in outputs.items()}  # type: ignore[attr-defined]
    zeek_parts = [part_folder(options.logs.folder, k) for k in range(n)] if options.logs is not None else []
    workers = [ctx.Process(target=_work, args=(k, n, db, options, {kind: p[k] for kind, p in parts.items()},
                                               alert_writer, ring, queues[k], results), daemon=True)
               for k in range(n)]
    for worker in workers:
        worker.start()
    summary, names, holes = Summary(), [], []  # holes: records the reader skipped, the input's own weirds
    started, clock = time.time(), time.perf_counter()
    read = 0  # frames read so far, for the progress line
    finished = False
    try:
        for source in inputs:
            names.append(source.name)
            if _already_done(store, source.name, n):
                summary.skipped.append(source.name)
                continue
            summary.files += 1
            _send_all(queues, workers, ("begin", source.name))
            try:
                read = _share(source, n, options, ring, queues, workers, summary, holes, clock, read)
            except CaptureError as error:
                summary.errors.append(str(error))
            summary.warnings += source.warnings
            _send_all(queues, workers, ("end",))
        _send_all(queues, workers, ("done",))
        ids = _collect(results, workers, summary)
        names_order = {name: i for i, name in enumerate(names)}
        for kind, out in outputs.items():
            _merge_parts(parts[kind], out, names_order, by_frame=kind != "alerts")
        if options.logs is not None:
            merge_parts(options.logs.folder, zeek_parts, options.logs.fmt)
        finished = True
    finally:
        if not finished:  # what no worker will read must not hold up the exit: the queue's feeding thread,
            for q in queues:  # blocked on a full pipe, would be joined when the process ends, and never return
                q.cancel_join_thread()
        for worker in workers:
            worker.join(timeout=5 if finished else 0)  # a run that failed does not wait for the others
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for path in (path for worker_parts in parts.values() for path in worker_parts if os.path.exists(path)):
            os.remove(path)  # a failed run leaves no parts behind
        remove_parts(zeek_parts)
    if holes and "events" in outputs:
        from sensor.sinks.events import EventWriter

        EventWriter(outputs["events"]).write(None, [], holes)
    finish_run(store, names, started, clock, summary, holes)
    return summary, ids


def finish_run(store: Store, names: list[str], started: float, clock: float, summary: Summary,
               holes: list[Weird]) -> None:
    """What belongs to the whole run once its workers are done: the inputs' own weirds (``holes``), every MAC
    weighed on all the workers' evidence, and the run's record (``started``: wall clock, ``clock``: perf_counter)."""
    summary.seconds = time.perf_counter() - clock
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    tally(holes, counts)
    store.commit(StoreBatch(weirds=counts))
    store.commit(StoreBatch(macs=weigh_macs(store)))
    record_run(store, names, started, summary)


def weigh_macs(store: Store) -> list[tuple[str, str | None, str | None, Any]]:
    """Every IP asset's MAC as one process would believe it, from the evidence all workers stored (MacBook)."""
    book = MacBook.from_sightings(store.mac_sightings())
    out = []
    for asset in store.assets(with_points=False):
        if not asset["ip"]:
            continue
        best = book.best(asset["ip"])
        mac, source = best if best is not None else (None, None)
        if mac != asset["mac"] or (source.to_json() if source else None) != asset["sources"].get("mac"):
            out.append((asset["ip"], mac, mac_vendor(mac) if mac else None, source))
    return out


def _share(source: CaptureInput, n: int, options: Options, ring: BatchRing, queues: list, workers: list,
           summary: Summary, holes: list[Weird], clock: float, read: int) -> int:
    """Read one input and send each worker its share of every batch; keep the input's own facts. Returns the
    frames read so far in the run (``read`` before this input)."""
    size = os.path.getsize(source.name) if os.path.isfile(source.name) else 0
    consumed, last_frame = 0, 0
    span, outliers = Span(), []
    unsupported: Counter[int] = Counter()
    for whole in source.batches(max_frames=options.batch_frames):
        skipped = skipped_records(whole, last_frame)
        holes += skipped
        summary.weirds.update(w.code for w in skipped)
        unsupported.update(whole.linktype[~np.isin(whole.linktype, list(SUPPORTED_LINKTYPES))].tolist())
        if len(whole):
            outliers += span.add(whole.ts, whole.frame)
            last_frame = int(whole.frame[-1])
        consumed += int(whole.caplen.sum()) + PCAP_RECORD_HEADER * len(whole)
        read += len(whole)
        shard = shard_of(whole, n)
        now = float(whole.ts.max()) if len(whole) else None  # every worker keeps the reader's time
        ticket = ring.put(whole, shard)
        if ticket is not None:
            _send_all(queues, workers, ("ring", ticket, now))
        else:  # no block free (the pipeline kept views of earlier batches) or a batch too large: pickled
            for k, (q, worker) in enumerate(zip(queues, workers)):
                share = frame_rows(whole, np.flatnonzero(shard == k))
                share.clock = now
                _send(q, worker, ("batch", share))
        if options.progress is not None:
            options.progress(Progress(source.name, consumed, size, read, time.perf_counter() - clock))
    seconds, last = span.finish()
    odd = time_outliers(source.name, outliers + last)
    holes += odd
    summary.weirds.update(w.code for w in odd)
    summary.duration += seconds
    summary.warnings += unsupported_warnings(source.name, unsupported)
    return read


def _already_done(store: Store, name: str, n: int) -> bool:
    """Whether the database has all of this file, from one process or from every worker of a run like this
    one. A file that workers of another count left unfinished cannot be resumed by these: that is a fault."""
    fp = fingerprint(name)
    if fp is None:
        return False
    whole = store.file_progress(fp)
    if whole is not None:
        if whole.complete:
            return True
        raise WorkerFailed(f"{name}: partly analysed by one process; finish it with --workers 1")
    shards = store.shard_progress(fp)
    others = {count for (_, count) in shards if count != n}
    if others:
        raise WorkerFailed(f"{name}: partly analysed with --workers {min(others)}; finish it with that many")
    return len(shards) == n and all(p.complete for p in shards.values())


def _work(k: int, n: int, db: str, options: Options, parts: dict[str, str],
          alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]], ring: BatchRing, inbox: Any,
          results: Any) -> None:
    """One worker: the pipeline over what the inbox brings."""
    die_with_parent()
    run_worker(k, n, db, options, parts, alert_writer, results, lambda _pipeline: _received(inbox, ring, k))


def run_worker(k: int, n: int, db: str, options: Options, parts: dict[str, str],
               alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]], results: Any,
               inputs: Callable[[Pipeline], Iterable[CaptureInput]],
               on_assets: Callable[[list[str]], None] | None = None) -> None:
    """Worker ``k`` of ``n``: the pipeline over ``inputs(pipeline)``, into its own connection to the database;
    its result (``add_result``) is put on ``results``. ``on_assets`` hears the keys each of its commits changed
    (live workers tell the starting process, whose AssetFeed reads the merged rows); None: nobody does."""
    try:
        with ExitStack() as stack:
            store = stack.enter_context(Store.open(db))
            files = {kind: stack.enter_context(open(path, "w", encoding="utf-8")) for kind, path in parts.items()}
            ids: set[str] = set()
            write_alerts = alert_writer(files.get("alerts"))

            def on_alerts(alerts: list[dict]) -> None:
                ids.update(a["id"] for a in alerts)
                write_alerts(alerts)

            logs = stack.enter_context(options.logs.part(k)) if options.logs is not None else None
            mine = dataclasses.replace(options, events=files.get("events"), flows=files.get("flows"),
                                       on_alerts=on_alerts, progress=None, on_assets=on_assets, logs=logs,
                                       shard=(k, n))
            pipeline = Pipeline(store, mine)
            summary = pipeline.run_inputs(inputs(pipeline))
        results.put(("ok", k, summary, ids))
    except BaseException as error:  # noqa: BLE001 - whatever stops a worker is reported by the run
        results.put(("error", k, f"{type(error).__name__}: {error}", None))


def die_with_parent() -> None:
    """A run that is killed (SIGKILL, the OOM killer) takes its workers with it, as one process would end: what
    they committed stays, nothing more is written (Linux's PR_SET_PDEATHSIG; elsewhere they end at the next read)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _SharedInput:
    """An input as a worker sees it: the batches of its share, as the reader sends them."""

    def __init__(self, name: str, inbox: Any, ring: BatchRing, k: int) -> None:
        self.name = name
        self.warnings: list[str] = []  # the reader's, reported once by the run
        self._inbox, self._ring, self._k = inbox, ring, k
        self._ended = False

    def batches(self, max_frames: int = 0, max_bytes: int = 0) -> Iterator[FrameBatch]:
        while not self._ended:
            message = self._inbox.get()
            if message[0] == "end":
                self._ended = True
            elif message[0] == "ring":
                share = self._share(message[1], message[2])
                del message  # the share alone holds the block: it is let go with the share
                yield share
                del share
            else:
                yield message[1]

    def _share(self, ticket: Ticket, clock: float | None) -> FrameBatch:
        whole, shard = self._ring.take(ticket, self._k)
        share = frame_rows(whole, np.flatnonzero(shard == self._k))  # indices: one pass, not one per column
        share.clock = clock
        return share

    def drain(self) -> None:
        """Skip what is left of the input (the pipeline found its share already in the database)."""
        for _ in self.batches():
            pass


def _received(inbox: Any, ring: BatchRing, k: int) -> Iterator[_SharedInput]:
    while True:
        message = inbox.get()
        if message[0] == "done":
            return
        source = _SharedInput(message[1], inbox, ring, k)
        yield source  # type: ignore[misc]
        source.drain()


def _send(q: Any, worker: Any, message: tuple) -> None:
    """Put a message on a worker's queue, waiting while it is full; a worker that died stops the run."""
    while True:
        try:
            q.put(message, timeout=1.0)
            return
        except queue.Full:
            if not worker.is_alive():
                raise WorkerFailed(f"worker {worker.name} stopped (exit code {worker.exitcode})") from None


def _send_all(queues: list, workers: list, message: tuple) -> None:
    for q, worker in zip(queues, workers):
        _send(q, worker, message)


def _collect(results: Any, workers: list, summary: Summary) -> set[str]:
    """Add each worker's counts to the run's summary; the first worker error stops the run."""
    ids: set[str] = set()
    for _ in workers:
        while True:
            try:
                result = results.get(timeout=1.0)
                break
            except queue.Empty:
                if not any(w.is_alive() for w in workers):
                    raise WorkerFailed("the workers stopped without a result") from None
        ids |= add_result(summary, result)
    return ids


def add_result(summary: Summary, result: tuple) -> set[str]:
    """A worker's result (``run_worker``) into the run's summary: its counts; returns the ids of the alerts it
    raised. A worker's error stops the run."""
    status, k, found, worker_ids = result
    if status != "ok":
        raise WorkerFailed(f"worker {k}: {found}")
    for name in ("packets", "bytes", "flows", "internal_errors", "fast_rows", "slow_rows"):
        setattr(summary, name, getattr(summary, name) + getattr(found, name))
    summary.protocols.update(found.protocols)
    summary.weirds.update(found.weirds)
    return worker_ids


def _merge_parts(paths: list[str], out: IO[str], order: dict[str, int], by_frame: bool) -> None:
    """The workers' parts of one output into the output: by (input, frame) for events and flows (each part is
    nearly in that order already), one after the other for alerts. The parts are removed."""
    with ExitStack() as stack:
        files = [stack.enter_context(open(path, "rb")) for path in paths]
        lines: Iterable[bytes] = heapq.merge(*files, key=lambda line: _line_key(line, order)) if by_frame else (
            line for f in files for line in f)
        for line in lines:
            out.write(line.decode("utf-8"))
    for path in paths:
        os.remove(path)


def _line_key(line: bytes, order: dict[str, int]) -> tuple[int, int]:
    file, frame = _FILE.search(line), _FRAME.search(line)
    name = json.loads(b'"' + file.group(1) + b'"') if file else ""
    return order.get(name, len(order)), int(frame.group(1)) if frame else 0
