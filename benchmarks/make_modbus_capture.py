"""Make the benchmark capture: real pymodbus traffic on loopback, captured by tcpdump.

The traffic is real (a pymodbus 3.16 server answering concurrent async pymodbus clients), not synthetic or
duplicated, so the capture has genuine TCP behaviour (handshakes, out-of-order timestamps across CPUs).

    python benchmarks/make_modbus_capture.py [--packets 1000000] [--clients 16] [--out benchmarks/out/modbus_1m.pcap]
    python benchmarks/make_modbus_capture.py --requests-per-connection 2 --out benchmarks/out/modbus_1m_short.pcap

`--requests-per-connection N` makes each client connect anew every N requests, as many HMIs and SCADA drivers do
for every poll: a capture of very many short connections, where the per-connection work of the sensor (flow
creation, handshakes, stream state) shows, rather than the per-packet work of the default capture's 16 long ones.

Needs root (tcpdump on lo). Prints packets captured/dropped as tcpdump reports them, then the file's count from
capinfos, and writes a small JSON report beside the capture.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out" / "modbus_1m.pcap"
HOST = "127.0.0.1"
TABLE_SIZE = 2000
# Handshake + FIN packets per connection (SYN, SYN/ACK, ACK, FIN, ACK, FIN, ACK, ACK): no ADU in them.
CONTROL_PACKETS_PER_CLIENT = 8
# Weighted request mix, same as the reference measurement (reference/perf/mb_client.py).
MIX = ((0.40, 3), (0.70, 4), (0.82, 1), (0.88, 2), (0.95, 6), (0.98, 5), (1.00, 16))


def serve(port: int) -> None:
    """Run the pymodbus server until SIGTERM/SIGINT, then shut it down cleanly."""
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
    from pymodbus.server import ModbusTcpServer

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    device = ModbusDeviceContext(
        di=ModbusSequentialDataBlock(1, [i % 3 == 0 for i in range(TABLE_SIZE)]),
        co=ModbusSequentialDataBlock(1, [False] * TABLE_SIZE),
        hr=ModbusSequentialDataBlock(1, list(range(TABLE_SIZE))),
        ir=ModbusSequentialDataBlock(1, [(i * 2) % 65536 for i in range(TABLE_SIZE)]),
    )
    context = ModbusServerContext(devices=device, single=True)

    async def main() -> None:
        server = ModbusTcpServer(context, address=(HOST, port))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.shutdown()))
        await server.serve_forever()

    asyncio.run(main())


async def connected(cid: int, port: int):  # noqa: ANN201 (pymodbus is imported here only)
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient(HOST, port=port, timeout=10, retries=0)
    await client.connect()
    if not client.connected:
        raise RuntimeError(f"client {cid} could not connect to {HOST}:{port}")
    return client


async def one_client(cid: int, port: int, requests: int, per_connection: int) -> int:
    """Poll with the weighted mix, on a new connection every ``per_connection`` requests (0: one connection);
    a fixed seed per client makes the request stream reproducible."""
    rnd = random.Random(cid)
    client = await connected(cid, port)
    dev = 1 + cid % 4
    ok = 0
    for i in range(requests):
        if per_connection and i and i % per_connection == 0:
            client.close()
            client = await connected(cid, port)
        r, a = rnd.random(), rnd.randrange(0, 1000)
        fc = next(code for limit, code in MIX if r < limit)
        if fc == 3:
            rr = await client.read_holding_registers(a, count=rnd.choice((1, 2, 10, 20)), device_id=dev)
        elif fc == 4:
            rr = await client.read_input_registers(a, count=rnd.choice((2, 4, 8)), device_id=dev)
        elif fc == 1:
            rr = await client.read_coils(a, count=rnd.choice((8, 16, 32)), device_id=dev)
        elif fc == 2:
            rr = await client.read_discrete_inputs(a, count=16, device_id=dev)
        elif fc == 6:
            rr = await client.write_register(a, rnd.randrange(65536), device_id=dev)
        elif fc == 5:
            rr = await client.write_coil(a, bool(i & 1), device_id=dev)
        else:
            rr = await client.write_registers(a, [rnd.randrange(65536) for _ in range(4)], device_id=dev)
        ok += not rr.isError()
    client.close()
    return ok


async def run_clients(port: int, clients: int, per_client: int, per_connection: int) -> list[int]:
    return await asyncio.gather(*(one_client(c, port, per_client, per_connection) for c in range(clients)))


def wait_port(port: int, timeout: float = 15.0) -> None:
    """Block until the server accepts connections (it starts in another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {HOST}:{port} did not start within {timeout}s")


def start_tcpdump(out: Path, port: int) -> subprocess.Popen:
    """Start tcpdump and wait for 'listening on' so no early packet is missed."""
    proc = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-nn", "-B", "262144", "-w", str(out), f"tcp port {port}"],
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"tcpdump did not start: {line.strip()}")
    return proc


def stop_tcpdump(proc: subprocess.Popen) -> dict[str, int]:
    """SIGINT makes tcpdump flush the file and print its counters; parse them."""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    counts: dict[str, int] = {}
    for line in err.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].isdigit():
            counts[" ".join(words[2:]) if words[1] == "packets" else line] = int(words[0])
    return counts


def capinfos_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[-1])


def plan(packets: int, clients: int, per_connection: int = 0) -> int:
    """Requests per client: each request and its response ride in one segment each (ACKs piggyback), and each
    connection adds its handshake and FINs."""
    if per_connection:
        return max(1, math.ceil(packets / clients / (2 + CONTROL_PACKETS_PER_CLIENT / per_connection)))
    return max(1, math.ceil((packets - CONTROL_PACKETS_PER_CLIENT * clients) / 2 / clients))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="approximate packets to capture")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--port", type=int, default=5020)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--requests-per-connection", type=int, default=0,
                    help="connect anew every N requests (default: one connection per client)")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # internal: the server process
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    per_client = plan(args.packets, args.clients, args.requests_per_connection)
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dump = None
    try:
        wait_port(args.port)
        dump = start_tcpdump(args.out, args.port)
        logging.basicConfig(level=logging.ERROR)
        logging.getLogger("pymodbus").setLevel(logging.ERROR)
        t0 = time.perf_counter()
        oks = asyncio.run(run_clients(args.port, args.clients, per_client, args.requests_per_connection))
        secs = time.perf_counter() - t0
        # tcpdump reads the kernel ring in blocks with a 1 s timeout and drops what it has not read when
        # interrupted, so give it time to drain before SIGINT.
        time.sleep(2.0)
    finally:
        tcpdump_counts = stop_tcpdump(dump) if dump else {}
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    in_file = capinfos_count(args.out)
    requests = per_client * args.clients
    report = {
        "out": str(args.out), "clients": args.clients, "requests_per_connection": args.requests_per_connection, "requests": requests, "ok": sum(oks),
        "seconds": round(secs, 2), "requests_per_s": round(requests / secs), "packets_in_file": in_file,
        "tcpdump": tcpdump_counts, "bytes": os.path.getsize(args.out),
    }
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"requests {requests} ok {report['ok']} in {secs:.1f}s ({report['requests_per_s']} req/s)")
    print(f"tcpdump: {tcpdump_counts}")
    print(f"capinfos: {in_file} packets in {args.out} ({report['bytes']} bytes)")
    dropped = tcpdump_counts.get("dropped by kernel", 0)
    if dropped or report["ok"] != requests:
        print("WARNING: kernel drops or failed requests: the capture is not complete", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
