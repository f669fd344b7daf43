"""dnp3.log, s7comm.log and the ENIP/CIP logs from protocol-neutral messages (records built by hand)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zeek_reader import read_json, read_tsv  # noqa: E402

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Message  # noqa: E402
from sensor.dissect.generic import MessageBatch  # noqa: E402
from sensor.flows.table import Flow  # noqa: E402
from sensor.sinks.zeek import ZeekLogs  # noqa: E402
from sensor.sinks.zeek.conn import conn_uid  # noqa: E402
from sensor.sinks.zeek.names import dnp3_function, modbus_exception, modbus_function  # noqa: E402


def batch(protocol: str, rows: list[tuple[float, int, Message]], flows: list[Flow]) -> MessageBatch:
    """Rows of (time, side, message) on ``flows[0]``."""
    n = len(rows)
    return MessageBatch(protocol=protocol, flows=flows, file="t.pcap", frame=np.arange(1, n + 1),
                        ts=np.array([r[0] for r in rows]), flow=np.zeros(n, dtype=np.int64),
                        side=np.array([r[1] for r in rows]), messages=[r[2] for r in rows],
                        disputed=np.zeros(n, dtype=bool), request_frame=np.full(n, -1),
                        response_time=np.full(n, np.nan))


def dnp3(code: int, direction: str, iin: int | None = None) -> Message:
    fields = {"iin": iin} if iin is not None else {}
    return Message(code, "x", "read", direction, None, fields)


def test_zeek_names():
    assert modbus_function(3) == "READ_HOLDING_REGISTERS"
    assert modbus_function(3, exception=True) == "READ_HOLDING_REGISTERS_EXCEPTION"
    assert modbus_function(17) == "REPORT_SLAVE_ID" and modbus_function(43) == "ENCAP_INTERFACE_TRANSPORT"
    assert modbus_function(100) == "unknown-100" and modbus_function(100, exception=True) == "unknown-228"
    assert modbus_exception(2) == "ILLEGAL_DATA_ADDRESS" and modbus_exception(9) == "unknown-9"
    assert dnp3_function(0x81) == "RESPONSE" and dnp3_function(0x21) == "AUTHENTICATE_ERR"
    assert dnp3_function(0x50) == "unknown-80"


def test_dnp3_pairs_as_zeek_does(tmp_path):
    f = Flow(7, "tcp", "10.0.0.8", 2789, "10.0.0.3", 20000, True, 1.0, 1, "t.pcap")
    logs = ZeekLogs(str(tmp_path), "tsv")
    logs.messages(None, [batch("dnp3", [
        (1.0, 1, dnp3(0x82, UNSOLICITED, 0x1000)),  # no request: written alone
        (2.0, 0, dnp3(0x00, REQUEST)),  # a confirm, replaced by the next request
        (3.0, 0, dnp3(0x01, REQUEST)),
        (3.5, 1, dnp3(0x81, RESPONSE, 0)),  # completes the read, with its own time
    ], [f])])
    logs.messages(None, [batch("dnp3", [(4.0, 0, dnp3(0x0D, REQUEST))], [f])])  # never answered
    logs.flow_ended(f)
    logs.close()
    _, rows = read_tsv(tmp_path / "dnp3.log")
    assert [(r["ts"], r["fc_request"], r["fc_reply"], r["iin"]) for r in rows] == [
        (1.0, None, "UNSOLICITED_RESPONSE", 4096), (2.0, "CONFIRM", None, None), (3.5, "READ", "RESPONSE", 0),
        (4.0, "COLD_RESTART", None, None)]
    assert {r["uid"] for r in rows} == {conn_uid(f)}
    assert read_tsv(tmp_path / "conn.log")[1][0]["history"] == "Dd"  # messages from both sides


def s7(code: int, name: str, direction: str, **fields) -> Message:
    return Message(code, name, "read", direction, None, fields)


def test_s7comm_cotp_and_plus(tmp_path):
    f = Flow(3, "tcp", "10.0.0.1", 51212, "10.0.0.2", 102, True, 1.0, 1, "t.pcap")
    logs = ZeekLogs(str(tmp_path), "tsv")
    logs.messages(None, [batch("s7comm", [
        (1.0, 0, s7(0xE0, "connection_request", REQUEST, pdu="cotp", tpdu_code=0xE0)),
        (1.1, 0, s7(0xF0, "setup_communication", REQUEST, pdu="s7comm", rosctr="job", pdu_ref=0)),
        (1.2, 1, s7(0xF0, "setup_communication", RESPONSE, pdu="s7comm", rosctr="ack_data", pdu_ref=0,
                    error_class=0, error_class_name="no_error", error_code=0)),
        (1.3, 0, s7(0x401, "read_szl", REQUEST, pdu="s7comm", rosctr="userdata", pdu_ref=256, type="request",
                    function_group="cpu_functions", subfunction=1)),
        (1.4, 1, s7(0x401, "read_szl", RESPONSE, pdu="s7comm", rosctr="userdata", pdu_ref=256, type="response",
                    function_group="cpu_functions", subfunction=1, userdata_error_code=0xD209)),
        (1.5, 0, s7(0x28, "pi_service", REQUEST, pdu="s7comm", rosctr="job", pdu_ref=9, pi_service="P_PROGRAM")),
        (1.6, 1, s7(2, "ack", RESPONSE, pdu="s7comm", rosctr="ack", pdu_ref=9, error_class=0x85,
                    error_class_name="unknown_0x85", error_code=0)),
        (1.7, 0, s7(0x4F2, "set_variable", REQUEST, pdu="s7comm_plus", version=3, opcode=0x31, opcode_name="request")),
        (1.8, 1, s7(0, "notification", UNSOLICITED, pdu="s7comm_plus", version=3, opcode=0x33,
                    opcode_name="notification")),
    ], [f])])
    logs.close()
    _, cotp = read_tsv(tmp_path / "cotp.log")
    assert [(r["is_orig"], r["pdu_code"], r["pdu_name"]) for r in cotp] == [(True, "0xe0", "connection_request")]
    _, rows = read_tsv(tmp_path / "s7comm.log")
    got = [(r["is_orig"], r["rosctr_code"], r["rosctr_name"], r["pdu_reference"], r["function_code"],
            r["function_name"], r["subfunction_code"], r["subfunction_name"], r["error_class"], r["error_code"])
           for r in rows]
    assert got == [
        (True, 1, "job", 0, "0xf0", "setup_communication", None, None, None, None),
        (False, 3, "ack_data", 0, "0xf0", "setup_communication", None, None, "no_error", "0x00"),
        (True, 7, "userdata", 256, "0x44", "request: cpu_functions", "0x01", "read_szl", None, None),
        (False, 7, "userdata", 256, "0x84", "response: cpu_functions", "0x01", "read_szl", "parameter_error",
         "0xd209"),
        (True, 1, "job", 9, "0x28", "pi_service", "P_PROGRAM", None, None, None),
        (False, 2, "ack", 9, None, None, None, None, "unknown_0x85", "0x00"),  # no parameter part: no function
    ]
    _, plus = read_tsv(tmp_path / "s7comm_plus.log")
    assert [(r["version"], r["opcode"], r["opcode_name"], r["function_code"], r["function_name"]) for r in plus] == [
        (3, "0x31", "request", "0x04f2", "set_variable"), (3, "0x33", "notification", None, None)]


def enip(code: int, name: str, direction: str, **fields) -> Message:
    return Message(code, name, "read", direction, None, fields)


def test_enip_and_cip(tmp_path):
    f = Flow(4, "tcp", "192.168.10.105", 3033, "192.168.10.120", 44818, True, 1.0, 1, "t.pcap")
    base = {"command": 0x70, "command_name": "send_unit_data", "session_handle": 0x11020100, "status": 0,
            "sender_context": "0000000000000000", "sequence_count": 1929}
    identity = {"encapsulation_version": 1, "sin_addr": "10.1.1.164", "sin_port": 44818, "vendor_id": 1,
                "vendor_name": "Rockwell Automation/Allen-Bradley", "device_type": 12,
                "device_type_name": "communications_adapter", "product_code": 58, "revision_major": 4,
                "revision_minor": 3, "status": 0x30, "serial_number": 0x524D8E, "product_name": "1756-ENBT/A\tx",
                "state": 3}
    logs = ZeekLogs(str(tmp_path), "tsv")
    logs.messages(None, [batch("enip", [
        (1.0, 0, enip(3, "get_attribute_list", REQUEST, **base, service=3, service_name="get_attribute_list",
                      class_id=1, class_name="identity", instance_id=1,
                      multiple_service_packet={"index": 0, "count": 2})),
        (1.0, 0, enip(14, "get_attribute_single", REQUEST, **base, service=14, service_name="get_attribute_single",
                      class_id=0x69, class_name="vendor_0x69", instance_id=0, attribute_id=7,
                      multiple_service_packet={"index": 1, "count": 2})),
        (1.1, 1, enip(3, "get_attribute_list", RESPONSE, **base, service=3, service_name="get_attribute_list",
                      general_status=0x1E, general_status_name="embedded_service_error", additional_status=[0x2105])),
        (1.2, 1, enip(0x63, "list_identity", RESPONSE, command=0x63, command_name="list_identity",
                      session_handle=0, status=0, sender_context="00000000c1debed1", options=1, identity=identity)),
        (1.3, 0, enip(0xB1, "io_data", UNSOLICITED, connection_id=0x4B0603, sequence_number=4166875, data_length=6)),
    ], [f])])
    logs.close()
    _, rows = read_tsv(tmp_path / "enip.log")
    assert [(r["is_orig"], r["enip_command_code"], r["enip_command"], r["length"], r["session_handle"],
             r["enip_status"], r["sender_context"], r["options"]) for r in rows] == [
        (True, "0x70", "send_unit_data", None, "0x11020100", "success", "0x0000000000000000", "0x00000000"),
        (False, "0x70", "send_unit_data", None, "0x11020100", "success", "0x0000000000000000", "0x00000000"),
        (False, "0x63", "list_identity", None, "0x00000000", "success", "0x00000000c1debed1", "0x00000001"),
    ]  # one line per encapsulation message: the second service of the Multiple Service Packet is not one
    _, cip = read_tsv(tmp_path / "cip.log")
    assert [(r["cip_sequence_count"], r["direction"], r["cip_service_code"], r["cip_service"], r["cip_status_code"],
             r["cip_status"], r["cip_extended_status_code"], r["class_id"], r["class_name"], r["instance_id"],
             r["attribute_id"]) for r in cip] == [
        (1929, "request", "0x03", "get_attribute_list", None, None, None, "0x01", "identity", "0x01", None),
        (1929, "request", "0x0e", "get_attribute_single", None, None, None, "0x69", "vendor_0x69", "0x00", "0x07"),
        (1929, "response", "0x03", "get_attribute_list", "0x1e", "embedded_service_error", "0x2105", None, None, None,
         None),
    ]
    _, io = read_tsv(tmp_path / "cip_io.log")
    assert [(r["connection_id"], r["sequence_number"], r["data_length"], r["io_data"]) for r in io] == [
        ("0x004b0603", 4166875, 6, None)]
    _, ident = read_tsv(tmp_path / "cip_identity.log")
    assert len(ident) == 1 and ident[0]["product_name"] == "1756-ENBT/A\tx"  # escaped and read back
    assert "1756-ENBT/A\\x09x" in (tmp_path / "cip_identity.log").read_text()
    assert (ident[0]["socket_address"], ident[0]["revision"], ident[0]["serial_number"], ident[0]["device_state"]) == (
        "10.1.1.164", "4.3", "0x00524d8e", "0x0003")


def test_json_matches_tsv(tmp_path):
    f = Flow(7, "udp", "10.0.0.8", 20000, "10.0.0.3", 20000, True, 1.0, 1, "t.pcap")
    messages = [(1.0, 0, dnp3(0x01, REQUEST)), (1.5, 1, dnp3(0x81, RESPONSE, 0x8000))]
    for fmt in ("tsv", "json"):
        logs = ZeekLogs(str(tmp_path / fmt), fmt)
        logs.messages(None, [batch("dnp3", messages, [f])])
        logs.flow_ended(f)
        logs.close()
    tsv = read_tsv(tmp_path / "tsv" / "dnp3.log")[1]
    json_rows = read_json(tmp_path / "json" / "dnp3.log")
    assert [{k: v for k, v in r.items() if v is not None} for r in tsv] == json_rows
