"""Record real pymodbus traffic on loopback, the raw material ``make_scenarios.py`` plants in the plant.

A pymodbus TCP server listens on 127.0.0.2:5020; two clients from 127.0.0.3 talk to it one after
the other while tcpdump records the loopback interface:

1. a historian that only reads (holding registers, input registers);
2. a historian that reads and then writes multiple registers (the breach of a read-only conduit).

Run as root (tcpdump needs it):  python captures/scenarios/record_pymodbus.py
It rewrites ``pymodbus_raw.pcap`` beside this file; ``make_scenarios.py`` then rebuilds the scenarios.
The raw capture is committed, so the scenarios rebuild the same bytes without re-recording.
"""
from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

from pymodbus.client import ModbusTcpClient
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartTcpServer

HERE = Path(__file__).resolve().parent
RAW = HERE / "pymodbus_raw.pcap"
SERVER, CLIENT, PORT = "127.0.0.2", "127.0.0.3", 5020


def serve() -> None:
    device = ModbusDeviceContext(
        co=ModbusSequentialDataBlock(1, [False] * 100), di=ModbusSequentialDataBlock(1, [False] * 100),
        hr=ModbusSequentialDataBlock(1, list(range(100))), ir=ModbusSequentialDataBlock(1, [7] * 100),
    )
    StartTcpServer(context=ModbusServerContext(devices=device, single=True), address=(SERVER, PORT))


def historian(write: bool) -> None:
    client = ModbusTcpClient(SERVER, port=PORT, source_address=(CLIENT, 0))
    assert client.connect(), "pymodbus server did not answer"
    for _ in range(3):
        assert not client.read_holding_registers(0, count=10, device_id=1).isError()
        assert not client.read_input_registers(0, count=4, device_id=1).isError()
    if write:
        assert not client.write_registers(10, [1234, 5678], device_id=1).isError()
    client.close()


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    threading.Thread(target=serve, daemon=True).start()  # ends with the process
    time.sleep(1.0)
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "-w", str(RAW), f"tcp port {PORT}"],
                            stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    try:
        historian(write=False)
        time.sleep(0.5)
        historian(write=True)
        time.sleep(1.0)
    finally:
        dump.terminate()
        dump.wait()
    print(f"wrote {RAW}")


if __name__ == "__main__":
    main()
