"""``paths`` and ``alerts`` give one answer about one database, and ``paths`` says when it has no zones."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor

SCENARIOS = REPO_ROOT / "captures" / "scenarios"


def analysed(tmp_path: Path, capture: str, *options: object) -> Path:
    db = tmp_path / f"{capture}.db"
    done = run_otsensor("analyze", SCENARIOS / f"{capture}.pcap", "--db", db, *options)
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize("capture", ["allowed_plant", "pivot_chain"])
def test_paths_without_policy_reports_what_alerts_reports(capture: str, tmp_path: Path) -> None:
    """The jump host's RDP into engineering skips level 3 but its conduit allows it: neither command flags it."""
    db = analysed(tmp_path, capture, "--policy", SCENARIOS / "policy.yaml")
    alerts = json.loads(run_otsensor("alerts", "--db", db, "--format", "json").stdout)
    doc = json.loads(run_otsensor("paths", "--db", db, "--format", "json").stdout)
    stored = sorted((a["rule"], a["src"], a["dst"]) for a in alerts if a["category"] == "policy")
    assert sorted((a["rule"], a["src"], a["dst"]) for a in doc["violations"]) == stored
    assert all(a["rule"] != "policy.level_skip" for a in doc["violations"])
    assert doc["notes"][0].startswith("no --policy: the violations are those analyze's policy check stored")


def test_paths_on_a_database_without_zones_says_so(tmp_path: Path) -> None:
    db = analysed(tmp_path, "pivot_chain")
    text = run_otsensor("paths", "--db", db).stdout
    assert text.startswith("Violations: not checked, no zones defined\n")
    assert "Violations: 0" not in text and "Note: no zones defined" in text
