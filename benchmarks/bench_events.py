"""What the ``--events`` file costs on the Modbus benchmark: the pipeline with events off and on.

    taskset -c 0 python benchmarks/bench_events.py [--capture benchmarks/out/modbus_1m.pcap] [--runs 5]
        [--keep FILE]

The pipeline runs in-process (no interpreter start-up), Modbus decoded on port 5020, the two settings
interleaved, and each setting's figure is the minimum CPU time (``time.process_time``) over the runs, as in
bench_detection.py: the minimum of interleaved runs is what compares fairly on a shared machine. The events
file is written to a temporary folder (``--keep`` copies the last one, e.g. to ``cmp`` two versions).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
MODBUS_PORT = 5020


def seconds(capture: str, events: str | None, folder: str) -> tuple[float, int]:
    """CPU seconds of one run, and how many lines the events file got."""
    path = os.path.join(folder, "bench.db")
    if os.path.exists(path):
        os.remove(path)
    decode_as = frozenset({("modbus", "tcp", MODBUS_PORT)})
    with Store.open(path) as store:
        if events is None:
            start = time.process_time()
            Pipeline(store, Options(decode_as=decode_as)).run([capture])
            return time.process_time() - start, 0
        with open(events, "w", encoding="utf-8") as out:
            start = time.process_time()
            pipeline = Pipeline(store, Options(decode_as=decode_as, events=out))
            pipeline.run([capture])
            out.flush()
            spent = time.process_time() - start
        return spent, pipeline.events.count if pipeline.events is not None else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default=str(OUT / "modbus_1m.pcap"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="copy the events file of the last run here")
    args = parser.parse_args()
    best = {"events off": float("inf"), "events on": float("inf")}
    lines = 0
    with tempfile.TemporaryDirectory(prefix="otsensor-bench-") as folder:
        events = os.path.join(folder, "events.jsonl")
        for _ in range(args.runs):
            best["events off"] = min(best["events off"], seconds(args.capture, None, folder)[0])
            spent, lines = seconds(args.capture, events, folder)
            best["events on"] = min(best["events on"], spent)
        if args.keep:
            shutil.copyfile(events, args.keep)
    extra = best["events on"] - best["events off"]
    for name, value in best.items():
        print(f"{name:10s} {value:.3f} s CPU")
    print(f"events    +{extra:.3f} s CPU for {lines:,} lines ({1e6 * extra / max(lines, 1):.2f} µs a line)")


if __name__ == "__main__":
    main()
