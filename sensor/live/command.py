"""``otsensor live``: capture from an interface (a SPAN/mirror port) and analyse until stopped.

    otsensor live -i eth1 [-f 'tcp port 502'] --db plant.db [every output of analyze]
    otsensor live --config /etc/otsensor/otsensor.yaml [--check-config]
    otsensor live -i eth1 --workers 4 --db plant.db

The capture is one more input of ``run_analysis``: the same pipeline, database, outputs, detection and policy
check as ``analyze``. With ``--workers N`` the kernel shares the frames out by host pair among N processes
(sensor.live.workers), with --siem and --alerts too; --events, --flows, --zeek-logs and --learn-for keep the run
in one process, with a note. SIGTERM or SIGINT ends the capture; the pipeline then ends its flows, commits and
prints the summary, and the command exits 0 (a second signal of the same kind is not caught again). SIGUSR1 writes
the health line at once. The database is committed at least every ``--flush-seconds``, traffic or not.
"""
from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from .capture import LiveCapture, LiveCaptureError
from .config import ConfigError, check, check_values, load, prepare, resolve
from .fanout import NEW_GROUP
from .health import Health

if TYPE_CHECKING:
    from .workers import FanoutCapture

EXIT_OK, EXIT_CONFIG = 0, 2


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``live`` subcommand: its own options, then every option ``analyze`` has besides its inputs."""
    add_analysis_options = _cli().add_analysis_options
    live = commands.add_parser(
        "live", help="capture from a network interface (a SPAN/mirror port) and analyse until stopped",
        description="Capture from an interface with a receive-only socket (it never transmits) and analyse "
                    "continuously. SIGTERM/Ctrl-C stops and flushes; SIGUSR1 prints the health line.")
    live.add_argument("-i", "--interface", metavar="IFACE", help="the interface to capture, the mirror port "
                                                                     "(default: the --config file's)")
    live.add_argument("-f", "--filter", metavar="BPF", help="capture filter in tcpdump syntax, e.g. 'tcp port "
                                                                "502' (default: none, every packet)")
    live.add_argument("--config", metavar="PATH", help="YAML file with these settings; flags override it "
                                                        "(default: none)")
    live.add_argument("--check-config", action="store_true",
                      help="check the settings (keys, types, files, interface, filter) and exit 0 or 2 "
                           "(default: capture)")
    live.add_argument("--health-every", type=float, default=60.0, metavar="SECONDS",
                      help="write the health line this often, 0 for only on SIGUSR1 (default: %(default)s)")
    live.add_argument("--flush-seconds", type=float, default=2.0, metavar="SECONDS",
                      help="commit the database at least this often (default: %(default)s)")
    live.add_argument("--workers", type=_cli()._positive, default=1, metavar="N",
                      help="processes capturing and analysing, the kernel sharing the frames out by host pair "
                           "(AF_PACKET fanout), one per core at most (default: %(default)s)")
    live.add_argument("--no-promiscuous", dest="promiscuous", action="store_false",
                      help="do not put the interface in promiscuous mode, which a SPAN port needs "
                           "(default: promiscuous)")
    add_analysis_options(live)
    live.set_defaults(live_settings=prepare(live))  # after the last option: flags given are those not None
    return live


def cmd_live(args: argparse.Namespace, *, health_sources: Iterable[Callable[[], Mapping[str, object]]] = ()) -> int:
    """Run the live capture; ``health_sources`` add fields to the health line (a SIEM forwarder's backlog)."""
    try:
        config = load(args.config) if args.config else {}
        opts = resolve(args, args.live_settings, config, args.config)
    except ConfigError as error:
        return _errors(error.problems)
    where = args.config or "settings"
    if args.check_config:
        problems = check(opts)
        if problems:
            return _errors([f"{where}: {p}" for p in problems])
        print(f"{where}: OK (interface {opts.interface}, filter {opts.filter or '-'}, db {opts.db})")
        return EXIT_OK
    problems = check_values(opts)
    if problems:
        return _errors(problems)

    from sensor.parallel import workers_for

    from .workers import LIVE_ONE_PROCESS, FanoutCapture

    opts.workers, note = workers_for(opts, LIVE_ONE_PROCESS)
    if note:
        print(f"note: {note}", file=sys.stderr)
    capture = LiveCapture(opts.interface, opts.filter, promiscuous=opts.promiscuous,
                          fanout=NEW_GROUP if opts.workers > 1 else None)
    try:
        capture.open()  # before the database: a wrong interface, filter or kernel leaves nothing behind
    except LiveCaptureError as error:
        return _errors([str(error)])
    health = Health(every=opts.health_every)
    if opts.workers > 1:
        capture.close()  # the workers capture: a member here would take a share of the frames
        fanout = FanoutCapture(capture, opts.workers, health)
        for source in health_sources:
            health.add(source)
        return _finish(opts, fanout, fanout, health, None)

    def on_start(pipeline, siem) -> None:
        health.add(watch(pipeline, capture))
        if siem is not None:
            health.add(lambda: siem_health(siem))
        for source in health_sources:
            health.add(source)

        def tick() -> None:
            health.tick()
            flush_when_idle(pipeline, capture)

        capture.on_tick = tick
        announce(capture.describe())

    return _finish(opts, capture, [capture], health, on_start)


def _finish(opts: argparse.Namespace, capture: LiveCapture | FanoutCapture, inputs: Iterable,
            health: Health, on_start: Callable | None) -> int:
    """Run until stopped, then the final health line; an interface that disappeared is an error."""
    previous = _install_signals(capture, health)
    try:
        code = _run(opts, inputs, on_start)
    finally:
        if isinstance(capture, LiveCapture):
            capture.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    health.emit("final")
    if capture.failed:
        return _errors([capture.failed])
    return code


def announce(description: str) -> None:
    """The line that says the capture runs, and how."""
    print(f"live: capturing ({description}); SIGTERM or Ctrl-C stops, SIGUSR1 writes the health line",
          file=sys.stderr, flush=True)


def watch(pipeline, capture: LiveCapture) -> Callable[[], dict[str, object]]:
    """Count the alerts the pipeline raises; returns the health fields of the pipeline and its capture."""
    alert_ids: set[str] = set()
    listener = pipeline.on_alerts

    def heard(alerts: list[dict]) -> None:
        alert_ids.update(a["id"] for a in alerts)
        if listener is not None:
            listener(alerts)

    pipeline.on_alerts = heard
    return lambda: {**pipeline_health(pipeline, len(alert_ids)), **capture.health()}


def _run(opts: argparse.Namespace, inputs: Iterable, on_start: Callable | None) -> int:
    from sensor.store import SchemaTooNew

    cli = _cli()
    try:
        return cli.run_analysis(opts, inputs, flush_seconds=opts.flush_seconds, on_start=on_start)
    except SchemaTooNew as error:  # main() names args.db, which is None when the database is set by the config
        return _errors([f"{opts.db}: {error}"])
    except sqlite3.Error as error:
        if not cli._environmental(error):
            raise
        return _errors([f"{opts.db}: {error}"])


def pipeline_health(pipeline, alerts: int) -> dict[str, object]:
    """The pipeline's fields of the health line."""
    s = pipeline.summary
    return {"packets": s.packets, "bytes": s.bytes, "weirds": sum(s.weirds.values()),
            "internal_errors": s.internal_errors, "flows": pipeline.flows.total, "flows_active": len(pipeline.flows),
            "alerts": alerts}


def siem_health(siem) -> dict[str, object]:
    """The SIEM forwarder's fields of the health line: what waits in its spool, what went, what was lost."""
    try:
        h = siem.health()
    except sqlite3.ProgrammingError:  # the spool is closed: the run is over, and its summary line says it all
        return {}
    return {"spool_backlog": h["backlog"], "siem_sent": h["sent"], "siem_dropped": h["dropped"],
            "siem_connected": h["connected"]}


def flush_when_idle(pipeline, capture: LiveCapture) -> None:
    """Commit what the last batches taught once ``flush_seconds`` passed without a commit.

    The pipeline commits after a batch when it is due, so while traffic flows this does nothing; when the traffic
    stops right after a batch, nothing else would commit it. It runs between batches, where the pipeline's state is
    whole.
    """
    if capture.last_yield > pipeline.last_commit:
        pipeline.commit_if_due()


def _install_signals(capture: LiveCapture | FanoutCapture, health: Health) -> dict[int, object]:
    """SIGTERM and SIGINT stop the capture (the second one is not caught); SIGUSR1 asks for a health line."""
    previous = {}

    def stop(signum: int, _frame) -> None:
        capture.stop()
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, stop)
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda _signum, _frame: health.request())
    return previous


def _cli() -> ModuleType:
    """The command line module, imported lazily (it imports this one). Under ``python -m sensor.cli`` that is
    ``__main__``: importing ``sensor.cli`` again would make a second copy whose exceptions (Fault, OutputFailed)
    ``main()`` would not catch."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) == "sensor.cli":
        return main  # type: ignore[return-value]
    import sensor.cli

    return sensor.cli


def _errors(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_CONFIG
