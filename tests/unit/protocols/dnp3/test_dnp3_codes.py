"""codes: total name functions, the one action table, the weird table."""
from __future__ import annotations

import re

import pytest

from protocols.base import ACTIONS as VOCABULARY
from protocols.dnp3 import SPEC
from protocols.dnp3.codes import (
    ACTIONS,
    IIN,
    WEIRDS,
    Attribute,
    FunctionCode,
    PrimaryFunction,
    SecondaryFunction,
    action_of,
    attribute_name,
    control_code_name,
    function_name,
    group_name,
    iin_names,
    link_function_name,
)


def test_function_names_are_the_spec_mnemonics_in_snake_case() -> None:
    assert function_name(0x00) == "confirm"
    assert function_name(0x06) == "direct_operate_nr"
    assert function_name(0x07) == "immed_freeze"
    assert function_name(0x18) == "record_current_time"
    assert function_name(0x82) == "unsolicited_response"
    assert function_name(0x83) == "authenticate_resp"


@pytest.mark.parametrize("code", [0x22, 0x5A, 0x80, 0x84, 0xFF])
def test_unknown_codes_degrade_and_never_raise(code: int) -> None:
    assert function_name(code) == f"unknown_0x{code:02x}"
    assert action_of(function_name(code)) == "other"


def test_every_function_and_link_function_has_an_action_from_the_vocabulary() -> None:
    names = [function_name(int(f)) for f in FunctionCode]
    names += [link_function_name(True, int(f)) for f in PrimaryFunction]
    names += [link_function_name(False, int(f)) for f in SecondaryFunction]
    missing = [n for n in names if n not in ACTIONS]
    assert not missing
    assert set(ACTIONS.values()) <= set(VOCABULARY)
    assert SPEC.actions is ACTIONS


def test_sub_function_overrides_change_the_action() -> None:
    assert action_of("write") == "write"
    assert action_of("write", (50,)) == "time_sync"
    assert action_of("write", (80, 50)) == "time_sync"
    assert action_of("write", (70,)) == "file_transfer"
    assert action_of("read", (70,)) == "file_transfer"
    assert action_of("read", (60,)) == "read"
    assert action_of("cold_restart") == "restart"
    assert action_of("direct_operate", (12,)) == "operate"
    assert action_of("stop_appl") == "mode_change"
    assert action_of("delay_measure") == "time_sync"
    assert action_of("response") == "read"


def test_override_keys_name_real_functions_and_groups() -> None:
    for key in ACTIONS:
        if "." in key:
            function, group = key.split(".")
            assert function in ACTIONS and re.fullmatch(r"g\d+", group), key


def test_weirds_are_stable_snake_case_codes_with_meanings() -> None:
    assert SPEC.weirds is WEIRDS
    for code, meaning in WEIRDS.items():
        assert re.fullmatch(r"dnp3_[a-z0-9_]+", code), code
        assert meaning and "\n" not in meaning


def test_iin_names_iin1_first_and_bit_positions() -> None:
    assert iin_names(0x0000) == []
    assert iin_names(0x8000) == ["device_restart"]
    assert iin_names(0x0006) == ["parameter_error", "object_unknown"]
    assert iin_names(0x9002) == ["device_restart", "need_time", "object_unknown"]
    assert IIN.ALL_STATIONS == 0x0100


def test_link_function_names_depend_on_prm() -> None:
    assert link_function_name(True, 0) == "link_reset_link_states"
    assert link_function_name(False, 0) == "link_ack"
    assert link_function_name(True, 9) == "link_request_link_status"
    assert link_function_name(False, 11) == "link_link_status"
    assert link_function_name(True, 7) == "link_unknown_0x07"


def test_control_codes_name_operation_trip_close_and_flags() -> None:
    assert control_code_name(0x03) == "latch_on"
    assert control_code_name(0x41) == "close_pulse_on"
    assert control_code_name(0x81) == "trip_pulse_on"
    assert control_code_name(0x24) == "latch_off+clear"
    assert control_code_name(0x1F) == "unknown_0x0f+queue"


def test_group_and_attribute_names() -> None:
    assert group_name(30) == "analog_input"
    assert group_name(12) == "binary_output_command"
    assert group_name(99) == "unknown_0x63"
    assert attribute_name(252) == "manufacturer_name"
    assert attribute_name(248) == "device_serial_number"
    assert attribute_name(Attribute.USER_ASSIGNED_ID_CODE) == "user_assigned_id_code"
    assert attribute_name(100) == "unknown_0x64"
