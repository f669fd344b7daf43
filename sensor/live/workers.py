"""``otsensor live -i IFACE --workers N``: N processes, each capturing its own share of the interface.

The kernel shares the frames out: the workers' packet sockets form one AF_PACKET fanout group whose program
hashes each frame's unordered address pair (sensor.live.fanout), as ``analyze --workers`` shares a file's frames
(sensor.parallel): every frame between two hosts reaches the same worker, frames without IP reach worker 0.

The starting process opens the interface only to check it (name, permission, filter, the kernel's fanout) and
closes it again before the workers start: a member of its own would take a share of the frames. It forks the
workers one after the other, each joining the group as it starts, so that worker k is the group's member k (the
kernel indexes members in the order they join); once all have joined, they are released together
(``LiveCapture.release``), so no frame is analysed that was shared out among fewer members. Each worker runs the
pipeline on its capture and commits into the one database, as the workers of ``analyze`` do. Its input is named
``live:IFACE#k/n`` (like the checkpoint names ``FP#k/n`` of analyze), so that its frames, numbered from 1, are told
apart from the other workers' in the facts' sources; these names are the run's inputs.

The starting process supervises. SIGTERM and SIGINT reach it (command.py), and it forwards SIGTERM to the workers:
each stops its capture, ends its flows, commits and sends its result. It writes the health line on its timer and
on SIGUSR1: ``workers=N``, the workers' counters summed (packets, bytes, kernel drops, weirds, flows, alerts...,
each worker sends its own every HEALTH_PUSH_SECONDS and when it ends: a line is at most that old), the
interface's own counters, read once, and ``worker_packets=P0,P1,...``, how the frames were shared out. At the
end it does what belongs to the whole run, as for analyze (sensor.parallel.finish_run): frames stamped far from
their neighbours, every MAC weighed on all the workers' evidence, device types and the run record; the caller then
checks the policy. A worker that fails, or whose interface disappears, stops the others.

--siem runs with the workers: each worker formats its alerts and puts them in the SIEM spool itself, with a
connection of its own, before the commit that stores them (as one process does); it tells the starting process the
keys of the assets each commit changed (an ``assets`` message), and the starting process's AssetFeed reads the
merged rows from the database and spools them; its Forwarder sends what all of them spooled, and its SIEM fields
are on the health line. --alerts runs with the workers too: each sends the lines its AlertLog writes, and the
starting process writes them into the file as they come (the policy check's, at the end, after them). The other
output files (--events, --flows) and --zeek-logs, and --learn-for, keep the run in one process
(LIVE_ONE_PROCESS): written while capturing, they would need every worker's lines merged in frame order.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from sensor.capture import FrameBatch
from sensor.capture.chunks import DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES
from sensor.capture.span import Span
from sensor.parallel import (
    ONE_PROCESS,
    WorkerFailed,
    add_result,
    die_with_parent,
    finish_run,
    run_worker,
    weigh_macs,
)
from sensor.pipeline import Options, Pipeline, Summary, time_outliers
from sensor.store import Store, StoreBatch

from .capture import LiveCapture, LiveCaptureError
from .command import announce, flush_when_idle, siem_health, watch
from .fanout import NEW_GROUP
from .health import Health

LIVE_ONE_PROCESS = {**ONE_PROCESS, "events": "--events", "flows": "--flows", "zeek_logs": "--zeek-logs"}
HEALTH_PUSH_SECONDS = 0.5  # how often a worker sends its health fields
WAIT_SECONDS = 0.25  # the supervisor's longest sleep: signals and the health timer are seen this often
START_SECONDS = 30.0  # a worker not capturing by then fails the run
STOP_SECONDS = 30.0  # workers not done this long after SIGTERM fail the run (they are killed)
_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def input_name(interface: str, k: int, n: int) -> str:
    """Worker ``k`` of ``n``'s input: its frames' ``file``."""
    return f"live:{interface}#{k}/{n}"


def summed(fields: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """Health fields of several workers added up, in the order they come: numbers summed, a field any worker
    does not know (None) unknown, text as the first worker has it."""
    out: dict[str, object] = {}
    for one in fields:
        for key, value in one.items():
            if key not in out:
                out[key] = value
                continue
            have = out[key]
            if value is None or have is None:
                out[key] = None
            elif _number(have) and _number(value):
                out[key] = have + value  # type: ignore[operator]
    return out


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Setup:
    """What a worker needs to open its capture."""

    interface: str
    bpf: str | None
    promiscuous: bool


class FanoutCapture:
    """The input ``live --workers N`` hands ``run_analysis``: ``sensor.parallel.run_sharded`` calls its
    ``run_sharded``, which runs the workers. ``check`` is the capture the command opened to check the interface,
    closed by now; its interface counters are the run's."""

    def __init__(self, check: LiveCapture, n: int, health: Health) -> None:
        self.check = check
        self.name = check.name
        self.n = n
        self.warnings: list[str] = []
        self.failed: str | None = None  # why the capture ended by itself (the interface disappeared)
        self.health = health
        self.setup = _Setup(check.interface, check.bpf, check.promiscuous)
        self.latest: dict[int, Mapping[str, object]] = {}  # each worker's last health fields
        self.stopped = False
        health.add(lambda: {"workers": n})
        health.add(lambda: summed(self.latest[k] for k in sorted(self.latest)))
        health.add(lambda: {key: value for key, value in check.health().items()
                            if key == "iface" or key.startswith("if_")})
        health.add(lambda: {"worker_packets": ",".join(str(self.latest.get(k, {}).get("packets", 0))
                                                       for k in range(n))})

    def watch_siem(self, siem: Any) -> None:
        """The SIEM forwarder's fields on the health line (it runs in this process; the workers spool)."""
        self.health.add(lambda: siem_health(siem))

    def __iter__(self) -> Iterator[LiveCapture]:
        raise RuntimeError("live --workers runs through sensor.parallel.run_sharded, not as one input")

    def stop(self) -> None:
        """End the capture: the workers are told at the supervisor's next wake-up. Safe in a signal handler."""
        self.stopped = True

    def run_sharded(self, n: int, db: str, options: Options, outputs: Mapping[str, IO[str]],
                    alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]],
                    store: Store) -> tuple[Summary, set[str]]:
        """Capture with ``n`` workers into ``db`` until stopped; the run's summary and its alerts' ids."""
        others = sorted(set(outputs) - {"alerts"})
        if others:
            raise ValueError(f"live --workers writes no {', '.join(others)} (LIVE_ONE_PROCESS)")
        started, clock = time.time(), time.perf_counter()
        run = _Run(self, n, db, options, alert_writer, store, outputs.get("alerts"))
        try:
            run.start()
            run.wait(lambda: len(run.results) == len(run.procs))
        finally:
            run.end()
        summary, ids = Summary(files=1), set()
        for k in sorted(run.results):
            ids |= add_result(summary, run.results[k])
            found = run.results[k][2]
            summary.errors += [e for e in found.errors if e not in summary.errors]
            summary.warnings += [w for w in found.warnings if w not in summary.warnings]
        firsts = [first for first, _last, _weirds in run.ends.values() if first is not None]
        lasts = [last for _first, last, _weirds in run.ends.values() if last is not None]
        summary.duration = max(lasts) - min(firsts) if firsts and lasts else 0.0
        odd = [w for _first, _last, weirds in run.ends.values() for w in weirds]
        summary.weirds.update(w.code for w in odd)
        finish_run(store, [input_name(self.setup.interface, k, n) for k in range(len(run.procs))], started, clock,
                   summary, odd)
        return summary, ids


class _Run:
    """The workers of one run, and what they said."""

    def __init__(self, capture: FanoutCapture, n: int, db: str, options: Options,
                 alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]], store: Store,
                 alerts_out: IO[str] | None = None) -> None:
        self.capture, self.n, self.db, self.options, self.alert_writer = capture, n, db, options, alert_writer
        self.store = store
        self.alerts_out = alerts_out  # the --alerts file: the workers send its lines, this process writes them
        self.macs_weighed = time.monotonic()
        self.ctx = multiprocessing.get_context("fork")
        self.inbox: Any = self.ctx.Queue()
        self.go = self.ctx.Event()
        self.procs: list[Any] = []
        self.group = NEW_GROUP
        self.joined: set[int] = set()
        self.ready: dict[int, str] = {}  # each worker's capture, described
        self.ends: dict[int, tuple[float | None, float | None, list]] = {}  # first, last frame time, odd frames
        self.results: dict[int, tuple] = {}
        self.failing = False  # a worker failed: the others are stopped
        self.stop_by: float | None = None  # when SIGTERM was forwarded: the deadline for the workers to end

    def start(self) -> None:
        """Fork the workers one after the other, each joined before the next starts; release them together."""
        for k in range(self.n):
            if self.capture.stopped or self.failing:
                break
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # until the worker has its own handlers
            try:
                proc = self.ctx.Process(target=_work, name=f"otsensor live worker {k}",
                                        args=(k, self.n, self.group, self.capture.setup, self.db, self.options,
                                              self.alert_writer, self.inbox, self.go, self.alerts_out is not None),
                                        daemon=True)
                proc.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            self.procs.append(proc)
            self.wait(lambda k=k: k in self.joined or k in self.results, START_SECONDS)
        self.go.set()
        self.wait(lambda: all(k in self.ready or k in self.results for k in range(len(self.procs))), START_SECONDS)
        if self.ready and not self.capture.stopped and not self.failing:
            announce(f"{self.ready[0]}; {len(self.procs)} workers")

    def wait(self, done: Callable[[], bool], limit: float | None = None) -> None:
        """Handle the workers' messages, the health line and the stop until ``done()``."""
        deadline = time.monotonic() + limit if limit is not None else None
        while not done():
            self._pump(WAIT_SECONDS)
            self.capture.health.tick()
            self._weigh_macs()
            if (self.capture.stopped or self.failing) and self.stop_by is None:
                self._stop()
            self._check(deadline)

    def _weigh_macs(self) -> None:
        """Every ``flush_seconds``, the MACs of the IP assets, weighed on all the workers' evidence (a worker
        leaves them to the run: its own evidence is a share), and the stations folded into them: the database
        read while capturing has them, as one process's has."""
        every = self.options.flush_seconds
        if every is not None and time.monotonic() - self.macs_weighed >= every:
            self.store.commit(StoreBatch(macs=weigh_macs(self.store), fold_stations=True))
            self.macs_weighed = time.monotonic()

    def _stop(self) -> None:
        self.stop_by = time.monotonic() + STOP_SECONDS
        self.go.set()  # a worker waiting to start starts, sees it is stopped and ends at once
        for proc in self.procs:
            if proc.exitcode is None:
                os.kill(proc.pid, signal.SIGTERM)

    def _check(self, deadline: float | None) -> None:
        """A worker that ended without a result, or a run that takes too long, fails."""
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise WorkerFailed(f"the workers did not start capturing within {START_SECONDS:g} s")
        if self.stop_by is not None and now > self.stop_by:
            raise WorkerFailed(f"the workers did not stop within {STOP_SECONDS:g} s of SIGTERM")
        for k, proc in enumerate(self.procs):
            if proc.exitcode is not None and k not in self.results:
                self._pump(0.5)  # what it sent before it ended is in the pipe
                if k not in self.results:
                    raise WorkerFailed(f"worker {k} stopped (exit code {proc.exitcode})")

    def _pump(self, timeout: float) -> None:
        """Take the workers' messages: the first waiting up to ``timeout``, then what else is there."""
        try:
            message = self.inbox.get(timeout=timeout)
            while True:
                self._take(message)
                message = self.inbox.get_nowait()
        except queue.Empty:
            return

    def _take(self, message: tuple) -> None:
        kind, k = message[0], message[1]
        if kind == "joined":
            self.joined.add(k)
            self.group = message[2]
        elif kind == "ready":
            self.ready[k] = message[2]
        elif kind == "health":
            self.capture.latest[k] = message[2]
        elif kind == "assets":  # keys a worker's commit changed: the run's AssetFeed reads the merged rows
            if self.options.on_assets is not None:
                self.options.on_assets(message[2])
        elif kind == "alerts":  # lines of the --alerts file, as the worker's AlertLog wrote them
            if self.alerts_out is not None:
                self.alerts_out.write(message[2])
        elif kind == "end":
            first, last, weirds, failed = message[2:]
            self.ends[k] = (first, last, weirds)
            if failed:
                self.capture.failed = self.capture.failed or failed
                self.failing = True
        else:  # a result: ("ok", k, summary, ids) or ("error", k, text, None)
            self.results[k] = message
            self.failing = self.failing or kind != "ok"
            if k in self.capture.latest:  # the worker's pipeline has ended its flows since its last health
                self.capture.latest[k] = {**self.capture.latest[k], "flows_active": 0}

    def end(self) -> None:
        """Every worker has ended, or is made to (a run that failed)."""
        done = len(self.results) == len(self.procs)
        for proc in self.procs:
            proc.join(timeout=5 if done else 0)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _work(k: int, n: int, group: int, setup: _Setup, db: str, options: Options,
          alert_writer: Callable[[IO[str] | None], Callable[[list[dict]], None]], inbox: Any, go: Any,
          alerts_file: bool) -> None:
    """Worker ``k``: join the fanout group, wait for the others, then the pipeline on its share until stopped."""
    die_with_parent()
    capture = LiveCapture(setup.interface, setup.bpf, promiscuous=setup.promiscuous, fanout=group)
    capture.name = input_name(setup.interface, k, n)
    for signum in _SIGNALS:
        signal.signal(signum, lambda _signum, _frame: capture.stop())
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # the health line is the supervisor's
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    try:
        capture.open()
    except LiveCaptureError as error:
        inbox.put(("error", k, str(error), None))
        return
    inbox.put(("joined", k, capture.fanout))
    while not go.wait(WAIT_SECONDS) and not capture.stopped:
        pass
    capture.release()
    inbox.put(("ready", k, capture.describe()))
    on_assets = (lambda keys: inbox.put(("assets", k, keys))) if options.on_assets is not None else None
    writer = (lambda _part: alert_writer(_InboxLines(inbox, k))) if alerts_file else alert_writer  # type: ignore[arg-type]
    run_worker(k, n, db, options, {}, writer, inbox, lambda pipeline: _inputs(pipeline, capture, k, inbox),
               on_assets)


class _InboxLines:
    """A worker's part of the --alerts file: the lines its AlertLog writes (native or ECS, as one process's) go to
    the starting process, which writes them into the file as they come."""

    def __init__(self, inbox: Any, k: int) -> None:
        self.inbox, self.k = inbox, k

    def write(self, text: str) -> int:
        if text:
            self.inbox.put(("alerts", self.k, text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        self.write("".join(lines))


def _inputs(pipeline: Pipeline, capture: LiveCapture, k: int, inbox: Any) -> Iterator[_Timed]:
    """The worker's one input; its health fields sent as it runs and when it ends, then its times."""
    fields = watch(pipeline, capture)
    pushed = 0.0

    def tick() -> None:
        nonlocal pushed
        flush_when_idle(pipeline, capture)
        if time.monotonic() - pushed >= HEALTH_PUSH_SECONDS:
            pushed = time.monotonic()
            inbox.put(("health", k, fields()))

    capture.on_tick = tick
    timed = _Timed(capture)
    yield timed
    inbox.put(("health", k, fields()))
    first, last, odd = timed.finish()
    inbox.put(("end", k, first, last, odd, capture.failed))


class _Timed:
    """A capture whose frames' times are followed as one process follows an input's (sensor.capture.span): the
    run's duration is from the workers' first frame to their last, and frames far from their neighbours are
    weirds. A worker's pipeline sees a share (``Options.shard``) and leaves these to the run."""

    def __init__(self, capture: LiveCapture) -> None:
        self.capture = capture
        self.name = capture.name
        self.warnings = capture.warnings
        self._span = Span()
        self._outliers: list[tuple[int, float]] = []

    def batches(self, max_frames: int = DEFAULT_MAX_FRAMES, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[FrameBatch]:
        for batch in self.capture.batches(max_frames, max_bytes):
            if len(batch):
                self._outliers += self._span.add(batch.ts, batch.frame)
            yield batch

    def finish(self) -> tuple[float | None, float | None, list]:
        """The first and last frame's times (None: no frame), and the weirds of the frames left out."""
        _seconds, last = self._span.finish()
        span = self._span
        have = span.last >= span.first
        return (span.first if have else None, span.last if have else None,
                time_outliers(self.name, self._outliers + last))

