"""What the IEC 104 stack test does: the controlled station's points and the controlling station's script.

Shared by iec104_server.py, iec104_client.py and tests/e2e/test_iec104_stack.py, so the test's expectations
come from here (and from what the c104 client itself received), never from the sensor.
"""
from __future__ import annotations

SERVER_IP, PORT = "127.0.0.30", 2404
COMMON_ADDRESS = 47

# the controlled station's monitoring points: IOA -> (c104 type, information class, value)
MONITORING = {
    1001: ("M_SP_NA_1", "SingleInfo", True),
    1002: ("M_DP_TB_1", "DoubleInfo", "ON"),  # with a CP56Time2a time tag
    1003: ("M_ME_NC_1", "ShortInfo", 21.5),
    1004: ("M_ME_NB_1", "ScaledInfo", -1234),
    1005: ("M_IT_NA_1", "BinaryCounterInfo", 4242),
    1006: ("M_BO_NA_1", "BinaryInfo", 0x12345678),  # tells which octet order a bitstring has
}
SPACE_OF = {"M_SP_NA_1": "M_SP_NA_1", "M_DP_TB_1": "M_DP_NA_1", "M_ME_NC_1": "M_ME_NC_1", "M_ME_NB_1": "M_ME_NB_1",
            "M_IT_NA_1": "M_IT_NA_1", "M_BO_NA_1": "M_BO_NA_1"}
"""The point space the sensor files each monitoring type under (with and without time tag: one space)."""

# the control points: IOA -> (c104 type, command mode, value the client commands)
COMMANDS = {
    2001: ("C_SC_NA_1", "DIRECT", True),  # a single command, executed at once
    2002: ("C_SE_NC_1", "SELECT_AND_EXECUTE", 12.25),  # a short float set-point: select, then execute
}
COMMAND_SPACE = {"C_SC_NA_1": "C_SC_NA_1", "C_SE_NC_1": "C_SE_NC_1"}
