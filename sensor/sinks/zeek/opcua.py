"""OPC UA binary messages as CISA ICSNPP-OPCUA-Binary's main log, ``opcua_binary.log``.

The record is ICSNPP's ``OPCUA_Binary::Info_Log`` (scripts/types.zeek), the one its main.zeek writes since
2024: a service request and its response on one line (``req_*`` and ``res_*`` columns), paired by request id
within the connection, written when the response comes with the request's time; ``total_size`` is the two
messages' sizes together. HEL, ACK and ERR are a line each, with their own columns. As ICSNPP does, a request
waits for its response (at most MAX_WAITING requests in all, past which a request is written alone at once);
one still waiting when its flow ends, or whose request id is used again, is written alone, and a response
whose request was not seen is written alone with its ``res_*`` columns and its own time.

``sec_channel_id`` is a ``set[count]``: the distinct secure channel ids of the request and the response
(``0,13`` for an OpenSecureChannel that was given channel 13). The Info_Log record text available
(types.zeek @35b5161) declares a count; the output of the ICSNPP version the corpus's traces come from
(tests/baseline @efca88a) writes both ids in that column, and that is what is followed.

Unset, because the sensor's message does not carry them: the link ids into ICSNPP's sub-logs
(``req_opcua_link_id``, ``res_opcua_link_id``, ``status_code_link_id``: no sub-log is written; a response's
status code is the ``service_result`` of the sensor's events), the type id's NodeId encoding mask and
namespace index, the certificates' bytes (``snd_cert``, ``rcv_cert``: their lengths are set, a receiver's
as its thumbprint's, a missing one as ICSNPP's ``-1``), and every request and response header field but
the request handle (authentication token, timestamps, return diagnostics, audit entry, timeout hint,
additional header, service diagnostics). A body the sensor cannot read (an encrypted channel) has no
request id, so its message is a line of its own.
"""
from __future__ import annotations

from typing import Any

from protocols.base import RESPONSE, Message
from sensor.dissect.generic import MessageBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import ID, LogFile, fields
from sensor.sinks.zeek.rows import Head, Rows

_SERVICE = ("opcua_link_id:string msg_size:count seq_number:count encoding_mask:count namespace_idx:count "
            "identifier:count identifier_str:string")
OPCUA_BINARY = fields(
    f"ts:time uid:string {ID} msg_type:string is_final:string total_size:count error:count reason:string "
    "version:count rcv_buf_size:count snd_buf_size:count max_msg_size:count max_chunk_cnt:count "
    "endpoint_url:string sec_channel_id:set[count] sec_policy_uri_len:int sec_policy_uri:string snd_cert_len:int "
    "snd_cert:string rcv_cert_len:int rcv_cert:string request_id:count "
    + " ".join(f"req_{f}" for f in _SERVICE.split()) +
    " req_hdr_node_id_type:string req_hdr_node_id_namespace_idx:count req_hdr_node_id_numeric:count "
    "req_hdr_node_id_string:string req_hdr_node_id_guid:string req_hdr_node_id_opaque:string req_hdr_timestamp:time "
    "req_hdr_request_handle:count req_hdr_return_diag:count req_hdr_audit_entry_id:string req_hdr_timeout_hint:count "
    "req_hdr_add_hdr_type_id:count req_hdr_add_hdr_enc_mask:count "
    + " ".join(f"res_{f}" for f in _SERVICE.split()) +
    " res_hdr_timestamp:time res_hdr_request_handle:count status_code_link_id:string "
    "res_hdr_service_diag_encoding:count res_hdr_add_hdr_type_id:count res_hdr_add_hdr_enc_mask:count")
TRANSPORT = ("HEL", "ACK", "ERR", "RHE")  # messages with their own columns, never paired
MAX_WAITING = 4096  # requests waiting for their response, in all flows

Waiting = tuple[Head, Message]


class OpcuaLogs:
    """Writes OPC UA batches to opcua_binary.log; keeps each request until its response comes."""

    protocol = "opcua"

    def __init__(self, folder: str, fmt: str, rows: Rows) -> None:
        self.rows = rows
        self.log = LogFile(folder, "opcua_binary", OPCUA_BINARY, fmt)
        self._waiting: dict[int, dict[int, Waiting]] = {}  # flow id -> request id -> the request
        self._count = 0

    def logs(self) -> list[LogFile]:
        return [self.log]

    def write(self, batch: MessageBatch) -> None:
        out = []
        for flow, head, _, m in self.rows(batch):
            f = m.fields
            pairs = "request_id" in f and "type_id" in f and f.get("message_type") not in TRANSPORT
            if not pairs:
                out.append(single((head, m)))
            elif m.direction == RESPONSE:
                request = self._waiting.get(flow.id, {}).pop(f["request_id"], None)
                self._count -= request is not None
                out.append(single((head, m)) if request is None else record(request, request[1], m))
            else:
                waiting = self._waiting.setdefault(flow.id, {})
                replaced = waiting.pop(f["request_id"], None)
                if replaced is not None:
                    self._count -= 1
                    out.append(single(replaced))
                if self._count >= MAX_WAITING:
                    out.append(single((head, m)))
                else:
                    waiting[f["request_id"]] = (head, m)
                    self._count += 1
        self.log.write(out)

    def flow_ended(self, flow: Flow) -> None:
        """Requests still waiting when their flow ends are written alone."""
        waiting = self._waiting.pop(flow.id, {})
        self._count -= len(waiting)
        self.log.write(sorted(map(single, waiting.values()), key=lambda r: r[0]))

    def close(self) -> None:
        for flow_id in list(self._waiting):
            waiting = self._waiting.pop(flow_id)
            self.log.write(sorted(map(single, waiting.values()), key=lambda r: r[0]))
        self._count = 0


def single(message: Waiting) -> tuple:
    """The line of a message that pairs with nothing: HEL, ACK and ERR have no req_/res_ columns, another message
    fills its own side's."""
    _, m = message
    if m.fields.get("message_type") in TRANSPORT:
        return record(message, None, None)
    return record(message, None, m) if m.direction == RESPONSE else record(message, m, None)


def record(lead: Waiting, request: Message | None, response: Message | None) -> tuple:
    """A line: ``lead`` gives its time and message columns, ``request``/``response`` the req_/res_ columns."""
    head, m = lead
    f = m.fields
    req = request.fields if request else {}
    res = response.fields if response else {}
    sides = [x for x in (req, res) if x] or [f]
    channels = list(dict.fromkeys(x["secure_channel_id"] for x in sides if "secure_channel_id" in x))
    transport = f.get("message_type") in TRANSPORT
    return (
        *head, f.get("message_type"), f.get("chunk_type"), sum(x.get("message_size", 0) for x in sides),
        f.get("error"), f.get("reason"),
        *((f.get("protocol_version"), f.get("receive_buffer_size"), f.get("send_buffer_size"),
           f.get("max_message_size"), f.get("max_chunk_count"), f.get("endpoint_url")) if transport else (None,) * 6),
        channels or None, *_asymmetric(req or res), f.get("request_id"),
        *_service(req), *(None,) * 7, req.get("request_handle"), *(None,) * 5,
        *_service(res), None, res.get("request_handle"), *(None,) * 4,
    )


def _service(f: dict[str, Any]) -> tuple:
    """opcua_link_id .. identifier_str of one side."""
    if not f:
        return (None,) * 7
    return None, f.get("message_size"), f.get("sequence_number"), None, None, f.get("type_id"), f.get("service")


def _asymmetric(f: dict[str, Any]) -> tuple:
    """sec_policy_uri_len .. rcv_cert of an OPN's asymmetric security header (unset for other messages)."""
    if "sender_certificate" not in f:
        return (None,) * 6
    uri = f.get("security_policy_uri")
    thumbprint = f.get("receiver_certificate_thumbprint")
    return (None if uri is None else len(uri.encode()), uri, f.get("sender_certificate_size", -1), None,
            -1 if thumbprint is None else len(thumbprint) // 2, None)
