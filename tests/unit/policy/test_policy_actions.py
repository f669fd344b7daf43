"""The action vocabulary as the policy reads it: Modbus exactly as the protocol framework issue lists it."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocols.base import ACTIONS, READ_ONLY_ACTIONS
from protocols.modbus.codes import ACTIONS as MODBUS_ACTIONS
from protocols.modbus.codes import action_name, function_name
from sensor.policy import actions
from sensor.policy.actions import classify, not_reads, rank, worst

READS = {1, 2, 3, 4, 20, 24}
WRITES = {5, 6, 15, 16, 21, 22, 23}
DIAGNOSTICS = {7, 8, 11, 12}


def modbus_action(fc: int, sub: int | None = None, mei: int | None = None, umas: int | None = None) -> str:
    return classify("modbus", action_name(fc, sub, mei, umas))


def test_reads_writes_and_diagnostics_are_the_issue_lists():
    assert {fc for fc in range(256) if modbus_action(fc) == "read"} == READS
    assert {fc for fc in range(256) if modbus_action(fc) == "write"} == WRITES
    assert {fc for fc in range(256) if modbus_action(fc) == "diagnostics"} == DIAGNOSTICS


def test_sub_functions_that_change_the_meaning():
    assert modbus_action(8, 0x00) == "diagnostics"
    assert modbus_action(8, 0x01) == "restart"
    assert modbus_action(8, 0x04) == "mode_change"
    assert modbus_action(8, 0x0A) == "diagnostics"  # clear counters: housekeeping
    assert modbus_action(17) == "discovery"
    assert modbus_action(43, mei=14) == "discovery"
    assert modbus_action(43, mei=13) == "other"


def test_umas_follows_its_sub_function():
    assert modbus_action(90, umas=0x30) == "program_download"  # UMAS "upload" goes to the PLC
    assert modbus_action(90, umas=0x33) == "program_upload"
    assert modbus_action(90, umas=0x40) == "mode_change"
    assert modbus_action(90, umas=0x41) == "mode_change"
    assert modbus_action(90, umas=0x22) == "other"
    assert modbus_action(90) == "other"


def test_user_defined_codes_are_other_by_decision():
    for fc in (*range(65, 73), *range(100, 111)):
        assert function_name(fc).startswith("user_defined_")
        assert modbus_action(fc) == "other"


def test_every_action_in_the_table_is_in_the_vocabulary_and_ranked():
    assert set(MODBUS_ACTIONS.values()) <= set(ACTIONS)
    assert set(actions.RANK) == set(ACTIONS)


def test_names_are_case_insensitive():
    assert classify("modbus", "Read_Coils") == "read"


def test_unknown_protocol_is_other_and_not_decoded():
    assert classify("no_such_protocol", "download_block") == "other"
    assert not actions.decodes("no_such_protocol") and actions.decodes("modbus")


def test_not_reads_keeps_counts_and_worst_ranks():
    used = {"read_holding_registers": 10, "write_single_register": 2, "umas/stop_plc": 1,
            "encapsulated_interface_transport/read_device_identification": 3}
    assert not_reads("modbus", used) == {"umas/stop_plc": 1, "write_single_register": 2}
    assert worst("modbus", used) == "mode_change"
    assert rank("modbus", used) == actions.RANK["mode_change"]
    assert worst("modbus", {}) is None and rank("modbus", {}) == -1


@given(st.integers(min_value=0, max_value=0xFF), st.integers(min_value=0, max_value=0xFFFF))
def test_any_code_and_sub_function_gets_an_action(fc, sub):
    action = modbus_action(fc, sub, sub & 0xFF, sub & 0xFF)
    assert action in actions.RANK
    assert (action in READ_ONLY_ACTIONS) == (fc in READS or fc == 17 or (fc == 43 and sub & 0xFF == 14))
