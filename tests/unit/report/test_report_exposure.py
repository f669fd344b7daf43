"""The exposure scale as the README documents it: each part computed by hand for a small plant."""
from __future__ import annotations

import pytest
from report_plant import EWS, HMI, JUMP, OFFICE, PLC, build

from sensor.report.exposure import enterprise_sources, reach, score_assets, score_zones
from sensor.report.gather import gather
from sensor.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    db, policy = build(tmp_path_factory.mktemp("plant"))
    with Store.open(str(db)) as store:
        return gather(store, policy)


def by_id(data: dict) -> dict[str, dict]:
    return {row["id"]: row for row in data["exposure"]}


def test_shortest_chain_from_the_enterprise(data: dict):
    chains = reach(data)
    assert chains[PLC] == [OFFICE, PLC]  # the direct write beats the pivot chain
    assert chains[EWS] == [OFFICE, JUMP, EWS]
    assert HMI not in chains and OFFICE not in chains  # nothing reaches the HMI; the office is where paths start


def test_parts_of_the_plc_score(data: dict):
    plc = by_id(data)[PLC]
    # reach 1 hop 30; a write (12) from another zone (+10) by a sender in or reachable from the enterprise (+5);
    # a PLC (12) at level 1 (8); the path alert of severity 9 names it.
    assert plc["parts"] == {"reach": 30, "control": 27, "criticality": 20, "alerts": 9}
    assert plc["score"] == 86
    assert data["exposure"][0]["id"] == PLC
    assert any("write (modbus)" in reason for reason in plc["reasons"])


def test_parts_of_devices_nothing_controls(data: dict):
    scores = by_id(data)
    assert scores[EWS]["parts"] == {"reach": 20, "control": 0, "criticality": 15, "alerts": 0}
    assert scores[HMI]["parts"] == {"reach": 0, "control": 0, "criticality": 13, "alerts": 0}


def test_stronger_actions_weigh_more():
    assets = [{"id": ip, "zone": zone, "level": level, "type": "plc", "max_severity": 0, "alerts": 0}
              for ip, zone, level in (("a", "field", 1.0), ("b", "field", 1.0), ("c", "field", 1.0))]
    edges = [{"src": "c", "dst": "a", "rank": 5, "worst": "program_download", "protocol": "s7comm", "ports": []},
             {"src": "c", "dst": "b", "rank": 3, "worst": "write", "protocol": "modbus", "ports": []}]
    scores = {r["id"]: r["parts"]["control"] for r in score_assets({"assets": assets, "edges": edges})}
    assert scores == {"a": 25, "b": 12, "c": 0}


def test_the_dmz_starts_paths_when_no_zone_is_level_4():
    assets = [{"id": "dmz", "level": 3.5}, {"id": "ops", "level": 3.0}, {"id": "x", "level": None}]
    assert enterprise_sources(assets) == {"dmz"}


def test_zone_score_adds_violations_into_it(data: dict):
    zones = {z["zone"]: z for z in score_zones(data)}
    assert zones["field"]["score"] == 86 + 5  # its PLC, plus one policy violation into it
    assert zones["control"]["score"] == 13
