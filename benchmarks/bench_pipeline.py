"""Throughput of `otsensor analyze` against tshark on the same file, in the same run.

    python benchmarks/bench_pipeline.py [--file benchmarks/out/modbus_1m.pcap] [--runs 3] [--slice 100000 500000]

Both tools read the same capture from the page cache and are pinned to one core (`taskset -c 0`): the figure
that matters for sizing is per core, since more cores are a deployment choice (flow-hash sharding). Each case
runs `--runs` times; the table shows the median wall time of the whole process (start-up and imports included,
as in reference/perf.md); runs go round-robin over the cases so bursts of other load hit all alike. Peak RSS comes
from `/usr/bin/time -f %M`; measuring it on the full file and on slices shows whether memory grows with
capture length. Writes benchmarks/out/bench_pipeline.json and prints a
Markdown table for the README.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT_DIR = HERE / "out"
TSHARK_FIELDS = ["ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "mbtcp.trans_id", "mbtcp.unit_id",
                 "modbus.func_code"]


@dataclass
class Case:
    """One measured command and its per-run wall time, CPU time and peak RSS."""

    name: str
    argv: list[str]
    file: str
    packets: int
    bytes: int
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    max_rss_kb: list[int] = field(default_factory=list)
    check_summary: bool = False  # otsensor: the summary's packet count must equal capinfos'

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def pps(self) -> float:
        return self.packets / self.wall

    @property
    def mbps(self) -> float:
        return self.bytes / 1e6 / self.wall

    @property
    def pps_cpu(self) -> float:
        """Packets per CPU-second: steadier than wall time when other work shares the core."""
        return self.packets / statistics.median(self.cpus)


def capinfos_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[-1])


def otsensor_argv() -> list[str]:
    """The CLI as a module of this checkout, so the benchmark measures the working tree, not an old install."""
    return [sys.executable, "-m", "sensor.cli"]


def otsensor_available() -> bool:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    probe = subprocess.run([*otsensor_argv(), "analyze", "--help"], capture_output=True, env=env, cwd=REPO)
    return probe.returncode == 0


def run_once(case: Case, pin: str | None, before: list[str] | None = None) -> None:
    """Run one case under /usr/bin/time; stdout goes to /dev/null as in the reference (`> /dev/null`)."""
    if before:
        subprocess.run(before, check=True)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        argv = ["/usr/bin/time", "-f", "%U %S %M", "-o", tf.name]
        if pin is not None:
            argv += ["taskset", "-c", pin]
        argv += case.argv
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        t0 = time.perf_counter()
        out = subprocess.PIPE if case.check_summary else subprocess.DEVNULL  # tshark's 1M lines go nowhere
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, text=True, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{case.name} failed ({proc.returncode}): {shlex.join(case.argv)}\n{proc.stderr[-2000:]}")
        if case.check_summary:
            m = re.search(r"^packets\s+([\d,]+)", proc.stdout, re.MULTILINE)
            if not m or int(m.group(1).replace(",", "")) != case.packets:
                raise RuntimeError(f"{case.name}: summary does not report {case.packets} packets:\n{proc.stdout}")
        user, system, rss = tf.read().split()[-3:]
    case.walls.append(round(wall, 3))
    case.cpus.append(round(float(user) + float(system), 3))
    case.max_rss_kb.append(int(rss))


def make_slice(src: Path, n: int) -> Path:
    """First n packets as classic pcap (editcap in Wireshark 4.0 writes pcapng unless told -F pcap)."""
    dst = OUT_DIR / f"{src.stem}_{n // 1000}k.pcap"
    if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["editcap", "-F", "pcap", "-r", str(src), str(dst), f"1-{n}"], check=True)
    return dst


def warm(path: Path) -> None:
    """Read the file once so every run reads from the page cache."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


def tshark_case(path: Path, packets: int, port: int) -> Case:
    argv = ["tshark", "-n", "-r", str(path), "-d", f"tcp.port=={port},mbtcp", "-T", "fields"]
    for name in TSHARK_FIELDS:
        argv += ["-e", name]
    return Case("tshark -T fields (7 fields)", argv, str(path), packets, path.stat().st_size)


def otsensor_case(name: str, path: Path, packets: int, port: int, db: Path, *extra: str) -> Case:
    argv = [*otsensor_argv(), "analyze", str(path), "--db", str(db), "--modbus-port", str(port), *extra]
    return Case(name, argv, str(path), packets, path.stat().st_size, check_summary=True)


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    tshark = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    commit += " (with uncommitted changes)" if dirty else ""
    return {"cpu": cpu, "cpus": str(os.cpu_count()), "python": platform.python_version(), "tshark": tshark,
            "commit": commit}


def table(cases: list[Case], ratio: float | None) -> str:
    rows = ["| tool | file | packets | median wall (s) | CPU (s) | pps (wall) | pps (CPU) | MB/s | peak RSS (MiB) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        rows.append(f"| {c.name} | {Path(c.file).name} | {c.packets:,} | {c.wall:.3f} | "
                    f"{statistics.median(c.cpus):.2f} | {c.pps:,.0f} | {c.pps_cpu:,.0f} | {c.mbps:.1f} | "
                    f"{max(c.max_rss_kb) / 1024:.0f} |")
    if ratio is not None:
        rows.append("")
        rows.append(f"otsensor / tshark throughput on the same file: **{ratio:.2f}×**")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=OUT_DIR / "modbus_1m.pcap")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slice", type=int, nargs="+", default=[100_000, 500_000],
                    help="packet counts of the slices used to see whether peak RSS grows with length")
    ap.add_argument("--port", type=int, default=5020, help="TCP port decoded as Modbus by both tools")
    ap.add_argument("--pin", default="0", help="CPU list for taskset; '' to not pin")
    ap.add_argument("--outputs", action="store_true",
                    help="also the whole file with --events, and with --zeek-logs (each written to a fresh folder)")
    ap.add_argument("--tshark-only", action="store_true", help="skip otsensor (e.g. before the CLI exists)")
    ap.add_argument("--json", type=Path, default=OUT_DIR / "bench_pipeline.json")
    args = ap.parse_args(argv)
    if not args.file.exists():
        sys.exit(f"{args.file} not found: run benchmarks/make_modbus_capture.py first")
    pin = args.pin or None
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with_otsensor = not args.tshark_only and otsensor_available()
    if not args.tshark_only and not with_otsensor:
        print("otsensor CLI not available (python -m sensor.cli analyze --help failed): tshark only", file=sys.stderr)

    packets = capinfos_count(args.file)
    cases = [tshark_case(args.file, packets, args.port)]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        outputs = Path(tmp) / "outputs"
        fresh_db = ["sh", "-c", f"rm -rf {db} {db}-wal {db}-shm {outputs} && mkdir {outputs}"]
        if with_otsensor:
            cases.insert(0, otsensor_case("otsensor analyze", args.file, packets, args.port, db))
            for n in args.slice:
                small = make_slice(args.file, n)
                cases.append(otsensor_case(f"otsensor analyze ({n // 1000}k slice)", small,
                                           capinfos_count(small), args.port, db))
            if args.outputs:  # the outputs' floor: 300,000 packets/s with either on (issue 9)
                cases.append(otsensor_case("otsensor analyze --events", args.file, packets, args.port, db,
                                           "--events", str(outputs / "events.jsonl")))
                cases.append(otsensor_case("otsensor analyze --zeek-logs", args.file, packets, args.port, db,
                                           "--zeek-logs", str(outputs / "zeek")))
        for c in cases:
            warm(Path(c.file))
        # Round-robin, so a burst of other load on the machine hits every case alike.
        for _ in range(args.runs):
            for c in cases:
                run_once(c, pin, before=fresh_db if c.name.startswith("otsensor") else None)
                print(f"{c.name:32s} wall {c.walls[-1]:.3f}s  cpu {c.cpus[-1]:.2f}s  rss {c.max_rss_kb[-1] / 1024:.0f} MiB",
                      file=sys.stderr, flush=True)

    ratio = cases[0].pps / cases[1].pps if with_otsensor else None
    ratio_cpu = cases[0].pps_cpu / cases[1].pps_cpu if with_otsensor else None
    reproduce = "python benchmarks/make_modbus_capture.py && python benchmarks/bench_pipeline.py" + (
        f" --file {args.file}" if args.file != OUT_DIR / "modbus_1m.pcap" else "")
    result = {
        "machine": machine(), "pinned_to": pin, "runs": args.runs, "reproduce": reproduce,
        "ratio_otsensor_over_tshark": ratio, "ratio_cpu_otsensor_over_tshark": ratio_cpu,
        "cases": [{**asdict(c), "wall_median": c.wall, "pps": round(c.pps), "pps_cpu": round(c.pps_cpu),
                   "mb_per_s": round(c.mbps, 2),
                   "cmd": shlex.join(c.argv)} for c in cases],
    }
    if with_otsensor:
        result["peak_rss_mib"] = {c.name: round(max(c.max_rss_kb) / 1024) for c in cases if c.name.startswith("otsensor")}
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    m = result["machine"]
    print(f"Machine: {m['cpu']} ({m['cpus']} CPUs), Python {m['python']}, {m['tshark']}, commit {m['commit']}; "
          f"pinned with taskset -c {pin}; median of {args.runs} runs.\n")
    print(table(cases, ratio))
    if ratio_cpu is not None:
        print(f"Same ratio on CPU time: {ratio_cpu:.2f}×")
    if "peak_rss_mib" in result:
        print("\nPeak RSS of otsensor by input length (MiB): " +
              ", ".join(f"{c.packets:,} packets {max(c.max_rss_kb) / 1024:.0f}" for c in cases if c.name.startswith("otsensor")))
    print("\nCommands:")
    for c in cases:
        shown = re.sub(r"--db \S+", "--db tmp.db", shlex.join(c.argv))  # the temporary path means nothing later
        print(f"- {c.name}: `{('taskset -c ' + pin + ' ') if pin else ''}{shown}`")
    print(f"\nReproduce: `{reproduce}`  (results: {args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
