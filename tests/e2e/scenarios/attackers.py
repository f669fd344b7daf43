"""Programs that are no part of the plant; make_plant.py runs them like its hosts (tests/e2e/plant/hosts.py).

    python attackers.py replay SPEC   # resend captured Modbus/TCP ADUs, byte for byte, on a new connection
    python attackers.py scan   SPEC   # a pymodbus client walking unit ids, then register addresses

Each prints "ready", waits for "go T0", acts at plant time ``t`` (plant seconds, divided by ``speed``), writes
what it sent and what came back as JSON to ``SPEC["log"]`` and exits.
"""
from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plant"))
from hosts import _connect, _quiet, _sleep_until, _wait_go  # noqa: E402


def replay(spec: dict) -> None:
    """Old writes again: the same bytes (transaction ids included) on a fresh TCP connection, ``gap`` plant
    seconds apart; a real socket, so the kernel does the handshake and the PLC really executes them."""
    t0 = _wait_go()
    time.sleep(max(0.0, t0 + spec["t"] / spec["speed"] - time.time()))
    answers = []
    with socket.create_connection((spec["server"], 502), timeout=3) as sock:
        for n, adu in enumerate(map(bytes.fromhex, spec["adus"])):
            sock.sendall(adu)
            head = _recv(sock, 7)
            answers.append((head + _recv(sock, struct.unpack(">H", head[4:6])[0] - 1)).hex())
            if n + 1 < len(spec["adus"]):
                time.sleep(spec["gap"] / spec["speed"])
    Path(spec["log"]).write_text(json.dumps({"sent": spec["adus"], "answers": answers}) + "\n")


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("the PLC closed the connection")
        data += chunk
    return data


def scan(spec: dict) -> None:
    """Which unit ids answer (FC3 address 0), then which holding registers exist on ``unit`` (FC3, ``count``
    registers from every ``step``-th address): what a Modbus scanner does, at a scanner's pace (``gap``)."""
    _quiet()
    seen: dict[str, list] = {"units": [], "registers": []}

    async def main() -> None:
        t0 = await asyncio.get_running_loop().run_in_executor(None, _wait_go)
        await _sleep_until(t0, spec["t"], spec["speed"])
        client = await _connect(spec["server"])
        try:
            probes = [(u, 0, 1) for u in spec["units"]] + [(spec["unit"], a, spec["count"])
                                                           for a in range(*spec["addresses"])]
            for unit, address, count in probes:
                rr = await client.read_holding_registers(address, count=count, device_id=unit)
                answer = f"exception {rr.exception_code}" if rr.isError() else "ok"
                seen["units" if address == 0 and count == 1 else "registers"].append([unit, address, answer])
                await asyncio.sleep(spec["gap"] / spec["speed"])
        finally:
            client.close()

    asyncio.run(main())
    Path(spec["log"]).write_text(json.dumps(seen) + "\n")


if __name__ == "__main__":
    {"replay": replay, "scan": scan}[sys.argv[1]](json.loads(sys.argv[2]))
