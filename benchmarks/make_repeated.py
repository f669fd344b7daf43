"""A capture K times as long: the same traffic repeated, each copy a distinct set of hosts and flows.

    python benchmarks/make_repeated.py --times 5              # benchmarks/out/modbus_1m.pcap -> modbus_5m.pcap
    python benchmarks/make_repeated.py --times 10             # -> modbus_10m.pcap
    python benchmarks/make_repeated.py --in FILE --times 3 [--out OUT] [--chunk 262144]
    python benchmarks/make_repeated.py --times 5 --clients-apart   # -> modbus_5m_apart.pcap, a host per client

Why: whether the sensor's throughput and memory hold on long captures (tables bounded, no slowdown as they fill)
needs inputs longer than the 1 M-packet Modbus capture, with real traffic rather than synthetic floods; plain
concatenation (mergecap -a) would replay the same flows with timestamps running backwards.

How: the records of the input (classic little-endian pcap, microsecond or nanosecond timestamps; made by
make_modbus_capture.py by default) are walked once; their offsets, timestamps and IPv4 header positions are kept
in numpy arrays and reused for every copy. Copy k (0 .. K-1) has its timestamps shifted by k × (the input's
duration + its mean packet gap), so it starts one gap after the previous copy ends, and has k added (mod 256) to
the second octet of every IPv4 source and destination address (127.0.0.1 becomes 127.k.0.1; Ethernet and 802.1Q
frames). The IPv4 header checksum is recomputed and the TCP/UDP checksum updated incrementally (RFC 1624), all
vectorised, so a checksum that was right stays right (tcpdump on `lo` records TCP checksums the kernel never
filled in: those stay as wrong as they were). The output is written in chunks of `--chunk` records, so memory
stays near the input's size plus a few hundred MB, whatever K is. At the end capinfos must count K × the input's
packets. Addresses of different hosts can collide across copies only if they differ only in the second octet.

--clients-apart: the 1 M capture's 16 clients all share 127.0.0.1 with the server (they differ only by TCP
source port), so a sensor sees one host per copy. With the option, in every IPv4/TCP packet the endpoint whose
port is not --server-port (5020) becomes 127.k.(port >> 8).(port & 255) in copy k, a distinct address per
(copy, client port); the server keeps its shifted address (127.k.0.1), so each copy holds 16 clients + 1 server.
Packets where neither or both ports are the server port, UDP and non-IPv4 packets only get the copy's shift; a
client whose new address would equal the server's (port 1 against 127.k.0.1) keeps its shifted address. The
checksums are fixed the same way (header recomputed, TCP updated over the changed address words), and copy 0
is rewritten too, so --times 1 gives the input with clients apart (default name: ..._apart.pcap).
"""
from __future__ import annotations

import argparse
import mmap
import re
import struct
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
MAGIC_UNITS = {0xA1B2C3D4: 1_000_000, 0xA1B23C4D: 1_000_000_000}  # little-endian µs and ns pcap
REC = 16  # pcap record header: sec, frac, incl_len, orig_len


@dataclass
class Records:
    """The input's records, walked once: everything a copy needs, as arrays indexed by record."""

    off: np.ndarray  # file offset of each record header
    end: np.ndarray  # file offset just past each record
    ts: np.ndarray  # timestamp in file units (µs or ns)
    ip: np.ndarray  # file offset of the IPv4 header, or -1
    ihl: np.ndarray  # IPv4 header length in bytes (0 when not IPv4)
    l4sum: np.ndarray  # file offset of the TCP/UDP checksum, or -1
    udp: np.ndarray  # the checksum is UDP's (zero there means "none" and stays zero)


def walk(buf: mmap.mmap, size: int) -> np.ndarray:
    """Offsets of the record headers: one pass in Python (about 0.5 µs a record), done once for all copies."""
    offsets = array("q")
    unpack = struct.Struct("<I").unpack_from
    pos = 24
    while pos + REC <= size:
        (incl,) = unpack(buf, pos + 8)
        if pos + REC + incl > size:
            print(f"truncated record at offset {pos}: ignored", file=sys.stderr)
            break
        offsets.append(pos)
        pos += REC + incl
    return np.frombuffer(offsets, dtype=np.int64)


def gather(data: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    """WIDTH bytes at each of POS as a (len(pos), width) uint8 array."""
    return data[pos[:, None] + np.arange(width)]


def le32(data: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return gather(data, pos, 4).view("<u4").ravel().astype(np.int64)


def be16(data: np.ndarray, pos: np.ndarray) -> np.ndarray:
    b = gather(data, pos, 2).astype(np.int64)
    return b[:, 0] << 8 | b[:, 1]


def index(data: np.ndarray, off: np.ndarray, unit: int) -> Records:
    incl = le32(data, off + 8)
    ts = le32(data, off) * unit + le32(data, off + 4)
    frame = off + REC
    n = len(off)
    ether = np.where(incl >= 14, be16(data, np.minimum(frame + 12, len(data) - 2)), 0)
    vlan = ether == 0x8100
    ether = np.where(vlan & (incl >= 18), be16(data, np.minimum(frame + 16, len(data) - 2)), ether)
    ip = frame + np.where(vlan, 18, 14)
    first = data[np.minimum(ip, len(data) - 1)].astype(np.int64)
    ihl = (first & 0xF) * 4
    v4 = (ether == 0x0800) & (first >> 4 == 4) & (ihl >= 20) & (ip - frame + ihl <= incl)
    ip, ihl = np.where(v4, ip, -1), np.where(v4, ihl, 0)
    l4sum = np.full(n, -1, np.int64)
    udp = np.zeros(n, bool)
    if v4.any():
        at = ip[v4]
        proto = data[at + 9]
        frag = be16(data, at + 6) & 0x1FFF
        field = at + ihl[v4] + np.where(proto == 6, 16, 6)
        ok = (frag == 0) & ((proto == 6) | (proto == 17)) & (field + 2 <= frame[v4] + incl[v4])
        l4sum[np.flatnonzero(v4)[ok]] = field[ok]
        udp[np.flatnonzero(v4)[ok]] = proto[ok] == 17
    return Records(off, off + REC + incl, ts, ip, ihl, l4sum, udp)


def fold(total: np.ndarray) -> np.ndarray:
    for _ in range(3):
        total = (total & 0xFFFF) + (total >> 16)
    return total


def put16(buf: np.ndarray, pos: np.ndarray, value: np.ndarray) -> None:
    buf[pos] = value >> 8
    buf[pos + 1] = value & 0xFF


def shift_addresses(buf: np.ndarray, ip: np.ndarray, ihl: np.ndarray, l4sum: np.ndarray, udp: np.ndarray,
                    k: int, server_port: int | None = None) -> int:
    """Add k to the second octet of source and destination (positions relative to BUF), fix the checksums.

    With SERVER_PORT, the TCP endpoint whose port is not SERVER_PORT (when the other one's is) becomes
    127.k.(port >> 8).(port & 255). Returns how many client addresses were left shifted only (they would have
    equalled the server's).
    """
    old = gather(buf, ip + 12, 8).astype(np.int64)  # source and destination, a row a packet
    new = old.copy()
    new[:, [1, 5]] = (new[:, [1, 5]] + k) & 0xFF
    clashes = 0
    tcp = np.flatnonzero((l4sum >= 0) & ~udp)
    if server_port is not None and len(tcp):
        ports = gather(buf, l4sum[tcp] - 16, 4).astype(np.int64)  # TCP source and destination port
        sport, dport = ports[:, 0] << 8 | ports[:, 1], ports[:, 2] << 8 | ports[:, 3]
        src_client = (sport != server_port) & (dport == server_port)
        dst_client = (dport != server_port) & (sport == server_port)
        for client, port, mine, theirs in ((src_client, sport, 0, 4), (dst_client, dport, 4, 0)):
            rows, port = tcp[client], port[client]
            addr = np.stack([np.full(len(rows), 127), np.full(len(rows), k & 0xFF), port >> 8, port & 0xFF], 1)
            ok = ~(addr == new[rows, theirs:theirs + 4]).all(axis=1)  # never the server's address
            clashes += int((~ok).sum())
            new[rows[ok], mine:mine + 4] = addr[ok]
    buf[(ip + 12)[:, None] + np.arange(8)] = new
    for h in np.unique(ihl):  # the IPv4 header checksum, recomputed over each header length present
        at = ip[ihl == h]
        put16(buf, at + 10, np.zeros(len(at), np.int64))
        hdr = gather(buf, at, int(h)).astype(np.int64)
        put16(buf, at + 10, ~fold((hdr[:, 0::2] << 8 | hdr[:, 1::2]).sum(axis=1)) & 0xFFFF)
    has = l4sum >= 0  # TCP/UDP: the pseudo-header's address words changed; HC' = ~(~HC + ~m + m') for each
    at = l4sum[has]
    o, n = old[has], new[has]
    o, n = o[:, 0::2] << 8 | o[:, 1::2], n[:, 0::2] << 8 | n[:, 1::2]  # the four 16-bit address words
    hc = be16(buf, at)
    keep = udp[has] & (hc == 0)
    total = (~hc & 0xFFFF) + np.where(o != n, (~o & 0xFFFF) + n, 0).sum(axis=1)
    csum = ~fold(total) & 0xFFFF
    csum = np.where(udp[has] & (csum == 0), 0xFFFF, csum)
    put16(buf, at[~keep], csum[~keep])
    return clashes


def put_ts(buf: np.ndarray, rel: np.ndarray, ts: np.ndarray, unit: int) -> None:
    for field, value in ((0, ts // unit), (4, ts % unit)):
        buf[rel[:, None] + field + np.arange(4)] = value.astype("<u4").view(np.uint8).reshape(-1, 4)


def write_copy(out: BinaryIO, data: np.ndarray, r: Records, k: int, shift: int, unit: int, chunk: int,
               server_port: int | None = None) -> int:
    """Copy k of the input to OUT; returns the clients left at their shifted address (see shift_addresses)."""
    clashes = 0
    for a in range(0, len(r.off), chunk):
        b = min(a + chunk, len(r.off))
        lo, hi = int(r.off[a]), int(r.end[b - 1])
        if k == 0 and server_port is None:
            out.write(memoryview(data[lo:hi]))
            continue
        buf = np.array(data[lo:hi])
        put_ts(buf, r.off[a:b] - lo, r.ts[a:b] + shift, unit)
        v4 = r.ip[a:b] >= 0
        l4 = r.l4sum[a:b][v4]
        clashes += shift_addresses(buf, r.ip[a:b][v4] - lo, r.ihl[a:b][v4], np.where(l4 >= 0, l4 - lo, -1),
                                   r.udp[a:b][v4], k, server_port)
        buf.tofile(out)
    return clashes


def default_out(src: Path, times: int, apart: bool = False) -> Path:
    m = re.fullmatch(r"(.*)_(\d+)([km])", src.stem)
    name = f"{m[1]}_{int(m[2]) * times}{m[3]}" if m else f"{src.stem}_x{times}"
    return OUT_DIR / f"{name}{'_apart' if apart else ''}.pcap"


def capinfos_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in", dest="src", type=Path, default=OUT_DIR / "modbus_1m.pcap")
    ap.add_argument("--times", type=int, default=5, help="copies (default: %(default)s)")
    ap.add_argument("--out", type=Path, help="default: the input's name with its count multiplied (modbus_5m.pcap)")
    ap.add_argument("--chunk", type=int, default=262_144, help="records per write (default: %(default)s)")
    ap.add_argument("--no-verify", action="store_true", help="skip the capinfos count")
    ap.add_argument("--clients-apart", action="store_true",
                    help="give each TCP client (copy, port) its own address 127.k.(port>>8).(port&255); "
                         "default output name gets _apart (modbus_5m_apart.pcap)")
    ap.add_argument("--server-port", type=int, default=5020,
                    help="the server's TCP port, for --clients-apart (default: %(default)s)")
    args = ap.parse_args(argv)
    if not 1 <= args.times <= 256:
        sys.exit("--times must be 1..256 (the second octet wraps after 256 copies)")
    if not 0 <= args.server_port <= 0xFFFF:
        sys.exit("--server-port must be 0..65535")
    server_port = args.server_port if args.clients_apart else None
    out_path = args.out or default_out(args.src, args.times, args.clients_apart)
    if out_path.resolve() == args.src.resolve():
        sys.exit(f"{out_path}: the output would overwrite the input; pass --out")
    t0 = time.perf_counter()
    with args.src.open("rb") as f:
        header = f.read(24)
        magic, linktype = struct.unpack("<I", header[:4])[0], struct.unpack("<I", header[20:24])[0]
        if magic not in MAGIC_UNITS:
            sys.exit(f"{args.src}: not a little-endian classic pcap (magic {magic:#x}); convert with editcap -F pcap")
        unit = MAGIC_UNITS[magic]
        size = args.src.stat().st_size
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            off = walk(buf, size)
            t1 = time.perf_counter()
            data = np.frombuffer(buf, dtype=np.uint8)
            r = index(data, off, unit)
            if linktype != 1:
                print(f"link type {linktype}, not Ethernet: addresses left as they are", file=sys.stderr)
                r.ip[:] = -1
            t2 = time.perf_counter()
            n, v4 = len(off), int((r.ip >= 0).sum())
            gap = max(1, int(r.ts.max() - r.ts.min()) // max(1, n - 1))
            step = int(r.ts.max() - r.ts.min()) + gap
            out_path.parent.mkdir(parents=True, exist_ok=True)
            clashes = 0
            with out_path.open("wb") as out:
                out.write(header)
                for k in range(args.times):
                    clashes += write_copy(out, data, r, k, k * step, unit, args.chunk, server_port)
            del data, r  # release the views into the mapping before it closes
    t3 = time.perf_counter()
    print(f"{out_path}: {args.times} × {n:,} packets of {args.src.name} = {args.times * n:,} packets, "
          f"{out_path.stat().st_size / 1e6:.1f} MB; copies {step / unit:.3f} s apart, IPv4 records "
          f"{v4:,} of {n:,}; walk {t1 - t0:.2f} s, index {t2 - t1:.2f} s, write {t3 - t2:.2f} s, "
          f"total {t3 - t0:.2f} s", flush=True)
    if clashes:
        print(f"--clients-apart: {clashes:,} packets' client address would have equalled the server's: "
              f"left at the shifted address", file=sys.stderr)
    if args.no_verify:
        return 0
    count = capinfos_count(out_path)
    ok = count == args.times * n
    print(f"capinfos: {count:,} packets ({'ok' if ok else f'expected {args.times * n:,}'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
