"""Names for S7 numbers: total functions, the reference's words, unknowns degrade; one action table."""
from __future__ import annotations

import re

import pytest

from protocols.base import ACTIONS as VOCABULARY
from protocols.s7comm.codes import (
    ACTIONS,
    CPU_MODES,
    WEIRDS,
    Area,
    Function,
    FunctionGroup,
    PlusFunction,
    Rosctr,
    Tpdu,
    action_of,
    area_name,
    area_space,
    block_type_name,
    connection_type_name,
    cpu_mode_name,
    disconnect_reason_name,
    error_class_name,
    function_group_name,
    function_name,
    pi_service_key,
    plus_function_name,
    plus_opcode_name,
    plus_version_name,
    return_code_name,
    rosctr_name,
    syntax_id_name,
    tpdu_name,
    transport_size_name,
    userdata_code,
    userdata_function_name,
    userdata_type_name,
)

JOB = {0x00: "cpu_services", 0x01: "mode_transition", 0x04: "read_var", 0x05: "write_var", 0x1A: "request_download",
       0x1B: "download_block", 0x1C: "download_ended", 0x1D: "start_upload", 0x1E: "upload", 0x1F: "end_upload",
       0x28: "pi_service", 0x29: "plc_stop", 0xF0: "setup_communication"}


@pytest.mark.parametrize(("code", "name"), sorted(JOB.items()))
def test_job_function_names(code: int, name: str) -> None:
    assert function_name(code) == name
    assert Function(code).name.lower() == name


@pytest.mark.parametrize(("group", "sub", "name"), [
    (4, 1, "read_szl"), (4, 0x13, "alarm_query"), (1, 0x16, "flash_led"), (1, 2, "variable_status"),
    (2, 1, "cyclic_transfer"), (3, 3, "get_block_info"), (5, 1, "plc_password"), (7, 1, "read_clock"),
    (7, 4, "set_clock"), (0xF, 1, "nc_request_download"), (0, 9, "mode_transition"), (6, 1, "bsend"),
])
def test_userdata_names(group: int, sub: int, name: str) -> None:
    assert userdata_function_name(group, sub) == name
    assert userdata_code(group, sub) == group << 8 | sub


NAMERS = [function_name, tpdu_name, rosctr_name, area_name, transport_size_name, syntax_id_name, return_code_name,
          error_class_name, disconnect_reason_name, connection_type_name, cpu_mode_name, function_group_name,
          userdata_type_name, plus_function_name, plus_opcode_name, plus_version_name]


@pytest.mark.parametrize("namer", NAMERS)
@pytest.mark.parametrize("code", [-1, 0, 0x3F, 0x77, 0xEE, 0xFFFF, 0x10000])
def test_every_namer_is_total_and_snake_case(namer, code: int) -> None:
    name = namer(code)
    assert isinstance(name, str) and name
    if code >= 0:  # what comes off the wire; a negative code only proves the namer never raises
        assert re.fullmatch(r"[a-z0-9_]+", name), name


def test_unknowns_degrade_to_unknown_hex() -> None:
    assert function_name(0x77) == "unknown_0x77"
    assert tpdu_name(0x30) == "unknown_0x30"
    assert userdata_function_name(4, 0x7E) == "unknown_0x47e"
    assert userdata_function_name(9, 1) == "unknown_0x901"
    assert plus_function_name(0x1234) == "unknown_0x1234"
    assert block_type_name("0Z") == "unknown_305a"


def test_area_spaces_use_s7_mnemonics() -> None:
    assert [area_space(a, 7) for a in (0x84, 0x85, 0x83, 0x81, 0x82, 0x1C, 0x1D, 0x80)] == \
        ["DB7", "DI7", "M", "I", "Q", "C", "T", "P"]
    assert area_space(0x42, 0) == "area_0x42"
    assert {area_name(a) for a in Area} >= {"data_blocks", "flags", "inputs", "outputs"}


def test_every_action_is_in_the_shared_vocabulary() -> None:
    assert set(ACTIONS.values()) <= set(VOCABULARY)


def every_name() -> set[str]:
    names = {n.lower() for n in Tpdu.__members__} | {function_name(int(f)) for f in Function}
    names |= {rosctr_name(int(r)) for r in Rosctr}
    for group in FunctionGroup:
        names |= {userdata_function_name(int(group), sub) for sub in range(256)} - {
            userdata_function_name(int(group), 0xFF)}
    names |= {plus_function_name(int(f)) for f in PlusFunction} | {"keep_alive", "system_event", "notification"}
    return {n for n in names if not n.startswith("unknown_")}


def test_every_function_the_package_names_has_an_action() -> None:
    missing = sorted(every_name() - set(ACTIONS))
    assert missing == []


def test_refinements_refine_known_functions() -> None:
    for key in ACTIONS:
        if "/" in key:
            assert key.split("/")[0] in ACTIONS, key


@pytest.mark.parametrize(("name", "sub", "action"), [
    ("pi_service", "p_program", "mode_change"), ("pi_service", "inse", "program_download"),
    ("pi_service", "xyz", "other"), ("plc_stop", None, "mode_change"), ("read_var", None, "read"),
    ("write_var", None, "write"), ("set_variable", "operating_state", "mode_change"),
    ("create_object", "plc_program", "program_download"), ("unknown_0x77", None, "other"),
])
def test_action_of(name: str, sub: str | None, action: str) -> None:
    assert action_of(name, sub) == action


def test_pi_service_key() -> None:
    assert [pi_service_key(s) for s in ("P_PROGRAM", "_INSE", "_N_F_DELE", "", " _MODU ")] == \
        ["p_program", "inse", "n_f_dele", "empty", "modu"]


def test_weird_codes_are_stable_snake_case_and_explained() -> None:
    for code, meaning in WEIRDS.items():
        assert re.fullmatch(r"s7comm_[a-z0-9_]+", code), code
        assert meaning and "\n" not in meaning


def test_cpu_modes() -> None:
    assert CPU_MODES[0] == "stop" and CPU_MODES[2] == "run"
