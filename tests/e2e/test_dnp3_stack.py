"""A real DNP3 master and outstation (dnp3py) on loopback, captured, decoded by protocols.dnp3 alone.

The dnp3py outstation on 127.0.0.20:20000 (database and device attributes from stacks/dnp3_script.py) and
a dnp3py master bound to 127.0.0.21 run the script of stacks/dnp3_script.py; tcpdump records it on lo.
The capture is read with scapy and each TCP direction fed to ``Dnp3Stream``. The expectations come from
the script and from what the dnp3py master itself decoded, never from the package's own output.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from protocols.base import REQUEST, RESPONSE, Malformed, Message, Point
from protocols.dnp3 import Dnp3Stream

pytest.importorskip("dnp3", reason="the dnp3py stack (pip install dnp3py) runs master and outstation")
sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from dnp3_capture import Dnp3Capture, capture  # noqa: E402
from dnp3_script import (  # noqa: E402
    ANALOG_INPUTS,
    ANALOG_OUTPUTS,
    BINARY_INPUTS,
    BINARY_OUTPUTS,
    COUNTERS,
    IDENTITY,
    MASTER_ADDRESS,
    MASTER_IP,
    OUTSTATION_ADDRESS,
    OUTSTATION_IP,
    SCRIPT,
    TIME_MS,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None,
                                reason="needs root and tcpdump to capture on lo")

KIND_TO_SPACE = {"binary_input": "g1", "binary_output": "g10", "analog_input": "g30", "analog_output": "g40",
                 "counter": "g20"}
"""The dnp3py master's SOE callbacks and the static groups an integrity poll returns (Annex A)."""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Dnp3Capture:
    return capture(tmp_path_factory.mktemp("dnp3_stack") / "dnp3_stack.pcap")


@pytest.fixture(scope="module")
def decoded(run: Dnp3Capture) -> list[tuple[int, str, Message | Malformed]]:
    """(frame, sender ip, outcome) for every DNP3 outcome in the capture, in order."""
    from scapy.layers.inet import IP, TCP
    from scapy.utils import rdpcap

    streams: dict[tuple[str, int], Dnp3Stream] = {}
    client: tuple[str, int] | None = None
    out = []
    for frame, pkt in enumerate(rdpcap(str(run.pcap)), start=1):
        if IP not in pkt or TCP not in pkt:
            continue
        ip, tcp = pkt[IP], pkt[TCP]
        if tcp.flags & 0x02 and not tcp.flags & 0x10:  # SYN: who opened the connection
            client = (ip.src, tcp.sport)
        payload = bytes(tcp.payload)
        if not payload:
            continue
        key = (ip.src, tcp.sport)
        stream = streams.setdefault(key, Dnp3Stream(key == client))
        out += [(tag, ip.src, outcome) for tag, outcome in stream.feed(payload, frame)]
    assert all(s.pending == 0 for s in streams.values())
    return out


def messages(decoded: list, *, app: bool = True) -> list[Message]:
    return [o for _, _, o in decoded if isinstance(o, Message) and o.function_name.startswith("link_") != app]


def test_every_outcome_is_a_clean_message(decoded: list) -> None:
    assert decoded, "nothing decoded: capture or stack failed silently"
    bad = [(f, o) for f, _, o in decoded if isinstance(o, Malformed) or o.weird is not None]
    assert not bad, bad


def test_requests_are_the_script_in_order_with_its_actions(decoded: list) -> None:
    requests = [m for m in messages(decoded) if m.direction == REQUEST and m.function_name != "confirm"]
    assert [(m.function_name, m.action) for m in requests] == [(op.function_name, op.action) for op in SCRIPT]
    assert all(m.fields["source"] == MASTER_ADDRESS and m.fields["destination"] == OUTSTATION_ADDRESS
               for m in requests)


def test_requests_come_from_the_master_and_responses_from_the_outstation(decoded: list) -> None:
    for _, src, m in decoded:
        assert src == (MASTER_IP if m.direction == REQUEST else OUTSTATION_IP), (src, m.function_name)


def test_each_response_pairs_with_its_request_and_carries_the_iin_the_master_decoded(decoded: list,
                                                                                     run: Dnp3Capture) -> None:
    requests = [m for m in messages(decoded) if m.direction == REQUEST and m.function_name != "confirm"]
    responses = [m for m in messages(decoded) if m.direction == RESPONSE]
    by_key = defaultdict(list)
    for r in responses:
        by_key[r.pair_key].append(r)
    for request, result in zip(requests, run.results["results"], strict=True):
        assert request.function_code == result["function"] and request.fields["sequence"] == result["sequence"]
        [response] = by_key[request.pair_key]
        [expected] = result["responses"]
        iin = expected["iin"]  # dnp3py keeps IIN1 in the low octet; the package prints IIN1 << 8 | IIN2
        assert response.fields["iin"] == ((iin & 0xFF) << 8) | (iin >> 8), request.function_name
        assert response.fields["sequence"] == expected["sequence"]


def test_roles_master_and_outstation(decoded: list) -> None:
    roles = {(f.about, f.value) for m in messages(decoded) + messages(decoded, app=False) for f in m.facts
             if f.kind == "role"}
    assert roles == {("client", "master"), ("server", "outstation")}


def test_identity_is_the_device_attributes_the_outstation_announces(decoded: list) -> None:
    identities = [f for m in messages(decoded) for f in m.facts if f.kind == "identity"]
    assert [(f.about, f.value) for f in identities] == [("server", IDENTITY)]


def test_points_written_are_the_commands_of_the_script(decoded: list) -> None:
    written = [f.value for m in messages(decoded) for f in m.facts if f.kind == "point" and f.value.access == "write"]
    expected = [Point(space, address, quantity, access, values=values)
                for op in SCRIPT for space, address, quantity, access, values in op.points]
    assert written == expected
    assert all(f.about == "client" for m in messages(decoded) for f in m.facts if f.kind == "point")


def test_points_read_are_what_the_master_decoded(decoded: list, run: Dnp3Capture) -> None:
    read = {(f.value.space, i) for m in messages(decoded) for f in m.facts
            if f.kind == "point" and f.value.access == "read"
            for i in range(f.value.address, f.value.address + f.value.quantity)}
    decoded_by_master = {(KIND_TO_SPACE[kind], index) for kind, values in run.results["values"].items()
                         for index, _ in values}
    assert read == decoded_by_master
    configured = {("g1", i) for i in BINARY_INPUTS} | {("g10", i) for i in BINARY_OUTPUTS} \
        | {("g30", i) for i in ANALOG_INPUTS} | {("g40", i) for i in ANALOG_OUTPUTS} | {("g20", i) for i in COUNTERS}
    assert read == configured


def test_time_written_and_link_reset(decoded: list) -> None:
    [write_time] = [m for m in messages(decoded) if m.action == "time_sync" and m.function_name == "write"]
    assert write_time.fields["objects"] == [{"group": 50, "variation": 1, "qualifier": 0x07, "count": 1,
                                             "values": [TIME_MS]}]
    links = [(m.function_name, m.direction) for m in messages(decoded, app=False)]
    assert links[:2] == [("link_reset_link_states", REQUEST), ("link_ack", RESPONSE)]
    assert all(m.fields["destination"] in (MASTER_ADDRESS, OUTSTATION_ADDRESS) for m in messages(decoded, app=False))


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_reads_the_same_functions_and_attribute_values(decoded: list, run: Dnp3Capture) -> None:
    """The corpus has almost no device attributes, so the identity half of the tshark oracle is checked here."""
    import subprocess

    out = subprocess.run(["tshark", "-n", "-r", str(run.pcap), "-Y", "dnp3.al.func", "-T", "fields", "-E",
                          "occurrence=a", "-E", "aggregator=\x1f", "-e", "dnp3.al.func", "-e", "dnp3.al.da.value"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    functions, values = [], []
    for line in out.splitlines():
        funcs, vals = (line.split("\t") + [""])[:2]
        functions += [int(f) for f in funcs.split("\x1f") if f]
        values += [v for v in vals.split("\x1f") if v]
    assert functions == [m.function_code for m in messages(decoded)]
    ours = [a["value"] for m in messages(decoded) for a in m.fields.get("attributes", ())]
    assert values == ours and set(IDENTITY.values()) <= set(ours)
