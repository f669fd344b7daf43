"""conn.log: uids, Zeek's conn_state from the flags each side sent, the approximated history, the record."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zeek_reader import read_json, read_tsv  # noqa: E402

from sensor.decode.packets import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN  # noqa: E402
from sensor.flows.table import Flow  # noqa: E402
from sensor.sinks.zeek import ZeekLogs  # noqa: E402
from sensor.sinks.zeek.conn import conn_record, conn_state, conn_uid, history  # noqa: E402

S, A, F, R = TCP_SYN, TCP_ACK, TCP_FIN, TCP_RST


def flow(transport="tcp", flags=(0, 0), packets=(1, 1), sizes=(60, 60), *, flow_id=1, ts=100.0, last=101.5,
         frame=1, file="/x/plant.pcap", ports=(40000, 502)) -> Flow:
    f = Flow(flow_id, transport, "10.0.0.1", ports[0], "10.0.0.2", ports[1], True, ts, frame, file)
    f.flags, f.packets, f.bytes, f.last_ts = list(flags), list(packets), list(sizes), last
    return f


def test_uid_is_zeek_like_and_deterministic():
    a = conn_uid(flow())
    assert re.fullmatch(r"C[0-9A-Za-z]{10,17}", a)
    assert conn_uid(flow(flow_id=99)) == a  # not the run's flow counter: a rerun or a resume gives the same uid
    assert conn_uid(flow(file="/elsewhere/plant.pcap")) == a  # the capture's name, not where it lies
    assert len({a, conn_uid(flow(ts=100.000001)), conn_uid(flow(frame=2)), conn_uid(flow(file="other.pcap")),
                conn_uid(flow(ports=(40001, 502))), conn_uid(flow("udp"))}) == 6


@pytest.mark.parametrize("flags, packets, state", [
    ((S | A | F, S | A | F), (5, 5), "SF"),  # normal establishment and termination
    ((S, 0), (1, 0), "S0"),  # attempt, no reply
    ((S | A, S | A), (4, 4), "S1"),  # established, not terminated
    ((S, R | A), (1, 1), "REJ"),  # rejected
    ((S | A | F, S | A), (4, 3), "S2"),  # the originator's close only
    ((S | A, S | A | F), (4, 3), "S3"),
    ((S | A | R, S | A), (4, 3), "RSTO"),
    ((S | A, S | A | R), (4, 3), "RSTR"),
    ((S | R, 0), (2, 0), "RSTOS0"),
    ((A, A | R), (2, 2), "RSTRH"),  # no SYN from the originator: it is "partial", the responder reset
    ((S | F, 0), (2, 0), "SH"),
    ((A, S | A | F), (2, 2), "SHR"),
    ((A, A), (10, 10), "OTH"),  # picked up mid-stream
])
def test_tcp_conn_state(flags, packets, state):
    assert conn_state(flow(flags=flags, packets=packets)) == state


@pytest.mark.parametrize("packets, state", [((2, 2), "SF"), ((2, 0), "S0"), ((0, 3), "SHR")])
def test_udp_conn_state(packets, state):
    assert conn_state(flow("udp", packets=packets)) == state


def test_history_letters_in_zeeks_order():
    done = flow(flags=(S | A | F, S | A | F), packets=(6, 5), sizes=(400, 380))
    assert history(done, 0) == "ShAaFf"  # frames this small carry no payload the sensor could tell
    assert history(done, 1 | 2) == "ShADadFf"  # messages dissected from both sides: data both ways
    big = flow(flags=(A, A), packets=(2, 2), sizes=(2 * 1514, 2 * 60))
    assert history(big, 0) == "ADa"  # frames bigger than any header: the originator sent data
    assert history(flow("udp", packets=(1, 0)), 0) == "D"
    assert history(flow("icmp"), 0) is None


def test_record_follows_zeek(tmp_path):
    f = flow(flags=(S | A | F, S | A | F), packets=(6, 5), sizes=(400, 380))
    f.protocol = "modbus"
    record = conn_record(f, "Cabc", 3)
    assert record[:8] == (100.0, "Cabc", "10.0.0.1", 40000, "10.0.0.2", 502, "tcp", "modbus")
    assert record[8] == 1.5  # duration
    assert record[9:11] == (None, None)  # payload bytes: not counted by the flow table
    assert record[11:16] == ("SF", None, None, 0, "ShADadFf")
    assert record[16:] == (6, 400, 5, 380, None, 6)
    instant = conn_record(flow(last=100.0), "Cx")
    assert instant[8] is None  # Zeek sets duration (and payload bytes) only when it is above zero
    assert conn_record(flow("icmp6"), "Cx")[6] == "icmp" and conn_record(flow("icmp6"), "Cx")[-1] == 58
    assert conn_record(flow("ip47"), "Cx")[6] == "unknown_transport" and conn_record(flow("ip47"), "Cx")[-1] == 47


@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_conn_log_through_zeek_logs(tmp_path, fmt):
    logs = ZeekLogs(str(tmp_path / "z"), fmt)
    ended = flow(flags=(S | A | F, S | A | F), packets=(6, 5), sizes=(400, 380))
    ended.protocol = "dnp3"
    logs.flow_ended(ended)
    logs.flow_ended(flow("udp", flow_id=2, ports=(20000, 20000), last=100.0))
    logs.close()
    path = tmp_path / "z" / "conn.log"
    rows = read_tsv(path)[1] if fmt == "tsv" else read_json(path)
    first, second = rows
    assert first["uid"] == conn_uid(ended) and first["service"] == "dnp3" and first["conn_state"] == "SF"
    assert first["id.orig_h"] == "10.0.0.1" and first["id.resp_p"] == 502 and first["proto"] == "tcp"
    assert first["orig_pkts"] == 6 and first["resp_ip_bytes"] == 380 and first["missed_bytes"] == 0
    assert first["ip_proto"] == 6 and first.get("tunnel_parents") is None and first.get("local_orig") is None
    assert second["proto"] == "udp" and second.get("duration") is None and second.get("service") is None
