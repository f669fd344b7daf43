"""A dnp3py outstation on loopback with the database and device attributes of dnp3_script.py.

    python tests/e2e/stacks/dnp3_outstation.py

Prints "ready" once listening; stops on SIGTERM. dnp3py 0.6.0 answers no group 0 read, so this
subclass answers them from ATTRIBUTES (IEEE 1815-2012 A.1: qualifier 0x00, index 0, data type VSTR):
the only part of the stack the test adds.
"""
from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from dnp3.application.fragment import ObjectBlock
from dnp3.application.qualifiers import ObjectHeader, PrefixCode, RangeCode
from dnp3.core.flags import IIN
from dnp3.database import Database
from dnp3.outstation.config import OutstationConfig
from dnp3.outstation.outstation import Outstation
from dnp3.outstation.tcp_runner import OutstationTcpRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dnp3_script import (  # noqa: E402
    ANALOG_INPUTS,
    ANALOG_OUTPUTS,
    ATTRIBUTES,
    BINARY_INPUTS,
    BINARY_OUTPUTS,
    COUNTERS,
    MASTER_ADDRESS,
    OUTSTATION_ADDRESS,
    OUTSTATION_IP,
    PORT,
)

VSTR = 1
ALL_ATTRIBUTES = 254


def attribute_block(variation: int, value: str) -> ObjectBlock:
    raw = value.encode()
    header = ObjectHeader.build(group=0, variation=variation, prefix=PrefixCode.NONE,
                                range_code=RangeCode.UINT8_START_STOP)
    return ObjectBlock(header=header, data=b"\x00\x00" + bytes([VSTR, len(raw)]) + raw)


@dataclass
class IdentifiedOutstation(Outstation):
    """dnp3py's outstation plus group 0 device attributes."""

    def _read_request_block(self, block, seen_keys):  # type: ignore[no-untyped-def]
        if block.header.group != 0:
            return super()._read_request_block(block, seen_keys)
        variation = block.header.variation
        if variation == ALL_ATTRIBUTES:
            return [attribute_block(v, text) for v, text in ATTRIBUTES.items()], [], IIN(0)
        if variation in ATTRIBUTES:
            return [attribute_block(variation, ATTRIBUTES[variation])], [], IIN(0)
        return [], [], IIN.OBJECT_UNKNOWN


def database() -> Database:
    db = Database()
    for i, v in BINARY_INPUTS.items():
        db.add_binary_input(i, value=v)
    for i, v in BINARY_OUTPUTS.items():
        db.add_binary_output(i, value=v)
    for i, v in ANALOG_INPUTS.items():
        db.add_analog_input(i, value=v)
    for i, v in ANALOG_OUTPUTS.items():
        db.add_analog_output(i, value=v)
    for i, v in COUNTERS.items():
        db.add_counter(i, value=v)
    return db


async def main() -> None:
    config = OutstationConfig(address=OUTSTATION_ADDRESS, master_address=MASTER_ADDRESS)
    runner = OutstationTcpRunner(outstation=IdentifiedOutstation(config=config, database=database()),
                                 host=OUTSTATION_IP, port=PORT)
    task = asyncio.create_task(runner.run())
    while not runner.is_running:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.stop()
    task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
