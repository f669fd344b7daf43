"""codes and vendors: total name functions, one action table drawn from the shared vocabulary."""
from __future__ import annotations

from protocols.base import ACTIONS, READ_ONLY_ACTIONS
from protocols.enip import SPEC
from protocols.enip.codes import (
    ACTION_TABLE,
    PCCC_FUNCTIONS,
    WEIRDS,
    Command,
    ConnectionManagerService,
    LogixService,
    Service,
    action_of,
    class_name,
    command_name,
    data_type_name,
    device_type_name,
    encap_status_name,
    general_status_name,
    pccc_function_name,
    service_name,
)
from protocols.enip.vendors import VENDORS, vendor_name


def test_names_are_total():
    for value in (-1, 0, 0x31, 0x7F, 0xFF, 0xFFFF, 0x12345):
        for name in (command_name, encap_status_name, general_status_name, device_type_name, class_name,
                     data_type_name):
            assert isinstance(name(value), str) and name(value)
        assert service_name(value & 0x7F, None)
        assert service_name(value & 0x7F, value)


def test_command_and_status_names():
    assert command_name(0x63) == "list_identity"
    assert command_name(0x6F) == "send_rr_data"
    assert command_name(0x4242) == "unknown_0x4242"
    assert encap_status_name(0x64) == "invalid_session_handle"
    assert general_status_name(0x1E) == "embedded_service_error"
    assert general_status_name(0x99) == "unknown_0x99"


def test_service_names_depend_on_the_object():
    assert service_name(0x52, 0x06) == "unconnected_send"
    assert service_name(0x52, None, symbolic=True) == "read_tag_fragmented"
    assert service_name(0x4E, 0x06) == "forward_close"
    assert service_name(0x4E, 0x6B, symbolic=True) == "read_modify_write_tag"
    assert service_name(0x4B, 0x67) == "execute_pccc"
    assert service_name(0x4B, 0x37) == "initiate_upload"
    assert service_name(0x4C, 0x6C) == "read_template"
    assert service_name(0x4D, 0xA1) == "non_volatile_storage_service"
    assert service_name(0x4C, 0x8E) == "unknown_0x4c"  # a Logix-internal class: no public name
    assert service_name(0x0E, 0x8E) == "get_attribute_single"  # common services mean the same everywhere
    assert service_name(0x20, 0x01) == "reserved_0x20"


def test_reply_names_are_guessed_without_the_request():
    assert service_name(0x4C, None) == "read_tag"
    assert service_name(0x54, None) == "forward_open"
    assert service_name(0x60, None) == "unknown_0x60"


def test_class_names():
    assert class_name(0x01) == "identity"
    assert class_name(0xF5) == "tcp_ip_interface"
    assert class_name(0x8E) == "vendor_0x8e"
    assert class_name(0x350) == "vendor_0x350"
    assert class_name(0x50) == "unknown_0x50"


def test_data_type_and_device_type_names():
    assert data_type_name(0xC3) == "INT"
    assert data_type_name(0x02A0) == "STRUCT"
    assert device_type_name(0x0E) == "programmable_logic_controller"
    assert device_type_name(0x0C) == "communications_adapter"


def test_pccc_function_names():
    assert pccc_function_name(0x0F, 0x80) == "change_cpu_mode"
    assert pccc_function_name(0x0F, 0xA2) == "protected_typed_logical_read_3_address"
    assert pccc_function_name(0x0F, 0xEE) == "command_0x0f_function_0xee"
    assert pccc_function_name(0x01, None) == "command_0x01"


def test_action_table_uses_the_shared_vocabulary():
    assert set(ACTION_TABLE.values()) <= set(ACTIONS)
    assert SPEC.actions is ACTION_TABLE
    assert SPEC.weirds is WEIRDS


def test_every_named_function_has_an_action():
    names = {command_name(int(c)) for c in Command}
    names |= {s.name.lower() for s in (*Service, *ConnectionManagerService, *LogixService)}
    names |= {f"execute_pccc.{n}" for n in PCCC_FUNCTIONS.values()}
    assert names <= ACTION_TABLE.keys(), names - ACTION_TABLE.keys()


def test_the_actions_the_brief_asks_for():
    assert action_of("reset") == "restart"
    assert action_of("start") == action_of("stop") == "mode_change"
    assert action_of("non_volatile_storage_service") == "firmware_update"
    assert action_of("list_identity") == "discovery"
    assert action_of("register_session") == action_of("forward_open") == "session"
    assert action_of("read_tag") == "read" and action_of("write_tag") == "write"
    assert action_of("execute_pccc", "change_cpu_mode") == "mode_change"
    assert action_of("execute_pccc", "typed_read") == "read"
    assert action_of("execute_pccc", "command_0x0f_function_0xee") == "other"
    assert action_of("unknown_0x4c") == "other"


def test_only_reads_discovery_and_sessions_are_read_only():
    writes = [n for n, a in ACTION_TABLE.items() if a in READ_ONLY_ACTIONS and "write" in n]
    assert not writes


def test_weird_codes_are_snake_case_and_explained():
    for code, meaning in WEIRDS.items():
        assert code == code.lower() and " " not in code and code.startswith(("enip_", "cip_"))
        assert len(meaning) > 20


def test_vendor_names():
    assert vendor_name(1) == "Rockwell Automation/Allen-Bradley"
    assert vendor_name(991) == "Moxa, Inc."
    assert vendor_name(65000) == "unknown_vendor_65000"
    assert len(VENDORS) >= 100
