"""python-snap7's real server and client on loopback, captured, parsed: the package must tell what happened.

The server (127.0.0.7:102) and the client (bound to 127.0.0.8) run the calls of
stacks/s7comm_script.py: DB, marker, input, output, timer and counter reads and writes, the two
identity SZLs, block listing, clock set/read, PLC stop and warm/cold start, a block upload and a block
download, compress and copy RAM to ROM. tcpdump records it; the capture's segments are fed to
``S7Stream`` per direction (stacks/s7comm_segments.py). Expectations come from the script and from what
the client itself decoded (stacks/s7comm_client.py), never from the package's output.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from s7comm_capture import S7Capture, capture  # noqa: E402
from s7comm_script import SCRIPT, SESSION_CLOSE, SESSION_OPEN, Pt  # noqa: E402
from s7comm_segments import Outcome, frame_all, segments  # noqa: E402

from protocols.base import REQUEST, RESPONSE, Malformed, Message, Verdict  # noqa: E402
from protocols.s7comm import SPEC, probe  # noqa: E402

pytest.importorskip("snap7", reason="python-snap7 is a test extra (pip install python-snap7)")
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("tshark") is None,
                                reason="needs root and tcpdump to capture on lo (and to bind port 102), tshark to read")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[S7Capture, list[Outcome]]:
    cap = capture(tmp_path_factory.mktemp("s7stack") / "s7_stack.pcap")
    failed = [c for c in cap.results["calls"] if not c["ok"]]
    assert not failed, f"the stack itself failed: {failed}"
    return cap, list(frame_all(segments(cap.pcap)))


def messages(outcomes: list[Outcome]) -> list[tuple[Outcome, Message]]:
    return [(o, o.item) for o in outcomes if isinstance(o.item, Message)]


def client_requests(outcomes: list[Outcome]) -> list[Message]:
    return [m for o, m in messages(outcomes) if o.is_request and m.direction == REQUEST]


def call(cap: S7Capture, method: str) -> dict:
    return next(c for c in cap.results["calls"] if c["method"] == method)


def test_nothing_malformed_and_only_the_stacks_own_oddities(run) -> None:
    """python-snap7's server sends SZL 0x001C with a zero header and 0x0011 in 26-octet records."""
    _, outcomes = run
    assert not [o for o in outcomes if isinstance(o.item, Malformed)]
    weird = Counter((m.function_name, m.fields.get("szl_id"), m.weird) for _, m in messages(outcomes) if m.weird)
    assert weird == Counter({("read_szl", 0x001C, "s7comm_bad_szl_header"): 1,
                             ("read_szl", 0x0011, "s7comm_szl_short_record"): 1})
    assert set(weird_code for *_, weird_code in weird) <= set(SPEC.weirds)


def test_client_requests_are_the_script_in_order(run) -> None:
    _, outcomes = run
    expected = [*SESSION_OPEN, *(f for op in SCRIPT for f in op.functions), *SESSION_CLOSE]
    assert [m.function_name for m in client_requests(outcomes)] == expected


def test_server_sends_the_download_jobs(run) -> None:
    """In an S7 download the PLC asks for the block: download block and download ended are its jobs."""
    _, outcomes = run
    jobs = [m.function_name for o, m in messages(outcomes) if not o.is_request and m.direction == REQUEST]
    assert jobs == [j for op in SCRIPT for j in op.server_jobs]
    assert {m.action for o, m in messages(outcomes) if m.function_name in jobs} == {"program_download"}


CONFIRMS = {"connection_request": "connection_confirm", "disconnect_request": "disconnect_confirm"}


def test_every_request_has_one_response_with_its_pair_key(run) -> None:
    """And ``complete`` gives the response its request's action (and a read's response its items)."""
    _, outcomes = run
    pending: dict = {}
    for o, m in messages(outcomes):
        if m.direction == REQUEST:
            assert m.pair_key is not None, m.function_name
            pending[(o.stream, m.pair_key)] = m
        elif m.direction == RESPONSE:
            request = pending.pop((o.stream, m.pair_key), None)
            name = request.function_name if request else None
            assert CONFIRMS.get(name, name) == m.function_name, f"{m.function_name} {m.pair_key} pairs with {name}"
            done = SPEC.complete(request, m)
            assert done.action == request.action
            if m.function_name == "read_var":
                assert done.fields["request_items"] == request.fields["items"]
    assert [m.function_name for m in pending.values()] == []


def test_actions_are_what_each_call_means(run) -> None:
    _, outcomes = run
    requests = client_requests(outcomes)[len(SESSION_OPEN):-len(SESSION_CLOSE)]
    expected = [(f, op.action) for op in SCRIPT for f in op.functions]
    assert [(m.function_name, m.action) for m in requests] == expected
    opening = client_requests(outcomes)[:len(SESSION_OPEN)]
    assert {m.action for m in opening} == {"session"}


def test_pi_services_say_which_start(run) -> None:
    _, outcomes = run
    pi = [(m.fields.get("pi_service"), m.fields.get("argument"), m.fields.get("restart"))
          for m in client_requests(outcomes) if m.function_name in ("pi_service", "plc_stop")]
    assert pi == [("P_PROGRAM", None, None), ("P_PROGRAM", None, "warm"), ("P_PROGRAM", "C ", "cold"),
                  ("_GARB", None, None), ("_MODU", "EP", None)]


def test_points_are_exactly_what_the_client_read_and_wrote(run) -> None:
    _, outcomes = run
    points = [f.value for _, m in messages(outcomes) for f in m.facts if f.kind == "point"]
    assert all(f.about == "client" for _, m in messages(outcomes) for f in m.facts if f.kind == "point")
    got = [Pt(p.space, p.address, p.quantity, p.access, p.values) for p in points]
    assert got == [p for op in SCRIPT for p in op.points]


def test_read_values_are_what_the_client_got(run) -> None:
    """The DB1 read's response carries the octets python-snap7 returned."""
    cap, outcomes = run
    responses = [m for o, m in messages(outcomes) if not o.is_request and m.function_name == "read_var"]
    assert responses[0].fields["data_items"][0]["data"] == call(cap, "db_read")["value"]
    assert responses[0].fields["data_items"][0]["return_code_name"] == "success"


def test_server_identity_is_what_snap7_announces(run) -> None:
    cap, outcomes = run
    identity: dict = {}
    for _, m in messages(outcomes):
        for f in m.facts:
            if f.kind == "identity":
                assert f.about == "server"
                identity.update(f.value)
    cpu, order = call(cap, "get_cpu_info")["value"], call(cap, "get_order_code")["value"]
    assert identity["name"] == cpu["ASName"]
    assert identity["model"] == cpu["ModuleTypeName"]
    assert identity["module_name"] == cpu["ModuleName"]
    assert identity["serial"] == cpu["SerialNumber"]
    assert identity["copyright"] == cpu["Copyright"]
    assert identity["order_code"] == order["OrderCode"]
    assert identity["firmware"] == f"V{order['V1']}.{order['V2']}.{order['V3']}"
    assert identity["vendor"] == "Siemens"


def test_roles_from_the_connection_request(run) -> None:
    """python-snap7 connects as a PG (programming device): called TSAP 0x01, rack << 5 | slot."""
    cap, outcomes = run
    roles = {(f.about, f.value) for _, m in messages(outcomes) for f in m.facts if f.kind == "role"}
    assert roles == {("client", "client"), ("server", "server"), ("client", "engineering_station")}
    cr = next(m for m in client_requests(outcomes) if m.function_name == "connection_request")
    assert int(cr.fields["called_tsap"]["hex"], 16) == cap.results["remote_tsap"]
    assert int(cr.fields["calling_tsap"]["hex"], 16) == cap.results["local_tsap"]
    assert (cr.fields["connection_type"], cr.fields["rack"], cr.fields["slot"]) == ("pg", 0, 2)


def test_probe_accepts_the_stream_at_its_first_data(run) -> None:
    cap, _ = run
    verdicts = [probe(s.payload) for s in segments(cap.pcap) if s.payload]
    decided = [v for v in verdicts if v is not Verdict.MORE]
    assert verdicts[:2] == [Verdict.MORE, Verdict.MORE]  # CR, CC: MMS opens the same way
    assert decided and decided[0] is Verdict.ACCEPT
