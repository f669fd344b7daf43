"""bacnet*.log, iec104.log and opcua_binary.log of real captures, checked as tests/e2e/test_zeek_logs.py checks the
others: one ``otsensor analyze --zeek-logs --events`` run, the logs read back with a plain TSV reader and with
zat, every line checked field by field against the events of the same messages, uids that join conn.log, JSON
that says what TSV says, and each header's #fields/#types against the reference script's record, transcribed
here from the script (ICSNPP-BACnet scripts/icsnpp/bacnet/main.zeek, 2023 record with routing columns;
ICSNPP-OPCUA-Binary scripts/types.zeek ``OPCUA_Binary::Info_Log``). iec104.log has no reference (see
sensor/sinks/zeek/iec104.py): its header is checked against the record documented there.

The expected lines are built from the events with ICSNPP's own rules (main.zeek's switch on the APDU type,
its ``who-is``/``read-property-request`` names, its request/response pairing), not with the writer's code.
"""
from __future__ import annotations

import contextlib
import io
import sys
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "unit" / "sinks_zeek"))
sys.path.insert(0, str(HERE))
from test_zeek_logs import analyze, analyzed  # noqa: E402
from zeek_expect import unset  # noqa: E402
from zeek_reader import read_json, read_tsv  # noqa: E402

CASES = {
    "bacnet": ["bacnet/icsnpp_bacnet_error_reject_abort.pcap", "bacnet/ct_BACnetARRAY-elements.cap",
               "bacnet/ct_bacnet-stack-services.cap", "bacnet/ct_BACnet-BBMD-on-same-subnet.cap",
               "bacnet/iti_bacnet_test.pcap"],
    "iec104": ["iec104/iti_TestDissectIec104.pcap", "iec104/emre_Logfile_IEC104.pcap"],
    "opcua": ["opcua/icsnpp_opcua_with-gap_with-handshake.pcap", "opcua/icsnpp_open62541_client-server-getEndpoints.pcap",
              "opcua/icsnpp_open62541_client-server_encrypted.pcap", "opcua/iti_opc-ua-ap-method-wireshark-freeze.pcap",
              "opcua/icsnpp_pending_overflow.pcap"],
}
LOGS = {"bacnet": ("bacnet", "bacnet_discovery", "bacnet_property"), "iec104": ("iec104",), "opcua": ("opcua_binary",)}

# -- the reference records, as the scripts declare them (conn_id expanded as Zeek logs it) --
CONN_ID = "id.orig_h: addr; id.orig_p: port; id.resp_h: addr; id.resp_p: port"
SOURCE = "is_orig: bool; source_h: addr; source_p: port; destination_h: addr; destination_p: port"
ROUTING = ("snet: count; slen: count; sadr: string; dnet: count; dlen: count; dadr: string; fwd_ip: addr; "
           "fwd_port: port")
RECORDS = {
    "bacnet": f"""ts: time; uid: string; {CONN_ID}; {SOURCE}; bvlc_function: string; pdu_type: string;
        pdu_service: string; invoke_id: count; result_code: string; {ROUTING}""",
    "bacnet_discovery": f"""ts: time; uid: string; {CONN_ID}; {SOURCE}; pdu_service: string; device_id_type: string;
        device_id_number: count; object_type: string; instance_number: count; vendor: string; range: string;
        object_name: string; {ROUTING}""",
    "bacnet_property": f"""ts: time; uid: string; {CONN_ID}; {SOURCE}; invoke_id: count; pdu_service: string;
        object_type: string; instance_number: count; property: string; array_index: count; value: string;
        {ROUTING}; priority: count""",
    "iec104": f"""ts: time; uid: string; {CONN_ID}; {SOURCE}; apci_type: string; u_function: string;
        send_sequence: count; receive_sequence: count; type_id: count; type_name: string; sq: bool;
        number_of_objects: count; cause: count; cause_name: string; negative: bool; test: bool;
        originator_address: count; common_address: count; ioa: vector[count]""",
    "opcua_binary": f"""ts: time; uid: string; {CONN_ID}; msg_type: string; is_final: string; total_size: count;
        error: count; reason: string; version: count; rcv_buf_size: count; snd_buf_size: count; max_msg_size: count;
        max_chunk_cnt: count; endpoint_url: string; sec_channel_id: count; sec_policy_uri_len: int;
        sec_policy_uri: string; snd_cert_len: int; snd_cert: string; rcv_cert_len: int; rcv_cert: string;
        request_id: count; req_opcua_link_id: string; req_msg_size: count; req_seq_number: count;
        req_encoding_mask: count; req_namespace_idx: count; req_identifier: count; req_identifier_str: string;
        req_hdr_node_id_type: string; req_hdr_node_id_namespace_idx: count; req_hdr_node_id_numeric: count;
        req_hdr_node_id_string: string; req_hdr_node_id_guid: string; req_hdr_node_id_opaque: string;
        req_hdr_timestamp: time; req_hdr_request_handle: count; req_hdr_return_diag: count;
        req_hdr_audit_entry_id: string; req_hdr_timeout_hint: count; req_hdr_add_hdr_type_id: count;
        req_hdr_add_hdr_enc_mask: count; res_opcua_link_id: string; res_msg_size: count; res_seq_number: count;
        res_encoding_mask: count; res_namespace_idx: count; res_identifier: count; res_identifier_str: string;
        res_hdr_timestamp: time; res_hdr_request_handle: count; status_code_link_id: string;
        res_hdr_service_diag_encoding: count; res_hdr_add_hdr_type_id: count; res_hdr_add_hdr_enc_mask: count""",
}
# ICSNPP-OPCUA-Binary's output at the corpus's commit (efca88a) writes a request's and its response's channel ids
# in sec_channel_id ("0,13"): the container the sensor declares (sensor/sinks/zeek/opcua.py).
OVERRIDES = {"opcua_binary": {"sec_channel_id": "set[count]"}}

# -- ICSNPP-BACnet's consts.zeek tables the logs use --
BVLC_FUNCTIONS = {0: "BVLC_Result", 1: "Write_Broadcast_Table", 2: "Read_Broadcast_Table", 3: "Read_Broadcast_Table_ACK",
                  4: "Forwarded_NPDU", 5: "Register_Foreign_Device", 6: "Read_Foreign_Device_Table",
                  7: "Read_Foreign_Device_Table_ACK", 8: "Delete_Foreign_Device_Table_Entry",
                  9: "Distribute_Broadcast_to_Network", 10: "Original_Unicast_NPDU", 11: "Original_Broadcast_NPDU"}
BVLC_RESULTS = {0x00: "Successful_completion", 0x10: "Write-Broadcast-Distribution-Table_NAK",
                0x20: "Read-Broadcast-Distribution-Table_NAK", 0x30: "Register-Foreign-Device_NAK",
                0x40: "Read-Foreign-Device-Table_NAK", 0x50: "Delete-Foreign-Device-Table-Entry_NAK",
                0x60: "Distribute-Broadcast-To-Network_NAK"}
APDU_TYPES = ["CONFIRMED_REQUEST", "UNCONFIRMED_REQUEST", "SIMPLE_ACK", "COMPLEX_ACK", "SEGMENT_ACK", "ERROR_PDU",
              "REJECT_PDU", "ABORT_PDU"]


def record(name: str) -> tuple[list[str], list[str]]:
    items = [item.split(":") for item in " ".join(RECORDS[name].split()).split("; ")]
    names = [n.strip() for n, _ in items]
    override = OVERRIDES.get(name, {})
    return names, [override.get(n, t.strip()) for n, t in items]


@pytest.fixture(scope="module", params=list(CASES))
def case(request, corpus, otsensor, tmp_path_factory):
    events, _, folder, paths, tmp = analyzed(request.param, CASES[request.param], corpus, otsensor, tmp_path_factory)
    read = {p.stem: read_tsv(p) for p in folder.glob("*.log")}
    mine = [e for e in events if e["proto"] == request.param]
    assert mine, request.param
    return request.param, mine, folder, read, paths, tmp


def test_headers_are_the_reference_records(case):
    proto, _, _, read, _, _ = case
    for name in LOGS[proto]:
        assert name in read, f"{name}.log not written"
        meta = read[name][0]
        fields, types = record(name)
        assert meta["path"] == name
        assert meta["fields"].split("\t") == fields, name
        assert meta["types"].split("\t") == types, name


def test_every_line_is_its_message(case):
    proto, events, _, read, _, _ = case
    conn = read["conn"][1]
    expected = {"bacnet": bacnet_lines, "iec104": iec104_lines, "opcua": opcua_lines}[proto](events, conn)
    for name, lines in expected.items():
        rows = [dict(row) for row in read[name][1]]  # the fixture's rows stay whole for the other tests
        assert len(rows) == len(lines) > 0, name
        if name == "opcua_binary":  # a pair is written when its response comes, with its request's time
            order = lambda r: (r["ts"], r["msg_type"], r.get("request_id") or -1, r.get("res_seq_number") or -1)
            rows, lines = sorted(rows, key=order), sorted(lines, key=order)
        for row, line in zip(rows, lines):
            assert abs(row.pop("ts") - line.pop("ts")) < 5e-7, (name, line)
            assert row == line, name


def test_lines_join_conn(case):
    proto, _, _, read, _, _ = case
    services = {c["uid"]: c.get("service") for c in read["conn"][1]}
    for name in LOGS[proto]:
        assert {services[row["uid"]] for row in read[name][1]} == {proto}, name


def test_zat_reads_every_log(case):
    zat_frame = pytest.importorskip("zat.log_to_dataframe", reason="zat is not installed (pip install zat)")
    from zat.zeek_log_reader import ZeekLogReader

    proto, _, folder, read, _, _ = case
    for name in LOGS[proto]:
        path = folder / f"{name}.log"
        rows = read[name][1]
        assert len(zat_frame.LogToDataFrame().create_dataframe(str(path))) == len(rows), name
        with contextlib.redirect_stdout(io.StringIO()):
            theirs = list(ZeekLogReader(str(path)).readrows())
        assert len(theirs) == len(rows), name
        for mine, zat_row in zip(rows, theirs):
            assert zat_row["uid"] == mine["uid"]
            for field, value in mine.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    assert zat_row[field] == value, (name, field)


def test_json_says_what_tsv_says(case, otsensor):
    proto, _, folder, read, paths, tmp = case
    _, _, json_folder = analyze(otsensor, paths, tmp, "json")
    assert sorted(p.name for p in json_folder.glob("*.log")) == sorted(p.name for p in folder.glob("*.log"))
    for name in LOGS[proto]:
        assert read_json(json_folder / f"{name}.log") == [unset(r) for r in read[name][1]], name


# -- what each line must say, from the events --

def head(e: dict, conn: list[dict]) -> dict:
    """ts, uid and id of the flow the event belongs to (the latest conn.log flow between its ends), its sides."""
    ends = {(e["src"], e["sport"]), (e["dst"], e["dport"])}
    flows = [c for c in conn if {(c["id.orig_h"], c["id.orig_p"]), (c["id.resp_h"], c["id.resp_p"])} == ends
             and c["ts"] <= e["ts"] + 1e-6]
    c = max(flows, key=lambda c: c["ts"])
    ids = {k: c[k] for k in ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")}
    return {"ts": e["ts"], "uid": c["uid"], **ids}


def sides(e: dict, conn: list[dict]) -> dict:
    h = head(e, conn)
    return {**h, "is_orig": (e["src"], e["sport"]) == (h["id.orig_h"], h["id.orig_p"]), "source_h": e["src"],
            "source_p": e["sport"], "destination_h": e["dst"], "destination_p": e["dport"]}


def routing(e: dict) -> dict:
    fwd = e.get("original_source")
    return {"snet": e.get("snet"), "slen": len(e["sadr"]) // 2 if "sadr" in e else None, "sadr": e.get("sadr") or None,
            "dnet": e.get("dnet"), "dlen": len(e["dadr"]) // 2 if "dadr" in e else None, "dadr": e.get("dadr") or None,
            "fwd_ip": fwd.rsplit(":", 1)[0] if fwd else None, "fwd_port": int(fwd.rsplit(":", 1)[1]) if fwd else None}


def bacnet_lines(events: list[dict], conn: list[dict]) -> dict[str, list[dict]]:
    header, discovery, prop = [], [], []
    for e in events:
        kind, name = e.get("pdu_type"), e["function_name"]
        line = {**sides(e, conn), "bvlc_function": BVLC_FUNCTIONS.get(e["bvlc_function"], e["bvlc_function_name"]),
                "pdu_type": None, "pdu_service": None, "invoke_id": None, "result_code": None, **routing(e)}
        if e["bvlc_function"] == 0:
            line["result_code"] = BVLC_RESULTS[e["result_code"]]
        if kind is not None:  # main.zeek's switch(pdu_type)
            line["pdu_type"] = APDU_TYPES[kind]
            line["invoke_id"] = e.get("invoke_id") if kind != 1 else None
            line["pdu_service"] = {4: None, 6: "reject", 7: "abort"}.get(kind, name)
            line["result_code"] = {5: e.get("error_code_name"), 6: e.get("reject_reason_name"),
                                   7: e.get("abort_reason_name")}.get(kind)
        elif "network_message_type" in e:
            line["pdu_type"], line["pdu_service"] = "NPDU", name
        header.append(line)
        if kind == 1 and name in ("who_is", "i_am", "who_has", "i_have"):
            discovery.append(bacnet_discovery(e, conn))
        service = {(0, "read_property"): "read-property-request", (3, "read_property"): "read-property-ack",
                   (0, "write_property"): "write-property", (0, "read_range"): "read-range-request"}.get((kind, name))
        if service or kind == 5 and name in ("read_property", "write_property", "read_range"):
            prop.append(bacnet_property(e, conn, service))
    return {"bacnet": header, "bacnet_discovery": discovery, "bacnet_property": prop}


def split(obj: str | None) -> tuple[str | None, int | None]:
    if obj is None:
        return None, None
    kind, instance = obj.rsplit(",", 1)
    return kind, int(instance)


def bacnet_discovery(e: dict, conn: list[dict]) -> dict:
    name = e["function_name"]
    object_type, instance = split(e.get("object"))
    device_type, device = split(e.get("device")) if name == "i_have" else (None, None)
    limits = None
    if name in ("who_is", "who_has"):
        limits = "All" if e.get("low_limit") is None else f"{e['low_limit']}-{e['high_limit']}"
    object_name = {"who_has": e.get("object_name") or "N/A", "i_have": e.get("object_name")}.get(name)
    return {**sides(e, conn), "pdu_service": name.replace("_", "-"), "device_id_type": device_type,
            "device_id_number": device, "object_type": object_type, "instance_number": instance,
            "vendor": e.get("vendor") if name == "i_am" else None, "range": limits, "object_name": object_name,
            **routing(e)}


def bacnet_property(e: dict, conn: list[dict], service: str | None) -> dict:
    line = {**sides(e, conn), "invoke_id": e.get("invoke_id"), "pdu_service": f"ERROR: {e['function_name']}",
            "object_type": e.get("error_code_name"), "instance_number": None, "property": None, "array_index": None,
            "value": None, **routing(e), "priority": None}
    if service is None:
        return line
    ref = e["references"][0]
    values = ref.get("values")
    text = {True: "true", False: "false"}
    value = ",".join(f"{v:f}" if isinstance(v, float) else text[v] if isinstance(v, bool) else str(v)
                     for v in values) if values else None
    return {**line, "pdu_service": service, "object_type": split(ref["object"])[0], "instance_number": ref["instance"],
            "property": ref.get("property"), "array_index": ref.get("array_index"), "value": value,
            "priority": ref.get("priority")}


def iec104_lines(events: list[dict], conn: list[dict]) -> dict[str, list[dict]]:
    lines = []
    for e in events:
        keys = ("send_sequence", "receive_sequence", "type_id", "sq", "number_of_objects", "cause", "cause_name",
                "negative", "test", "originator_address", "common_address")
        lines.append({**sides(e, conn), "apci_type": e["apci_type"],
                      "u_function": e["function_name"] if e["apci_type"] == "U" else None,
                      **{k: e.get(k) for k in keys}, "type_name": e["function_name"] if "type_id" in e else None,
                      "ioa": [o["ioa"] for o in e["objects"]] if "objects" in e else None})
    assert Counter(line["apci_type"] for line in lines).keys() == {"I", "S", "U"}
    return {"iec104": lines}


def opcua_lines(events: list[dict], conn: list[dict]) -> dict[str, list[dict]]:
    """ICSNPP's pairing: a service request and its response on one line (the sensor's request_frame pairs them)."""
    transport = ("HEL", "ACK", "ERR", "RHE")
    serviced = [e for e in events if e["message_type"] not in transport and "request_id" in e and "type_id" in e]
    paired = {id(e) for e in serviced}
    by_frame = {(e["file"], e["frame"], e["request_id"]): e for e in serviced if e["direction"] == "request"}
    answered, lines = set(), []
    for e in events:
        if e["message_type"] in transport:
            lines.append(opcua_line(e, conn, None, None))
        elif id(e) not in paired:
            lines.append(opcua_line(e, conn, *((None, e) if e["direction"] == "response" else (e, None))))
        elif e["direction"] == "response":
            request = by_frame.get((e["file"], e.get("request_frame"), e["request_id"]))
            if request is not None:
                answered.add(id(request))
            lines.append(opcua_line(request or e, conn, request, e))
    lines += [opcua_line(e, conn, e, None) for e in by_frame.values() if id(e) not in answered]
    assert any(line["res_identifier_str"] and line["req_identifier_str"] for line in lines)
    return {"opcua_binary": lines}


def opcua_line(lead: dict, conn: list[dict], request: dict | None, response: dict | None) -> dict:
    transport = lead["message_type"] in ("HEL", "ACK", "ERR", "RHE")
    parts = [x for x in (request, response) if x] or [lead]
    channels = list(dict.fromkeys(x["secure_channel_id"] for x in parts if "secure_channel_id" in x))
    asym = next((x for x in (request, response) if x and "sender_certificate" in x), None)
    hello = {"version": "protocol_version", "rcv_buf_size": "receive_buffer_size", "snd_buf_size": "send_buffer_size",
             "max_msg_size": "max_message_size", "max_chunk_cnt": "max_chunk_count", "endpoint_url": "endpoint_url"}
    line = {**head(lead, conn), "msg_type": lead["message_type"], "is_final": lead["chunk_type"],
            "total_size": sum(x["message_size"] for x in parts), "error": lead.get("error"),
            "reason": lead.get("reason"), **{k: lead.get(v) if transport else None for k, v in hello.items()},
            "sec_channel_id": channels or None,
            "sec_policy_uri_len": len(asym["security_policy_uri"]) if asym else None,
            "sec_policy_uri": asym["security_policy_uri"] if asym else None,
            "snd_cert_len": asym.get("sender_certificate_size", -1) if asym else None, "snd_cert": None,
            "rcv_cert_len": len(asym.get("receiver_certificate_thumbprint", "")) // 2 or -1 if asym else None,
            "rcv_cert": None, "request_id": lead.get("request_id")}
    for prefix, side in (("req", request), ("res", response)):
        side = side or {}
        line.update({f"{prefix}_opcua_link_id": None, f"{prefix}_msg_size": side.get("message_size"),
                     f"{prefix}_seq_number": side.get("sequence_number"), f"{prefix}_encoding_mask": None,
                     f"{prefix}_namespace_idx": None, f"{prefix}_identifier": side.get("type_id"),
                     f"{prefix}_identifier_str": side.get("service")})
        line[f"{prefix}_hdr_request_handle"] = side.get("request_handle")
    for name in ("node_id_type", "node_id_namespace_idx", "node_id_numeric", "node_id_string", "node_id_guid",
                 "node_id_opaque", "timestamp", "return_diag", "audit_entry_id", "timeout_hint", "add_hdr_type_id",
                 "add_hdr_enc_mask"):
        line[f"req_hdr_{name}"] = None
    for name in ("res_hdr_timestamp", "status_code_link_id", "res_hdr_service_diag_encoding", "res_hdr_add_hdr_type_id",
                 "res_hdr_add_hdr_enc_mask"):
        line[name] = None
    return line
