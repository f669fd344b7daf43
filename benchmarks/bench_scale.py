"""Throughput, memory and database size of `otsensor analyze` on scans, floods and long captures, beside tshark.

    python benchmarks/bench_scale.py                          # the default captures below that exist, --runs 1
    python benchmarks/bench_scale.py FILE... [--runs 3] [--pin ''] [--otsensor-args '--no-fast-path']
        [--no-assets-count] [--no-tshark] [--timeout 600] [--json benchmarks/out/bench_scale.json]

Why: bench_pipeline.py measures one Modbus capture with 16 flows and one asset. A sensor on a real network also
sees scans and floods: a million distinct hosts or flows in a minute, which is what fills its tables, its
database and its memory. This script measures those inputs the same way (whole process, page cache warm, pinned
to one core with `taskset -c 0`, `--pin ''` to disable; runs round-robin over the files and tools so a burst of
other load hits all alike; the median wall time of `--runs`).

Default inputs (benchmarks/out/, those that exist): syn_scan_1m.pcap, syn_scan_1m_1000src.pcap, udp_flood_1m.pcap,
arp_flood_100k.pcap (make_floods.py all), modbus_1m.pcap (make_modbus_capture.py) and modbus_5m.pcap
(make_repeated.py --times 5). For each file:

- otsensor: `python -m sensor.cli analyze FILE --db fresh.db [--decode-as modbus=5020] [--otsensor-args]` under
  `/usr/bin/time -f '%e %U %S %M'` (wall, user, system, peak RSS); the Modbus port is added for files whose name
  contains "modbus". Afterwards the database's size (the file plus its -wal) and the number of assets
  (`python -m sensor.cli assets --db DB --format json`, entries of the list; `--no-assets-count` skips it, as it
  can be slow on a million assets; the summary's own count is kept in the JSON either way).
- tshark: `tshark -n -r FILE -T fields -e frame.number -e ip.src -e ip.dst -e tcp.dstport > /dev/null`, for Modbus
  files with `-d tcp.port==5020,mbtcp -e modbus.func_code`.

Prints a Markdown table (packets from `capinfos -M -c`; MB/s is the file size over the wall time; ratio is
otsensor's packets/s over tshark's) and writes benchmarks/out/bench_scale.json with the machine, the commands and
every run. A run that fails or passes `--timeout` is reported and the rest carries on.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench_pipeline import machine, warm  # the same machine record and page-cache warm-up

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT_DIR = HERE / "out"
DEFAULT_FILES = ["syn_scan_1m.pcap", "syn_scan_1m_1000src.pcap", "udp_flood_1m.pcap", "arp_flood_100k.pcap",
                 "modbus_1m.pcap", "modbus_5m.pcap"]
TSHARK_FIELDS = ["frame.number", "ip.src", "ip.dst", "tcp.dstport"]


@dataclass
class Runs:
    """One tool's runs on one file: wall (from /usr/bin/time %e), CPU (user+sys) and peak RSS per run."""

    argv: list[str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    max_rss_kb: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    def rate(self, amount: float) -> float | None:
        return amount / self.wall if self.wall else None


@dataclass
class Subject:
    """A capture file and what was measured on it."""

    file: str
    packets: int
    bytes: int
    modbus: bool
    otsensor: Runs
    tshark: Runs | None
    summary_packets: list[int] = field(default_factory=list)
    summary_assets: int | None = None
    db_mb: list[float] = field(default_factory=list)
    assets: int | None = None
    assets_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        a, b = self.otsensor.rate(self.packets), self.tshark.rate(self.packets) if self.tshark else None
        return a / b if a and b else None


def capinfos_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[-1])


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def otsensor_argv(path: Path, db: Path, modbus_port: int | None, extra: list[str]) -> list[str]:
    """The CLI as a module of this checkout, so the benchmark measures the working tree, not an old install."""
    argv = [sys.executable, "-m", "sensor.cli", "analyze", str(path), "--db", str(db)]
    if modbus_port is not None:
        argv += ["--decode-as", f"modbus={modbus_port}"]
    return argv + extra


def tshark_argv(path: Path, modbus_port: int | None) -> list[str]:
    argv = ["tshark", "-n", "-r", str(path)]
    fields = list(TSHARK_FIELDS)
    if modbus_port is not None:
        argv += ["-d", f"tcp.port=={modbus_port},mbtcp"]
        fields.append("modbus.func_code")
    argv += ["-T", "fields"]
    for name in fields:
        argv += ["-e", name]
    return argv


def timed(argv: list[str], pin: str | None, timeout: float | None, keep_stdout: bool) -> tuple[list[str], str]:
    """Run ARGV under /usr/bin/time (pinned if asked): the time fields (wall, user, sys, RSS) and stdout.

    Raises RuntimeError on failure or timeout; a timed-out run's whole process group is killed.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name]
        if pin is not None:
            cmd += ["taskset", "-c", pin]
        cmd += argv
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env(), cwd=REPO, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"timed out after {timeout:g} s") from None
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {err.strip()[-1000:]}")
        return tf.read().split()[-4:], out or ""


def record(runs: Runs, fields: list[str]) -> None:
    wall, user, system, rss = fields
    runs.walls.append(float(wall))
    runs.cpus.append(round(float(user) + float(system), 2))
    runs.max_rss_kb.append(int(rss))


def summary_number(text: str, key: str) -> int | None:
    m = re.search(rf"^{key}\s+([\d,]+)", text, re.MULTILINE)
    return int(m.group(1).replace(",", "")) if m else None


def db_size_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 1e6


def count_assets(db: Path, timeout: float | None) -> tuple[int, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sensor.cli", "assets", "--db", str(db), "--format", "json"],
                          capture_output=True, text=True, env=env(), cwd=REPO, timeout=timeout, check=True)
    return len(json.loads(proc.stdout)), time.perf_counter() - t0


def remove_db(db: Path) -> None:
    for p in db.parent.glob(db.name + "*"):  # the database, its -wal and -shm, a SIEM spool
        if p.is_dir():
            continue
        p.unlink()


def run_otsensor(s: Subject, db: Path, pin: str | None, timeout: float | None, first: bool, assets: bool) -> None:
    remove_db(db)
    try:
        fields, out = timed(s.otsensor.argv, pin, timeout, keep_stdout=True)
    except RuntimeError as error:
        s.otsensor.failures.append(str(error))
        print(f"otsensor {Path(s.file).name}: {error}", file=sys.stderr)
        return
    record(s.otsensor, fields)
    s.summary_packets.append(summary_number(out, "packets") or -1)
    s.summary_assets = summary_number(out, "assets")
    s.db_mb.append(round(db_size_mb(db), 2))
    if s.summary_packets[-1] != s.packets:
        print(f"otsensor {Path(s.file).name}: the summary reports {s.summary_packets[-1]:,} packets, capinfos "
              f"{s.packets:,}", file=sys.stderr)
    if first and assets:
        try:
            s.assets, seconds = count_assets(db, timeout)
            s.assets_seconds = round(seconds, 2)
        except (subprocess.SubprocessError, json.JSONDecodeError) as error:
            print(f"assets {Path(s.file).name}: {error}", file=sys.stderr)


def run_tshark(s: Subject, pin: str | None, timeout: float | None) -> None:
    assert s.tshark is not None
    try:
        fields, _ = timed(s.tshark.argv, pin, timeout, keep_stdout=False)  # its lines go to /dev/null
    except RuntimeError as error:
        s.tshark.failures.append(str(error))
        print(f"tshark {Path(s.file).name}: {error}", file=sys.stderr)
        return
    record(s.tshark, fields)


def fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def table(subjects: list[Subject]) -> str:
    rows = ["| file | packets | otsensor wall (s) | packets/s | MB/s | peak RSS (MiB) | DB (MB) | assets | "
            "tshark wall (s) | tshark packets/s | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in subjects:
        o, t = s.otsensor, s.tshark
        rss = max(o.max_rss_kb) / 1024 if o.max_rss_kb else None
        assets = fmt(s.assets, ",") if s.assets is not None else (
            f"{s.summary_assets:,}†" if s.summary_assets is not None else "–")
        rows.append(f"| {Path(s.file).name} | {s.packets:,} | {fmt(o.wall, '.2f')} | {fmt(o.rate(s.packets), ',.0f')} | "
                    f"{fmt(o.rate(s.bytes / 1e6), '.1f')} | {fmt(rss, '.0f')} | "
                    f"{fmt(s.db_mb[-1] if s.db_mb else None, '.1f')} | {assets} | "
                    f"{fmt(t.wall if t else None, '.2f')} | {fmt(t.rate(s.packets) if t else None, ',.0f')} | "
                    f"{fmt(s.ratio, '.2f')}{'×' if s.ratio else ''} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="captures (default: those of the docstring that exist)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--pin", default="0", help="CPU list for taskset; '' to not pin")
    ap.add_argument("--modbus-port", type=int, default=5020, help="decoded as Modbus in files named *modbus*")
    ap.add_argument("--otsensor-args", default="", help="extra arguments for analyze, e.g. '--no-fast-path'")
    ap.add_argument("--no-assets-count", action="store_true", help="skip `assets --format json` (the table then "
                                                                   "shows the summary's count, marked †)")
    ap.add_argument("--no-tshark", action="store_true", help="measure otsensor only")
    ap.add_argument("--timeout", type=float, default=0, help="seconds before a run is killed (0: no limit)")
    ap.add_argument("--json", type=Path, default=OUT_DIR / "bench_scale.json")
    args = ap.parse_args(argv)
    pin, timeout = args.pin or None, args.timeout or None
    files = [p.resolve() for p in args.files] or [OUT_DIR / n for n in DEFAULT_FILES if (OUT_DIR / n).exists()]
    missing = [str(p) for p in files if not p.exists()]
    if missing or not files:
        sys.exit(f"not found: {', '.join(missing)}" if missing else
                 "no captures: run benchmarks/make_floods.py all (and make_modbus_capture.py, make_repeated.py)")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(args.otsensor_args)

    with tempfile.TemporaryDirectory(prefix="bench_scale.") as tmp:
        db = Path(tmp) / "fresh.db"
        subjects = []
        for path in files:
            port = args.modbus_port if "modbus" in path.name.lower() else None
            subjects.append(Subject(str(path), capinfos_count(path), path.stat().st_size, port is not None,
                                    Runs(otsensor_argv(path, db, port, extra)),
                                    None if args.no_tshark else Runs(tshark_argv(path, port))))
        for run in range(args.runs):  # round-robin over files and tools
            for s in subjects:
                warm(Path(s.file))
                run_otsensor(s, db, pin, timeout, first=run == 0, assets=not args.no_assets_count)
                if s.tshark:
                    run_tshark(s, pin, timeout)
                t = s.tshark.walls[-1] if s.tshark and s.tshark.walls else None
                print(f"run {run + 1}/{args.runs} {Path(s.file).name:28s} otsensor "
                      f"{fmt(s.otsensor.walls[-1] if s.otsensor.walls else None, '.2f')} s, "
                      f"tshark {fmt(t, '.2f')} s", file=sys.stderr, flush=True)
        remove_db(db)

    result = {
        "machine": machine(), "pinned_to": pin, "runs": args.runs, "otsensor_args": extra,
        "files": [{**asdict(s), "otsensor_wall_median": s.otsensor.wall,
                   "otsensor_pps": s.otsensor.rate(s.packets), "otsensor_mb_per_s": s.otsensor.rate(s.bytes / 1e6),
                   "tshark_wall_median": s.tshark.wall if s.tshark else None,
                   "tshark_pps": s.tshark.rate(s.packets) if s.tshark else None, "ratio": s.ratio,
                   "otsensor_cmd": re.sub(r"--db \S+", "--db fresh.db", shlex.join(s.otsensor.argv)),
                   "tshark_cmd": shlex.join(s.tshark.argv) + " > /dev/null" if s.tshark else None}
                  for s in subjects],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    m = result["machine"]
    print(f"Machine: {m['cpu']} ({m['cpus']} CPUs), Python {m['python']}, {m['tshark']}, commit {m['commit']}; "
          f"{'pinned with taskset -c ' + pin if pin else 'not pinned'}; median of {args.runs} run(s).\n")
    print(table(subjects))
    if args.no_assets_count:
        print("\n† assets as counted by analyze's summary")
    for s in subjects:
        for tool, runs in (("otsensor", s.otsensor), ("tshark", s.tshark)):
            for failure in runs.failures if runs else []:
                print(f"\n{tool} on {Path(s.file).name} failed: {failure}")
    print("\nCommands:")
    for f in result["files"]:
        print(f"- `{f['otsensor_cmd']}`" + (f"\n- `{f['tshark_cmd']}`" if f["tshark_cmd"] else ""))
    print(f"\nResults: {args.json}")
    return 1 if any(s.otsensor.failures or (s.tshark and s.tshark.failures) for s in subjects) else 0


if __name__ == "__main__":
    sys.exit(main())
