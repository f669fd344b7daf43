"""A flat plant (PLCs, HMIs and an engineering station on one /24) gets zones by device type and its conduits."""
from __future__ import annotations

import yaml
from policy_fixtures import T0, row

from sensor.policy.commands import run_policy_check, suggest_policy
from sensor.policy.policy_file import parse_policy
from sensor.policy.suggest import asset_level

PLC, IED, HMI, EWS, SCADA = "192.168.1.10", "192.168.1.11", "192.168.1.20", "192.168.1.30", "192.168.1.40"
ASSETS = [{"ip": PLC, "device_type": "plc"},
          {"ip": IED, "device_type": "it_host", "services": [{"protocol": "dnp3", "transport": "tcp", "port": 20000}]},
          {"ip": HMI, "device_type": "hmi"}, {"ip": EWS, "device_type": "engineering_station"},
          {"ip": SCADA, "device_type": "historian"}]
ROWS = [{**row(HMI, PLC, actions={"read_holding_registers": 50}), "sample_frames": [["plant.pcap", 7]]},
        row(EWS, PLC, actions={"write_multiple_registers": 1}, t=T0 + 1),
        row(SCADA, IED, 20000, "dnp3", actions={"read": 9}, t=T0 + 2)]


def test_a_device_answering_an_industrial_protocol_is_a_field_device() -> None:
    assert asset_level(ASSETS[1]) == 1
    assert asset_level({"ip": "10.0.0.1", "services": [{"protocol": "http", "transport": "tcp", "port": 80}]}) == 4


def test_devices_of_another_level_than_their_subnet_are_zoned_on_their_own() -> None:
    doc = yaml.safe_load(suggest_policy(ROWS, ASSETS))
    zones = {z["name"]: (z["level"], z["networks"]) for z in doc["zones"]}
    assert zones == {"controllers": (1, ["192.168.1.0/24"]),
                     "supervisory": (2, [f"{HMI}/32", f"{EWS}/32"]),
                     "operations": (3, [f"{SCADA}/32"])}
    conduits = {(c["from"], c["to"], tuple(c["services"])) for c in doc["conduits"]}
    assert conduits == {("supervisory", "controllers", ("modbus",)), ("operations", "controllers", ("dnp3",))}


def test_conduits_cite_their_evidence_and_enforcing_them_raises_nothing() -> None:
    text = suggest_policy(ROWS, ASSETS)
    assert "  # evidence: plant.pcap frame 7\n  # functions: read_holding_registers x50, write_multiple_registers" \
           in text
    _, alerts = run_policy_check(parse_policy(text), ROWS, ASSETS)
    assert alerts == []
