"""A real bacpypes3 BACnet/IP device and client in two network namespaces, captured, analysed by the CLI.

The device (stacks/bacnet_device.py) announces the identity of stacks/bacnet_script.py; the client
(stacks/bacnet_client.py) sends Who-Is, reads the device object's identity properties one by one and with
ReadPropertyMultiple, reads and writes an analog value. tcpdump records it on the device's veth
(stacks/bacnet_capture.py), ``otsensor analyze --strict`` reads the capture and ``otsensor assets --format json``
must show the device with the instance, vendor, model, firmware and name it announced, and the client as a client.
Expectations come from the script and from what the bacpypes3 client decoded, never from the sensor's output.

Both ends use UDP 47808 and the flow's first datagram is the device's unicast I-Am, so the port cannot say which
end serves: the first request does (sensor/dissect/generic.py), and the service is the device's.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from bacnet_capture import BacnetCapture, capture  # noqa: E402
from bacnet_script import (  # noqa: E402
    ANALOG_VALUE,
    CLIENT_IP,
    DEVICE_INSTANCE,
    DEVICE_IP,
    IDENTITY,
    VENDOR_ID,
    WRITE_VALUE,
)

pytest.importorskip("bacpypes3", reason="bacpypes3 is a test extra (pip install bacpypes3)")
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("ip") is None,
                                reason="needs root, ip (network namespaces) and tcpdump")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> BacnetCapture:
    return capture(tmp_path_factory.mktemp("bacnet_stack") / "bacnet_stack.pcap")


@pytest.fixture(scope="module")
def analysed(run: BacnetCapture, otsensor: Callable, tmp_path_factory: pytest.TempPathFactory):
    """(assets by ip, events) of the capture analysed into a fresh database."""
    tmp = tmp_path_factory.mktemp("bacnet_analysed")
    proc = otsensor("analyze", run.pcap, "--strict", "--db", tmp / "a.db", "--events", tmp / "events.jsonl")
    assert proc.returncode == 0, f"analyze exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    listing = otsensor("assets", "--db", tmp / "a.db", "--format", "json")
    assert listing.returncode == 0, listing.stderr[-3000:]
    events = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines() if line.strip()]
    return {a["ip"]: a for a in json.loads(listing.stdout)}, events


def bacnet(events: list[dict]) -> list[dict]:
    return [e for e in events if e["proto"] == "bacnet"]


def confirmed_requests(analysed) -> list[dict]:
    """The confirmed requests seen: one per call of the client."""
    return [e for e in bacnet(analysed[1]) if e["pdu_type"] == 0]


def test_the_client_read_what_the_device_announces(run: BacnetCapture) -> None:
    """The stacks themselves worked: without this, an empty inventory would prove nothing."""
    assert run.results["i_am"]["device_instance"] == DEVICE_INSTANCE and run.results["i_am"]["vendor_id"] == VENDOR_ID
    read = {c["property"]: c["value"] for c in run.results["calls"] if c["object"] == f"device,{DEVICE_INSTANCE}"
            and c["service"] == "read_property"}
    assert read == IDENTITY


def test_no_weird_and_every_datagram_is_a_message(analysed) -> None:
    _, events = analysed
    assert not [e for e in events if e["proto"] == "weird"]
    assert len(bacnet(events)) == 2 + 2 * len(confirmed_requests(analysed))


def test_who_is_i_am_and_the_confirmed_requests_in_order(analysed, run: BacnetCapture) -> None:
    events = bacnet(analysed[1])
    assert [(e["function_name"], e["direction"], e["src"]) for e in events[:2]] == [
        ("who_is", "request", CLIENT_IP), ("i_am", "announce", DEVICE_IP)]
    assert events[1]["device_instance"] == DEVICE_INSTANCE and events[1]["vendor_id"] == VENDOR_ID
    requests = confirmed_requests(analysed)
    assert [e["function_name"] for e in requests] == [c["service"] for c in run.results["calls"]]
    assert all(e["src"] == CLIENT_IP for e in requests)


def test_each_ack_pairs_with_its_request_by_invoke_id(analysed) -> None:
    events = bacnet(analysed[1])
    requests = {e["invoke_id"]: e for e in events if e["pdu_type"] == 0}
    answers = [e for e in events if e["pdu_type"] in (2, 3)]
    assert len(answers) == len(requests)
    for answer in answers:
        request = requests[answer["invoke_id"]]
        assert answer["function_name"] == request["function_name"] and answer["src"] == DEVICE_IP


def test_acks_carry_the_values_the_client_decoded(analysed, run: BacnetCapture) -> None:
    acks = [e for e in bacnet(analysed[1]) if e["function_name"] == "read_property" and e["pdu_type"] == 3]
    ours = [(r["object"], r["property"], r["values"][0]) for e in acks for r in e["references"]]
    theirs = [(c["object"], c["property"], c["value"]) for c in run.results["calls"] if c["service"] == "read_property"]
    assert ours == theirs


def test_the_device_asset_has_the_identity_it_announced(analysed) -> None:
    assets, _ = analysed
    device = assets[DEVICE_IP]
    assert "bacnet_device" in device["roles"]
    identity = device["identity"]
    assert identity["device_instance"] == DEVICE_INSTANCE and identity["vendor_id"] == VENDOR_ID
    assert (identity["vendor"], identity["model"], identity["firmware"], identity["name"]) == (
        IDENTITY["vendor-name"], IDENTITY["model-name"], IDENTITY["firmware-revision"], IDENTITY["object-name"])
    assert identity["application_software_version"] == IDENTITY["application-software-version"]
    assert identity["location"] == IDENTITY["location"] and identity["description"] == IDENTITY["description"]
    assert IDENTITY["object-name"] in device["hostnames"]


def test_the_client_is_a_client_with_no_identity(analysed) -> None:
    client = analysed[0][CLIENT_IP]
    assert client["roles"] == ["bacnet_client"] and client["identity"] is None
    assert not any(s["protocol"] == "bacnet" for s in client["services"])


def test_the_device_serves_bacnet_on_47808(analysed) -> None:
    services = analysed[0][DEVICE_IP]["services"]
    assert {"protocol": "bacnet", "transport": "udp", "port": 47808} in services


def test_points_read_and_the_value_written(analysed) -> None:
    points = [p for a in analysed[0].values() for p in a.get("points") or []]
    written = [p for p in points if p["access"] == "write"]
    assert [(p["table"], p["address"], p["name"], p["last_values"]) for p in written] == [
        ("analog-value", ANALOG_VALUE, "present-value", [WRITE_VALUE])]
    read = {(p["table"], p["address"], p["name"]) for p in points if p["access"] == "read"}
    assert {("device", DEVICE_INSTANCE, prop) for prop in IDENTITY} <= read
    assert ("analog-value", ANALOG_VALUE, "present-value") in read


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_reads_the_same_services_and_instance(run: BacnetCapture, analysed) -> None:
    out = subprocess.run(["tshark", "-n", "-r", str(run.pcap), "-Y", "bacapp", "-T", "fields", "-E", "occurrence=f",
                          "-e", "bacapp.type", "-e", "bacapp.confirmed_service", "-e", "bacapp.unconfirmed_service",
                          "-e", "bacapp.instance_number"], capture_output=True, text=True, timeout=120, check=True)
    theirs = [tuple(int(c) if c else None for c in line.split("\t")) for line in out.stdout.splitlines()]
    ours = [(e["pdu_type"], e["service_choice"] if e["pdu_type"] != 1 else None,
             e["service_choice"] if e["pdu_type"] == 1 else None) for e in bacnet(analysed[1])]
    assert [t[:3] for t in theirs] == ours
    assert theirs[1][3] == DEVICE_INSTANCE  # the I-Am
