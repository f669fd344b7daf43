"""``otsensor report``: the self-contained HTML report, or its Markdown summary.

    otsensor report --db plant.db --html report.html [--policy policy.yaml]
    otsensor report --db plant.db --format md [--output summary.md]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``report`` subcommand and its options; ``cmd_report`` runs it."""
    report = commands.add_parser(
        "report", help="write the report: network map, inventory, violations, alerts, exposure, what to fix first",
        description="One HTML file that opens offline in any browser (--html), or a Markdown summary (--format md).")
    report.add_argument("--db", default="otsensor.db", metavar="PATH",
                        help="the database analyze wrote; opened read-only, never created (default: %(default)s)")
    report.add_argument("--policy", metavar="PATH", help="zones and conduits to judge by (default: none; the zones "
                                                         "analyze stored)")
    report.add_argument("--format", choices=("html", "md"), default="html",
                        help="one self-contained HTML file, or a Markdown summary (default: %(default)s)")
    report.add_argument("--html", metavar="PATH", help="where the HTML report goes (default: report.html)")
    report.add_argument("--output", "-o", metavar="PATH", help="where the Markdown goes (default: standard output)")
    report.set_defaults(handler=cmd_report)
    return report


def cmd_report(args: argparse.Namespace) -> int:
    # imported here: every other command starts faster without the policy graph and the writers (networkx alone
    # is 0.2 s of an analysis's start-up)
    from sensor.store.readonly import open_for_reading

    from .gather import gather
    from .html import render_html
    from .markdown import render_markdown

    with open_for_reading(args.db) as store:
        data = gather(store, args.policy)
    if args.format == "md" and not args.html:
        text = render_markdown(data)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.html or "report.html")
    path.write_text(render_html(data), encoding="utf-8")
    print(f"report: {path} ({len(data['assets'])} assets, {len(data['top_ten'])} things to fix first)",
          file=sys.stderr)
    return EXIT_OK
