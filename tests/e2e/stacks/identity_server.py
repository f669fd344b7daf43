"""A real pymodbus 3.16 TCP server with device identification configured, for the e2e captures.

    python tests/e2e/stacks/identity_server.py [--host 127.0.0.2] [--port 502]

Prints "ready HOST PORT" on stdout once listening; SIGTERM or SIGINT shuts it down cleanly.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modbus_script import IDENTITY, SERVER_IP, TABLE_SIZE, UNITS  # noqa: E402


def device_context():
    """Distinct, recognisable values per table so reads return data that can't be confused."""
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock

    return ModbusDeviceContext(
        co=ModbusSequentialDataBlock(1, [i % 2 == 1 for i in range(TABLE_SIZE)]),
        di=ModbusSequentialDataBlock(1, [i % 3 == 0 for i in range(TABLE_SIZE)]),
        hr=ModbusSequentialDataBlock(1, [(i * 7) % 65536 for i in range(TABLE_SIZE)]),
        ir=ModbusSequentialDataBlock(1, [(i * 11 + 5) % 65536 for i in range(TABLE_SIZE)]),
    )


async def serve(host: str, port: int) -> None:
    from pymodbus.datastore import ModbusServerContext
    from pymodbus.pdu.device import ModbusDeviceIdentification
    from pymodbus.server import ModbusTcpServer

    identity = ModbusDeviceIdentification(info_name=IDENTITY)
    context = ModbusServerContext(devices={unit: device_context() for unit in UNITS}, single=False)
    server = ModbusTcpServer(context, identity=identity, address=(host, port))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.shutdown()))
    await server.serve_forever(background=True)
    print(f"ready {host} {port}", flush=True)
    await server.serving


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=SERVER_IP)
    ap.add_argument("--port", type=int, default=502)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
