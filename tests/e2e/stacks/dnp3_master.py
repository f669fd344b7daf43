"""A dnp3py master on loopback that runs dnp3_script.SCRIPT against the outstation, one request each.

    python tests/e2e/stacks/dnp3_master.py --out results.json

Writes, per request, the function code and the IIN the master decoded from each response fragment, and
the values its SOE handler received, so the test can check the sensor against the stack's own view.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from dnp3.application.builder import (
    build_all_objects_request,
    build_cold_restart_request,
    build_range_request,
    build_write_request,
)
from dnp3.application.fragment import ObjectBlock
from dnp3.application.qualifiers import ObjectHeader, PrefixCode, RangeCode
from dnp3.core.enums import FunctionCode
from dnp3.master.commands import CommandBuilder
from dnp3.master.config import MasterConfig
from dnp3.master.handler import SOEHandler
from dnp3.master.master import Master
from dnp3.master.tcp_runner import MasterTcpRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dnp3_script import (  # noqa: E402
    ANALOG_SETPOINT,
    MASTER_ADDRESS,
    MASTER_IP,
    OUTSTATION_ADDRESS,
    OUTSTATION_IP,
    PORT,
    SCRIPT,
    TIME_MS,
)

_open_connection = asyncio.open_connection


async def _bound_open_connection(*args: Any, **kwargs: Any) -> Any:
    """dnp3py's TCP client cannot choose its source address; bind it here (this process is the master only)."""
    return await _open_connection(*args, local_addr=(MASTER_IP, 0), **kwargs)


asyncio.open_connection = _bound_open_connection  # type: ignore[assignment]


class Recorder(SOEHandler):
    """Keeps what the master decoded, per kind, as (index, value)."""

    def __init__(self) -> None:
        self.values: dict[str, list[tuple[int, Any]]] = {}

    def _keep(self, kind: str, values: list[Any]) -> None:
        self.values.setdefault(kind, []).extend((v.index, getattr(v, "value", None)) for v in values)

    def on_binary_input(self, values, info) -> None:  # type: ignore[no-untyped-def]
        self._keep("binary_input", values)

    def on_binary_output(self, values, info) -> None:  # type: ignore[no-untyped-def]
        self._keep("binary_output", values)

    def on_analog_input(self, values, info) -> None:  # type: ignore[no-untyped-def]
        self._keep("analog_input", values)

    def on_analog_output(self, values, info) -> None:  # type: ignore[no-untyped-def]
        self._keep("analog_output", values)

    def on_counter(self, values, info) -> None:  # type: ignore[no-untyped-def]
        self._keep("counter", values)


def _time_block() -> ObjectBlock:
    header = ObjectHeader.build(group=50, variation=1, prefix=PrefixCode.NONE, range_code=RangeCode.UINT8_COUNT)
    return ObjectBlock(header=header, data=b"\x01" + TIME_MS.to_bytes(6, "little"))


def _clear_restart_block() -> ObjectBlock:
    header = ObjectHeader.build(group=80, variation=1, prefix=PrefixCode.NONE, range_code=RangeCode.UINT8_START_STOP)
    return ObjectBlock(header=header, data=b"\x07\x07\x00")


async def run(out: Path) -> None:
    recorder = Recorder()
    master = Master(config=MasterConfig(address=MASTER_ADDRESS, outstation_address=OUTSTATION_ADDRESS),
                    handler=recorder)
    runner = MasterTcpRunner(master=master, host=OUTSTATION_IP, port=PORT, response_timeout=5.0)
    seq = master.next_request_sequence
    analog = CommandBuilder().add_analog(0, ANALOG_SETPOINT)
    requests = {
        "integrity_poll": lambda: master.build_integrity_poll(),
        "read_attributes": lambda: build_all_objects_request(FunctionCode.READ, 0, 254, seq=seq()),
        "read_analog_range": lambda: build_range_request(FunctionCode.READ, 30, 0, 0, 2, seq=seq()),
        "direct_operate_crob": lambda: master.build_direct_operate(CommandBuilder().latch_on(1).build_direct_operate()),
        "select_analog": lambda: master.build_select(analog.build_select()),
        "operate_analog": lambda: master.build_operate(analog.build_operate()),
        "write_time": lambda: build_write_request((_time_block(),), seq=seq()),
        "delay_measure": lambda: master.build_delay_measure(),
        "immediate_freeze": lambda: build_all_objects_request(FunctionCode.IMMEDIATE_FREEZE, 20, 0, seq=seq()),
        "disable_unsolicited": lambda: master.build_disable_unsolicited(),
        "enable_unsolicited": lambda: master.build_enable_unsolicited(),
        "clear_restart": lambda: build_write_request((_clear_restart_block(),), seq=seq()),
        "cold_restart": lambda: build_cold_restart_request(seq=seq()),
    }
    results = []
    await runner.open()
    try:
        for op in SCRIPT:
            request = requests[op.name]()
            infos = await runner.request(request)
            results.append({"op": op.name, "function": int(request.header.function), "sequence":
                            request.header.control.seq, "responses": [
                                {"function": int(i.function), "iin": int(i.iin), "sequence": i.sequence} for i in infos]})
    finally:
        await runner.close()
    out.write_text(json.dumps({"results": results, "values": recorder.values}, indent=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    asyncio.run(run(ap.parse_args().out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
