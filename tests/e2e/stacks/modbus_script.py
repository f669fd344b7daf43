"""The known Modbus conversation the e2e test captures: the device identity and the client's script.

Both the real pymodbus stacks (identity_server.py, script_client.py) and the test read this module, so the
expectations come from what the client was told to do, not from the sensor's output.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SERVER_IP = "127.0.0.2"
CLIENT_IP = "127.0.0.3"
TABLE_SIZE = 2000
UNITS = (1, 3)

# ModbusDeviceIdentification object names (Modbus Application Protocol v1.1b3, 6.21, table of objects).
IDENTITY = {
    "VendorName": "Acme Automation",
    "ProductCode": "ACM-PC5",
    "MajorMinorRevision": "4.2.17",
    "VendorUrl": "https://acme.example/pc5",
    "ProductName": "Acme Process Controller",
    "ModelName": "PC-5000",
    "UserApplicationName": "pump_station_3",
}
IDENTITY_OBJECT_IDS = {name: i for i, name in enumerate(IDENTITY)}  # 0x00..0x06 in the spec's order

# Function codes that address a data table (they make client "points"); 8 and 43 don't.
READS = {1, 2, 3, 4}
WRITES = {5, 6, 15, 16}


@dataclass(frozen=True)
class Op:
    """One request of the script. `values` are what a write sends; reads record what came back."""

    function_code: int
    unit: int = 1
    address: int | None = None
    quantity: int | None = None
    values: tuple = ()
    read_code: int | None = None     # FC 43/14: 1 basic, 2 regular, 3 extended
    data: bytes = b""                # FC 8 sub 0 (return query data)
    expect_exception: int | None = None
    note: str = field(default="", compare=False)

    @property
    def access(self) -> str | None:
        return "read" if self.function_code in READS else "write" if self.function_code in WRITES else None


SCRIPT: tuple[Op, ...] = (
    Op(3, address=100, quantity=10, note="read holding registers"),
    Op(3, address=0, quantity=2),
    Op(1, address=10, quantity=16, note="read coils"),
    Op(2, address=0, quantity=8, note="read discrete inputs"),
    Op(6, address=200, quantity=1, values=(4242,), note="write single register"),
    Op(16, address=300, quantity=4, values=(1, 2, 65535, 1234), note="write multiple registers"),
    Op(5, address=20, quantity=1, values=(True,), note="write single coil"),
    Op(4, address=50, quantity=8, note="read input registers"),
    Op(3, unit=3, address=100, quantity=10, note="same registers, another unit id"),
    Op(3, address=300, quantity=4, note="read back the written registers"),
    Op(3, address=100, quantity=10, note="repeat: the point's count becomes 2"),
    Op(43, read_code=1, note="read device identification, basic"),
    Op(43, read_code=2, note="regular"),
    Op(43, read_code=3, note="extended"),
    Op(8, data=b"\x12\x34", note="diagnostics: return query data"),
    Op(3, address=TABLE_SIZE - 5, quantity=20, expect_exception=2, note="past the end: illegal data address"),
)
