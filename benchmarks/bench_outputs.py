"""What the Zeek logs cost on the Modbus benchmark: in-process CPU of the writer, and the whole process.

    taskset -c 0 python benchmarks/bench_outputs.py [--capture benchmarks/out/modbus_1m.pcap] [--runs 5]
        [--formats tsv json] [--whole]

In-process (as ``bench_detection.py``): the pipeline runs with ``decode_as modbus=5020`` and no detection, alone
and with ``ZeekLogs`` as its ``Options.logs`` (every batch's messages, every ended flow); the settings are
interleaved and each figure is the minimum CPU time (``time.process_time``) over the runs. The writer's own CPU is
timed around its calls.

``--whole`` also times whole processes (interpreter start-up included) on one core: ``otsensor analyze`` as the
command line runs it (signatures on), and the same with ``--zeek-logs`` (while the command line lacks the option,
the logs are wired in through ``run_analysis``'s ``on_start`` hook, as the option does).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.sinks.zeek import ZeekLogs  # noqa: E402
from sensor.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
MODBUS_5020 = frozenset({("modbus", "tcp", 5020)})


class Timed:
    """The Zeek logs as the pipeline's ``Options.logs``, timing every call."""

    def __init__(self, zeek: ZeekLogs) -> None:
        self.zeek, self.seconds = zeek, 0.0

    def messages(self, modbus, others) -> None:
        start = time.process_time()
        self.zeek.messages(modbus, others)
        self.seconds += time.process_time() - start

    def flow_ended(self, flow) -> None:
        start = time.process_time()
        self.zeek.flow_ended(flow)
        self.seconds += time.process_time() - start

    def close(self) -> None:
        start = time.process_time()
        self.zeek.close()
        self.seconds += time.process_time() - start


def one_run(capture: str, folder: str, fmt: str | None, disabled: tuple[str, ...] = ()) -> tuple[float, float, int]:
    """(pipeline CPU seconds, writer CPU seconds, packets) of one in-process run."""
    db = os.path.join(folder, "bench.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    logs = os.path.join(folder, "zeek")
    shutil.rmtree(logs, ignore_errors=True)
    with Store.open(db) as store:
        start = time.process_time()
        timed = Timed(ZeekLogs(logs, fmt, disabled=disabled)) if fmt else None
        summary = Pipeline(store, Options(decode_as=MODBUS_5020, logs=timed)).run([capture])
        if timed is not None:
            timed.close()
        return time.process_time() - start, timed.seconds if timed else 0.0, summary.packets


def child(capture: str, folder: str, fmt: str, disabled: tuple[str, ...] = ()) -> int:
    """The whole-process case: ``otsensor analyze`` with the Zeek logs wired in through ``on_start``."""
    from sensor.capture.source import open_inputs
    from sensor.cli import build_parser, run_analysis

    args = build_parser().parse_args(["analyze", capture, "--db", os.path.join(folder, "bench.db"),
                                      "--decode-as", "modbus=5020", "--no-progress"])
    zeek = ZeekLogs(os.path.join(folder, "zeek"), fmt, disabled=disabled)

    def wire(pipeline: Pipeline, *_: object) -> None:  # what Options(logs=...) does; on_start may pass more
        pipeline.logs = zeek
        pipeline.flows.on_end = zeek.flow_ended  # this run writes no --flows

    try:
        return run_analysis(args, open_inputs(args.inputs, skip_non_captures=True), on_start=wire)
    finally:
        zeek.close()


def cli_has_zeek_logs() -> bool:
    """Whether ``otsensor analyze`` takes ``--zeek-logs`` yet (then the whole-process case runs it as users do)."""
    import contextlib
    import io

    from sensor.cli import build_parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(["analyze", "x.pcap", "--zeek-logs", "z", "--zeek-format", "tsv"])
        except SystemExit:
            return False
    return True


def whole(capture: str, folder: str, argv: list[str], pin: str | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    command = (["taskset", "-c", pin] if pin and shutil.which("taskset") else []) + argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", default=str(OUT / "modbus_1m.pcap"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", nargs="+", default=["tsv"], choices=["tsv", "json"])
    parser.add_argument("--disabled", nargs="*", default=[], metavar="LOG",
                        help="also time the logs without these (e.g. modbus_detailed)")
    parser.add_argument("--whole", action="store_true", help="also time whole processes (start-up included)")
    parser.add_argument("--pin", default="0", help="CPU list for taskset in --whole; '' to not pin")
    parser.add_argument("--child", nargs=3, metavar=("CAPTURE", "FOLDER", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child(*args.child, tuple(args.disabled)))
    settings: list[tuple[str | None, tuple[str, ...]]] = [(None, ()), *((f, ()) for f in args.formats)]
    if args.disabled:
        settings += [(f, tuple(args.disabled)) for f in args.formats]
    total = {s: float("inf") for s in settings}
    writer = {s: float("inf") for s in settings}
    packets = 0
    with tempfile.TemporaryDirectory(prefix="otsensor-bench-") as folder:
        for _ in range(args.runs):
            for s in settings:
                cpu, own, packets = one_run(args.capture, folder, *s)
                total[s], writer[s] = min(total[s], cpu), min(writer[s], own)
        base = total[(None, ())]
        for s in settings:
            fmt, disabled = s
            name = "pipeline" if fmt is None else f"pipeline + zeek logs ({fmt}" + (
                f", without {','.join(disabled)})" if disabled else ")")
            extra = "" if fmt is None else (f"  writer {writer[s]:.3f} s CPU (+{100 * (total[s] / base - 1):.1f} % total)")
            print(f"{name:58s} {total[s]:.3f} s CPU  {packets / total[s]:,.0f} packets/s{extra}")
        if not args.whole:
            return
        cases = {"otsensor analyze": [sys.executable, "-m", "sensor.cli", "analyze", args.capture, "--db",
                                      os.path.join(folder, "w", "bench.db"), "--decode-as", "modbus=5020",
                                      "--no-progress"]}
        native = cli_has_zeek_logs()
        for fmt in args.formats:
            cases[f"otsensor analyze + zeek logs ({fmt})"] = (
                [*cases["otsensor analyze"], "--zeek-logs", os.path.join(folder, "w", "zeek"), "--zeek-format", fmt]
                if native else
                [sys.executable, str(Path(__file__).resolve()), "--child", args.capture, os.path.join(folder, "w"), fmt])
            if args.disabled:
                cases[f"otsensor analyze + zeek logs ({fmt}, without {','.join(args.disabled)})"] = [
                    sys.executable, str(Path(__file__).resolve()), "--child", args.capture, os.path.join(folder, "w"),
                    fmt, "--disabled", *args.disabled]
        os.makedirs(os.path.join(folder, "w"), exist_ok=True)
        best = {name: (float("inf"), float("inf")) for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                wall, cpu = whole(args.capture, os.path.join(folder, "w"), argv, args.pin or None)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        for name, (wall, cpu) in best.items():
            print(f"{name:66s} wall {wall:.3f} s  CPU {cpu:.3f} s  {packets / wall:,.0f} packets/s (wall)"
                  f"  {packets / cpu:,.0f} packets/s (CPU)")


if __name__ == "__main__":
    main()
