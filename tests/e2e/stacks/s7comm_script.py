"""What the S7 stack test does: python-snap7's client against python-snap7's server, and what each call puts on the wire.

Shared by ``s7comm_server.py``, ``s7comm_client.py`` (the two processes), ``s7comm_capture.py`` (which
records them with tcpdump) and tests/e2e/test_s7comm_stack.py (which checks the package against it).
Each ``Op`` names a ``snap7.client.Client`` method, its arguments, the request functions it sends
(in order, as python-snap7 3.x builds them), the action those requests mean, and the points they
touch. The expectations come from the calls, never from the package under test.
"""
from __future__ import annotations

from dataclasses import dataclass

SERVER_IP = "127.0.0.7"
CLIENT_IP = "127.0.0.8"
PORT = 102
RACK, SLOT = 0, 2

DB1 = bytes(range(0x10, 0x30))  # the server's DB1: 32 octets the reads must return
DB2_SIZE = 64  # the download target must exist on the server
AREA_SIZE = 16  # markers, inputs, outputs, timers, counters


@dataclass(frozen=True)
class Pt:
    """A point as the package must report it: space, address (octet or number), quantity (octets), access."""

    space: str
    address: int
    quantity: int
    access: str
    values: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Op:
    method: str  # snap7.client.Client method
    args: tuple  # bytes as hex strings, block types by name: JSON-friendly for the client process
    functions: tuple[str, ...]  # request function names the call sends, in order
    action: str
    points: tuple[Pt, ...] = ()
    server_jobs: tuple[str, ...] = ()  # jobs the server sends back during the call (download)


SCRIPT: tuple[Op, ...] = (
    Op("db_read", (1, 0, 4), ("read_var",), "read", (Pt("DB1", 0, 4, "read"),)),
    Op("db_write", (1, 2, "0102"), ("write_var",), "write", (Pt("DB1", 2, 2, "write", (1, 2)),)),
    Op("mb_read", (0, 4), ("read_var",), "read", (Pt("M", 0, 4, "read"),)),
    Op("mb_write", (4, 2, "aabb"), ("write_var",), "write", (Pt("M", 4, 2, "write", (0xAA, 0xBB)),)),
    Op("eb_read", (0, 2), ("read_var",), "read", (Pt("I", 0, 2, "read"),)),
    Op("ab_write", (1, "5a"), ("write_var",), "write", (Pt("Q", 1, 1, "write", (0x5A,)),)),
    Op("tm_read", (3, 1), ("read_var",), "read", (Pt("T", 3, 1, "read"),)),
    Op("ct_read", (5, 1), ("read_var",), "read", (Pt("C", 5, 1, "read"),)),
    Op("get_cpu_info", (), ("read_szl",), "read"),  # SZL 0x001C
    Op("get_order_code", (), ("read_szl",), "read"),  # SZL 0x0011
    Op("list_blocks", (), ("list_blocks",), "discovery"),
    Op("set_plc_datetime", ("2024-05-06T07:08:09",), ("set_clock",), "time_sync"),
    Op("get_plc_datetime", (), ("read_clock",), "read"),
    Op("plc_stop", (), ("plc_stop",), "mode_change"),
    Op("plc_hot_start", (), ("pi_service",), "mode_change"),  # P_PROGRAM
    Op("plc_cold_start", (), ("pi_service",), "mode_change"),  # P_PROGRAM "C "
    Op("full_upload", ("DB", 1), ("start_upload", "upload", "end_upload"), "program_upload"),
    Op("download", ("00" * 40, 2), ("request_download",), "program_download",
       server_jobs=("download_block", "download_ended")),
    Op("compress", (1000,), ("pi_service",), "other"),  # _GARB
    Op("copy_ram_to_rom", (1000,), ("pi_service",), "other"),  # _MODU
)

SESSION_OPEN = ("connection_request", "setup_communication")
SESSION_CLOSE = ("disconnect_request",)
