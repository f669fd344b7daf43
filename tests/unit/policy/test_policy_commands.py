"""The functions the command line calls: document shapes, stored zones, the table."""
from __future__ import annotations

import json

import pytest
from policy_fixtures import EWS, HMI, JUMP_HOST, OFFICE_PC, PLANT_POLICY, PLC, T0, row

from sensor.policy.commands import NO_ZONES, STORED_VERDICT, paths_document, render_paths_table, run_policy_check
from sensor.policy.policy_file import PolicyError

PIVOT = [row(OFFICE_PC, JUMP_HOST, 3389, "tcp", T0), row(JUMP_HOST, EWS, 3389, "tcp", T0 + 600),
         row(EWS, PLC, 502, "modbus", T0 + 1200, actions={"write_single_register": 1})]
HOP_FIELDS = {"src", "dst", "service", "first_seen", "actions"}


def test_run_policy_check_from_a_file():
    zones, alerts = run_policy_check(PLANT_POLICY, PIVOT + [row(OFFICE_PC, HMI, 445, "tcp")], [{"ip": "10.99.0.1"}])
    assert zones == {"10.10.0.5": "field", "10.20.0.10": "control", "10.20.50.5": "engineering",
                     "10.35.0.10": "dmz", "10.40.0.7": "enterprise", "10.99.0.1": "unknown"}
    assert [(a["rule"], a["src"], a["dst"]) for a in alerts] == [
        ("policy.no_conduit", OFFICE_PC, HMI), ("path.pivot_chain", OFFICE_PC, PLC)]


def test_bad_policy_stops_before_anything(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\nconduits: [{from: a, to: b}]\n")
    with pytest.raises(PolicyError) as caught:
        run_policy_check(bad, PIVOT, [])
    assert caught.value.line == 3


def test_paths_document_shape_and_json():
    doc = paths_document(PIVOT, [], PLANT_POLICY)
    json.dumps(doc)  # serialisable as it stands
    assert [a["rule"] for a in doc["violations"]] == ["path.pivot_chain"]
    assert [(len(p["hops"]), p["from_zone"], p["to_zone"], p["pivot"], p["allowed"]) for p in doc["paths"]] == [
        (2, "dmz", "field", True, True), (3, "enterprise", "field", True, True)]
    assert all(HOP_FIELDS <= h.keys() for p in doc["paths"] for h in p["hops"])
    assert doc["notes"] == [] and doc["window_s"] == 86400 and doc["max_hops"] == 6


def test_paths_document_marks_breaching_paths():
    doc = paths_document([row(OFFICE_PC, PLC)], [], PLANT_POLICY)
    assert [p["allowed"] for p in doc["paths"]] == [False]


def test_without_policy_zones_come_from_stored_assets():
    assets = [{"ip": OFFICE_PC, "zone": "office", "zone_level": 4}, {"ip": JUMP_HOST, "zone": "dmz", "zone_level": 3.5},
              {"ip": EWS, "zone": "eng", "zone_level": 2}, {"ip": PLC, "zone": "cell", "zone_level": 1},
              {"ip": HMI, "zone": "unknown"}]
    stored = [{"rule": "path.pivot_chain", "category": "policy", "src": OFFICE_PC, "dst": PLC},
              {"rule": "modbus.points_scan", "category": "signature", "src": EWS, "dst": PLC}]
    doc = paths_document(PIVOT + [row(OFFICE_PC, PLC, t=T0 + 5)], assets, None, window_s=3600, stored_alerts=stored)
    assert [(len(p["hops"]), p["pivot"]) for p in doc["paths"]] == [(2, True), (3, True), (1, False)]
    # The stored policy verdicts, as `otsensor alerts` shows them: zones without their conduits would call
    # the jump host's RDP (3.5 -> 2) a level skip although the policy's conduit allows it.
    assert doc["violations"] == stored[:1]
    assert all(p["allowed"] is None for p in doc["paths"])
    assert doc["zones_defined"] and doc["notes"][0].startswith("no --policy: the violations are those analyze")


def test_without_policy_or_stored_levels_there_are_no_paths():
    doc = paths_document(PIVOT, [{"ip": PLC, "zone": "cell"}])
    assert doc == {"violations": [], "paths": [], "notes": [STORED_VERDICT], "window_s": 86400.0, "max_hops": 6,
                   "zones_defined": True}


def test_without_policy_or_stored_zones_it_says_no_zones_are_defined():
    doc = paths_document(PIVOT, [{"ip": PLC, "zone": None}], stored_alerts=[{"rule": "x", "category": "policy"}])
    assert doc["violations"] == [] and not doc["zones_defined"] and doc["notes"] == [NO_ZONES]
    assert render_paths_table(doc).startswith("Violations: not checked, no zones defined\n")


def test_table():
    text = render_paths_table(paths_document(PIVOT + [row(OFFICE_PC, HMI, 445, "tcp")], [], PLANT_POLICY))
    assert "Violations: 2" in text and "policy.no_conduit" in text
    assert "2. enterprise -> field, 3 hop(s) PIVOT allowed" in text
    assert "10.20.50.5 -> 10.10.0.5 modbus [write_single_register x1]" in text
