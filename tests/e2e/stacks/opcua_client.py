"""A real OPC UA client (asyncua) for the stack test: endpoints, a session, reads and a write.

    python opcua_client.py --host H --port P [--cert client.der --key client.pem] --out RESULTS.json

Its application description is opcua_script.CLIENT. It asks the server for its endpoints, opens a session
(Basic256Sha256 SignAndEncrypt when given a certificate), reads the server's BuildInfo variables
(ns=0;i=2261..2265) and the plant variable, writes WRITTEN to it, reads it back, and closes. RESULTS holds
what the client itself saw.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from asyncua import Client, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opcua_script import CLIENT, NAMESPACE, VARIABLE, WRITTEN  # noqa: E402

BUILD_INFO = {2261: "product_name", 2262: "product_uri", 2263: "manufacturer_name", 2264: "software_version",
              2265: "build_number"}


async def run(args: argparse.Namespace) -> dict:
    url = f"opc.tcp://{args.host}:{args.port}/"
    client = Client(url, timeout=10)
    client.name = CLIENT["name"]
    client.description = CLIENT["name"]
    client.application_uri = CLIENT["application_uri"]
    client.product_uri = CLIENT["product_uri"]
    if args.cert:
        await client.set_security(SecurityPolicyBasic256Sha256, str(args.cert), str(args.key),
                                  mode=ua.MessageSecurityMode.SignAndEncrypt)
    endpoints = await client.connect_and_get_server_endpoints()
    out: dict = {"endpoints": [(e.EndpointUrl, e.SecurityPolicyUri, e.SecurityMode.name) for e in endpoints]}
    async with client:
        nodes = [client.get_node(ua.NodeId(i, 0)) for i in BUILD_INFO]
        values = await client.read_values(nodes)
        out["build_info"] = {BUILD_INFO[i]: v for i, v in zip(BUILD_INFO, values)}
        idx = await client.get_namespace_index(NAMESPACE)
        variable = await client.nodes.objects.get_child([f"{idx}:Plant", f"{idx}:{VARIABLE}"])
        out["variable"] = variable.nodeid.to_string()
        out["before"] = await variable.read_value()
        await variable.write_value(ua.DataValue(ua.Variant(WRITTEN, ua.VariantType.Double)))
        out["after"] = await variable.read_value()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", type=Path)
    ap.add_argument("--key", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    args.out.write_text(json.dumps(asyncio.run(run(args)), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
