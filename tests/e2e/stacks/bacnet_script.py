"""What the BACnet/IP stack test runs: the device the bacpypes3 server announces and what the client asks of it.

Two network namespaces joined by a veth pair (BACnet/IP discovery is broadcast, which loopback does not carry
between two stacks on one port): the device at DEVICE_IP, the client at CLIENT_IP, both on UDP 47808.
"""
from __future__ import annotations

PREFIX = 24
DEVICE_IP, CLIENT_IP = "10.203.47.2", "10.203.47.3"
PORT = 47808
DEVICE_INSTANCE, CLIENT_INSTANCE = 4711, 4712
VENDOR_ID = 999  # bacpypes3's own; past the package's vendor table, so the inventory's vendor is Vendor_Name
IDENTITY = {  # device object properties (ASHRAE 135 clause 12.11) the device announces and the client reads
    "object-name": "ots-ahu-7",
    "vendor-name": "OT Sensor Test Vendor",
    "model-name": "AHU-Controller-9",
    "firmware-revision": "4.2.1",
    "application-software-version": "app-2026.11",
    "location": "plant room 3",
    "description": "air handling unit 7",
}
ANALOG_VALUE = 3  # analog-value,3: its present-value is read, then written with WRITE_VALUE at WRITE_PRIORITY
INITIAL_VALUE, WRITE_VALUE, WRITE_PRIORITY = 21.5, 23.0, 8
