"""The cost of a change: `otsensor analyze` from two source trees on one file, runs interleaved.

    python benchmarks/ab.py /path/to/main-before /path/to/this-tree [--file F] [--runs 5] [--args "--events {tmp}/e.jsonl"]

A busy or throttled machine slows both trees alike when their runs alternate, so the ratio of the medians
holds where absolute figures drift (this VM's single-core speed varies by a third between hours). Each run is
pinned to core 0 and writes a fresh database; the benchmark rule of the README applies (the 1 M-packet Modbus
capture, events and baseline off). Make a tree of main before the change with `git worktree add DIR REV` and
copy the compiled record walk (sensor/capture/_walk*.so) into it, or it runs the pure-Python walk.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"


def run(tree: Path, capture: Path, port: int, db: Path, extra: list[str]) -> float:
    """Whole-process seconds of one analysis from ``tree``'s sources."""
    db.unlink(missing_ok=True)
    argv = ["taskset", "-c", "0", sys.executable, "-m", "sensor.cli", "analyze", str(capture), "--db", str(db),
            "--modbus-port", str(port), "--no-progress", *extra]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{tree}: exit {done.returncode}: {done.stderr[-1000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--file", type=Path, default=OUT_DIR / "modbus_1m.pcap")
    ap.add_argument("--port", type=int, default=5020, help="TCP port analysed as Modbus")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--args", default="", help="more analyze options, {tmp} standing for a scratch folder (the "
                                               "outputs' cost: --args '--events {tmp}/e.jsonl')")
    args = ap.parse_args(argv)
    args.before, args.after, args.file = args.before.resolve(), args.after.resolve(), args.file.resolve()
    times: dict[Path, list[float]] = {args.before: [], args.after: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for tree in (args.before, args.after) if i % 2 == 0 else (args.after, args.before):
                extra = [word.replace("{tmp}", tmp) for word in args.args.split()]
                times[tree].append(run(tree, args.file, args.port, Path(tmp) / "ab.db", extra))
    packets = int(subprocess.run(["capinfos", "-M", "-c", "-r", "-T", str(args.file)], capture_output=True,
                                 text=True).stdout.split()[-1])
    for label, tree in (("before", args.before), ("after", args.after)):
        median = statistics.median(times[tree])
        print(f"{label}: {tree}  median {median:.2f} s  {packets / median:,.0f} packets/s  "
              f"runs {', '.join(f'{t:.2f}' for t in times[tree])}")
    ratio = statistics.median(times[args.after]) / statistics.median(times[args.before])
    print(f"after / before: {ratio:.3f} ({(ratio - 1) * 100:+.1f} % time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
