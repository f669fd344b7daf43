"""A python-snap7 server (pure Python since 3.0) with the areas the S7 script uses.

    python tests/e2e/stacks/s7comm_server.py --host 127.0.0.7 --port 102

Prints ``ready`` once listening and serves until SIGTERM or SIGINT. Its identity (SZL 0x001C and
0x0011) is python-snap7's built-in one: "SNAP7-SERVER", "CPU 315-2 PN/DP", "6ES7 315-2EH14-0AB0".
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from s7comm_script import AREA_SIZE, DB1, DB2_SIZE, PORT, SERVER_IP  # noqa: E402
from snap7.server import Server  # noqa: E402
from snap7.type import SrvArea  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=SERVER_IP)
    ap.add_argument("--port", type=int, default=PORT)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    server = Server(log=False)
    areas = {(SrvArea.DB, 1): bytearray(DB1), (SrvArea.DB, 2): bytearray(DB2_SIZE)}
    for area in (SrvArea.MK, SrvArea.PE, SrvArea.PA, SrvArea.TM, SrvArea.CT):
        areas[(area, 0)] = bytearray(AREA_SIZE)
    for (area, index), buffer in areas.items():
        server.register_area(area, index, buffer)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start_to(args.host, args.port)
    print("ready", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
