"""A realistic plant made with real stacks (tests/e2e/plant): the inventory must match what was built.

Four PLCs and a Modbus gateway (pymodbus servers with device identification), an HMI, an operator panel, a
SCADA front end, a historian and an engineering station (pymodbus clients), a router answering DHCP and a
laptop joining by DHCP from 0.0.0.0, then broadcasting to 10.20.1.255 and 224.0.0.251; each host in its own
network namespace on one bridge, captured there, run ten times faster than real time and stretched back.
The expectations come from what the generator built and what its clients recorded, never from the sensor.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_otsensor

sys.path.insert(0, str(Path(__file__).resolve().parent / "plant"))
from make_plant import PLCS, Plant, build, namespaces_available  # noqa: E402

from protocols import NAMING

pytestmark = pytest.mark.realtime  # a plant played faster than real time: alone on the machine (scripts/test)

PERIOD_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Plant:
    why_not = namespaces_available()
    if why_not is not None:
        pytest.skip(f"the plant cannot be built here: {why_not}")
    return build(tmp_path_factory.mktemp("plant"))


def inventory(plant: Plant, tmp: Path, *extra: str) -> dict[str, dict]:
    """`otsensor analyze` the plant's capture into a fresh database, then `otsensor assets --format json`."""
    db = tmp / "plant.db"
    done = run_otsensor("analyze", plant.pcap, "--db", db, "--strict", "--no-progress", *extra)
    assert done.returncode == 0, f"analyze exit {done.returncode}:\n{done.stderr[-3000:]}"
    listed = run_otsensor("assets", "--db", db, "--format", "json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assets = json.loads(listed.stdout)
    return {a["ip"] or a["mac"]: a for a in assets}


@pytest.fixture(scope="module")
def assets(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The plain run: no policy, so the sensor knows no netmask."""
    return inventory(plant, tmp_path_factory.mktemp("analysed"))


@pytest.fixture(scope="module")
def assets_with_zones(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The same capture with a zones-only policy naming the plant's network."""
    tmp = tmp_path_factory.mktemp("analysed_zones")
    policy = tmp / "zones.yaml"
    policy.write_text(f"zones:\n  - {{name: plant, level: 1, networks: [{plant.network}]}}\n")
    return inventory(plant, tmp, "--policy", policy)


def by_name(plant: Plant, name: str) -> tuple[str, dict]:
    return next((ip, e) for ip, e in plant.expected.items() if e["name"] == name)


def is_multicast(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_multicast
    except ValueError:
        return False  # a MAC-keyed asset


# --- the plant itself, checked with tshark (independent of the sensor) ----------------------------------------

@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
def test_the_capture_holds_what_the_plant_claims(plant: Plant) -> None:
    fields = subprocess.run(
        ["tshark", "-r", str(plant.pcap), "-Y", "dhcp or nbns or mdns or (modbus and mbtcp.prot_id == 0)",
         "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "dhcp.option.dhcp", "-e", "_ws.col.Protocol",
         "-e", "tcp.dstport"], capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in fields]
    dhcp = [(src, dst, kind) for src, dst, kind, *_ in rows if kind]
    assert dhcp == [("0.0.0.0", "255.255.255.255", "1"), ("10.20.1.1", "255.255.255.255", "2"),
                    ("0.0.0.0", "255.255.255.255", "3"), ("10.20.1.1", "255.255.255.255", "5")], dhcp
    assert sum(1 for r in rows if r[1] == plant.broadcast and r[3] == "NBNS") == 3
    assert sum(1 for r in rows if r[1] == "224.0.0.251" and r[3] == "MDNS") == 1
    requests = sum(1 for r in rows if r[3] == "Modbus/TCP" and r[4] == "502")
    assert requests == sum(e.get("requests", 0) for e in plant.expected.values())


def test_the_capture_is_stretched_to_plant_time(plant: Plant) -> None:
    """The last frame lies at least the plant's duration after the first (start-up adds a little)."""
    done = subprocess.run(["tcpdump", "-r", str(plant.pcap), "-nn", "-tt", "-c", "1"], capture_output=True,
                          text=True, check=True)
    first = float(done.stdout.split()[0])
    last = float(subprocess.run(["tcpdump", "-r", str(plant.pcap), "-nn", "-tt"], capture_output=True, text=True,
                                check=True).stdout.splitlines()[-1].split()[0])
    assert plant.plant_seconds <= last - first <= plant.plant_seconds * 1.5, (first, last)


# --- addresses that are no hosts -----------------------------------------------------------------------------

def test_unspecified_limited_broadcast_and_multicast_are_no_assets(plant: Plant, assets: dict[str, dict]) -> None:
    assert not {"0.0.0.0", "255.255.255.255"} & set(assets)
    assert not [ip for ip in assets if is_multicast(ip)]


def test_the_directed_broadcast_is_no_asset(plant: Plant, assets: dict[str, dict]) -> None:
    """10.20.1.255 is the subnet's broadcast: its frames go to ff:ff:ff:ff:ff:ff, nobody answers."""
    asset = assets.get(plant.broadcast)
    assert asset is None, (f"{plant.broadcast} (directed broadcast of {plant.network}) is an asset: "
                           f"{ {k: asset[k] for k in ('device_type', 'device_type_reasons', 'mac', 'packets')} }")


def test_the_directed_broadcast_is_no_asset_when_a_policy_names_the_network(
        plant: Plant, assets_with_zones: dict[str, dict]) -> None:
    assert plant.broadcast not in assets_with_zones
    assert not set(plant.not_hosts) & set(assets_with_zones)


def test_every_host_built_is_an_asset_and_nothing_else(plant: Plant, assets: dict[str, dict]) -> None:
    extra = set(assets) - set(plant.expected) - set(plant.not_hosts)
    missing = set(plant.expected) - set(assets)
    assert not missing and not extra, f"missing {sorted(missing)}; unexpected {sorted(extra)}"


def test_each_host_has_the_mac_of_its_interface(plant: Plant, assets: dict[str, dict]) -> None:
    wrong = {ip: (assets[ip]["mac"], e["mac"]) for ip, e in plant.expected.items()
             if ip in assets and (assets[ip]["mac"] or "").lower() != e["mac"]}
    assert not wrong, wrong


def test_device_types_follow_behaviour(plant: Plant, assets: dict[str, dict]) -> None:
    """All at once, so one run shows every host that came out wrong, with the sensor's reasons."""
    wrong = {f"{e['name']} {ip}": {"expected": e["device_type"], "got": assets[ip]["device_type"],
                                   "reasons": assets[ip]["device_type_reasons"]}
             for ip, e in plant.expected.items() if ip in assets and assets[ip]["device_type"] != e["device_type"]}
    assert not wrong, json.dumps(wrong, indent=1)


# --- PLCs ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(PLCS))
def test_plc_is_a_plc_with_the_identity_it_announced(plant: Plant, assets: dict[str, dict], name: str) -> None:
    ip, expected = by_name(plant, name)
    asset = assets[ip]
    assert asset["device_type"] == "plc", asset["device_type_reasons"]
    assert any(r.startswith("answers modbus requests on tcp/502") for r in asset["device_type_reasons"]), \
        asset["device_type_reasons"]
    if expected["identity"] is None:  # nobody read its 43/14: it announced nothing
        assert asset["identity"] is None, asset["identity"]
        return
    configured = expected["configured_identity"]
    assert expected["identity"] == {"vendor": configured["VendorName"], "product": configured["ProductCode"],
                                    "revision": configured["MajorMinorRevision"]}, "the plant itself misbehaved"
    got = asset["identity"] or {}
    assert {k: got.get(k) for k in ("vendor", "product", "revision")} == expected["identity"], got
    assert (got.get("product_name"), got.get("model_name")) == (configured["ProductName"], configured["ModelName"])
    assert "43/14" in (got.get("source") or ""), got.get("source")


def test_the_any_unit_plc_lists_the_unit_ids_polled(plant: Plant, assets: dict[str, dict]) -> None:
    ip, expected = by_name(plant, "gateway")
    assert expected["any_unit"] and len(expected["unit_ids"]) > 1
    assert assets[ip]["unit_ids"] == expected["unit_ids"]
    units = ", ".join(map(str, expected["unit_ids"]))
    assert f"answers modbus requests on tcp/502 for unit ids {units}" in assets[ip]["device_type_reasons"]


def test_single_unit_plcs_list_only_their_unit(plant: Plant, assets: dict[str, dict]) -> None:
    for ip, e in plant.expected.items():
        if e["device_type"] == "plc" and not e["any_unit"]:
            assert assets[ip]["unit_ids"] == e["unit_ids"] == [1], (e["name"], assets[ip]["unit_ids"])


# --- clients: the measured evidence -----------------------------------------------------------------------------

POLLED = re.compile(r"polls (\d+) server\(s\) every ([0-9.eE+-]+) s \((\d+)% of (\d+) cycle gaps")


@pytest.mark.parametrize("name", ["hmi", "panel", "scada", "historian"])
def test_poller_type_and_measured_period(plant: Plant, assets: dict[str, dict], name: str) -> None:
    ip, expected = by_name(plant, name)
    asset = assets[ip]
    reasons = asset["device_type_reasons"]
    assert asset["device_type"] == expected["device_type"], reasons
    polled = [m for m in map(POLLED.search, reasons) if m]
    assert len(polled) == 1, f"no reason states the polling period: {reasons}"
    servers, period, _share, gaps = polled[0].groups()
    assert int(servers) == len(expected["servers"]), reasons
    assert abs(float(period) - expected["period_s"]) <= PERIOD_TOLERANCE * expected["period_s"], \
        f"measured {period} s, generated {expected['period_s']} s: {reasons}"
    # one cycle gap per cycle of each connection, give or take cycles split by a slow request: the plant runs 10x
    # faster than real time, so a request held 5 ms by a busy machine is a 50 ms gap in plant time (measured: 6.6 %
    # more gaps with six other jobs on the two cores)
    assert abs(int(gaps) - (expected["cycles"] - len(expected["servers"]))) <= 0.10 * expected["cycles"], reasons


def test_hmi_reasons_count_the_operator_writes(plant: Plant, assets: dict[str, dict]) -> None:
    ip, expected = by_name(plant, "hmi")
    assert expected["writes"] > 0
    assert f"and writes ({expected['writes']} write requests)" in assets[ip]["device_type_reasons"]


def test_historian_reasons_say_read_only(plant: Plant, assets: dict[str, dict]) -> None:
    ip, expected = by_name(plant, "historian")
    assert expected["writes"] == 0
    assert any(r.startswith(f"reads only ({expected['reads']} read requests)")
               for r in assets[ip]["device_type_reasons"]), assets[ip]["device_type_reasons"]


def test_engineering_station_reasons_count_identification_reads(plant: Plant, assets: dict[str, dict]) -> None:
    ip, expected = by_name(plant, "eng")
    asset = assets[ip]
    assert asset["device_type"] == "engineering_station", asset["device_type_reasons"]
    assert f"ran diagnostics or read device identification ({expected['identify']} requests)" in \
        asset["device_type_reasons"]


@pytest.mark.parametrize("name", ["hmi", "eng"])
def test_points_written_carry_the_last_values(plant: Plant, assets: dict[str, dict], name: str) -> None:
    ip, expected = by_name(plant, name)
    assert expected["last_written"]
    points = {(p["server"], p["function_code"], p["address"]): p for p in assets[ip]["points"]
              if p["access"] == "write"}
    for server, fc, address, values in expected["last_written"]:
        assert points[(server, fc, address)]["last_values"] == values, (server, fc, address)


def test_it_hosts(plant: Plant, assets: dict[str, dict]) -> None:
    for name in ("router", "laptop"):
        ip, _ = by_name(plant, name)
        assert assets[ip]["device_type"] == "it_host", assets[ip]["device_type_reasons"]
        assert all(role.split("_")[0] in NAMING for role in assets[ip]["roles"])  # a DHCP server, no OT role
