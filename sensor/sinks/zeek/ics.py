"""DNP3, S7comm and EtherNet/IP messages as Zeek's and CISA ICSNPP's logs, from the sensor's message fields.

These protocols are a small share of messages, so each message becomes a record here, one at a time. What a
record needs and the sensor's message does not carry is unset (``-``); names are the sensor's snake_case names
(the same as in ``--events``), except where Zeek's own tables are small and fixed (DNP3 function codes), and
codes are formatted as ICSNPP formats them (``0x%02x``).

- ``dnp3.log``, Zeek 8's base/protocols/dnp3/main.zeek (ts uid id fc_request fc_reply iin): as Zeek, a response
  completes the flow's last request and is written with the response's time; a request is written alone when
  another request replaces it or its flow ends (Zeek drops a replaced request).
- ``s7comm.log``, ``cotp.log``, ``s7comm_plus.log``: ICSNPP-S7comm's S7COMM, COTP and S7COMM_PLUS records.
  A userdata PDU's ``function_code`` is its type and function group octet (``0x44``: request, CPU functions),
  ``function_name`` ``type: group`` in the sensor's words, ``subfunction_name`` the sensor's function name
  (``read_szl``). A PI service's name goes to ``subfunction_code``. cotp.log has the connection management
  TPDUs the sensor reports (not every DT TPDU, as ICSNPP logs).
- ``enip.log``, ``cip.log``, ``cip_io.log``, ``cip_identity.log``: ICSNPP-ENIP's records. One enip.log line per
  encapsulation message (its CIP services, unpacked from a Multiple Service Packet, are cip.log lines of their
  own); the encapsulation ``length`` and the I/O data bytes are not kept by the sensor and stay unset. cip.log
  writes the request path the sensor knows on a response too (ICSNPP: requests only); the extended status is
  the first additional status word.

BACnet, IEC 60870-5-104 and OPC UA have modules of their own (``bacnet``, ``iec104``, ``opcua``), driven from here.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocols.base import REQUEST
from protocols.s7comm.codes import FunctionGroup, Rosctr, UserdataType
from sensor.dissect.generic import MessageBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import ID, LogFile, fields
from sensor.sinks.zeek.bacnet import BacnetLogs
from sensor.sinks.zeek.iec104 import Iec104Logs
from sensor.sinks.zeek.names import dnp3_function
from sensor.sinks.zeek.opcua import OpcuaLogs
from sensor.sinks.zeek.rows import ProtocolLogs

DNP3 = fields(f"ts:time uid:string {ID} fc_request:string fc_reply:string iin:count")
S7COMM = fields(f"ts:time uid:string {ID} is_orig:bool rosctr_code:count rosctr_name:string pdu_reference:count "
                "function_code:string function_name:string subfunction_code:string subfunction_name:string "
                "error_class:string error_code:string")
COTP = fields(f"ts:time uid:string {ID} is_orig:bool pdu_code:string pdu_name:string")
S7COMM_PLUS = fields(f"ts:time uid:string {ID} is_orig:bool version:count opcode:string opcode_name:string "
                     "function_code:string function_name:string")
ENIP = fields(f"ts:time uid:string {ID} is_orig:bool enip_command_code:string enip_command:string length:count "
              "session_handle:string enip_status:string sender_context:string options:string")
CIP = fields(f"ts:time uid:string {ID} is_orig:bool cip_sequence_count:count direction:string "
             "cip_service_code:string cip_service:string cip_status_code:string cip_status:string "
             "cip_extended_status_code:string cip_extended_status:string class_id:string class_name:string "
             "instance_id:string attribute_id:string")
CIP_IO = fields(f"ts:time uid:string {ID} is_orig:bool connection_id:string sequence_number:count "
                "data_length:count io_data:string")
CIP_IDENTITY = fields(f"ts:time uid:string {ID} encapsulation_version:count socket_address:addr socket_port:count "
                      "vendor_id:count vendor_name:string device_type_id:count device_type_name:string "
                      "product_code:count revision:string device_status:string serial_number:string "
                      "product_name:string device_state:string")

_ROSCTR = {c.name.lower(): int(c) for c in Rosctr}
_USERDATA_TYPE = {c.name.lower(): int(c) for c in UserdataType}
_GROUPS = {c.name.lower(): int(c) for c in FunctionGroup}


def _hex(value: Any, digits: int = 2) -> str | None:
    return None if value is None else f"0x{value:0{digits}x}"


def _code_of(name: str, table: dict[str, int]) -> int | None:
    """A code from its name, including the sensor's ``unknown_0x..`` names."""
    if name in table:
        return table[name]
    if name.startswith("unknown_0x"):
        try:
            return int(name[len("unknown_0x"):], 16)
        except ValueError:
            return None
    return None


class MessageLogs:
    """Writes the generic protocols' batches to their logs; keeps DNP3's request waiting for its response."""

    def __init__(self, folder: str, fmt: str, uid_of: Callable[[Flow], str]) -> None:
        self.uid_of = uid_of
        logs = {path: LogFile(folder, path, schema, fmt) for path, schema in (
            ("dnp3", DNP3), ("s7comm", S7COMM), ("cotp", COTP), ("s7comm_plus", S7COMM_PLUS), ("enip", ENIP),
            ("cip", CIP), ("cip_io", CIP_IO), ("cip_identity", CIP_IDENTITY))}
        self.dnp3, self.s7comm, self.cotp, self.s7comm_plus = (logs[p] for p in ("dnp3", "s7comm", "cotp", "s7comm_plus"))
        self.enip, self.cip, self.cip_io, self.cip_identity = (logs[p] for p in ("enip", "cip", "cip_io", "cip_identity"))
        self._dnp3_waiting: dict[int, list] = {}  # flow id -> the record of a request not yet answered
        self._writers: dict[str, Callable[[MessageBatch], None]] = {
            "dnp3": self._dnp3_batch, "s7comm": self._s7_batch, "enip": self._enip_batch}
        self._more: list[ProtocolLogs] = [cls(folder, fmt, self._rows) for cls in (BacnetLogs, Iec104Logs, OpcuaLogs)]
        self._writers.update({more.protocol: more.write for more in self._more})

    def logs(self) -> list[LogFile]:
        return [self.dnp3, self.s7comm, self.cotp, self.s7comm_plus, self.enip, self.cip, self.cip_io,
                self.cip_identity, *(log for more in self._more for log in more.logs())]

    def write(self, batch: MessageBatch) -> None:
        writer = self._writers.get(batch.protocol)
        if writer is not None and len(batch):
            writer(batch)

    def flow_ended(self, flow: Flow) -> None:
        """A request still waiting when its flow ends is written alone (Zeek's DNP3 finalize hook)."""
        waiting = self._dnp3_waiting.pop(flow.id, None)
        if waiting is not None:
            self.dnp3.write([waiting])
        for more in self._more:
            more.flow_ended(flow)

    def close(self) -> None:
        self.dnp3.write(sorted(self._dnp3_waiting.values(), key=lambda r: r[0]))
        self._dnp3_waiting.clear()
        for more in self._more:
            more.close()

    def _rows(self, batch: MessageBatch):
        """Per message: (time, flow, the id fields' values, is_orig, message)."""
        ts, flow_of, side = batch.ts.tolist(), batch.flow.tolist(), batch.side.tolist()
        for i, message in enumerate(batch.messages):
            flow = batch.flows[flow_of[i]]
            head = (ts[i], self.uid_of(flow), flow.initiator, flow.init_port, flow.responder, flow.resp_port)
            yield flow, head, side[i] == 0, message

    def _dnp3_batch(self, batch: MessageBatch) -> None:
        done = []
        for flow, head, _, m in self._rows(batch):
            name = dnp3_function(m.function_code)
            waiting = self._dnp3_waiting.pop(flow.id, None)
            if m.direction == REQUEST:
                if waiting is not None:
                    done.append(waiting)
                self._dnp3_waiting[flow.id] = [*head, name, None, None]
                continue
            record = waiting if waiting is not None else [*head, None, None, None]
            record[0] = head[0]  # Zeek's record takes the time of the response that completes it
            record[7], record[8] = name, m.fields.get("iin")
            done.append(record)
        self.dnp3.write(done)

    def _s7_batch(self, batch: MessageBatch) -> None:
        s7, cotp, plus = [], [], []
        for _, head, is_orig, m in self._rows(batch):
            f = m.fields
            pdu = f.get("pdu")
            if pdu == "cotp":
                cotp.append((*head, is_orig, _hex(f.get("tpdu_code", m.function_code)), m.function_name))
            elif pdu == "s7comm_plus":
                has_function = m.function_name != f.get("opcode_name")
                plus.append((*head, is_orig, f.get("version"), _hex(f.get("opcode")), f.get("opcode_name"),
                             _hex(m.function_code, 4) if has_function else None,
                             m.function_name if has_function else None))
            elif pdu == "s7comm":
                s7.append((*head, is_orig, *_s7comm_fields(m.function_code, m.function_name, f)))
        self.s7comm.write(s7)
        self.cotp.write(cotp)
        self.s7comm_plus.write(plus)

    def _enip_batch(self, batch: MessageBatch) -> None:
        enip, cip, io, identity = [], [], [], []
        for _, head, is_orig, m in self._rows(batch):
            f = m.fields
            if "command" in f and f.get("multiple_service_packet", {}).get("index", 0) == 0:
                enip.append((*head, is_orig, _hex(f["command"]), f.get("command_name"), None,
                             _hex(f.get("session_handle"), 8),
                             "success" if not f.get("status") else f.get("status_name", _hex(f["status"], 8)),
                             "0x" + f["sender_context"] if "sender_context" in f else None,
                             _hex(f.get("options", 0), 8)))
            if "service" in f:
                additional = f.get("additional_status")
                cip.append((*head, is_orig, f.get("sequence_count") or None,
                            m.direction if m.direction in ("request", "response") else None,
                            _hex(f["service"]), f.get("service_name"), _hex(f.get("general_status")),
                            f.get("general_status_name"), _hex(additional[0], 4) if additional else None, None,
                            _hex(f.get("class_id")), f.get("class_name"), _hex(f.get("instance_id")),
                            _hex(f.get("attribute_id"))))
            elif m.function_name == "io_data":
                io.append((*head, is_orig, _hex(f.get("connection_id"), 8), f.get("sequence_number"),
                           f.get("data_length"), None))
            for item in ([f["identity"]] if "identity" in f else []) + list(f.get("identities", ())):
                if "vendor_id" in item:  # a whole Identity (ListIdentity), not a few attributes read
                    identity.append((*head, *_identity_fields(item)))
        self.enip.write(enip)
        self.cip.write(cip)
        self.cip_io.write(io)
        self.cip_identity.write(identity)


def _s7comm_fields(code: int, name: str, f: dict[str, Any]) -> tuple:
    """rosctr_code .. error_code of an S7comm PDU (see the module docstring)."""
    rosctr = f.get("rosctr", "")
    function_code = function_name = sub_code = sub_name = None
    if "function_group" in f:  # userdata: type and group octet, subfunction
        kind, group = _code_of(f.get("type", ""), _USERDATA_TYPE), _code_of(f["function_group"], _GROUPS)
        if kind is not None and group is not None:
            function_code = _hex(kind << 4 | group)
        function_name = f"{f.get('type')}: {f['function_group']}"
        sub_code, sub_name = _hex(f.get("subfunction")), name
    elif name != rosctr:  # a job or ack_data with a parameter part
        function_code, function_name = _hex(code), name
        if "pi_service" in f:
            sub_code = f["pi_service"]
    error_class = error_code = None
    if "error_class" in f:
        error_class, error_code = f.get("error_class_name"), _hex(f.get("error_code"))
    elif f.get("userdata_error_code") is not None:
        value = f["userdata_error_code"]
        error_class, error_code = ("no_error" if value == 0 else "parameter_error"), _hex(value)
    return (_code_of(rosctr, _ROSCTR), rosctr or None, f.get("pdu_ref"), function_code, function_name, sub_code,
            sub_name, error_class, error_code)


def _identity_fields(item: dict[str, Any]) -> tuple:
    major, minor = item.get("revision_major"), item.get("revision_minor")
    return (item.get("encapsulation_version"), item.get("sin_addr"), item.get("sin_port"), item.get("vendor_id"),
            item.get("vendor_name"), item.get("device_type"), item.get("device_type_name"), item.get("product_code"),
            f"{major}.{minor}" if major is not None else None, _hex(item.get("status"), 4),
            _hex(item.get("serial_number"), 8), item.get("product_name"), _hex(item.get("state"), 4))
