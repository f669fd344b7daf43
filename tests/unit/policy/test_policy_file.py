"""Policy file parsing: the good file loads; every bad one names its line and what is wrong."""
from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from policy_fixtures import PLANT_POLICY, plant

from sensor.policy.policy_file import PolicyError, load_policy, parse_policy

GOOD = """\
zones:
  - name: it
    level: 4
    networks: [10.40.0.0/16]
  - name: dmz
    level: 3.5
    networks: [10.35.0.0/16, "fd00:35::/32"]
  - name: plc
    level: 1
    networks: 10.10.0.0/16
    intra: deny
conduits:
  - from: dmz
    to: plc
    services: [modbus, tcp/502]
    sources: [10.35.0.10]
    destinations: [10.10.0.0/24]
    access: read
default: deny
"""


def error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(textwrap.dedent(text), "p.yaml")
    return caught.value


def test_good_policy_loads():
    policy = parse_policy(GOOD)
    assert [z.name for z in policy.zones] == ["it", "dmz", "plc"]
    assert policy.zones[1].level == 3.5 and len(policy.zones[1].networks) == 2
    assert policy.zones[2].intra_deny and policy.enforcing
    (k,) = policy.conduits
    assert (k.from_zone, k.to_zone, k.read_only, k.name, k.line) == ("dmz", "plc", True, "dmz->plc", 13)
    assert [s.text for s in k.services] == ["modbus", "tcp/502"]


def test_the_scenario_plant_loads():
    assert len(plant().conduits) == 5


def test_flow_style_as_in_the_contract_check():
    policy = parse_policy("zones:\n  - {name: enterprise, level: 4, networks: [10.0.0.0/8]}\n"
                          "  - {name: control, level: 2, networks: [192.168.0.0/16]}\nconduits:\n"
                          "  - {from: control, to: control, services: [modbus]}\ndefault: deny\n")
    assert policy.conduits[0].from_zone == "control"


def test_zones_only_file_checks_level_skips():
    policy = parse_policy("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\n")
    assert policy.default is None and not policy.enforcing


@pytest.mark.parametrize("text, line, words", [
    ("zones:\n  - name: a\n    levl: 4\n    networks: [10.0.0.0/8]\n", 3, "unknown key 'levl'"),
    ("zones:\n  - name: a\n    networks: [10.0.0.0/8]\n", 2, "missing 'level'"),
    ("zones:\n  - {name: a, level: 4, networks: [10.1.2.3/16]}\n", 2, "host bits set; did you mean 10.1.0.0/16"),
    ("zones:\n  - {name: a, level: 4, networks: [10.300.0.0/16]}\n", 2, "not an address or CIDR"),
    ("zones:\n  - {name: a, level: 7, networks: [10.0.0.0/8]}\n", 2, "Purdue level from 0 to 5"),
    ("zones:\n  - {name: a, level: high, networks: [10.0.0.0/8]}\n", 2, "Purdue level"),
    ("zones:\n  - {name: a, level: true, networks: [10.0.0.0/8]}\n", 2, "Purdue level"),
    ("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\n  - {name: a, level: 3, networks: [11.0.0.0/8]}\n",
     3, "zone 'a' is declared twice"),
    ("zones:\n  - {name: unknown, level: 4, networks: [10.0.0.0/8]}\n", 2, "reserved"),
    ("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\n  - {name: b, level: 3, networks: [10.0.0.0/8]}\n",
     3, "already in zone 'a' (line 2)"),
    ("zones:\n  - {name: a, level: 4, networks: []}\n", 2, "has no networks"),
    ("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8], intra: never}\n", 2, "intra must be"),
    ("zones: []\n", 1, "'zones' is empty"),
    ("conduits: []\n", 1, "missing 'zones'"),
    ("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\ncolour: blue\n", 3, "unknown key 'colour'"),
    ("zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\nzones: []\n", 3, "appears twice"),
    ("zones:\n  - name: a\n    level: 4\n    networks: [10.0.0.0/8\n", 5, "not valid YAML"),
    ("- just\n- a list\n", 1, "must be a mapping"),
])
def test_zone_errors_name_the_line(text, line, words):
    err = error(text)
    assert err.line == line, err
    assert words in err.message, err
    assert str(err).startswith(f"p.yaml:{line}: ")


ZONES = "zones:\n  - {name: a, level: 4, networks: [10.0.0.0/8]}\n  - {name: b, level: 1, networks: [11.0.0.0/8]}\n"


@pytest.mark.parametrize("conduit, words", [
    ("{from: a, to: c, services: [modbus]}", "zone 'c', which is not declared"),
    ("{from: a, to: b, services: [modbuss]}", "unknown service 'modbuss'"),
    ("{from: a, to: b, services: [tcp/99999]}", "port must be a number from 1 to 65535"),
    ("{from: a, to: b, services: []}", "at least one service"),
    ("{from: a, to: b}", "missing 'services'"),
    ("{from: a, to: b, services: [modbus], access: write}", "access must be 'read'"),
    ("{from: a, to: b, services: [tcp/445], access: read}", "cannot be checked on tcp/445"),
    ("{from: a, to: b, services: [modbus], sources: [11.0.0.1]}", "source 11.0.0.1/32 is in zone 'b', not 'a'"),
    ("{from: a, to: b, services: [modbus], destinations: [10.0.0.1]}", "is in zone 'a', not 'b'"),
    ("{from: a, to: b, services: [modbus], sources: {x: 1}}", "must be a list"),
    ("{from: a, to: b, services: [modbus], from: b}", "appears twice"),
    ("{from: [a], to: b, services: [modbus]}", "must be a single value"),
])
def test_conduit_errors_name_the_line(conduit, words):
    err = error(ZONES + "conduits:\n  - " + conduit + "\ndefault: deny\n")
    assert err.line == 5, err
    assert words in err.message, err


def test_default_is_required_once_conduits_exist():
    err = error(ZONES + "conduits:\n  - {from: a, to: b, services: [modbus]}\n")
    assert err.line == 1 and "'default' is missing" in err.message


def test_default_must_be_deny_or_allow():
    err = error(ZONES + "default: maybe\n")
    assert err.line == 4 and "default must be 'deny' or 'allow'" in err.message


def test_unknown_zone_may_be_named_in_a_conduit():
    policy = parse_policy(ZONES + "conduits:\n  - {from: unknown, to: b, services: [ntp], sources: [192.0.2.1]}\n"
                          "default: deny\n")
    assert policy.conduits[0].from_zone == "unknown"


def test_empty_file():
    assert error("").line == 1
    assert error("# only a comment\n").message.startswith("the policy is empty")


def test_load_policy_names_the_file(tmp_path):
    bad = tmp_path / "plant.yaml"
    bad.write_text(PLANT_POLICY.read_text().replace("level: 3.5", "level: 9"))
    with pytest.raises(PolicyError) as caught:
        load_policy(bad)
    assert str(caught.value).startswith(f"{bad}:7: level must be")


def test_missing_file():
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy("/nonexistent/policy.yaml")


@given(st.text(max_size=300))
def test_any_text_is_a_policy_or_a_policy_error(text):
    try:
        parse_policy(text)
    except PolicyError as err:
        assert err.line >= 1


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=False) | st.sampled_from(
        ["a", "b", "unknown", "deny", "allow", "read", "modbus", "tcp/502", "10.0.0.0/8", "10.1.2.3", "fd00::/8"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["zones", "conduits", "default", "name", "level", "networks", "intra", "from", "to", "services", "sources",
         "destinations", "access"]), inner, max_size=5),
    max_leaves=25)


@given(_VALUES)
def test_any_yaml_shape_is_a_policy_or_a_policy_error(value):
    try:
        parse_policy(yaml.safe_dump(value))
    except PolicyError as err:
        assert err.line >= 1
