"""Zeek logs of real captures, read back with zat and with a plain TSV reader, checked against the events and
flows of the same run: the same messages in the same order, the same function codes, addresses, quantities,
values and exceptions, uids that join conn.log, and JSON that says what TSV says.

The run is ``otsensor analyze --zeek-logs`` when the command line has it, else the pipeline in-process with the
logs as its ``Options.logs`` (see tests/unit/sinks_zeek/zeek_expect.py).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "unit" / "sinks_zeek"))
from zeek_expect import check_modbus, run, unset  # noqa: E402
from zeek_reader import read_json, read_tsv  # noqa: E402

from sensor.sinks.zeek.names import dnp3_function  # noqa: E402

CASES = {
    "modbus": ["modbus/icsnpp_modbus_example.pcap", "modbus/iti_modbus_test_data_part2.pcap",
               "modbus/emre_modbus-read-write-multiple-registers.pcap", "modbus/emre_modbus-mask-write-register.pcap",
               "modbus/emre_modbus-encapsulated-transport.pcap", "modbus/iti_ModbusTCP.pcap", "modbus/iti_fuzz-72.pcap"],
    "dnp3": ["dnp3/iti_dnp3.pcap", "dnp3/icsnpp_dnp3_example.pcap", "dnp3/iti_dnp3_file_read.pcap"],
    "s7comm": ["s7comm/iti_snap7_s300_everything.pcapng", "s7comm/icsnpp_s7comm_plus.pcap",
               "s7comm/ct_Plant1_S7comm.pcap"],
    "enip": ["enip/icsnpp_enip_cip_example.pcap", "enip/iti_enip_test.pcap", "enip/emre_ENIP_CIP-CM.pcap"],
}


def cli_has_zeek_logs() -> bool:
    from sensor.cli import build_parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(["analyze", "x.pcap", "--zeek-logs", "z", "--zeek-format", "json"])
        except SystemExit:
            return False
    return True


def analyze(otsensor, paths: list[Path], tmp: Path, fmt: str) -> tuple[list[dict], list[dict], Path]:
    """Events, flows and the Zeek logs' folder of one run over ``paths``."""
    folder = tmp / f"zeek-{fmt}"
    if not cli_has_zeek_logs():
        events, flows = run([str(p) for p in paths], str(tmp / f"{fmt}.db"), str(folder), fmt)
        return events, flows, folder
    done = otsensor("analyze", *paths, "--db", tmp / f"{fmt}.db", "--events", tmp / f"{fmt}.jsonl", "--flows",
                    tmp / f"{fmt}.flows", "--zeek-logs", folder, "--zeek-format", fmt, "--strict", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    read = lambda p: [json.loads(line) for line in p.read_text().splitlines()]
    return read(tmp / f"{fmt}.jsonl"), read(tmp / f"{fmt}.flows"), folder


def analyzed(name: str, captures: list[str], corpus, otsensor, tmp_path_factory):
    """One case's corpus captures analysed with TSV logs: (events, flows, log folder, paths, its folder)."""
    paths = [corpus / capture for capture in captures]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"corpus captures missing: {missing}")
    tmp = tmp_path_factory.mktemp(name)
    return (*analyze(otsensor, paths, tmp, "tsv"), paths, tmp)


@pytest.fixture(scope="module", params=list(CASES))
def case(request, corpus, otsensor, tmp_path_factory):
    events, flows, folder, paths, tmp = analyzed(request.param, CASES[request.param], corpus, otsensor,
                                                 tmp_path_factory)
    logs = {p.stem: read_tsv(p)[1] for p in folder.glob("*.log")}
    return request.param, events, flows, folder, logs, paths, tmp


def test_conn_log_is_the_flows(case):
    _, _, flows, _, logs, _, _ = case
    conn = logs["conn"]
    assert len(conn) == len(flows)
    key = lambda ts, a, b, c, d: (round(ts, 6), a, b, c, d)
    by_id = {key(c["ts"], c["id.orig_h"], c["id.orig_p"], c["id.resp_h"], c["id.resp_p"]): c for c in conn}
    for f in flows:
        c = by_id[key(f["ts"], f["src"], f["sport"], f["dst"], f["dport"])]
        assert c.get("service") == f["service"]
        assert c["proto"] == {"icmp6": "icmp"}.get(f["transport"], f["transport"])
        assert (c["orig_pkts"], c["resp_pkts"]) == (f["orig_packets"], f["resp_packets"])
        assert (c["orig_ip_bytes"], c["resp_ip_bytes"]) == (f["orig_bytes"], f["resp_bytes"])
        assert c["missed_bytes"] == f["gap_bytes"]
        assert c.get("duration") == (f["duration"] or None)


def test_every_protocol_log_joins_conn(case):
    _, _, _, _, logs, _, _ = case
    services = {c["uid"]: c.get("service") for c in logs["conn"]}
    owner = {"modbus": "modbus", "dnp3": "dnp3", "s7comm": "s7comm", "cotp": "s7comm", "s7comm_plus": "s7comm",
             "enip": "enip", "cip": "enip", "cip_io": "enip", "cip_identity": "enip"}
    for name, rows in logs.items():
        if name == "conn":
            continue
        service = owner.get(name.split("_read_")[0].split("_mask_")[0].replace("_detailed", ""))
        for row in rows:
            assert services[row["uid"]] == service, (name, row)


def test_messages_match_the_events(case):
    proto, events, _, _, logs, _, _ = case
    if proto == "modbus":
        assert check_modbus(events, logs["modbus"], logs["modbus_detailed"], logs["conn"]) > 1000
        return
    mine = [e for e in events if e["proto"] == proto]
    assert mine
    if proto == "dnp3":
        rows = logs["dnp3"]
        replies = [(r["ts"], r["fc_reply"], r.get("iin")) for r in rows if r.get("fc_reply")]
        assert replies == [(round(e["ts"], 6), dnp3_function(e["function_code"]), e.get("iin"))
                           for e in mine if e["direction"] != "request"]
        assert Counter(r["fc_request"] for r in rows if r.get("fc_request")) == Counter(
            dnp3_function(e["function_code"]) for e in mine if e["direction"] == "request")
    elif proto == "s7comm":
        s7 = [e for e in mine if e["pdu"] == "s7comm"]
        rows = logs["s7comm"]
        assert len(rows) == len(s7)
        for r, e in zip(rows, s7):
            assert (r["ts"], r["pdu_reference"], r["rosctr_name"]) == (round(e["ts"], 6), e["pdu_ref"], e["rosctr"])
            if "function_group" in e:
                assert (r["subfunction_code"], r["subfunction_name"]) == (f"0x{e['subfunction']:02x}", e["function_name"])
            elif e["function_name"] != e["rosctr"]:
                assert (r["function_code"], r["function_name"]) == (f"0x{e['function_code']:02x}", e["function_name"])
            assert (r.get("error_class") is not None) == ("error_class" in e or e.get("userdata_error_code") is not None)
        assert len(logs.get("s7comm_plus", [])) == sum(e["pdu"] == "s7comm_plus" for e in mine) > 0
        assert len(logs.get("cotp", [])) == sum(e["pdu"] == "cotp" for e in mine)
    elif proto == "enip":
        encapsulations = [e for e in mine if "command" in e and e.get("multiple_service_packet", {}).get("index", 0) == 0]
        assert [(r["ts"], r["enip_command_code"]) for r in logs["enip"]] == [
            (round(e["ts"], 6), f"0x{e['command']:02x}") for e in encapsulations]
        services = [e for e in mine if "service" in e]
        assert [(r["ts"], r["direction"], r["cip_service_code"], r["cip_service"], r.get("cip_status")) for r in
                logs["cip"]] == [(round(e["ts"], 6), e["direction"], f"0x{e['service']:02x}", e["service_name"],
                                  e.get("general_status_name")) for e in services]
        assert len(logs.get("cip_io", [])) == sum(e["function_name"] == "io_data" for e in mine)


def test_zat_reads_every_log(case):
    zat_frame = pytest.importorskip("zat.log_to_dataframe", reason="zat is not installed (pip install zat)")
    from zat.zeek_log_reader import ZeekLogReader

    _, _, _, folder, logs, _, _ = case
    for path in sorted(folder.glob("*.log")):
        frame = zat_frame.LogToDataFrame().create_dataframe(str(path))
        rows = logs[path.stem]
        assert len(frame) == len(rows), path.name
        with contextlib.redirect_stdout(io.StringIO()):
            read = list(ZeekLogReader(str(path)).readrows())
        assert len(read) == len(rows), path.name
        for mine, theirs in zip(rows, read):
            assert theirs["uid"] == mine["uid"]
            for field, value in mine.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    assert theirs[field] == value, (path.name, field)


def test_json_says_what_tsv_says(case, otsensor):
    _, _, _, folder, logs, paths, tmp = case
    _, _, json_folder = analyze(otsensor, paths, tmp, "json")
    assert sorted(p.name for p in json_folder.glob("*.log")) == sorted(p.name for p in folder.glob("*.log"))
    for name, rows in logs.items():
        assert read_json(json_folder / f"{name}.log") == [unset(r) for r in rows], name
