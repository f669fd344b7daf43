"""What the OPC UA stack run announces and does: shared by the server, the client and the test.

The test's expectations come from here (what the scripts were told to be and do), never from the
package's output.
"""
from __future__ import annotations

SERVER_IP = "127.0.0.41"  # the client connects from 127.0.0.1 (asyncua does not bind a source address)
PLAIN_PORT = 4840  # the IANA port: found by port
SECURE_PORT = 48441  # any other port: found by the probe
NAMESPACE = "urn:otsensor:test:plant"

SERVER = {
    "name": "OtSensor Test Boiler Server",
    "application_uri": "urn:otsensor:test:boiler-server",
    "product_uri": "urn:otsensor:test:boiler",
    "manufacturer_name": "OtSensor Test Works",
    "product_name": "Boiler Controller 3000",
    "software_version": "4.2.1",
    "build_number": "2026.11.30",
}
CLIENT = {
    "name": "OtSensor Test HMI",
    "application_uri": "urn:otsensor:test:hmi",
    "product_uri": "urn:otsensor:test:hmi-product",
}
VARIABLE = "Temperature"  # a Double the client reads, then writes WRITTEN to
INITIAL, WRITTEN = 21.5, 73.25
BASIC256SHA256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"
