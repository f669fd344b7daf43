"""The suggested policy parses, and enforcing it on the traffic it came from raises nothing."""
from __future__ import annotations

import pytest
import yaml
from policy_fixtures import EWS, HISTORIAN, HMI, JUMP_HOST, OFFICE_PC, PLC, PLC2, T0, row

from sensor.policy.commands import paths_document, run_policy_check, suggest_policy
from sensor.policy.policy_file import PolicyError, parse_policy
from sensor.policy.suggest import asset_level

ASSETS = [{"ip": PLC, "device_type": "plc"}, {"ip": PLC2, "roles": ["modbus_server"]},
          {"ip": HMI, "device_type": "hmi"}, {"ip": EWS, "device_type": "engineering_station"},
          {"ip": HISTORIAN, "device_type": "historian"}, {"ip": OFFICE_PC, "device_type": "it_host"}]
ROWS = [row(HMI, PLC, actions={"read_holding_registers": 50, "write_single_register": 2}),
        row(HISTORIAN, PLC, actions={"read_holding_registers": 99}, t=T0 + 5),
        row(HISTORIAN, PLC2, actions={"read_input_registers": 7}),
        row(EWS, PLC2, actions={"write_multiple_registers": 1}),
        row(OFFICE_PC, JUMP_HOST, 3389, "tls"), row(OFFICE_PC, HISTORIAN, 8443, "tls"),
        row(HMI, "10.20.0.11", 445, "tcp"), row("fd00:40::7", "fd00:10::5", 502, "modbus"),
        row(HMI, "255.255.255.255", 47808, "bacnet", transport="udp")]


def suggested() -> dict:
    return yaml.safe_load(suggest_policy(ROWS, ASSETS))


def test_levels_come_from_device_types_then_roles():
    assert [asset_level(a) for a in ASSETS] == [1, 1, 2, 2, 3, 4]


def test_zones_group_subnets_by_their_most_critical_device():
    zones = {z["name"]: (z["level"], z["networks"]) for z in suggested()["zones"]}
    assert zones == {
        "enterprise": (4, ["10.35.0.0/24", "10.40.0.0/24", "fd00:10::/64", "fd00:40::/64"]),
        "operations": (3, ["10.30.0.0/24"]),
        "supervisory": (2, ["10.20.0.0/24", "10.20.50.0/24"]),
        "controllers": (1, ["10.10.0.0/24"]),
    }


def test_conduits_per_cross_zone_service_read_only_where_only_reads():
    conduits = {(c["from"], c["to"], tuple(c["services"])): c for c in suggested()["conduits"]}
    assert set(conduits) == {("operations", "controllers", ("modbus",)), ("supervisory", "controllers", ("modbus",)),
                             ("enterprise", "operations", ("tcp/8443",))}
    historian = conduits[("operations", "controllers", ("modbus",))]
    assert historian["access"] == "read" and historian["sources"] == [HISTORIAN]
    assert historian["destinations"] == [PLC, PLC2]
    assert "access" not in conduits[("supervisory", "controllers", ("modbus",))]


def test_comments_count_what_each_conduit_covers():
    text = suggest_policy(ROWS, ASSETS)
    assert "# 2 communications: 1 initiator(s) -> 2 responder(s), 24 packets in 2 flows" in text
    assert "# functions: read_holding_registers x99, read_input_registers x7 (reads only)" in text
    assert "default: deny" in text


def test_enforcing_the_suggestion_on_the_same_traffic_raises_nothing():
    policy = parse_policy(suggest_policy(ROWS, ASSETS))
    _, alerts = run_policy_check(policy, ROWS, ASSETS)
    # Only the path office PC -> historian (8443) -> PLC, opened in that order, remains: allowed hop by hop.
    assert [(a["rule"], a["src"], a["dst"]) for a in alerts] == [("path.pivot_chain", OFFICE_PC, PLC)]
    assert paths_document(ROWS, ASSETS, policy)["paths"][0]["allowed"] is True


def test_new_traffic_breaches_the_suggestion():
    policy = parse_policy(suggest_policy(ROWS, ASSETS))
    _, alerts = run_policy_check(policy, ROWS + [row(HISTORIAN, PLC, actions={"write_single_register": 1})], ASSETS)
    assert [a["rule"] for a in alerts] == ["policy.access_violation"]


def test_unreadable_transports_are_named_in_a_comment_not_a_conduit():
    rows = [row(HMI, PLC, 0, "ip", transport="ip"), row(HMI, PLC, 0, "ip47", transport="ip47")]
    text = suggest_policy(rows, ASSETS)
    assert "# Not proposed: 1 cross-zone communication(s)" in text and f"{HMI} -> {PLC}" in text
    assert [c["services"] for c in yaml.safe_load(text)["conduits"]] == [["ip/47"]]


def test_nothing_observed_suggests_nothing_enforceable():
    with pytest.raises(PolicyError, match="'zones' is empty"):
        parse_policy(suggest_policy([], []))
