"""Synthetic flood captures (SYN scan, UDP flood, ARP flood) for the scale benchmark, written directly with numpy.

    python benchmarks/make_floods.py all                      # the four default captures below
    python benchmarks/make_floods.py syn-scan                 # --packets 1000000 --sources 1 -> out/syn_scan_1m.pcap
    python benchmarks/make_floods.py syn-scan --sources 1000  # -> out/syn_scan_1m_1000src.pcap
    python benchmarks/make_floods.py udp-flood                # --packets 1000000 -> out/udp_flood_1m.pcap
    python benchmarks/make_floods.py arp-flood                # --packets 100000 -> out/arp_flood_100k.pcap
    python benchmarks/make_floods.py syn-scan --packets 20000 --check   # small file, then capinfos + tshark checks

Why: the Modbus benchmark capture has 16 flows and one asset; a sensor's tables (flows, assets, pairs) are
exercised only by traffic with very many distinct hosts and flows, which is what scans and floods are. These
captures are what `bench_scale.py` measures.

How: every packet of a scenario has the same length, so the whole file is one numpy structured array (pcap record
header + frame) built column by column and written with one call: a million packets take about a second, with no
per-packet Python. Classic little-endian pcap, link type 1 (Ethernet), microsecond timestamps, packets
`--gap-us` apart (1 µs by default) from `--start` (2026-01-01 00:00:00 UTC). IPv4 header, TCP and UDP checksums
are all computed (vectorised) and correct; the random choices are seeded (`--seed`), so a file is reproducible.

- syn-scan: TCP SYNs (with an MSS option, as nmap sends them) from one scanner, 172.16.0.1, or `--sources N`
  scanners (172.16.0.1 onwards, round-robin), each to a distinct target walking 10.0.0.1, 10.0.0.2, ...;
  even packets to port 502, odd ones to a random other port. Source ports run 1024..65535 per scanner, so the
  (source, source port, target, port) tuples are all distinct.
- udp-flood: UDP datagrams with a small payload (`--payload`, 18 bytes: 60-byte frames) from `--sources` (4)
  hosts 172.16.1.x to `--destinations` (4) hosts 10.1.0.x, random source and destination ports, the payload
  zeros. Ports where tshark has a dissector (`tshark -G decodes`, ~330 of them, and LBT-RU/RM's 14360-14409) are
  left out so that tshark's check finds nothing malformed (`--all-ports` keeps them: NTP, RIP, BFD, ... then call
  some of the zero payloads malformed).
- arp-flood: gratuitous ARP, requests and replies alternating, from as many distinct IP/MAC pairs as packets
  (10.128.0.1 onwards, MAC 02:00:00:xx:xx:xx), each frame padded to the 60-byte Ethernet minimum; `--pairs N`
  sends N pairs round after round instead (`--packets 1000000 --pairs 100000` -> out/arp_flood_1m_100kpairs.pcap:
  a flood long enough for its rate, not the start-up, to show).

`--check` then runs capinfos, `tshark -q -z io,phs` (no malformed packets) and tshark with checksum validation on
(no bad IPv4, TCP or UDP checksum, no expert error). `benchmarks/out/` is git-ignored.
"""
from __future__ import annotations

import argparse
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
START = 1_767_225_600  # 2026-01-01 00:00:00 UTC
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # magic, v2.4, UTC, sigfigs, snaplen, Ethernet
ETH, IP_HDR = 14, 20
BROADCAST = 0xFFFF_FFFF_FFFF
# Ports tshark's own port checks claim without listing them in `tshark -G decodes`: 29West LBT-RU and LBT-RM's
# default source and destination ranges (packet-lbtru.c, packet-lbtrm.c).
UNLISTED_UDP_PORTS = np.arange(14_360, 14_410)
GATEWAY_MAC = 0x0200_00FF_FFFE


# ---- bytes, words and checksums on (packets, bytes) uint8 arrays ----

def put(frames: np.ndarray, offset: int, width: int, values: np.ndarray | int) -> None:
    """Write VALUES big-endian (network order) into WIDTH bytes at OFFSET of every frame."""
    v = np.asarray(values, dtype=np.uint64)
    for i in range(width):
        frames[:, offset + i] = (v >> np.uint64(8 * (width - 1 - i))) & np.uint64(0xFF)


def word_sum(frames: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Sum of the big-endian 16-bit words in bytes [start, stop) of every frame (an odd tail is zero-padded)."""
    even = start + (stop - start) // 2 * 2
    total = np.ascontiguousarray(frames[:, start:even]).view(">u2").sum(axis=1, dtype=np.uint64)
    if even < stop:
        total += frames[:, even].astype(np.uint64) << np.uint64(8)
    return total


def fold(total: np.ndarray) -> np.ndarray:
    """The Internet checksum of a 16-bit word sum: fold the carries, take the ones' complement."""
    for _ in range(3):
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_checksum(frames: np.ndarray, ip: int = ETH) -> None:
    put(frames, ip + 10, 2, 0)
    put(frames, ip + 10, 2, fold(word_sum(frames, ip, ip + IP_HDR)))


def l4_checksum(frames: np.ndarray, proto: int, field: int, ip: int = ETH) -> None:
    """TCP or UDP checksum over the pseudo-header and the segment (the frame's end is the segment's end)."""
    l4 = ip + IP_HDR
    length = frames.shape[1] - l4
    put(frames, field, 2, 0)
    pseudo = word_sum(frames, ip + 12, ip + 20) + np.uint64(proto + length)
    csum = fold(pseudo + word_sum(frames, l4, frames.shape[1]))
    if proto == 17:
        csum[csum == 0] = 0xFFFF  # UDP: zero means "no checksum", so a computed zero is sent as all ones
    put(frames, field, 2, csum)


# ---- headers ----

def ethernet(frames: np.ndarray, dst: np.ndarray | int, src: np.ndarray | int, ethertype: int) -> None:
    put(frames, 0, 6, dst)
    put(frames, 6, 6, src)
    put(frames, 12, 2, ethertype)


def ipv4(frames: np.ndarray, proto: int, src: np.ndarray | int, dst: np.ndarray | int, ident: np.ndarray,
         ttl: int = 64) -> None:
    ip = ETH
    frames[:, ip] = 0x45  # version 4, 20-byte header
    put(frames, ip + 2, 2, frames.shape[1] - ETH)  # total length: the frames carry no Ethernet padding here
    put(frames, ip + 4, 2, ident)
    frames[:, ip + 8] = ttl
    frames[:, ip + 9] = proto
    put(frames, ip + 12, 4, src)
    put(frames, ip + 16, 4, dst)
    ipv4_checksum(frames)


def addr(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


# ---- pcap ----

def records(n: int, length: int, gap_us: int, start: int) -> np.ndarray:
    """N pcap records of LENGTH-byte frames, timestamps filled in; the frames ('data', zeros) are the caller's."""
    rec = np.zeros(n, np.dtype([("sec", "<u4"), ("usec", "<u4"), ("incl", "<u4"), ("orig", "<u4"),
                                ("data", "u1", (length,))]))
    t = np.int64(start) * 1_000_000 + np.arange(n, dtype=np.int64) * gap_us
    rec["sec"], rec["usec"] = t // 1_000_000, t % 1_000_000
    rec["incl"] = rec["orig"] = length
    return rec


def write_pcap(path: Path, rec: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(PCAP_HEADER)
        rec.tofile(f)


# ---- scenarios: each returns the records to write ----

def syn_scan(n: int, sources: int, rng: np.random.Generator, gap_us: int, start: int) -> np.ndarray:
    tcp = ETH + IP_HDR
    rec = records(n, tcp + 24, gap_us, start)  # 58-byte frames: 20-byte TCP header + 4-byte MSS option
    f = rec["data"]
    i = np.arange(n, dtype=np.int64)
    scanner = i % sources
    ethernet(f, GATEWAY_MAC, 0x0200_0000_0001 + scanner, 0x0800)
    ipv4(f, 6, addr("172.16.0.1") + scanner, addr("10.0.0.1") + i, ident=i & 0xFFFF)
    other = rng.integers(1, 65_535, n)  # 1..65534, then 502 itself moved to 65535
    other[other == 502] = 65_535
    put(f, tcp, 2, 1024 + (i // sources) % 64_512)  # source port
    put(f, tcp + 2, 2, np.where(i % 2 == 0, 502, other))
    put(f, tcp + 4, 4, rng.integers(0, 2**32, n, dtype=np.uint64))  # sequence number
    f[:, tcp + 12] = 6 << 4  # data offset: 6 words
    f[:, tcp + 13] = 0x02  # SYN
    put(f, tcp + 14, 2, 1024)  # window
    f[:, tcp + 20:tcp + 24] = [2, 4, 0x05, 0xB4]  # MSS 1460
    l4_checksum(f, 6, tcp + 16)
    return rec


def tshark_udp_ports() -> np.ndarray:
    """The UDP ports tshark hands to a dissector (`tshark -G decodes`): a zero payload there can be "malformed"."""
    try:
        out = subprocess.run(["tshark", "-G", "decodes"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        print("tshark -G decodes failed: UDP ports drawn from the whole range", file=sys.stderr)
        return np.zeros(0, np.int64)
    ports = [int(f[1]) for f in (line.split("\t") for line in out.splitlines())
             if len(f) >= 2 and f[0] == "udp.port" and f[1].isdigit()]
    return np.unique(np.concatenate([ports, UNLISTED_UDP_PORTS]))


def udp_flood(n: int, sources: int, destinations: int, payload: int, avoid: np.ndarray, rng: np.random.Generator,
              gap_us: int, start: int) -> np.ndarray:
    udp = ETH + IP_HDR
    rec = records(n, udp + 8 + payload, gap_us, start)
    f = rec["data"]
    src = rng.integers(0, sources, n)
    dst = rng.integers(0, destinations, n)
    ethernet(f, 0x0200_0001_0001 + dst, 0x0200_0000_1001 + src, 0x0800)
    ipv4(f, 17, addr("172.16.1.1") + src, addr("10.1.0.1") + dst, ident=np.arange(n) & 0xFFFF)
    allowed = np.setdiff1d(np.arange(1, 65_536), avoid)
    put(f, udp, 2, rng.choice(allowed[allowed >= 1024], n))
    put(f, udp + 2, 2, rng.choice(allowed, n))
    put(f, udp + 4, 2, 8 + payload)
    l4_checksum(f, 17, udp + 6)
    return rec


def arp_flood(n: int, gap_us: int, start: int, pairs: int | None = None) -> np.ndarray:
    rec = records(n, 60, gap_us, start)  # 28-byte ARP + 18 bytes of padding to the Ethernet minimum
    f = rec["data"]
    i = np.arange(n, dtype=np.int64) % (pairs or n)  # a flooding tool repeats its forged pairs round after round
    mac, ip = 0x0200_0000_0001 + i, addr("10.128.0.1") + i
    reply = i % 2 == 1
    ethernet(f, BROADCAST, mac, 0x0806)
    a = ETH
    put(f, a, 2, 1)  # hardware: Ethernet
    put(f, a + 2, 2, 0x0800)  # protocol: IPv4
    f[:, a + 4], f[:, a + 5] = 6, 4
    put(f, a + 6, 2, np.where(reply, 2, 1))
    put(f, a + 8, 6, mac)
    put(f, a + 14, 4, ip)
    put(f, a + 18, 6, np.where(reply, mac, 0))  # gratuitous request: target MAC zero; reply: its own
    put(f, a + 24, 4, ip)  # gratuitous: the target IP is the sender's own
    return rec


# ---- command line ----

def label(n: int) -> str:
    """1000000 -> '1m', 100000 -> '100k', 1500 -> '1500'."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def default_out(args: argparse.Namespace) -> Path:
    name = f"{args.kind.replace('-', '_')}_{label(args.packets)}"
    if args.kind == "syn-scan" and args.sources != 1:
        name += f"_{args.sources}src"
    if args.kind == "arp-flood" and args.pairs:
        name += f"_{label(args.pairs)}pairs"
    return OUT_DIR / f"{name}.pcap"


def build(args: argparse.Namespace) -> np.ndarray:
    rng = np.random.default_rng(args.seed)
    if args.kind == "syn-scan":
        if args.packets > addr("10.255.255.254") - addr("10.0.0.1") + 1:
            sys.exit("syn-scan: at most 16,777,214 targets fit in 10.0.0.0/8")
        return syn_scan(args.packets, args.sources, rng, args.gap_us, args.start)
    if args.kind == "udp-flood":
        avoid = np.zeros(0, np.int64) if args.all_ports else tshark_udp_ports()
        return udp_flood(args.packets, args.sources, args.destinations, args.payload, avoid, rng, args.gap_us,
                         args.start)
    return arp_flood(args.packets, args.gap_us, args.start, args.pairs)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a check tool; its stderr without the warning tshark prints when run as root."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("Running as user"))
    return proc


def check(path: Path, expected: int) -> bool:
    """capinfos count, tshark's protocol hierarchy (no malformed) and checksum/expert-error validation."""
    count = int(run(["capinfos", "-M", "-c", str(path)]).stdout.strip().splitlines()[-1].split()[-1])
    phs = run(["tshark", "-n", "-r", str(path), "-q", "-z", "io,phs"])
    malformed = re.findall(r"^\s*(_ws\.malformed|malformed)\s+frames:(\d+)", phs.stdout, re.MULTILINE | re.IGNORECASE)
    top = [line.strip() for line in phs.stdout.splitlines() if "frames:" in line]
    bad_filter = ('ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" '
                  '|| _ws.malformed || _ws.expert.severity == "Error"')
    bad = run(["tshark", "-n", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
               "-o", "udp.check_checksum:TRUE", "-Y", bad_filter, "-T", "fields", "-e", "frame.number"])
    bad_frames = bad.stdout.split()
    ok = count == expected and not malformed and not bad_frames and not phs.stderr and not bad.stderr
    print(f"  capinfos: {count:,} packets ({'ok' if count == expected else f'expected {expected:,}'})")
    print("  tshark io,phs: " + "; ".join(top[:6]))
    print(f"  malformed: {sum(int(m[1]) for m in malformed)}; bad checksums or expert errors: {len(bad_frames)}"
          + (f" (frames {', '.join(bad_frames[:10])}...)" if bad_frames else ""))
    for err in (phs.stderr, bad.stderr):
        if err:
            print(f"  tshark stderr: {err[:500]}")
    print(f"  check: {'passed' if ok else 'FAILED'}")
    return ok


def make(args: argparse.Namespace) -> bool:
    out = args.out or default_out(args)
    t0 = time.perf_counter()
    rec = build(args)
    t1 = time.perf_counter()
    write_pcap(out, rec)
    t2 = time.perf_counter()
    print(f"{out}: {args.kind}, {len(rec):,} packets of {rec.dtype['data'].shape[0]} bytes, "
          f"{out.stat().st_size / 1e6:.1f} MB; built in {t1 - t0:.2f} s, written in {t2 - t1:.2f} s", flush=True)
    return check(out, len(rec)) if args.check else True


def add_common(p: argparse.ArgumentParser, packets: int) -> None:
    p.add_argument("--packets", type=int, default=packets, help="packets to write (default: %(default)s)")
    p.add_argument("--out", type=Path, help="output pcap (default: benchmarks/out/<kind>_<count>.pcap)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--gap-us", type=int, default=1, help="microseconds between packets (default: %(default)s)")
    p.add_argument("--start", type=int, default=START, help="first timestamp, Unix seconds (default: 2026-01-01)")
    p.add_argument("--check", action="store_true", help="then verify with capinfos and tshark")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("syn-scan", help="TCP SYNs to distinct targets, half to port 502")
    add_common(p, 1_000_000)
    p.add_argument("--sources", type=int, default=1, help="scanner addresses, round-robin (default: %(default)s)")
    p = sub.add_parser("udp-flood", help="UDP datagrams to random ports")
    add_common(p, 1_000_000)
    p.add_argument("--sources", type=int, default=4)
    p.add_argument("--destinations", type=int, default=4)
    p.add_argument("--payload", type=int, default=18, help="payload bytes (default: %(default)s: 60-byte frames)")
    p.add_argument("--all-ports", action="store_true",
                   help="draw ports from 1..65535 even where tshark has a dissector (its checks then report some "
                        "zero payloads as malformed NTP, RIP, BFD, ...)")
    p = sub.add_parser("arp-flood", help="gratuitous ARP from distinct IP/MAC pairs")
    add_common(p, 100_000)
    p.add_argument("--pairs", type=int, help="distinct IP/MAC pairs, sent round after round (default: one per packet)")
    p = sub.add_parser("all", help="the four default captures: syn_scan_1m, syn_scan_1m_1000src, udp_flood_1m, "
                                   "arp_flood_100k")
    p.add_argument("--check", action="store_true", help="then verify each with capinfos and tshark")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.kind != "all":
        return 0 if make(args) else 1
    check_flag = ["--check"] if args.check else []
    ok = True
    for cmd in (["syn-scan"], ["syn-scan", "--sources", "1000"], ["udp-flood"], ["arp-flood"]):
        ok &= make(ap.parse_args(cmd + check_flag))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
