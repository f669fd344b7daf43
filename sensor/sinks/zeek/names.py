"""The names Zeek's own scripts give codes, so the logs read as Zeek's do.

Modbus: ``Modbus::function_codes`` and ``Modbus::exception_codes`` (base/protocols/modbus/consts.zeek);
an exception response is the function's name with ``_EXCEPTION`` (``Modbus::build_func``), and a code the
tables lack is ``unknown-N``. DNP3: ``DNP3::function_codes`` (base/protocols/dnp3/consts.zeek).
"""
from __future__ import annotations

MODBUS_FUNCTIONS = {
    0x01: "READ_COILS", 0x02: "READ_DISCRETE_INPUTS", 0x03: "READ_HOLDING_REGISTERS", 0x04: "READ_INPUT_REGISTERS",
    0x05: "WRITE_SINGLE_COIL", 0x06: "WRITE_SINGLE_REGISTER", 0x07: "READ_EXCEPTION_STATUS", 0x08: "DIAGNOSTICS",
    0x0B: "GET_COMM_EVENT_COUNTER", 0x0C: "GET_COMM_EVENT_LOG", 0x0F: "WRITE_MULTIPLE_COILS",
    0x10: "WRITE_MULTIPLE_REGISTERS", 0x11: "REPORT_SLAVE_ID", 0x14: "READ_FILE_RECORD", 0x15: "WRITE_FILE_RECORD",
    0x16: "MASK_WRITE_REGISTER", 0x17: "READ_WRITE_MULTIPLE_REGISTERS", 0x18: "READ_FIFO_QUEUE",
    0x2B: "ENCAP_INTERFACE_TRANSPORT", 0x5B: "OBJECT_MESSAGING",
    # machine, vendor or network specific
    0x09: "PROGRAM_484", 0x0A: "POLL_484", 0x0D: "PROGRAM_584_984", 0x0E: "POLL_584_984", 0x12: "PROGRAM_884_U84",
    0x13: "RESET_COMM_LINK_884_U84", 0x28: "PROGRAM_CONCEPT", 0x29: "MULTIPLE_FUNCTION_CODES", 0x5A: "PROGRAM_UNITY",
    0x7D: "FIRMWARE_REPLACEMENT", 0x7E: "PROGRAM_584_984_2", 0x7F: "REPORT_LOCAL_ADDRESS",
}

MODBUS_EXCEPTIONS = {
    0x01: "ILLEGAL_FUNCTION", 0x02: "ILLEGAL_DATA_ADDRESS", 0x03: "ILLEGAL_DATA_VALUE", 0x04: "SLAVE_DEVICE_FAILURE",
    0x05: "ACKNOWLEDGE", 0x06: "SLAVE_DEVICE_BUSY", 0x08: "MEMORY_PARITY_ERROR", 0x0A: "GATEWAY_PATH_UNAVAILABLE",
    0x0B: "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
}

DNP3_FUNCTIONS = {
    0x00: "CONFIRM", 0x01: "READ", 0x02: "WRITE", 0x03: "SELECT", 0x04: "OPERATE", 0x05: "DIRECT_OPERATE",
    0x06: "DIRECT_OPERATE_NR", 0x07: "IMMED_FREEZE", 0x08: "IMMED_FREEZE_NR", 0x09: "FREEZE_CLEAR",
    0x0A: "FREEZE_CLEAR_NR", 0x0B: "FREEZE_AT_TIME", 0x0C: "FREEZE_AT_TIME_NR", 0x0D: "COLD_RESTART",
    0x0E: "WARM_RESTART", 0x0F: "INITIALIZE_DATA", 0x10: "INITIALIZE_APPL", 0x11: "START_APPL", 0x12: "STOP_APPL",
    0x13: "SAVE_CONFIG", 0x14: "ENABLE_UNSOLICITED", 0x15: "DISABLE_UNSOLICITED", 0x16: "ASSIGN_CLASS",
    0x17: "DELAY_MEASURE", 0x18: "RECORD_CURRENT_TIME", 0x19: "OPEN_FILE", 0x1A: "CLOSE_FILE", 0x1B: "DELETE_FILE",
    0x1C: "GET_FILE_INFO", 0x1D: "AUTHENTICATE_FILE", 0x1E: "ABORT_FILE", 0x1F: "ACTIVATE_CONFIG",
    0x20: "AUTHENTICATE_REQ", 0x21: "AUTHENTICATE_ERR",
    0x81: "RESPONSE", 0x82: "UNSOLICITED_RESPONSE", 0x83: "AUTHENTICATE_RESP",
}


def modbus_function(code: int, exception: bool = False) -> str:
    """``Modbus::build_func`` for a function code without its exception bit."""
    name = MODBUS_FUNCTIONS.get(code)
    if name is None:
        return f"unknown-{code | 0x80 if exception else code}"
    return name + "_EXCEPTION" if exception else name


def modbus_exception(code: int) -> str:
    return MODBUS_EXCEPTIONS.get(code, f"unknown-{code}")


def dnp3_function(code: int) -> str:
    return DNP3_FUNCTIONS.get(code, f"unknown-{code}")
