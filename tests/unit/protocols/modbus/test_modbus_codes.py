"""Names for Modbus numbers: total functions, the spec's words, unknowns degrade."""
from __future__ import annotations

import pytest

from protocols.modbus.codes import (
    ACCESS,
    Access,
    FunctionCode,
    Table,
    conformity_level_name,
    diagnostic_name,
    exception_name,
    function_name,
    is_known_exception,
    is_user_defined,
    mei_type_name,
    object_name,
    read_device_id_name,
)

PUBLIC = {
    1: "read_coils",
    2: "read_discrete_inputs",
    3: "read_holding_registers",
    4: "read_input_registers",
    5: "write_single_coil",
    6: "write_single_register",
    7: "read_exception_status",
    8: "diagnostics",
    11: "get_comm_event_counter",
    12: "get_comm_event_log",
    15: "write_multiple_coils",
    16: "write_multiple_registers",
    17: "report_server_id",
    20: "read_file_record",
    21: "write_file_record",
    22: "mask_write_register",
    23: "read_write_multiple_registers",
    24: "read_fifo_queue",
    43: "encapsulated_interface_transport",
}


@pytest.mark.parametrize(("code", "name"), sorted(PUBLIC.items()))
def test_public_function_names(code: int, name: str) -> None:
    assert function_name(code) == name
    assert FunctionCode(code).name.lower() == name
    assert not is_user_defined(code)


def test_every_public_code_is_in_the_enum() -> None:
    assert {int(fc) for fc in FunctionCode} == set(PUBLIC)


@pytest.mark.parametrize("code", [*range(65, 73), *range(100, 111)])
def test_user_defined_ranges(code: int) -> None:
    assert function_name(code) == f"user_defined_0x{code:02x}"
    assert is_user_defined(code)


def test_umas_is_named_and_user_defined() -> None:
    assert function_name(90) == "umas"
    assert function_name(0x5A) == "umas"
    assert is_user_defined(90)


UNASSIGNED = [0, 9, 10, 13, 14, 18, 19, 25, 41, 42, 64, 73, 89, 91, 99, 111, 125, 127, 128, 255]


@pytest.mark.parametrize("code", UNASSIGNED)
def test_unassigned_codes_are_unknown(code: int) -> None:
    assert function_name(code) == f"unknown_0x{code:02x}"
    assert not is_user_defined(code)


@pytest.mark.parametrize("code", [-1, 256, 70000])
def test_names_never_raise_even_off_the_byte_range(code: int) -> None:
    for name_of in (function_name, exception_name, diagnostic_name, mei_type_name, object_name,
                    read_device_id_name, conformity_level_name):
        assert name_of(code).startswith("unknown_")


def test_function_name_examples_from_the_design() -> None:
    assert function_name(0x41) == "user_defined_0x41"
    assert function_name(0x5B) == "unknown_0x5b"


EXCEPTIONS = {
    1: "illegal_function",
    2: "illegal_data_address",
    3: "illegal_data_value",
    4: "server_device_failure",
    5: "acknowledge",
    6: "server_device_busy",
    7: "negative_acknowledge",
    8: "memory_parity_error",
    9: "unknown_0x09",
    10: "gateway_path_unavailable",
    11: "gateway_target_device_failed_to_respond",
}


@pytest.mark.parametrize(("code", "name"), sorted(EXCEPTIONS.items()))
def test_exception_names(code: int, name: str) -> None:
    assert exception_name(code) == name
    assert is_known_exception(code) == (code != 9)


@pytest.mark.parametrize("code", [0, 12, 0x7F, 0xFF])
def test_unknown_exception_codes(code: int) -> None:
    assert exception_name(code) == f"unknown_0x{code:02x}"
    assert not is_known_exception(code)


DIAGNOSTICS = {
    0x00: "return_query_data",
    0x01: "restart_communications_option",
    0x02: "return_diagnostic_register",
    0x03: "change_ascii_input_delimiter",
    0x04: "force_listen_only_mode",
    0x0A: "clear_counters_and_diagnostic_register",
    0x0B: "return_bus_message_count",
    0x0C: "return_bus_communication_error_count",
    0x0D: "return_bus_exception_error_count",
    0x0E: "return_server_message_count",
    0x0F: "return_server_no_response_count",
    0x10: "return_server_nak_count",
    0x11: "return_server_busy_count",
    0x12: "return_bus_character_overrun_count",
    0x14: "clear_overrun_counter_and_flag",
}


@pytest.mark.parametrize(("code", "name"), sorted(DIAGNOSTICS.items()))
def test_diagnostic_sub_function_names(code: int, name: str) -> None:
    assert diagnostic_name(code) == name


@pytest.mark.parametrize("code", [0x05, 0x09, 0x13, 0x15, 0xFFFF])
def test_reserved_diagnostic_sub_functions(code: int) -> None:
    assert diagnostic_name(code) == f"unknown_0x{code:02x}"


def test_mei_types() -> None:
    assert mei_type_name(0x0D) == "canopen_general_reference"
    assert mei_type_name(0x0E) == "read_device_identification"
    assert mei_type_name(0x0F) == "unknown_0x0f"


def test_read_device_id_codes() -> None:
    assert [read_device_id_name(c) for c in (1, 2, 3, 4)] == ["basic", "regular", "extended", "specific"]
    assert read_device_id_name(0) == "unknown_0x00"


def test_conformity_levels() -> None:
    assert conformity_level_name(0x01) == "basic_stream_only"
    assert conformity_level_name(0x02) == "regular_stream_only"
    assert conformity_level_name(0x03) == "extended_stream_only"
    assert conformity_level_name(0x81) == "basic_stream_and_individual"
    assert conformity_level_name(0x82) == "regular_stream_and_individual"
    assert conformity_level_name(0x83) == "extended_stream_and_individual"
    assert conformity_level_name(0x84) == "unknown_0x84"


def test_device_identification_object_names() -> None:
    assert [object_name(i) for i in range(7)] == [
        "vendor_name", "product_code", "major_minor_revision", "vendor_url", "product_name", "model_name",
        "user_application_name",
    ]
    assert object_name(0x07) == "reserved_0x07"
    assert object_name(0x7F) == "reserved_0x7f"
    assert object_name(0x80) == "private_0x80"
    assert object_name(0xFF) == "private_0xff"


def test_access_reads_and_writes() -> None:
    reads = {fc for fc, access in ACCESS.items() if access.read is not None}
    writes = {fc for fc, access in ACCESS.items() if access.write is not None}
    assert reads == {1, 2, 3, 4, 20, 23, 24, 43}
    assert writes == {5, 6, 15, 16, 21, 22, 23}


def test_access_tables() -> None:
    assert ACCESS[1] == Access(Table.COIL, None)
    assert ACCESS[2] == Access(Table.DISCRETE_INPUT, None)
    assert ACCESS[3] == Access(Table.HOLDING_REGISTER, None)
    assert ACCESS[4] == Access(Table.INPUT_REGISTER, None)
    assert ACCESS[5].write == ACCESS[15].write == Table.COIL
    assert ACCESS[6].write == ACCESS[16].write == ACCESS[22].write == Table.HOLDING_REGISTER
    assert ACCESS[23] == Access(Table.HOLDING_REGISTER, Table.HOLDING_REGISTER)
    assert ACCESS[20].read == ACCESS[21].write == Table.FILE_RECORD
    assert ACCESS[24].read == Table.FIFO
    assert Table.COIL == "coil"  # plain strings in JSON and SQL


@pytest.mark.parametrize("code", [7, 8, 11, 12, 17, 90, 65, 0])
def test_codes_that_touch_no_table_are_absent(code: int) -> None:
    # A read-only conduit must not let diagnostics (restart, listen-only) or UMAS through as "reads".
    assert code not in ACCESS


def test_access_is_read_only() -> None:
    with pytest.raises(TypeError):
        ACCESS[99] = Access(None, None)  # type: ignore[index]
