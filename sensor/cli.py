"""The ``otsensor`` command line (contract in DESIGN.md)."""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import socket
import sqlite3
import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING

from sensor.capture.members import split_member
from sensor.capture.source import CaptureInput, open_inputs
from sensor.detect import commands as detect_commands
from sensor.detect.baseline import Baseline, BaselineError
from sensor.detect.checks import detection_checks
from sensor.detect.engine import Detector
from sensor.detect.learn_first import LearnFirst
from sensor.detect.signatures import Signatures
from sensor.live import command as live_command
from sensor.parallel import workers_for
from sensor.pipeline import Options, Pipeline, Summary, format_summary
from sensor.policy import DEFAULT_MAX_HOPS, DEFAULT_WINDOW_S
from sensor.policy.policy_file import Policy, PolicyError, load_policy
from sensor.progress import Progress, ProgressBar
from sensor.render import ALERT_TABLE_COLUMNS, ASSET_CSV_COLUMNS, ASSET_TABLE_COLUMNS, flat_asset, render
from sensor.report import command as report_command
from sensor.sinks.asset_feed import AssetFeed

if TYPE_CHECKING:  # the SIEM and Zeek outputs load only when asked for: start-up time is every command's
    from sensor.sinks.siem import Forwarder
    from sensor.sinks.siem.forwarder import Spooler
    from sensor.sinks.zeek import ZeekLogs
from sensor.store import SchemaTooNew, Store, StoreBatch
from sensor.store.readonly import MissingDatabase, open_for_reading
from sensor.terminal import columns, say, stdout_gone

EXIT_OK, EXIT_UNREADABLE_INPUT = 0, 2
EXIT_FAULT = 2  # a path that cannot be written, a full disk: one line on standard error, never a traceback
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class Fault(Exception):
    """An output or the database cannot be written: reported as ``error: PATH: CAUSE``."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")


class OutputFailed(OSError):
    """Writing the events or flows file failed mid-run (ENOSPC, EIO): the run stops here, and the database
    keeps its last checkpoint (the pipeline's traffic guard lets OSError through)."""

    def __init__(self, path: str, error: OSError) -> None:
        super().__init__(f"{path}: {_cause(error)}")


class _Output:
    """A text output (events, flows) the pipeline writes to; a failed write raises OutputFailed naming it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._failed = False
        try:
            self._file = open(path, "w", encoding="utf-8")
        except OSError as error:
            raise Fault(path, _cause(error)) from None

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except OSError as error:
            raise self._fail(error) from None

    def writelines(self, lines: Iterable[str]) -> None:
        try:
            self._file.writelines(lines)
        except OSError as error:
            raise self._fail(error) from None

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as error:
            raise self._fail(error) from None

    def write_raw(self, pieces: Iterable[bytes | memoryview]) -> None:
        """Text already encoded (UTF-8), after what ``write`` wrote: the events' lines are assembled as bytes."""
        try:
            self._file.flush()
            self._file.buffer.writelines(pieces)
        except OSError as error:
            raise self._fail(error) from None

    def close(self) -> None:
        try:
            self._file.close()  # flushes: the last buffered lines can be the ones that do not fit
        except OSError as error:
            if not self._failed:  # already reported: closing a file whose write failed fails again
                raise self._fail(error) from None

    def _fail(self, error: OSError) -> OutputFailed:
        self._failed = True
        return OutputFailed(self.path, error)


# SQLite primary result codes that describe the machine, not the program (a full disk, a read-only file, a
# lock held too long, a damaged file): one line and exit 2. Any other code (SQLITE_ERROR for a bad
# statement, SQLITE_CONSTRAINT) is a bug in otsensor, and keeps its traceback.
SQLITE_ENVIRONMENT = {
    3: "SQLITE_PERM", 5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY",
    10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL",
    22: "SQLITE_NOLFS", 26: "SQLITE_NOTADB",
}


def _environmental(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in SQLITE_ENVIRONMENT


def _cause(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _check_output(path: str) -> None:
    """Fail before any packet is read if PATH cannot be created or overwritten; nothing is created here."""
    if os.path.isdir(path):
        raise Fault(path, "is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise Fault(path, f"no such directory: {folder}")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise Fault(path, _unwritable(path, "file is not writable"))
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise Fault(path, _unwritable(folder, f"cannot create files in {folder}"))


def _unwritable(path: str, otherwise: str) -> str:
    """Why PATH refuses writes: access(2) answers even for root, but does not say which reason applies."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    return otherwise


def _open_store_for_writing(path: str) -> Store:
    """Open (or create) the database and prove it takes a write, before any packet is read.

    A database this run created and could not use is removed again (a disk already full leaves an
    empty file behind), so a refused run leaves the folder as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise Fault(path, "is a directory")
    if not os.path.isdir(folder):
        raise Fault(path, f"no such directory: {folder}")
    existed = os.path.exists(path)
    store = None
    try:
        store = Store.open(path)
        store.check_writable()
    except BaseException as error:
        if store is not None:
            store.close()
        if not (isinstance(error, sqlite3.Error) and _environmental(error)):
            raise
        cause = _explain_db(path, folder, error)
        if not existed:
            for leftover in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
                with contextlib.suppress(OSError):
                    os.remove(leftover)
        raise Fault(path, cause) from None
    return store


def _explain_db(path: str, folder: str, error: sqlite3.Error) -> str:
    """SQLite's own words, with the reason in front when it is one we can tell (its words are often vague)."""
    reason = None
    if os.path.exists(path) and not os.access(path, os.W_OK):
        reason = _unwritable(path, "database file is not writable")
    elif not os.access(folder, os.W_OK | os.X_OK):
        reason = _unwritable(folder, f"cannot create files in {folder}, where SQLite keeps the -wal and -shm "
                                     "files of the database")
    return f"{reason} ({error})" if reason else str(error)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text}")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text}")
    return value


def _decode_as(text: str) -> tuple[str, str, int]:
    """``PROTO=[TRANSPORT/]PORT`` (TCP when the transport is left out), like tshark's decode-as."""
    from protocols import BUILTIN

    name, _, where = text.partition("=")
    transport, _, port = where.rpartition("/")
    transport = transport or "tcp"
    spec = next((s for s in BUILTIN if s.name == name), None)
    if spec is None:
        raise argparse.ArgumentTypeError(f"no protocol {name!r} (known: {', '.join(s.name for s in BUILTIN)})")
    if transport not in spec.transports:
        raise argparse.ArgumentTypeError(f"{name} does not run over {transport} (it runs over "
                                         f"{', '.join(sorted(spec.transports))})")
    return name, transport, _port(port)


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """What ``analyze`` and ``live`` share: the database, the outputs, decoding and detection."""
    parser.add_argument("--db", default="otsensor.db", help="SQLite database to merge into (default: %(default)s)")
    parser.add_argument("--events", metavar="PATH", help="write one JSON line per protocol message, of every protocol decoded (default: none)")
    parser.add_argument("--flows", metavar="PATH", help="write one JSON line per flow (conversation) when it ends (default: none)")
    parser.add_argument("--decode-as", type=_decode_as, action="append", default=[], metavar="PROTO=[TRANSPORT/]PORT",
                        help="also decode this port as PROTO, e.g. modbus=5020 or dnp3=udp/20001 (TCP when the "
                             "transport is left out; repeatable; default: the protocols' registered ports only)")
    parser.add_argument("--modbus-port", type=_port, action="append", default=[], metavar="PORT",
                        help="the same as --decode-as modbus=PORT, kept for scripts (default: none)")
    parser.add_argument("--alerts", metavar="PATH", help="write the alerts of this run as JSON lines (default: none; the database keeps "
                                                         "them for `otsensor alerts`)")
    parser.add_argument("--policy", metavar="PATH", help="segmentation policy (YAML zones and conduits) to check "
                                                         "(default: none, no policy check)")
    parser.add_argument("--baseline", metavar="PATH", help="a baseline made by `otsensor learn`: alert on what it "
                                                           "does not describe; the signatures run always (default: "
                                                           "none)")
    parser.add_argument("--zeek-logs", metavar="DIR", help="write Zeek-compatible logs here: conn.log and one "
                                                          "per protocol (modbus.log, modbus_detailed.log, dnp3.log, "
                                                          "s7comm.log, enip.log, cip.log, ...) (default: none)")
    parser.add_argument("--zeek-format", choices=("tsv", "json"), default="tsv",
                        help="Zeek's TSV with its #fields/#types header, or its JSON (default: %(default)s)")
    parser.add_argument("--alerts-format", choices=("native", "ecs"), default="native",
                        help="the --alerts file's records: the native contract, or Elastic Common Schema "
                             "(default: %(default)s)")
    siem = parser.add_argument_group("SIEM forwarding (spooled on disk first: nothing is lost while it is down)")
    siem.add_argument("--siem", metavar="URL", help="send alerts and asset changes as syslog to udp://HOST:PORT, "
                                                    "tcp://HOST:PORT (octet counting) or tls://HOST:PORT (RFC 5425) "
                                                    "(default: none)")
    siem.add_argument("--siem-format", choices=("cef", "leef", "json"), default="cef",
                      help="CEF (ArcSight, Splunk), LEEF 2.0 (QRadar) or ECS JSON (Elastic) (default: %(default)s)")
    siem.add_argument("--siem-ca", metavar="PATH", help="CA certificates that sign the tls:// receiver's "
                                                         "certificate (default: the system's)")
    siem.add_argument("--siem-cert", metavar="PATH", help="client certificate for tls://, when the receiver "
                                                           "asks (default: none)")
    siem.add_argument("--siem-key", metavar="PATH", help="the client certificate's key (default: in the "
                                                         "--siem-cert file)")
    siem.add_argument("--spool", metavar="PATH", help="the SIEM spool (default: the database's path + .spool; a "
                                                      "later run on the same database resends what is left)")
    siem.add_argument("--spool-max-mb", type=int, default=256, metavar="MB",
                      help="spool size limit; when full the oldest records go, counted (default: %(default)s)")
    siem.add_argument("--siem-wait", type=float, default=10.0, metavar="SECONDS",
                      help="at the end, how long to wait for the SIEM to take the spool (default: %(default)s)")
    siem.add_argument("--sensor-name", default=socket.gethostname(),
                      help="this sensor's name in every record (default: the host name, %(default)s)")
    parser.add_argument("--learn-for", type=float, metavar="SECONDS",
                        help="learn a baseline from the first SECONDS of traffic, write it to --baseline PATH, then "
                             "detect with it, an appliance learning its plant (default: none)")
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, metavar="SECONDS",
                        help="pivot-chain window between hops (default: %(default)s)")
    parser.add_argument("--strict", action="store_true",
                        help="stop on any internal error instead of counting it, for tests (default: "
                             "count it and go on)")
    parser.add_argument("--no-fast-path", action="store_true", help=argparse.SUPPRESS)


TIMES = "Times are ISO 8601 UTC in table and csv, seconds since the epoch in json."


def _read_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="otsensor.db", metavar="PATH",
                        help="the database analyze wrote; opened read-only, never created (default: %(default)s)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otsensor")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otsensor", description="Passive IT/OT network sensor.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse capture files (pcap, pcapng, directories, - for stdin)")
    analyze.add_argument("inputs", nargs="+", metavar="FILE|DIR|-")
    add_analysis_options(analyze)
    analyze.add_argument("--no-progress", action="store_true", help="no progress line, even on a terminal (default: a "
                                                                          "progress line when standard error is one)")
    analyze.add_argument("--batch-frames", type=int, default=65_536, help=argparse.SUPPRESS)
    analyze.add_argument("--workers", type=_positive, default=1, metavar="N",
                         help="processes sharing the work by host pair, one per core at most (default: 1; see the "
                              "README for what may differ from one process)")

    for name, helptext in (("assets", "list the asset inventory"), ("alerts", "list the alerts")):
        sub = commands.add_parser(name, help=helptext, description=f"{helptext[0].upper()}{helptext[1:]}. {TIMES}")
        _read_db_option(sub)
        sub.add_argument("--format", choices=("table", "json", "csv"), default="table",
                         help="table for a person, json with the contract's fields, or csv (default: %(default)s)")
        sub.add_argument("--wide", action="store_true",
                         help="table: every cell whole however wide (default: fit the terminal, eliding long cells)")

    paths = commands.add_parser("paths", help="IT-to-OT pathways and policy violations")
    _read_db_option(paths)
    paths.add_argument("--policy", metavar="PATH", help="zones and conduits to judge by (default: none; the zones "
                                                        "analyze stored, without their conduits, and it says so)")
    paths.add_argument("--format", choices=("table", "json"), default="table",
                       help="text for a person or the JSON document (default: %(default)s)")
    paths.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, metavar="SECONDS",
                       help="longest gap between the hops of one pivot chain (default: %(default)s)")
    paths.add_argument("--max-hops", type=_positive, default=DEFAULT_MAX_HOPS, metavar="N",
                       help="longest path searched, in hops (default: %(default)s)")

    policy = commands.add_parser("policy", help="work with segmentation policies")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    suggest = policy_commands.add_parser("suggest", help="propose a policy YAML from what was observed")
    _read_db_option(suggest)
    suggest.add_argument("--output", "-o", metavar="PATH", help="write here (default: standard output)")
    suggest.add_argument("--baseline", metavar="PATH", help="propose the conduits this learned baseline allows; zones "
                                                            "still come from the database's assets (default: none, "
                                                            "the conduits the database observed)")
    detect_commands.add_parsers(commands)
    live_command.add_parser(commands)
    report_command.add_parser(commands)
    return parser


def _load_policy(path: str | None) -> Policy | None:
    """Read the policy before any capture: a bad file stops the run with the line that is wrong."""
    return load_policy(path) if path else None


SKIPPED_NAMED = 5  # skipped files named one by one; past this, counted


def cmd_analyze(args: argparse.Namespace) -> int:
    skipped: list[str] = []
    inputs = list(open_inputs(args.inputs, skip_non_captures=True,
                              on_skip=lambda path, head: skipped.append(f"{path} ({head})")))
    if skipped:
        more = f" and {len(skipped) - SKIPPED_NAMED} more" if len(skipped) > SKIPPED_NAMED else ""
        print(f"note: skipped {len(skipped)} file(s) that are not pcap, pcapng, gzip or zip captures: "
              f"{', '.join(skipped[:SKIPPED_NAMED])}{more}", file=sys.stderr)
    unreadable = [cause for cause in map(_cannot_open, inputs) if cause]
    if len(unreadable) == len(inputs):  # nothing to read: create no database
        for cause in unreadable:
            print(f"error: {cause}", file=sys.stderr)
        if not inputs:
            print(f"error: no capture in {' '.join(args.inputs)}: nothing analysed", file=sys.stderr)
        return EXIT_UNREADABLE_INPUT
    bar = ProgressBar() if sys.stderr.isatty() and not args.no_progress else None
    try:
        return run_analysis(args, inputs, progress=bar, batch_frames=args.batch_frames)
    finally:
        if bar is not None:
            bar.close()  # an error line, too, starts on a line of its own


def _cannot_open(capture: CaptureInput) -> str | None:
    """``PATH: cannot open: CAUSE`` for a named file that is not there, else None. Nothing is opened here (a
    FIFO would block): streams, zip members and files with other faults are read, and reported, by the run."""
    if capture.name == "-" or split_member(capture.name) is not None:
        return None
    try:
        os.stat(capture.name)
    except OSError as error:
        return f"{capture.name}: cannot open: {_cause(error)}"
    return None


def run_analysis(args: argparse.Namespace, inputs: Iterable[CaptureInput], *,
                 progress: Callable[[Progress], None] | None = None, batch_frames: int = 65_536,
                 flush_seconds: float | None = None,
                 on_start: Callable[[Pipeline, Forwarder | None], None] | None = None) -> int:
    """Analyse ``inputs`` (files, or a live capture) with the options ``add_analysis_options`` declares, and
    print the summary. ``on_start`` sees the pipeline and the SIEM forwarder before the first packet (live
    capture reads their health)."""
    policy = _load_policy(args.policy)
    if args.learn_for is not None and (not args.baseline or args.learn_for <= 0):
        raise Fault(args.baseline or "--learn-for", "--learn-for needs a positive number of seconds and "
                                                    "--baseline PATH to write the baseline to")
    learning = args.learn_for is not None
    baseline = Baseline.load(args.baseline) if args.baseline and not learning else None  # before any capture
    # Everything that can be checked is checked before the first packet: outputs first, so that a wrong
    # path creates no database; then the database, with a write that is rolled back.
    for path in (args.events, args.flows, args.alerts, args.baseline if learning else None):
        if path:
            _check_output(path)
    workers, note = workers_for(args)
    if note:
        print(f"note: {note}", file=sys.stderr)
    with ExitStack() as stack:
        siem = _forwarder(args)  # a bad URL or certificate stops the run before the database exists
        if siem is not None:
            stack.callback(siem.close, 1.0)  # after the flush below: what is left waits in the spool
        store = stack.enter_context(_open_store_for_writing(args.db))
        events = stack.enter_context(_Output(args.events)) if args.events else None
        flows = stack.enter_context(_Output(args.flows)) if args.flows else None
        alerts_out = stack.enter_context(_Output(args.alerts)) if args.alerts else None
        logs = stack.enter_context(_zeek_logs(args.zeek_logs, args.zeek_format)) if args.zeek_logs else None
        detected = AlertLog(alerts_out, args.alerts_format, args.sensor_name, siem)
        feed = AssetFeed(store, siem.assets) if siem is not None else None
        options = Options(events=events, flows=flows, strict=args.strict,
                          decode_as=frozenset([*args.decode_as, *(("modbus", "tcp", p) for p in args.modbus_port)]),
                          broadcasts=policy.broadcasts if policy is not None else frozenset(),
                          fast_path=not args.no_fast_path, batch_frames=batch_frames, progress=progress,
                          detector=Detector(_checks(args, baseline)), on_alerts=detected.write,
                          flush_seconds=flush_seconds, on_assets=feed, logs=logs)
        if workers > 1:
            summary = _sharded(args, inputs, workers, options, store, detected,
                               {"events": events, "flows": flows, "alerts": alerts_out})
        else:
            pipeline = Pipeline(store, options)
            if on_start is not None:
                on_start(pipeline, siem)
            summary = pipeline.run_inputs(inputs)
        alerts = check_policy(store, policy, args.window) if policy is not None else []
        detected.write(alerts)
        if feed is not None:
            feed()  # device types and zones are settled at the end: every asset whose description changed
        if siem is not None:
            siem.flush(args.siem_wait)
            health = siem.health()
    if isinstance(progress, ProgressBar):
        progress.finish()
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in summary.errors:
        print(f"error: {error}", file=sys.stderr)
    say(format_summary(summary))
    say(f"alerts      {detected.count(alerts)} from detection"
        + (f", {len(alerts)} from the policy check ({args.policy})" if policy is not None else ""))
    if siem is not None:
        say(f"siem        {health['sent']} records sent to {args.siem}, {health['backlog']} waiting in "
              f"{siem.spool.path}" + (f", {health['dropped']} dropped (spool full)" if health["dropped"] else "")
              + (f"; last error: {health['last_error']}" if health["backlog"] and health["last_error"] else ""))
    return EXIT_UNREADABLE_INPUT if summary.errors else EXIT_OK


def _sharded(args: argparse.Namespace, inputs: Iterable[CaptureInput], workers: int, options: Options, store: Store,
             detected: AlertLog, outputs: dict[str, _Output | None]) -> Summary:
    """The run on ``workers`` processes (sensor.parallel); the alerts they raised count as this run's."""
    from sensor.parallel import WorkerFailed, run_sharded

    producer = detected.siem.producer() if detected.siem is not None else None

    def alert_writer(part: IO[str] | None) -> Callable[[list[dict]], None]:
        """Called in the worker, after fork: its alerts are spooled by its own connection to the SIEM spool
        before the commit that stores them, as one process's are; this process's Forwarder sends them."""
        spooler = producer.open() if producer is not None else None
        return AlertLog(part, args.alerts_format, args.sensor_name, spooler).write  # type: ignore[arg-type]

    watch_siem = getattr(inputs, "watch_siem", None)  # live workers: the SIEM's fields on the health line
    if watch_siem is not None and detected.siem is not None:
        watch_siem(detected.siem)
    try:
        summary, ids = run_sharded(inputs, workers, args.db, options,
                                   {kind: out for kind, out in outputs.items() if out is not None}, alert_writer, store)
    except WorkerFailed as error:
        raise Fault(args.db, str(error)) from None
    detected.ids |= ids
    return summary


def _zeek_logs(folder: str, fmt: str) -> ZeekLogs:
    """The Zeek logs' folder, made if missing; one that cannot be is a fault before any packet."""
    from sensor.sinks.zeek import ZeekLogs

    try:
        os.makedirs(folder, exist_ok=True)
        _check_output(os.path.join(folder, "conn.log"))
        return ZeekLogs(folder, fmt)
    except OSError as error:
        raise Fault(folder, _cause(error)) from None


def _forwarder(args: argparse.Namespace) -> Forwarder | None:
    """The SIEM forwarder, its spool beside the database unless told otherwise; bad settings stop the run."""
    if not args.siem:
        return None
    from sensor.sinks.siem import Forwarder
    from sensor.sinks.siem.spool import SpoolBusy

    try:
        return Forwarder(args.siem, args.siem_format, args.sensor_name, args.spool or f"{args.db}.spool",
                         ca_file=args.siem_ca, cert_file=args.siem_cert, key_file=args.siem_key,
                         max_spool_bytes=args.spool_max_mb << 20)
    except (ValueError, OSError, SpoolBusy) as error:
        raise Fault(args.siem, str(error)) from None


def _checks(args: argparse.Namespace, baseline: Baseline | None) -> list:
    """The signatures, and a loaded baseline's models or (``--learn-for``) a baseline learned first."""
    if args.learn_for is None:
        return detection_checks(baseline)
    signatures = Signatures()
    return [signatures, LearnFirst(args.learn_for, args.baseline, signatures)]


class AlertLog:
    """Alerts as they begin or grow (a grown alert repeats its id): the ``--alerts`` file, one JSON line each in
    the native or the ECS shape, and the SIEM forwarder (or, in a worker, its own spooler of the same spool)."""

    def __init__(self, out: _Output | None, fmt: str = "native", sensor_name: str = "",
                 siem: Forwarder | Spooler | None = None) -> None:
        self.out = out
        self.fmt = fmt
        self.sensor_name = sensor_name
        self.siem = siem
        self.ids: set[str] = set()

    def write(self, alerts: list[dict]) -> None:
        self.ids.update(a["id"] for a in alerts)
        if self.out is not None and self.fmt == "native":
            self.out.writelines(json.dumps(alert, sort_keys=True) + "\n" for alert in alerts)
        elif self.out is not None:
            from sensor.sinks.siem import format_alert

            self.out.writelines(format_alert(alert, "ecs", self.sensor_name) + "\n" for alert in alerts)
        if self.siem is not None and alerts:
            self.siem.alerts(alerts)

    def count(self, policy_alerts: list[dict]) -> int:
        """Distinct detection alerts (policy alerts were written through the same log, last)."""
        return len(self.ids - {a["id"] for a in policy_alerts})


def cmd_assets(args: argparse.Namespace) -> int:
    with open_for_reading(args.db) as store:
        rows = store.assets()
    if args.format == "csv":
        rows = [flat_asset(row) for row in rows]
    say(_listing(rows, args, ASSET_TABLE_COLUMNS, ASSET_CSV_COLUMNS))
    return EXIT_OK


def _listing(rows: list[dict], args: argparse.Namespace, table_columns: list[str],
             csv_columns: list[str] | None = None) -> str:
    """A table fits the terminal unless ``--wide``; piped, it keeps every cell whole for the next program."""
    if args.format != "table":
        return render(rows, args.format, csv_columns if args.format == "csv" else None)
    return render(rows, "table", table_columns, None if args.wide else columns(sys.stdout))


def check_policy(store: Store, policy: Policy, window_s: float) -> list[dict]:
    """Zone every asset and check every stored communication; alerts merge into the store by id."""
    from sensor.policy.commands import run_policy_check  # networkx is imported only when a policy is used

    zones, alerts = run_policy_check(policy, store.communications(), store.assets(with_points=False),
                                     window_s=window_s)  # zones and conduits need no points
    levels = {zone.name: zone.level for zone in policy.zones}
    store.commit(StoreBatch(zones=[(ip, zone, levels.get(zone)) for ip, zone in zones.items()], alerts=alerts))
    return alerts


def cmd_alerts(args: argparse.Namespace) -> int:
    with open_for_reading(args.db) as store:
        rows = store.alerts()
    say(_listing(rows, args, ALERT_TABLE_COLUMNS))
    return EXIT_OK


def cmd_paths(args: argparse.Namespace) -> int:
    from sensor.policy.commands import paths_document, render_paths_table

    policy = _load_policy(args.policy)
    with open_for_reading(args.db) as store:
        doc = paths_document(store.communications(), store.assets(), policy, args.window, args.max_hops,
                             None if policy is not None else store.alerts())
    say(json.dumps(doc, indent=2, sort_keys=True) if args.format == "json" else render_paths_table(doc).rstrip("\n"))
    return EXIT_OK


def cmd_policy(args: argparse.Namespace) -> int:
    from sensor.policy.commands import baseline_communications, suggest_policy

    baseline = Baseline.load(args.baseline) if args.baseline else None
    with open_for_reading(args.db) as store:
        comms = baseline_communications(baseline) if baseline is not None else store.communications()
        text = suggest_policy(comms, store.assets())
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        say(text.rstrip("\n"))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    gc.freeze()  # what start-up made (modules, classes, tables) lives to the end: collections need not walk it
    # A batch makes hundreds of thousands of small objects (segments, messages, flows). At Python's default of a
    # collection every 700 allocations the older generations' collections, which walk every flow and stream
    # held, came often enough to take a fifth of a run over 83k short connections. Workers inherit this (fork).
    gc.set_threshold(20_000, 10, 10)
    args = build_parser().parse_args(argv)
    handlers = {"analyze": cmd_analyze, "assets": cmd_assets, "alerts": cmd_alerts, "paths": cmd_paths,
                "policy": cmd_policy, "live": live_command.cmd_live, "report": report_command.cmd_report, **detect_commands.HANDLERS}
    db = getattr(args, "db", None)
    try:
        return handlers[args.command](args)
    except (PolicyError, BaselineError) as error:  # raised before anything is read or written
        return _error(str(error))
    except (Fault, OutputFailed) as error:
        return _error(str(error))
    except SchemaTooNew as error:
        return _error(f"{db}: {error}")
    except MissingDatabase as error:
        return _error(str(error))
    except BrokenPipeError:  # standard output's reader left (``| head``): what it wanted, it had
        stdout_gone()
        return EXIT_OK
    except sqlite3.Error as error:
        if not _environmental(error):
            raise
        # A commit refused mid-run (disk full, I/O error): that batch was rolled back whole, and the
        # checkpoints committed before it let the same command resume once the cause is fixed.
        return _error(f"{db}: {error}")
    except OSError as error:  # e.g. an input that cannot be read at all, or a policy suggestion not written
        return _error(f"{error.filename}: {_cause(error)}" if error.filename else _cause(error))
    except KeyboardInterrupt:
        if args.command == "analyze":
            print(f"interrupted: {db} keeps every committed checkpoint; the same command resumes",
                  file=sys.stderr)
        return EXIT_INTERRUPTED


def _error(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return EXIT_FAULT


if __name__ == "__main__":
    sys.exit(main())
