"""A bacpypes3 BACnet/IP device answering Who-Is, ReadProperty(Multiple) and WriteProperty until SIGTERM.

    python bacnet_device.py    (run inside the device's network namespace; prints "ready" once bound)
"""
from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bacnet_script import (  # noqa: E402
    ANALOG_VALUE,
    DEVICE_INSTANCE,
    DEVICE_IP,
    IDENTITY,
    INITIAL_VALUE,
    PREFIX,
    VENDOR_ID,
)
from bacpypes3.ipv4.app import NormalApplication  # noqa: E402
from bacpypes3.local.analog import AnalogValueObjectCmd  # noqa: E402
from bacpypes3.local.device import DeviceObject  # noqa: E402
from bacpypes3.pdu import IPv4Address  # noqa: E402


async def main() -> None:
    device = DeviceObject(
        objectIdentifier=("device", DEVICE_INSTANCE), objectName=IDENTITY["object-name"],
        vendorIdentifier=VENDOR_ID, vendorName=IDENTITY["vendor-name"], modelName=IDENTITY["model-name"],
        firmwareRevision=IDENTITY["firmware-revision"],
        applicationSoftwareVersion=IDENTITY["application-software-version"], location=IDENTITY["location"],
        description=IDENTITY["description"], maxApduLengthAccepted=1476, segmentationSupported="noSegmentation")
    app = NormalApplication(device, IPv4Address(f"{DEVICE_IP}/{PREFIX}"))
    app.add_object(AnalogValueObjectCmd(objectIdentifier=("analog-value", ANALOG_VALUE), objectName="supply-temp",
                                        presentValue=INITIAL_VALUE, units="degreesCelsius"))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    app.close()


if __name__ == "__main__":
    asyncio.run(main())
