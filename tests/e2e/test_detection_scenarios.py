"""Detection scenarios made with real pymodbus stacks in the realistic plant (tests/e2e/scenarios).

The plant (tests/e2e/plant) runs an hour of normal traffic, forty times faster than real time and stretched
back, and the sensor learns a baseline from it. A second run with another seed plays another hour of normal
traffic, then the scenarios of ``make_scenarios.SCENARIOS``. ``otsensor analyze --baseline`` over each must
give: no alert for normal traffic; for each scenario exactly one alert (distinct ``id``), on the attacker's
and victim's addresses, naming every rule that saw it (a signature and a model that see the same episode
join into one alert). Takes about four minutes: two plant hours and two slots of scenarios at 40x.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run_otsensor

sys.path.insert(0, str(Path(__file__).resolve().parent / "scenarios"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "plant"))
from make_plant import namespaces_available  # noqa: E402
from make_scenarios import NORMAL_S, SCENARIOS, SLOT_S, Scenario, attacked, normal, start  # noqa: E402

pytestmark = pytest.mark.realtime  # a plant played faster than real time: alone on the machine (scripts/test)


@dataclass
class Run:
    normal: list[dict]  # alerts of the learning capture itself
    attacked: list[dict]  # alerts of the second run: its normal hour, then the scenarios
    t0: float  # plant time 0 of the second run, in capture time


def alerts(pcap: Path, baseline: Path, tmp: Path) -> list[dict]:
    """Distinct alerts (the newest copy of each id) of `otsensor analyze --baseline`, in order of time."""
    out = tmp / f"{pcap.parent.name}.jsonl"
    done = run_otsensor("analyze", pcap, "--baseline", baseline, "--alerts", out, "--db", tmp / f"{pcap.parent.name}.db",
                        "--strict", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    newest = {}
    for line in out.read_text().splitlines():
        alert = json.loads(line)
        newest[alert["id"]] = alert
    return sorted(newest.values(), key=lambda a: (a["ts"], a["id"]))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    why_not = namespaces_available()
    if why_not is not None:
        pytest.skip(f"the plant cannot be built here: {why_not}")
    tmp = tmp_path_factory.mktemp("scenarios")
    learned = normal(tmp / "normal")
    baseline = tmp / "baseline.json"
    done = run_otsensor("learn", learned.pcap, "--baseline", baseline)
    assert done.returncode == 0, done.stderr[-3000:]
    plant = attacked(tmp / "attacked", learned)
    return Run(alerts(learned.pcap, baseline, tmp), alerts(plant.pcap, baseline, tmp), plant.t0)


def show(alerts: list[dict]) -> str:
    return "\n".join(f"  {a['src']} -> {a['dst']} {a['rules']} kinds {a['evidence']['kinds']} ({a['count']} frames): "
                     f"{a['summary']}" for a in alerts) or "  none"


def normal_hour(run: Run) -> list[dict]:
    return [a for a in run.attacked if a["ts"] < run.t0 + NORMAL_S]


def of_scenario(run: Run, s: Scenario) -> list[dict]:
    """The alerts that begin in the scenario's slot on its channel (slots outlast an episode's gap)."""
    begin = run.t0 + NORMAL_S + s.slot * SLOT_S
    return [a for a in run.attacked if begin <= a["ts"] < begin + SLOT_S and (a["src"], a["dst"]) == (s.src, s.dst)]


# --- normal traffic ------------------------------------------------------------------------------------------------

def test_the_learned_hour_gives_no_alert(run: Run) -> None:
    assert not run.normal, f"the hour the baseline was learned from gives alerts:\n{show(run.normal)}"


def test_a_normal_hour_with_another_seed_gives_no_alert(run: Run) -> None:
    assert not normal_hour(run), f"an hour of normal traffic (seed 8, never learned) gives alerts:\n{show(normal_hour(run))}"


def test_nothing_alerts_outside_the_scenarios(run: Run) -> None:
    """After the normal hour, every alert is on the channel of a scenario of its slot."""
    ids = {a["id"] for s in SCENARIOS for a in of_scenario(run, s)}
    stray = [a for a in run.attacked if a["ts"] >= run.t0 + NORMAL_S and a["id"] not in ids]
    assert not stray, f"alerts no scenario explains:\n{show(stray)}"


# --- one alert per scenario ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_scenario_gives_one_alert_naming_its_rules(run: Run, scenario: Scenario) -> None:
    found = of_scenario(run, scenario)
    assert len(found) == 1, f"{scenario.name} ({scenario.what}) gives {len(found)} alerts:\n{show(found)}"
    alert = found[0]
    assert (alert["src"], alert["dst"]) == (scenario.src, scenario.dst)
    assert set(scenario.rules) <= set(alert["rules"]), show(found)  # a flood's end may add baseline.schedule
    # a forest window starts up to its width (60 s) before the scenario, and lists every frame of the window
    assert run.t0 + start(scenario, NORMAL_S) - 60 <= alert["ts"], "the alert begins before the scenario"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_scenario_is_seen_by_every_rule_expected(run: Run, scenario: Scenario) -> None:
    """Whether or not they join, the rules that should see the scenario do, on its channel."""
    found = of_scenario(run, scenario)
    named = {r for a in found for r in a["rules"]}
    assert set(scenario.rules) <= named, show(found)
