"""Real pymodbus stacks on loopback, captured, analysed: events and inventory must tell what happened.

A pymodbus server with device identification on 127.0.0.2 and a client bound to 127.0.0.3 run the script
in stacks/modbus_script.py; tcpdump records it. One capture uses port 502 (the default mapping), one port
5020 with `--modbus-port 5020`. The expectations come from the script and from what the pymodbus client
itself decoded, never from the sensor's own output.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from modbus_script import (  # noqa: E402
    CLIENT_IP,
    IDENTITY,
    IDENTITY_OBJECT_IDS,
    SCRIPT,
    SERVER_IP,
    UNITS,
    Op,
)
from stack_capture import StackCapture, capture  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None,
                                reason="needs root and tcpdump to capture on lo (and to bind port 502)")
PORTS = (502, 5020)


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[int, StackCapture]:
    """Port 502 first, then 5020: the merge test relies on that order in time."""
    tmp = tmp_path_factory.mktemp("stack")
    return {port: capture(tmp / f"stack_{port}.pcap", port) for port in PORTS}


def analyze(otsensor: Callable, pcaps: list[Path], db: Path, events: Path | None = None) -> str:
    args: list = ["analyze", *pcaps, "--strict", "--db", db, "--modbus-port", "5020"]
    if events:
        args += ["--events", events]
    proc = otsensor(*args)
    assert proc.returncode == 0, f"analyze exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc.stdout


def assets(otsensor: Callable, db: Path) -> dict[str, dict]:
    proc = otsensor("assets", "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {a["ip"]: a for a in json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def analysed(captures: dict[int, StackCapture], otsensor: Callable, tmp_path_factory: pytest.TempPathFactory):
    """Each capture analysed alone into a fresh database: (assets by ip, events) per port."""
    out = {}
    for port, cap in captures.items():
        tmp = tmp_path_factory.mktemp(f"analysed_{port}")
        # Port 502 is analysed without --modbus-port so the default mapping is what decodes it.
        args: list = ["analyze", cap.pcap, "--strict", "--db", tmp / "a.db", "--events", tmp / "events.jsonl"]
        if port != 502:
            args += ["--modbus-port", str(port)]
        proc = otsensor(*args)
        assert proc.returncode == 0, f"analyze exit {proc.returncode}:\n{proc.stderr[-3000:]}"
        events = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines() if line.strip()]
        out[port] = (assets(otsensor, tmp / "a.db"), events)
    return out


def table_ops() -> list[Op]:
    return [op for op in SCRIPT if op.access]


# --- the server ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("port", PORTS)
def test_server_is_a_modbus_server_with_the_configured_identity(analysed, port: int) -> None:
    server = analysed[port][0][SERVER_IP]
    assert "modbus_server" in server["roles"]
    ident = server["identity"]
    assert ident is not None, "no identity although the client read 43/14 basic, regular and extended"
    assert (ident["vendor"], ident["product"], ident["revision"]) == (
        IDENTITY["VendorName"], IDENTITY["ProductCode"], IDENTITY["MajorMinorRevision"])
    assert (ident["product_name"], ident["model_name"]) == (IDENTITY["ProductName"], IDENTITY["ModelName"])
    assert "modbus" in ident["source"].lower()
    assert any(word in (server["device_type"] or "").lower() for word in ("plc", "rtu", "controller")), \
        server["device_type"]
    assert server["device_type_reasons"], "a device type must say why"
    assert {"protocol": "modbus", "transport": "tcp", "port": port} in server["services"]
    assert sorted(server["unit_ids"]) == sorted(UNITS)


# --- the client's points ------------------------------------------------------------------------------------

def point_key(p: dict) -> tuple:
    return (p["server"], p["unit_id"], p["function_code"], p["address"], p["quantity"], p["access"])


@pytest.mark.parametrize("port", PORTS)
def test_client_points_are_exactly_the_table_accesses_of_the_script(analysed, port: int) -> None:
    """FC 8 and 43 address no table, so they are no points; the failed read is one (the client tried it)."""
    client = analysed[port][0][CLIENT_IP]
    assert "modbus_client" in client["roles"]
    expected = Counter((SERVER_IP, op.unit, op.function_code, op.address, op.quantity, op.access)
                       for op in table_ops())
    got = Counter(point_key(p) for p in client["points"])
    assert set(got) == set(expected), f"missing {set(expected) - set(got)}; unexpected {set(got) - set(expected)}"
    assert all(n == 1 for n in got.values()), f"duplicate points: {[k for k, n in got.items() if n > 1]}"
    counts = {point_key(p): p["count"] for p in client["points"]}
    assert counts == dict(expected), "count must be the number of requests per point"


@pytest.mark.parametrize("port", PORTS)
def test_write_points_carry_the_values_written(analysed, port: int) -> None:
    points = {point_key(p): p for p in analysed[port][0][CLIENT_IP]["points"]}
    for op in SCRIPT:
        if op.access == "write":
            p = points[(SERVER_IP, op.unit, op.function_code, op.address, op.quantity, "write")]
            assert p["last_values"] == list(op.values), (op.note, p)


@pytest.mark.parametrize("port", PORTS)
def test_values_read_are_in_the_response_events_not_the_inventory(analysed, captures, port: int) -> None:
    """The inventory keeps the last values *written* to each point (process values read change all the time);
    what each read returned is in its response event, equal to what pymodbus decoded."""
    assets, events = analysed[port]
    assert all(p["last_values"] is None for p in assets[CLIENT_IP]["points"] if p["access"] == "read")
    responses = {(e["unit_id"], e["function_code"], e["address"], e["quantity"]): e["values"] for e in events
                 if e.get("proto") == "modbus" and e["direction"] == "response" and e["exception_code"] is None}
    for op, res in zip(SCRIPT, captures[port].results):
        if op.access != "read" or res["exception_code"] is not None:
            continue
        got = responses[(op.unit, op.function_code, op.address, op.quantity)]
        expected = [int(v) for v in res["values"]]
        assert got[:len(expected)] == expected, (op, got, expected)


@pytest.mark.parametrize("port", PORTS)
def test_points_name_their_function_and_table(analysed, port: int) -> None:
    points = analysed[port][0][CLIENT_IP]["points"]
    names = {p["function_code"]: p["function_name"] for p in points}
    assert all(isinstance(n, str) and n for n in names.values()), f"function_name per code: {names}"
    # Coils (1, 5), discrete inputs (2), holding registers (3, 6, 16), input registers (4): four tables.
    tables = {fc: {p["table"] for p in points if p["function_code"] == fc} for fc in names}
    assert all(len(t) == 1 for t in tables.values()), tables
    one = {fc: next(iter(t)) for fc, t in tables.items()}
    assert one[1] == one[5] and one[3] == one[6] == one[16]
    assert len({one[1], one[2], one[3], one[4]}) == 4, one


# --- events -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("port", PORTS)
def test_one_request_and_one_response_per_transaction(analysed, captures, port: int) -> None:
    events = [e for e in analysed[port][1] if e.get("proto") == "modbus"]
    tids = [r["transaction_id"] for r in captures[port].results]
    assert len(set(tids)) == len(SCRIPT)
    by_dir = {d: Counter(e["transaction_id"] for e in events if e["direction"] == d) for d in ("request", "response")}
    assert by_dir["request"] == Counter(tids) and by_dir["response"] == Counter(tids), by_dir
    for e in events:
        server_side = (e["src"], e["sport"]) if e["direction"] == "response" else (e["dst"], e["dport"])
        client_side = (e["dst"], e["dport"]) if e["direction"] == "response" else (e["src"], e["sport"])
        assert server_side == (SERVER_IP, port) and client_side[0] == CLIENT_IP, e
    fcs = {(e["transaction_id"], e["direction"]): e["function_code"] for e in events}
    units = {(e["transaction_id"], e["direction"]): e["unit_id"] for e in events}
    for op, res in zip(SCRIPT, captures[port].results):
        for d in ("request", "response"):
            assert fcs[(res["transaction_id"], d)] == op.function_code, (op.note, d)
            assert units[(res["transaction_id"], d)] == op.unit, (op.note, d)


@pytest.mark.parametrize("port", PORTS)
def test_exception_code_only_on_the_illegal_read(analysed, captures, port: int) -> None:
    events = [e for e in analysed[port][1] if e.get("proto") == "modbus"]
    expected = {r["transaction_id"]: r["exception_code"] for r in captures[port].results}
    assert 2 in expected.values()
    for e in events:
        want = expected[e["transaction_id"]] if e["direction"] == "response" else None
        assert e["exception_code"] == want, e


@pytest.mark.parametrize("port", PORTS)
def test_device_identification_objects_in_events(analysed, captures, port: int) -> None:
    """Each 43/14 response lists the objects pymodbus decoded from it, by id, with the spec's values."""
    events = {e["transaction_id"]: e for e in analysed[port][1]
              if e.get("proto") == "modbus" and e["direction"] == "response"}
    by_id = {i: IDENTITY[name] for name, i in IDENTITY_OBJECT_IDS.items()}
    seen = 0
    for op, res in zip(SCRIPT, captures[port].results):
        if op.function_code == 43:
            objects = {o["id"]: o["value"] for o in events[res["transaction_id"]]["objects"]}
            assert objects == {int(k): v for k, v in res["objects"].items()}, op.note
            assert all(by_id[i] == v for i, v in objects.items())
            seen += len(objects)
    assert seen >= 3 + 7, "basic gives 3 objects, regular 7"


@pytest.mark.parametrize("port", PORTS)
def test_written_values_in_request_events(analysed, captures, port: int) -> None:
    requests = {e["transaction_id"]: e for e in analysed[port][1]
                if e.get("proto") == "modbus" and e["direction"] == "request"}
    for op, res in zip(SCRIPT, captures[port].results):
        e = requests[res["transaction_id"]]
        if op.access:
            assert (e["address"], e["quantity"]) == (op.address, op.quantity), op.note
        if op.access == "write":
            assert e["values"] == list(op.values), op.note


# --- the store: idempotent and merging ----------------------------------------------------------------------

def packet_times(pcap: Path, ip: str) -> tuple[float, float]:
    """First and last packet time involving `ip`, read by tshark (independent of the sensor)."""
    out = subprocess.run(["tshark", "-n", "-r", str(pcap), "-Y", f"ip.addr == {ip}", "-T", "fields",
                          "-e", "frame.time_epoch"], capture_output=True, text=True, check=True).stdout
    times = [float(t) for t in out.split()]
    return min(times), max(times)


def test_analysing_the_same_capture_twice_changes_nothing(captures, otsensor, tmp_path: Path) -> None:
    pcap = captures[502].pcap
    once, twice = tmp_path / "once.db", tmp_path / "twice.db"
    analyze(otsensor, [pcap], once)
    analyze(otsensor, [pcap], twice)
    analyze(otsensor, [pcap], twice)
    a, b = assets(otsensor, once), assets(otsensor, twice)
    for ip in (SERVER_IP, CLIENT_IP):
        for key in ("packets", "bytes"):
            if key in a[ip]:
                assert b[ip][key] == a[ip][key], (ip, key)
        assert sorted((point_key(p), p["count"]) for p in b[ip].get("points", [])) == \
            sorted((point_key(p), p["count"]) for p in a[ip].get("points", []))
    assert b == a, "re-analysing the same capture must leave the inventory unchanged"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_two_captures_merge_first_and_last_seen(captures, otsensor, tmp_path: Path) -> None:
    first, second = captures[502].pcap, captures[5020].pcap
    db = tmp_path / "merged.db"
    analyze(otsensor, [first], db)
    analyze(otsensor, [second], db)
    merged = assets(otsensor, db)
    for ip in (SERVER_IP, CLIENT_IP):
        (f0, l0), (f1, l1) = packet_times(first, ip), packet_times(second, ip)
        assert l0 < f1, "the captures were made one after the other"
        assert merged[ip]["first_seen"] == pytest.approx(min(f0, f1), abs=1e-6), ip
        assert merged[ip]["last_seen"] == pytest.approx(max(l0, l1), abs=1e-6), ip
    ports = {s["port"] for s in merged[SERVER_IP]["services"] if s["protocol"] == "modbus"}
    assert ports == {502, 5020}
    # Points are per server and unit, not per port: both runs of the script count twice.
    counts = {point_key(p): p["count"] for p in merged[CLIENT_IP]["points"]}
    expected = Counter((SERVER_IP, op.unit, op.function_code, op.address, op.quantity, op.access)
                       for op in table_ops())
    assert counts == {k: 2 * n for k, n in expected.items()}


# --- other inputs and formats of the same traffic -----------------------------------------------------------

def events_without_file(path: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "file"}
            for line in path.read_text().splitlines() if line.strip()]


def test_pcapng_copy_and_stdin_give_the_same_events(captures, otsensor, tmp_path: Path) -> None:
    """editcap's pcapng copy and the pcap on stdin (`-`) are the same packets: the same events."""
    pcap = captures[502].pcap
    ng = tmp_path / "stack.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(pcap), str(ng)], check=True)
    runs = {}
    for label, source, stdin in (("pcap", pcap, None), ("pcapng", ng, None), ("stdin", "-", pcap.read_bytes())):
        ev = tmp_path / f"{label}.jsonl"
        proc = otsensor("analyze", source, "--strict", "--no-progress", "--db", tmp_path / f"{label}.db",
                        "--events", ev, stdin=stdin)
        assert proc.returncode == 0, (label, proc.stderr[-2000:] if isinstance(proc.stderr, str) else proc.stderr)
        runs[label] = events_without_file(ev)
    assert runs["pcap"] and runs["pcapng"] == runs["pcap"] and runs["stdin"] == runs["pcap"]


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_assets_listing_formats(captures, otsensor, tmp_path: Path, fmt: str) -> None:
    db = tmp_path / "f.db"
    analyze(otsensor, [captures[502].pcap], db)
    proc = otsensor("assets", "--db", db, "--format", fmt)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert any(SERVER_IP in line for line in lines) and any(CLIENT_IP in line for line in lines)
    if fmt == "csv":
        rows = list(csv.DictReader(lines))
        assert {r["ip"] for r in rows} == {SERVER_IP, CLIENT_IP}
