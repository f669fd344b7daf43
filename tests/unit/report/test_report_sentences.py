"""The top ten: one sentence per finding, in words a plant manager uses, riskiest first."""
from __future__ import annotations

import pytest
from report_plant import OFFICE, PLC, build

from sensor.report.gather import gather
from sensor.report.sentences import describe, service_words, top_ten
from sensor.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    db, policy = build(tmp_path_factory.mktemp("plant"))
    with Store.open(str(db)) as store:
        return gather(store, policy)


def test_the_pivot_chain_comes_first_and_names_the_conduit(data: dict):
    first = data["top_ten"][0]
    assert first["kind"] == "pivot" and first["subject"] == PLC
    assert first["sentence"].startswith("The PLC 10.10.0.5 (Schneider Electric BMX P34 2020) can be written to")
    assert "from the enterprise network through the computer 10.35.0.10, then the engineering workstation" in first["sentence"]
    assert "restrict the RDP (remote desktop) conduit from enterprise to dmz" in first["sentence"]


def test_the_direct_write_is_a_violation_with_the_zones(data: dict):
    (violation,) = [t for t in data["top_ten"] if t["kind"] == "violation"]
    assert violation["sentence"] == (
        f"The computer {OFFICE} in enterprise talks modbus to the PLC {PLC} (Schneider Electric BMX P34 2020) in "
        "field, which no conduit allows: block it at the firewall between enterprise and field, or add a conduit "
        "if the business needs it.")


def test_a_chain_that_is_the_tail_of_a_longer_one_is_not_repeated(data: dict):
    pivots = sorted(len(p["hops"]) for p in data["paths"] if p["pivot"])
    assert pivots == [2, 3]  # jump host -> EWS -> PLC is the tail of office -> jump host -> EWS -> PLC
    (pivot,) = [t for t in data["top_ten"] if t["kind"] == "pivot"]
    assert "from the enterprise network" in pivot["sentence"]


def test_at_most_ten_ranked_from_one():
    assets = [{"id": f"10.10.0.{i}", "zone": "field", "type": "plc", "name": None, "vendor": None, "product": None}
              for i in range(30)]
    violations = [{"rule": "policy.no_conduit", "src": "10.40.0.1", "dst": a["id"], "proto": "modbus", "severity": 8}
                  for a in assets]
    data = {"assets": assets, "exposure": [], "paths": [], "violations": violations, "alerts": [],
            "blind": {"loss": [], "zones": {}}, "run": {"policy_zones": 5}}
    ranked = top_ten(data)
    assert [t["rank"] for t in ranked] == list(range(1, 11))


def test_words():
    assert describe(None, "10.0.0.1") == "the device 10.0.0.1"
    assert describe({"type": "historian", "name": "hist01", "vendor": None, "product": None}, "10.0.0.2") == "the historian hist01"
    assert service_words("tcp/445", 445) == "SMB (file sharing)"
    assert service_words("modbus", 502) == "modbus"
