"""A bacpypes3 BACnet/IP client: Who-Is, ReadProperty of the device object's identity, ReadPropertyMultiple,
ReadProperty and WriteProperty of an analog value. Writes what it decoded to ``--out`` (JSON).

    python bacnet_client.py --out RESULTS.json    (run inside the client's network namespace)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bacnet_script import (  # noqa: E402
    ANALOG_VALUE,
    CLIENT_INSTANCE,
    CLIENT_IP,
    DEVICE_INSTANCE,
    IDENTITY,
    PREFIX,
    WRITE_PRIORITY,
    WRITE_VALUE,
)
from bacpypes3.ipv4.app import NormalApplication  # noqa: E402
from bacpypes3.local.device import DeviceObject  # noqa: E402
from bacpypes3.pdu import IPv4Address  # noqa: E402


async def main(out: Path) -> None:
    device = DeviceObject(objectIdentifier=("device", CLIENT_INSTANCE), objectName="ots-workstation")
    app = NormalApplication(device, IPv4Address(f"{CLIENT_IP}/{PREFIX}"))
    results: dict = {"calls": []}
    try:
        i_ams = []
        for _ in range(3):  # the first broadcast may leave before the device's socket sees the veth up
            i_ams = await app.who_is(DEVICE_INSTANCE, DEVICE_INSTANCE, timeout=2)
            if i_ams:
                break
        if not i_ams:
            raise SystemExit("no I-Am for the device")
        i_am = i_ams[0]
        address = i_am.pduSource
        results["i_am"] = {"device_instance": i_am.iAmDeviceIdentifier[1], "vendor_id": int(i_am.vendorID),
                           "max_apdu": int(i_am.maxAPDULengthAccepted), "address": str(address)}
        device_id = f"device,{DEVICE_INSTANCE}"
        for prop in IDENTITY:
            value = await app.read_property(address, device_id, prop)
            results["calls"].append({"service": "read_property", "object": f"device,{DEVICE_INSTANCE}",
                                     "property": prop, "value": str(value)})
        multiple = await app.read_property_multiple(address, [device_id, ["object-name", "vendor-identifier"]])
        results["calls"].append({"service": "read_property_multiple", "object": f"device,{DEVICE_INSTANCE}",
                                 "values": [[str(p), str(v)] for _, p, _, v in multiple]})
        av = f"analog-value,{ANALOG_VALUE}"
        before = await app.read_property(address, av, "present-value")
        results["calls"].append({"service": "read_property", "object": f"analog-value,{ANALOG_VALUE}",
                                 "property": "present-value", "value": float(before)})
        await app.write_property(address, av, "present-value", WRITE_VALUE, priority=WRITE_PRIORITY)
        results["calls"].append({"service": "write_property", "object": f"analog-value,{ANALOG_VALUE}",
                                 "property": "present-value", "value": WRITE_VALUE})
        after = await app.read_property(address, av, "present-value")
        results["calls"].append({"service": "read_property", "object": f"analog-value,{ANALOG_VALUE}",
                                 "property": "present-value", "value": float(after)})
    finally:
        app.close()
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    asyncio.run(main(ap.parse_args().out))
