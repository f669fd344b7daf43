"""A c104 controlled station (server) on loopback with the points of iec104_script.py.

    python tests/e2e/stacks/iec104_server.py --log RECEIVED.jsonl

Prints "ready" once listening; stops on SIGTERM. Writes one JSON line per thing the controlling station did to
it, as c104 decoded it: the connection (with the client's address), each command (IOA, type, value, whether
it was a select) and the clock synchronization. No ``from __future__ import annotations`` here: c104 checks a
callback's annotations, and wants them as types, not strings.
"""
import argparse
import datetime
import json
import signal
import sys
import threading
import time
from pathlib import Path

import c104

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iec104_script import COMMANDS, COMMON_ADDRESS, MONITORING, PORT, SERVER_IP  # noqa: E402

ANSWER_DELAY = 0.05
"""Seconds the station waits before it handles each message it receives. c104 2.2.1's client can miss a
confirmation that arrives within microseconds on loopback (it then waits for its command timeout, reports a
failure, and a select-and-execute command never executes)."""
LOCK = threading.Lock()
LOG: list = []


def note(**what: object) -> None:
    with LOCK:
        LOG.append(json.dumps(what))
        LOG_FILE.write_text("\n".join(LOG) + "\n")


def info(kind: str, value: object) -> c104.Information:
    if kind == "DoubleInfo":
        return c104.DoubleInfo(state=getattr(c104.Double, str(value)))
    if kind == "BinaryCounterInfo":
        return c104.BinaryCounterInfo(counter=value, sequence=c104.UInt5(0), quality=c104.BinaryCounterQuality())
    if kind == "BinaryInfo":  # c104 2.2.1 takes a Byte32 from bytes (least significant first); from an int it gives 0
        return c104.BinaryInfo(blob=c104.Byte32(int(value).to_bytes(4, "little")))
    if kind == "ScaledInfo":
        return c104.ScaledInfo(actual=c104.Int16(value))
    if kind == "SingleInfo":
        return c104.SingleInfo(on=value)
    return getattr(c104, kind)(actual=value)


def on_connect(server: c104.Server, ip: str) -> bool:
    note(event="connect", ip=ip)
    return True


def on_command(point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage) -> c104.ResponseState:
    """Every command succeeds: the station confirms it (actcon) and reports it done (actterm)."""
    value = point.value
    note(event="command", ioa=message.io_address, type=str(message.type).split(".")[-1],
         value=value if isinstance(value, (bool, int, float)) else float(value), select=message.is_select_command)
    return c104.ResponseState.SUCCESS


def on_clock_sync(server: c104.Server, ip: str, date_time: datetime.datetime) -> c104.ResponseState:
    note(event="clock_sync", ip=ip, time=date_time.isoformat())
    return c104.ResponseState.SUCCESS


def on_receive_raw(server: c104.Server, data: bytes) -> None:
    time.sleep(ANSWER_DELAY)


def main() -> int:
    global LOG_FILE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, required=True)
    LOG_FILE = ap.parse_args().log
    server = c104.Server(ip=SERVER_IP, port=PORT)
    server.on_connect(callable=on_connect)
    server.on_clock_sync(callable=on_clock_sync)
    server.on_receive_raw(callable=on_receive_raw)
    station = server.add_station(common_address=COMMON_ADDRESS)
    for ioa, (type_name, kind, value) in MONITORING.items():
        point = station.add_point(io_address=ioa, type=getattr(c104.Type, type_name))
        point.info = info(kind, value)
    for ioa, (type_name, mode, _) in COMMANDS.items():
        point = station.add_point(io_address=ioa, type=getattr(c104.Type, type_name),
                                  command_mode=getattr(c104.CommandMode, mode))
        point.on_receive(callable=on_command)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print("ready", flush=True)
    stop.wait()
    server.stop()
    return 0


LOG_FILE = Path("/dev/null")

if __name__ == "__main__":
    sys.exit(main())
