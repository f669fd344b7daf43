"""Run the S7 script with python-snap7's client, from a chosen source address; write what it decoded.

    python tests/e2e/stacks/s7comm_client.py --host 127.0.0.7 --source 127.0.0.8 --out results.json

Every call of ``s7comm_script.SCRIPT`` is made in order; the JSON says, per call, whether it
succeeded and what the client decoded (values read, the CPU info and order code the server
announced, the TSAPs used). The source address is set by binding the socket before it connects,
which python-snap7 has no option for.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from s7comm_script import PORT, RACK, SCRIPT, SERVER_IP, SLOT  # noqa: E402


def bound_sockets(source: str) -> None:
    """Make every TCP socket of this process connect from ``source``."""
    base = socket.socket

    class Bound(base):  # type: ignore[misc, valid-type]
        def connect(self, address: Any) -> None:
            self.bind((source, 0))
            super().connect(address)

    socket.socket = Bound  # type: ignore[misc]


def _arg(value: Any) -> Any:
    from snap7.type import Block

    if isinstance(value, str) and value in Block.__members__:
        return Block[value]
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        return datetime.fromisoformat(value)
    if isinstance(value, str):
        return bytearray.fromhex(value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "_fields_"):  # ctypes structures: their char arrays are text
        fields = {name: getattr(value, name) for name, *_ in value._fields_}
        return {k: v.decode("latin-1") if isinstance(v, bytes) else _plain(v) for k, v in fields.items()}
    if isinstance(value, (int, float, str, type(None))):
        return value
    return str(value)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=SERVER_IP)
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    bound_sockets(args.source)
    import snap7

    client = snap7.client.Client()
    client.connect(args.host, RACK, SLOT, args.port)
    results: dict[str, Any] = {"local_tsap": client.local_tsap, "remote_tsap": client.remote_tsap, "calls": []}
    for op in SCRIPT:
        try:
            value = getattr(client, op.method)(*map(_arg, op.args))
            results["calls"].append({"method": op.method, "ok": True, "value": _plain(value)})
        except Exception as exc:  # the test reports which call failed and why
            results["calls"].append({"method": op.method, "ok": False, "error": repr(exc)})
    client.disconnect()
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
