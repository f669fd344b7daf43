"""Capture one scripted EtherNet/IP exchange between real cpppo stacks on loopback.

    python tests/e2e/stacks/enip_stack.py --out enip.pcap

tcpdump (on lo, filtered to the server's address) starts first and must say it is listening; then the cpppo
EtherNet/IP server (``python -m cpppo.server.enip``) with a configured Identity and three tags, which must
say where it runs; then each step of SCRIPT runs cpppo's own command-line clients against it; tcpdump is
stopped last, after a pause that lets it drain. Needs root for tcpdump and for port 44818.
Writes OUT (pcap) and OUT.steps.json (each step's command line and what the client printed).
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loopback import stop, tcpdump  # noqa: E402

SERVER_IP = "127.0.0.21"
PORT = 44818

# What the server announces: the [Identity] section of cpppo's config (cpppo/server/enip/device.py, Identity).
IDENTITY = {
    "vendor_id": 1,  # Rockwell Automation/Allen-Bradley
    "device_type": 14,  # Programmable Logic Controller
    "product_code": 54,
    "revision_major": 20,
    "revision_minor": 11,
    "serial_number": 0x0E2E5EED,
    "product_name": "OTSENSOR-E2E L61",
}
TAGS = ("SCADA=INT[10]", "TEMP=REAL", "COUNT=DINT")


@dataclass(frozen=True)
class Step:
    """One client run: the cpppo module, its arguments, and what it does in the protocol's words."""

    module: str
    args: tuple[str, ...]
    does: str


SCRIPT: tuple[Step, ...] = (
    Step("cpppo.server.enip.client", ("-u", "-i"), "ListIdentity over UDP"),
    Step("cpppo.server.enip.client", ("-i", "SCADA[0-3]", "SCADA[1]=(INT)99", "TEMP=(REAL)21.5",
                                      "COUNT=(DINT)123456", "SCADA[0-3]"),
         "ListIdentity over TCP; Read Tag SCADA[0] x4; Write Tag SCADA[1]=99, TEMP=21.5, COUNT=123456; Read Tag "
         "again; each inside an Unconnected Send routed to backplane slot 0 (cpppo's default route 1/0)"),
    Step("cpppo.server.enip.client", ("-m", "SCADA[0-9]", "TEMP", "COUNT"),
         "Multiple Service Packet of three Read Tags"),
    Step("cpppo.server.enip.client", ("-f", "SCADA[2-5]"), "Read Tag Fragmented SCADA[2] x4"),
    Step("cpppo.server.enip.get_attribute", ("@1/1",), "Get_Attributes_All of Identity via slot 0"),
    Step("cpppo.server.enip.get_attribute", ("-S", "@1/1", "@1/1/7"),
         "Get_Attributes_All and Get_Attribute_Single (product name) of Identity, unrouted"),
)


def config_text() -> str:
    """cpppo reads its Identity from a config file section named after the object."""
    return "\n".join([
        "[Identity]",
        f"Vendor Number = {IDENTITY['vendor_id']}",
        f"Device Type = {IDENTITY['device_type']}",
        f"Product Code Number = {IDENTITY['product_code']}",
        f"Product Revision = {IDENTITY['revision_minor'] << 8 | IDENTITY['revision_major']}",  # a UINT: minor high
        f"Serial Number = {IDENTITY['serial_number']}",
        f"Product Name = {IDENTITY['product_name']}",
        "",
    ])


def _wait_listening(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((SERVER_IP, PORT), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"cpppo server not listening on {SERVER_IP}:{PORT}")


def capture(out: Path, drain: float = 2.0) -> list[dict]:
    """Run server and clients under tcpdump; raise with the tools' stderr if any step fails."""
    config = out.with_suffix(".cfg")
    config.write_text(config_text())
    server = None
    steps: list[dict] = []
    with tcpdump(out, f"host {SERVER_IP}", drain):
        try:
            server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-c", str(config),
                                       "-a", f"{SERVER_IP}:{PORT}", *TAGS], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
            _wait_listening(time.monotonic() + 20)
            for step in SCRIPT:
                argv = [sys.executable, "-m", step.module, "-a", f"{SERVER_IP}:{PORT}", "-p", *step.args]
                if step.module.endswith("get_attribute"):
                    argv.remove("-p")  # get_attribute prints by default and has no -p
                run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                if run.returncode != 0:
                    raise RuntimeError(f"{' '.join(argv)} failed ({run.returncode}): {run.stderr[-2000:]}")
                steps.append({"argv": argv[2:], "does": step.does, "stdout": run.stdout})
        finally:
            if server is not None:
                stop(server, signal.SIGINT)
    out.with_suffix(".steps.json").write_text(json.dumps(steps, indent=1))
    return steps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    steps = capture(args.out)
    for step in steps:
        print(step["does"], "\n", step["stdout"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
