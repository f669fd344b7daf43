"""The ``otsensor`` command line (contract in DESIGN.md)."""
from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from sensor.pipeline import Options, Pipeline, format_summary, progress_printer
from sensor.render import render
from sensor.store import Store

EXIT_OK, EXIT_UNREADABLE_INPUT = 0, 2


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otsensor", description="Passive IT/OT network sensor.")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse capture files (pcap, pcapng, directories, - for stdin)")
    analyze.add_argument("inputs", nargs="+", metavar="FILE|DIR|-")
    analyze.add_argument("--db", default="otsensor.db", help="SQLite database to merge into (default: %(default)s)")
    analyze.add_argument("--events", metavar="PATH", help="write one JSON line per protocol message")
    analyze.add_argument("--modbus-port", type=_port, action="append", default=[], metavar="PORT",
                         help="also decode this TCP port as Modbus/TCP (repeatable)")
    analyze.add_argument("--strict", action="store_true",
                         help="stop on any internal error instead of counting it (for tests)")
    analyze.add_argument("--no-progress", action="store_true", help="no progress line, even on a terminal")
    analyze.add_argument("--no-fast-path", action="store_true", help=argparse.SUPPRESS)

    for name, helptext in (("assets", "list the asset inventory"),):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("--db", default="otsensor.db")
        sub.add_argument("--format", choices=("table", "json", "csv"), default="table")
    return parser


def cmd_analyze(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        events = stack.enter_context(open(args.events, "w", encoding="utf-8")) if args.events else None
        store = stack.enter_context(Store.open(args.db))
        show_progress = sys.stderr.isatty() and not args.no_progress
        options = Options(db=args.db, events=events, strict=args.strict, modbus_ports=frozenset(args.modbus_port),
                          fast_path=not args.no_fast_path,
                          progress=progress_printer() if show_progress else None)
        summary = Pipeline(store, options).run(args.inputs)
    if show_progress:
        sys.stderr.write("\n")
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in summary.errors:
        print(f"error: {error}", file=sys.stderr)
    print(format_summary(summary))
    return EXIT_UNREADABLE_INPUT if summary.errors else EXIT_OK


ASSET_TABLE_COLUMNS = ["ip", "mac", "mac_vendor", "device_type", "roles", "identity", "services", "unit_ids",
                       "first_seen", "last_seen"]


def cmd_assets(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        columns = ASSET_TABLE_COLUMNS if args.format == "table" else None
        print(render(store.assets(), args.format, columns))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"analyze": cmd_analyze, "assets": cmd_assets}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
