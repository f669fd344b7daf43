"""A real pymodbus 3.16 client that runs modbus_script.SCRIPT once, from a fixed source address.

    python tests/e2e/stacks/script_client.py --port 502 --out results.json [--host 127.0.0.2] [--source 127.0.0.3]

Writes, per op, what pymodbus itself decoded (transaction id, values, exception code, identification objects):
an independent record to hold the sensor's events and inventory against. Exits 1 if an op's outcome differs
from the script's expectation (an exception where none was expected, or the reverse).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modbus_script import CLIENT_IP, SCRIPT, SERVER_IP, Op  # noqa: E402


async def execute(client, op: Op):
    kw = {"device_id": op.unit}
    fc = op.function_code
    if fc == 1:
        return await client.read_coils(op.address, count=op.quantity, **kw)
    if fc == 2:
        return await client.read_discrete_inputs(op.address, count=op.quantity, **kw)
    if fc == 3:
        return await client.read_holding_registers(op.address, count=op.quantity, **kw)
    if fc == 4:
        return await client.read_input_registers(op.address, count=op.quantity, **kw)
    if fc == 5:
        return await client.write_coil(op.address, op.values[0], **kw)
    if fc == 6:
        return await client.write_register(op.address, op.values[0], **kw)
    if fc == 16:
        return await client.write_registers(op.address, list(op.values), **kw)
    if fc == 43:
        return await client.read_device_information(read_code=op.read_code, object_id=0, **kw)
    if fc == 8:
        return await client.diag_query_data(op.data, **kw)
    raise ValueError(f"script op with unsupported function code {fc}")


def record(op: Op, rr) -> dict:
    out: dict = {"function_code": op.function_code, "unit": op.unit, "transaction_id": rr.transaction_id,
                 "exception_code": rr.exception_code if rr.isError() else None}
    if not rr.isError():
        if op.function_code in (1, 2):
            out["values"] = [bool(b) for b in rr.bits[:op.quantity]]
        elif op.function_code in (3, 4):
            out["values"] = list(rr.registers)
        elif op.function_code == 43:
            out["objects"] = {int(k): v.decode() if isinstance(v, bytes) else v for k, v in rr.information.items()}
    return out


async def run(host: str, port: int, source: str) -> list[dict]:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient(host, port=port, source_address=(source, 0), timeout=5, retries=0)
    await client.connect()
    if not client.connected:
        raise SystemExit(f"could not connect to {host}:{port} from {source}")
    try:
        return [record(op, await execute(client, op)) for op in SCRIPT]
    finally:
        client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=SERVER_IP)
    ap.add_argument("--port", type=int, default=502)
    ap.add_argument("--source", default=CLIENT_IP)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    results = asyncio.run(run(args.host, args.port, args.source))
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    wrong = [(op.note or op.function_code, r["exception_code"]) for op, r in zip(SCRIPT, results)
             if r["exception_code"] != op.expect_exception]
    if wrong:
        print(f"unexpected outcomes: {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
