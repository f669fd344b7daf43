"""A real OPC UA server (asyncua) for the stack test: prints ``ready`` once it listens.

    python opcua_server.py --host H --port P [--cert server.der --key server.pem]

Its application name, URIs and BuildInfo are opcua_script.SERVER; it has one variable (Double) in its own
namespace. With a certificate it offers None and Basic256Sha256 SignAndEncrypt (None is where a client
reads the endpoints and the server certificate first, as asyncua's client does).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from asyncua import Server, ua

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opcua_script import INITIAL, NAMESPACE, SERVER, VARIABLE  # noqa: E402


async def serve(args: argparse.Namespace) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://{args.host}:{args.port}/")
    server.set_server_name(SERVER["name"])
    server.product_uri = SERVER["product_uri"]
    await server.set_application_uri(SERVER["application_uri"])
    if args.cert:
        await server.load_certificate(str(args.cert))
        await server.load_private_key(str(args.key))
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity,
                                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    idx = await server.register_namespace(NAMESPACE)
    plant = await server.nodes.objects.add_object(idx, "Plant")
    variable = await plant.add_variable(idx, VARIABLE, INITIAL, varianttype=ua.VariantType.Double)
    await variable.set_writable()
    await server.start()
    # after start: start() writes its own BuildInfo; the variables of ns=0;i=2261..2265 must say ours
    await server.set_build_info(SERVER["product_uri"], SERVER["manufacturer_name"], SERVER["product_name"],
                                SERVER["software_version"], SERVER["build_number"], datetime(2026, 11, 30, tzinfo=timezone.utc))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", type=Path)
    ap.add_argument("--key", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
