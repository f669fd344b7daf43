"""What the DNP3 stack test does: the outstation's database and identity, and the master's script.

Shared by dnp3_outstation.py, dnp3_master.py and tests/e2e/test_dnp3_stack.py, so the test's
expectations come from here (and from what the dnp3py master decoded), never from the sensor.
"""
from __future__ import annotations

from dataclasses import dataclass

OUTSTATION_IP, MASTER_IP, PORT = "127.0.0.20", "127.0.0.21", 20000
OUTSTATION_ADDRESS, MASTER_ADDRESS = 10, 1

# the outstation's database: index -> initial value
BINARY_INPUTS = {0: True, 1: False, 2: True, 3: False}
BINARY_OUTPUTS = {0: False, 1: False}
ANALOG_INPUTS = {0: 12.5, 1: -3.0, 2: 1000.0}
ANALOG_OUTPUTS = {0: 0.0, 1: 5.0}
COUNTERS = {0: 7, 1: 42}

# device attributes (IEEE 1815-2012 A.1) the outstation answers a g0 read with: variation -> VSTR value
ATTRIBUTES = {
    252: "otsensor test vendor",  # device manufacturer's name
    250: "dnp3py outstation model T1",  # product name and model
    242: "dnp3py 0.6.0",  # manufacturer's software version
    243: "hw rev B",  # hardware version
    248: "SN-2026-0042",  # device serial number
    247: "feeder-12-rtu",  # user-assigned device name
    246: "ASSET-77",  # user-assigned ID code
    245: "substation 3, bay 2",  # user-assigned location
}
IDENTITY = {  # what the sensor must learn from ATTRIBUTES
    "vendor": ATTRIBUTES[252], "product": ATTRIBUTES[250], "model": ATTRIBUTES[250], "firmware": ATTRIBUTES[242],
    "hardware_version": ATTRIBUTES[243], "serial": ATTRIBUTES[248], "name": ATTRIBUTES[247],
    "id_code": ATTRIBUTES[246], "location": ATTRIBUTES[245],
}

TIME_MS = 1_764_000_000_000  # the time the master writes (g50v1)
ANALOG_SETPOINT = 42  # dnp3py commands analog outputs as g41v1 (32-bit integer)


@dataclass(frozen=True)
class Op:
    """One request of the master's script and what the sensor must call it."""

    name: str  # what dnp3_master.py runs
    function_name: str
    action: str
    points: tuple[tuple[str, int, int, str, tuple | None], ...] = ()  # (space, address, quantity, access, values)


SCRIPT: tuple[Op, ...] = (
    Op("integrity_poll", "read", "read"),
    Op("read_attributes", "read", "read"),
    Op("read_analog_range", "read", "read"),
    Op("direct_operate_crob", "direct_operate", "operate", (("g12", 1, 1, "write", ("latch_on",)),)),
    Op("select_analog", "select", "operate", (("g41", 0, 1, "write", (ANALOG_SETPOINT,)),)),
    Op("operate_analog", "operate", "operate", (("g41", 0, 1, "write", (ANALOG_SETPOINT,)),)),
    Op("write_time", "write", "time_sync"),
    Op("delay_measure", "delay_measure", "time_sync"),
    Op("immediate_freeze", "immed_freeze", "operate"),
    Op("disable_unsolicited", "disable_unsolicited", "other"),
    Op("enable_unsolicited", "enable_unsolicited", "other"),
    Op("clear_restart", "write", "write"),
    Op("cold_restart", "cold_restart", "restart"),
)
