"""Capture one run of the OPC UA stack (asyncua server and client) on loopback.

    python tests/e2e/stacks/opcua_capture.py --out opcua.pcap [--secure]

Plain: port 4840, security None. ``--secure``: port SECURE_PORT (found by the probe, not the port), the
server and the client with self-signed certificates made here (beside OUT) with ``cryptography``, the
session under Basic256Sha256 SignAndEncrypt. Writes OUT (pcap) and OUT.results.json (what the client saw).
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loopback import record  # noqa: E402
from opcua_script import CLIENT, PLAIN_PORT, SECURE_PORT, SERVER, SERVER_IP  # noqa: E402


@dataclass(frozen=True)
class OpcuaCapture:
    pcap: Path
    results: dict
    port: int
    secure: bool


def certificates(folder: Path) -> dict[str, tuple[Path, Path]]:
    """A (certificate DER, key PEM) pair each for the server and the client, for their application URIs."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    host = socket.gethostname()
    out = {}
    for role, uri, use in (("server", SERVER["application_uri"], ExtendedKeyUsageOID.SERVER_AUTH),
                           ("client", CLIENT["application_uri"], ExtendedKeyUsageOID.CLIENT_AUTH)):
        cert, key = folder / f"{role}.der", folder / f"{role}.pem"
        asyncio.run(setup_self_signed_certificate(key, cert, uri, host, [use],
                                                  {"countryName": "DE", "organizationName": "OtSensor Test Works"}))
        out[role] = (cert, key)
    return out


def capture(out: Path, secure: bool = False, drain: float = 1.5) -> OpcuaCapture:
    """Run server and client under tcpdump; raise with the tools' stderr if any step fails."""
    port = SECURE_PORT if secure else PLAIN_PORT
    server = [sys.executable, str(HERE / "opcua_server.py"), "--host", SERVER_IP, "--port", str(port)]
    client = [sys.executable, str(HERE / "opcua_client.py"), "--host", SERVER_IP, "--port", str(port)]
    if secure:
        pairs = certificates(out.parent)
        server += ["--cert", str(pairs["server"][0]), "--key", str(pairs["server"][1])]
        client += ["--cert", str(pairs["client"][0]), "--key", str(pairs["client"][1])]
    results = record(out, f"host {SERVER_IP} and tcp port {port}", server, client, drain)
    return OpcuaCapture(out, results, port, secure)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--secure", action="store_true")
    args = ap.parse_args()
    cap = capture(args.out, args.secure)
    print(f"{cap.pcap}: {cap.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
