"""What detection costs on the Modbus benchmark: the pipeline with no detection, signatures, and a baseline.

    taskset -c 0 python benchmarks/bench_detection.py [--capture benchmarks/out/modbus_1m.pcap]
        [--learn benchmarks/out/modbus_1m_500k.pcap] [--runs 10]

The pipeline runs in-process (no interpreter start-up), the three settings interleaved, and each setting's
figure is the minimum CPU time (``time.process_time``) over the runs: on a shared virtual machine the wall
clock of identical runs varies by 10 %, and the minimum of interleaved runs is what compares fairly. The
baseline is learned first from ``--learn`` (the first half of the same workload).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensor.detect.baseline import Baseline  # noqa: E402
from sensor.detect.checks import detection_checks  # noqa: E402
from sensor.detect.engine import Detector  # noqa: E402
from sensor.detect.learn import Cutoff, Learner  # noqa: E402
from sensor.detect.offline import run  # noqa: E402
from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def seconds(capture: str, detector: Detector | None, folder: str) -> float:
    path = os.path.join(folder, "bench.db")
    if os.path.exists(path):
        os.remove(path)
    with Store.open(path) as store:
        start = time.process_time()
        Pipeline(store, Options(detector=detector)).run([capture])
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default=str(OUT / "modbus_1m.pcap"))
    parser.add_argument("--learn", default=str(OUT / "modbus_1m_500k.pcap"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    learner = Learner(Cutoff())
    run([args.learn], [learner])
    baseline: Baseline = learner.baseline()
    settings = {"none": lambda: None, "signatures": lambda: Detector(detection_checks()),
                "signatures + baseline": lambda: Detector(detection_checks(baseline))}
    best = dict.fromkeys(settings, float("inf"))
    with tempfile.TemporaryDirectory(prefix="otsensor-bench-") as folder:
        for _ in range(args.runs):
            for name, make in settings.items():
                best[name] = min(best[name], seconds(args.capture, make(), folder))
    for name, value in best.items():
        extra = f" (+{100 * (value / best['none'] - 1):.1f} %)" if name != "none" else ""
        print(f"{name:22s} {value:.3f} s CPU{extra}")


if __name__ == "__main__":
    main()
