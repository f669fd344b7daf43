"""Every registered protocol keeps the framework's promises (DESIGN.md "A protocol package").

Registering a protocol without these fails the suite: golden files, a tshark oracle test (or, where
Debian's tshark has no dissector, a documented golden check), a hypothesis fuzz test, an action from the
shared vocabulary for every function its golden events name, every weird code documented in its package
and in the README, and a README row.
"""
from __future__ import annotations

import json
import re

import pytest
from helpers import REPO_ROOT

from protocols import BUILTIN
from protocols.base import ACTIONS

TESTS = REPO_ROOT / "tests"
GOLDEN = TESTS / "golden"
README = (REPO_ROOT / "README.md").read_text()
NAMED_UNKNOWN = re.compile(r"^(unknown|user_defined|reserved|vendor)_0x[0-9a-f]+")
NO_TSHARK_DISSECTOR: dict[str, str] = {}  # protocol -> why its golden files stand in for the oracle


def golden_cases(protocol: str) -> list[str]:
    from golden.regenerate import PROTOCOL_OF

    return sorted(name for name, proto in PROTOCOL_OF.items() if proto == protocol)


def golden_events(protocol: str) -> list[dict]:
    events = []
    for case in golden_cases(protocol):
        lines = (GOLDEN / case / "events.jsonl").read_text().splitlines()[1:]
        events += [e for e in map(json.loads, lines) if e["proto"] in (protocol, "weird")]
    return events


@pytest.fixture(params=[spec.name for spec in BUILTIN])
def spec(request):
    return next(s for s in BUILTIN if s.name == request.param)


def test_names_are_unique_and_ports_are_pairs():
    assert len({s.name for s in BUILTIN}) == len(BUILTIN)
    for s in BUILTIN:
        assert all(t in ("tcp", "udp") and 0 < p < 65536 for t, p in s.ports), s.name
        assert s.framer is not None or s.datagram is not None, s.name


def test_golden_files(spec):
    cases = golden_cases(spec.name)
    assert cases, f"{spec.name}: no golden case in tests/golden/regenerate.py"
    for case in cases:
        assert (GOLDEN / case / "events.jsonl").is_file() and (GOLDEN / case / "assets.json").is_file(), case
    assert any(e["proto"] == spec.name for e in golden_events(spec.name)), f"{spec.name}: golden cases have no message"


def test_tshark_oracle(spec):
    oracle = TESTS / "oracle" / f"test_{spec.name}_vs_tshark.py"
    assert oracle.is_file() or spec.name in NO_TSHARK_DISSECTOR, f"{spec.name}: no {oracle.relative_to(REPO_ROOT)}"


def test_fuzz(spec):
    fuzz = TESTS / "fuzz" / f"test_{spec.name}_fuzz.py"
    assert fuzz.is_file() and "hypothesis" in fuzz.read_text(), f"{spec.name}: no hypothesis test {fuzz.name}"


def test_an_action_for_every_function(spec):
    assert spec.actions, f"{spec.name}: no action table"
    assert set(spec.actions.values()) <= set(ACTIONS), set(spec.actions.values()) - set(ACTIONS)
    for event in golden_events(spec.name):
        if event["proto"] != spec.name:
            continue
        assert event["action"] in ACTIONS, event
        name = event["function_name"]
        named = name in spec.actions or any(key.startswith(f"{name}/") or key.startswith(f"{name}.")
                                           for key in spec.actions)
        assert named or NAMED_UNKNOWN.match(name) or event["action"] == "other" or event["direction"] == "response", \
            f"{spec.name}: function {name!r} has no row in the action table"


def test_every_weird_code_is_documented(spec):
    assert spec.weirds and all(text.strip() for text in spec.weirds.values()), spec.name
    seen = {e["name"] for e in golden_events(spec.name) if e["proto"] == "weird" and e["layer"] == spec.name}
    assert seen <= set(spec.weirds), f"{spec.name}: undocumented weirds {seen - set(spec.weirds)}"
    missing = [code for code in spec.weirds if f"`{code}`" not in README]
    assert not missing, f"README lists no {missing}"


def test_a_readme_row(spec):
    assert re.search(rf"^\| `?{spec.name}`? \|", README, re.MULTILINE), f"README has no protocol row for {spec.name}"


def test_the_readme_shows_the_packages_tables():
    from scripts.protocol_tables import tables

    assert tables() in README, "README's protocol tables are stale: paste `python scripts/protocol_tables.py`"
