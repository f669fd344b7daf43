"""One small vocabulary of control actions, so policy and path risk read the same for every protocol.

A conduit with ``access: read`` lets only ``read`` actions pass, and path risk ranks a last hop that
writes or programs above one that reads. Classes, from least to most dangerous:

- ``read``: returns process data and changes nothing.
- ``diagnostic``: device housekeeping. Modbus 8 (Diagnostics) can restart communications or force
  listen-only mode (spec 6.8, sub-functions 0x01 and 0x04), so it is no read.
- ``other``: a function we cannot place (an unassigned code); not a read, so it is not let through.
- ``write``: changes outputs or memory.
- ``program``: can change what the controller *does*. Vendors carry program download/upload,
  start/stop and firmware over Schneider's UMAS (code 90, 0x5A) and over the codes the spec leaves
  to users (65–72, 100–110, spec 5.1). The sensor cannot see inside them, so it assumes the worst.

The Modbus split follows the issue: reads are 1, 2, 3, 4, 20, 24, 43 (and 23's read half); writes are
5, 6, 15, 16, 21, 22, 23. Codes 7, 11, 12 and 17 are serial-line status queries, listed as
``diagnostic`` because the issue does not count them as reads. Another protocol joins by adding its
``(name → class)`` table and a fallback to ``_TABLES``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

READ, DIAGNOSTIC, OTHER, WRITE, PROGRAM = "read", "diagnostic", "other", "write", "program"
RANK = {READ: 0, DIAGNOSTIC: 1, OTHER: 2, WRITE: 3, PROGRAM: 4}  # how much an action can change

MODBUS_CODES: dict[int, str] = {
    1: READ, 2: READ, 3: READ, 4: READ, 20: READ, 24: READ, 43: READ,
    5: WRITE, 6: WRITE, 15: WRITE, 16: WRITE, 21: WRITE, 22: WRITE,
    23: WRITE,  # read/write multiple registers: its write half decides
    7: DIAGNOSTIC, 8: DIAGNOSTIC, 11: DIAGNOSTIC, 12: DIAGNOSTIC, 17: DIAGNOSTIC,
    90: PROGRAM,
    **{code: PROGRAM for code in (*range(65, 73), *range(100, 111))},
}

MODBUS_NAMES: dict[str, int] = {
    "read_coils": 1, "read_discrete_inputs": 2, "read_holding_registers": 3, "read_input_registers": 4,
    "write_single_coil": 5, "write_single_register": 6, "read_exception_status": 7, "diagnostics": 8,
    "get_comm_event_counter": 11, "get_comm_event_log": 12, "write_multiple_coils": 15,
    "write_multiple_registers": 16, "report_server_id": 17, "report_slave_id": 17, "read_file_record": 20,
    "write_file_record": 21, "mask_write_register": 22, "read_write_multiple_registers": 23,
    "read_fifo_queue": 24, "encapsulated_interface_transport": 43, "read_device_identification": 43,
    "can_open_general_reference": 43, "umas": 90,
}

_UNKNOWN = re.compile(r"^unknown_0x([0-9a-f]{1,2})$")


def _modbus(name: str) -> str:
    code = MODBUS_NAMES.get(name)
    if code is None and (match := _UNKNOWN.match(name)):
        code = int(match.group(1), 16)
    return MODBUS_CODES.get(code, OTHER) if code is not None else OTHER


_TABLES: dict[str, Callable[[str], str]] = {"modbus": _modbus}
DECODED = tuple(sorted(_TABLES))  # protocols whose actions a read-only conduit can check


def decodes(protocol: str) -> bool:
    """Whether the sensor knows the actions of this protocol (so ``access: read`` can mean something)."""
    return protocol in _TABLES


@lru_cache(maxsize=4096)
def classify(protocol: str, function_name: str) -> str:
    """The action class of one function of one protocol; unknown protocols give ``other``."""
    table = _TABLES.get(protocol)
    return table(function_name.lower()) if table else OTHER


def worst(protocol: str, actions: dict[str, int]) -> str | None:
    """The most dangerous class among the functions used, or None when none were decoded."""
    classes = [classify(protocol, name) for name in actions]
    return max(classes, key=RANK.__getitem__) if classes else None


def not_reads(protocol: str, actions: dict[str, int]) -> dict[str, int]:
    """The functions (with counts) a read-only conduit must not pass."""
    return {name: n for name, n in sorted(actions.items()) if classify(protocol, name) != READ}
