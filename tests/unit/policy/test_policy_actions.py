"""The action vocabulary: Modbus reads and writes exactly as the issue lists them."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sensor.policy import actions
from sensor.policy.actions import MODBUS_CODES, MODBUS_NAMES, classify, not_reads, worst

READS = {1, 2, 3, 4, 20, 24, 43}
WRITES = {5, 6, 15, 16, 21, 22, 23}


def test_reads_and_writes_are_the_issue_lists():
    assert {c for c, k in MODBUS_CODES.items() if k == actions.READ} == READS
    assert {c for c, k in MODBUS_CODES.items() if k == actions.WRITE} == WRITES


def test_read_write_multiple_registers_counts_as_a_write():
    assert classify("modbus", "read_write_multiple_registers") == actions.WRITE


def test_device_identification_is_a_read_under_either_name():
    assert classify("modbus", "read_device_identification") == actions.READ
    assert classify("modbus", "encapsulated_interface_transport") == actions.READ


def test_umas_and_user_defined_codes_are_program():
    assert classify("modbus", "umas") == actions.PROGRAM
    assert classify("modbus", "unknown_0x5a") == actions.PROGRAM
    assert classify("modbus", "unknown_0x41") == actions.PROGRAM  # 65, user-defined
    assert classify("modbus", "unknown_0x6e") == actions.PROGRAM  # 110, user-defined


def test_diagnostics_and_unassigned_codes_are_not_reads():
    assert classify("modbus", "diagnostics") == actions.DIAGNOSTIC
    assert classify("modbus", "unknown_0x30") == actions.OTHER
    assert classify("modbus", "something_new") == actions.OTHER


def test_names_are_case_insensitive():
    assert classify("modbus", "Read_Coils") == actions.READ


def test_unknown_protocol_is_other_and_not_decoded():
    assert classify("s7comm", "download_block") == actions.OTHER
    assert not actions.decodes("s7comm") and actions.decodes("modbus")


def test_not_reads_keeps_counts_and_worst_ranks():
    used = {"read_holding_registers": 10, "write_single_register": 2, "umas": 1}
    assert not_reads("modbus", used) == {"umas": 1, "write_single_register": 2}
    assert worst("modbus", used) == actions.PROGRAM
    assert worst("modbus", {}) is None


def test_every_spec_name_maps_to_its_code_class():
    for name, code in MODBUS_NAMES.items():
        assert classify("modbus", name) == MODBUS_CODES[code]


@given(st.integers(min_value=0, max_value=0xFF))
def test_any_unknown_code_gets_a_class(code):
    cls = classify("modbus", f"unknown_0x{code:02x}")
    assert cls in actions.RANK
    assert (cls == actions.READ) == (code in READS)
