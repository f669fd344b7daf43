"""The ``otsensor`` command line (contract in DESIGN.md)."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from sensor.pipeline import Options, Pipeline, format_summary
from sensor.policy import DEFAULT_MAX_HOPS, DEFAULT_WINDOW_S
from sensor.policy.policy_file import Policy, PolicyError, load_policy
from sensor.progress import ProgressBar
from sensor.render import render
from sensor.store import Store, StoreBatch

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
    analyze.add_argument("--flows", metavar="PATH", help="write one JSON line per flow (conversation) when it ends")
    analyze.add_argument("--modbus-port", type=_port, action="append", default=[], metavar="PORT",
                         help="also decode this TCP port as Modbus/TCP (repeatable)")
    analyze.add_argument("--alerts", metavar="PATH", help="write the alerts of this run as JSON lines")
    analyze.add_argument("--policy", metavar="PATH", help="segmentation policy (YAML zones and conduits) to check")
    analyze.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, metavar="SECONDS",
                         help="pivot-chain window between hops (default: %(default)s)")
    analyze.add_argument("--strict", action="store_true",
                         help="stop on any internal error instead of counting it (for tests)")
    analyze.add_argument("--no-progress", action="store_true", help="no progress line, even on a terminal")
    analyze.add_argument("--no-fast-path", action="store_true", help=argparse.SUPPRESS)
    analyze.add_argument("--batch-frames", type=int, default=65_536, help=argparse.SUPPRESS)

    for name, helptext in (("assets", "list the asset inventory"), ("alerts", "list the alerts")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("--db", default="otsensor.db")
        sub.add_argument("--format", choices=("table", "json", "csv"), default="table")

    paths = commands.add_parser("paths", help="IT-to-OT pathways and policy violations")
    paths.add_argument("--db", default="otsensor.db")
    paths.add_argument("--policy", metavar="PATH", help="zones and conduits (default: the zones stored by analyze)")
    paths.add_argument("--format", choices=("table", "json"), default="table")
    paths.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, metavar="SECONDS")
    paths.add_argument("--max-hops", type=int, default=DEFAULT_MAX_HOPS)

    policy = commands.add_parser("policy", help="work with segmentation policies")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    suggest = policy_commands.add_parser("suggest", help="propose a policy YAML from what was observed")
    suggest.add_argument("--db", default="otsensor.db")
    suggest.add_argument("--output", "-o", metavar="PATH", help="write here instead of standard output")
    return parser


def _load_policy(path: str | None) -> Policy | None:
    """Read the policy before any capture: a bad file stops the run with the line that is wrong."""
    return load_policy(path) if path else None


def cmd_analyze(args: argparse.Namespace) -> int:
    policy = _load_policy(args.policy)
    with ExitStack() as stack:
        events = stack.enter_context(open(args.events, "w", encoding="utf-8")) if args.events else None
        flows = stack.enter_context(open(args.flows, "w", encoding="utf-8")) if args.flows else None
        store = stack.enter_context(Store.open(args.db))
        bar = ProgressBar() if sys.stderr.isatty() and not args.no_progress else None
        options = Options(events=events, flows=flows, strict=args.strict, modbus_ports=frozenset(args.modbus_port),
                          fast_path=not args.no_fast_path, batch_frames=args.batch_frames,
                          progress=bar)
        summary = Pipeline(store, options).run(args.inputs)
        alerts = check_policy(store, policy, args.window) if policy is not None else []
    if args.alerts:
        with open(args.alerts, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(alert, sort_keys=True) + "\n" for alert in alerts)
    if bar is not None:
        bar.close()
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in summary.errors:
        print(f"error: {error}", file=sys.stderr)
    print(format_summary(summary))
    if policy is not None:
        print(f"alerts      {len(alerts)} from the policy check ({args.policy})")
    return EXIT_UNREADABLE_INPUT if summary.errors else EXIT_OK


ASSET_TABLE_COLUMNS = ["ip", "mac", "mac_vendor", "device_type", "roles", "identity", "services", "unit_ids",
                       "first_seen", "last_seen"]


def cmd_assets(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        columns = ASSET_TABLE_COLUMNS if args.format == "table" else None
        print(render(store.assets(), args.format, columns))
    return EXIT_OK


def check_policy(store: Store, policy: Policy, window_s: float) -> list[dict]:
    """Zone every asset and check every stored communication; alerts merge into the store by id."""
    from sensor.policy.commands import run_policy_check  # networkx is imported only when a policy is used

    zones, alerts = run_policy_check(policy, store.communications(), store.assets(), window_s=window_s)
    levels = {zone.name: zone.level for zone in policy.zones}
    store.commit(StoreBatch(zones=[(ip, zone, levels.get(zone)) for ip, zone in zones.items()], alerts=alerts))
    return alerts


def cmd_alerts(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        columns = ["ts", "severity", "rule", "src", "dst", "proto", "count", "summary"] if args.format == "table" else None
        print(render(store.alerts(), args.format, columns))
    return EXIT_OK


def cmd_paths(args: argparse.Namespace) -> int:
    from sensor.policy.commands import paths_document, render_paths_table

    policy = _load_policy(args.policy)
    with Store.open(args.db) as store:
        doc = paths_document(store.communications(), store.assets(), policy, args.window, args.max_hops)
    print(json.dumps(doc, indent=2, sort_keys=True) if args.format == "json" else render_paths_table(doc))
    return EXIT_OK


def cmd_policy(args: argparse.Namespace) -> int:
    from sensor.policy.commands import suggest_policy

    with Store.open(args.db) as store:
        text = suggest_policy(store.communications(), store.assets())
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"analyze": cmd_analyze, "assets": cmd_assets, "alerts": cmd_alerts, "paths": cmd_paths,
                "policy": cmd_policy}
    try:
        return handlers[args.command](args)
    except PolicyError as error:  # raised before anything is read or written
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE_INPUT


if __name__ == "__main__":
    sys.exit(main())
