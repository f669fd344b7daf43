"""Paths from IT down to controllers, pivot chains in time, and the order of risk."""
from __future__ import annotations

import ipaddress

from policy_fixtures import EWS, HMI, JUMP_HOST, OFFICE_PC, PLC, PLC2, T0, plant, row

from sensor.policy.observed import merge
from sensor.policy.pathways import PIVOT_CHAIN, Hop, build_graph, choose_hops, find_paths, pivot_alerts
from sensor.policy.zones import Zone, ZoneMap

HOUR = 3600.0
WRITE = {"write_single_register": 1}


def search(rows, window_s=24 * HOUR, max_hops=6, limit=1000, zones=None):
    zone_map = ZoneMap(zones or plant().zones)
    return find_paths(build_graph(merge(rows), zone_map), window_s, max_hops, limit)


def nodes(found) -> list[tuple[str, ...]]:
    return [p.nodes for p in found.paths]


PIVOT = [row(OFFICE_PC, JUMP_HOST, 3389, "tcp", T0), row(JUMP_HOST, EWS, 3389, "tcp", T0 + 600),
         row(EWS, PLC, 502, "modbus", T0 + 1200, actions=WRITE)]


def test_pivot_chain_made_of_allowed_hops():
    found = search(PIVOT)
    assert nodes(found) == [(JUMP_HOST, EWS, PLC), (OFFICE_PC, JUMP_HOST, EWS, PLC)]
    assert all(p.pivot for p in found.paths)
    full = found.paths[1]
    assert (full.from_zone.name, full.to_zone.name) == ("enterprise", "field")
    assert [h.service for h in full.hops] == ["tcp/3389", "tcp/3389", "modbus"]
    (alert,) = pivot_alerts(found.paths, {PLC: "plc"}, 24 * HOUR)  # the tail is part of the longer chain
    assert (alert["rule"], alert["src"], alert["dst"], alert["category"]) == (PIVOT_CHAIN, OFFICE_PC, PLC, "policy")
    assert alert["severity"] == 9 and alert["ts"] == T0 + 1200 and alert["first_seen"] == T0
    assert [h["dst"] for h in alert["evidence"]["seen"]["hops"]] == [JUMP_HOST, EWS, PLC]
    assert len(alert["frames"]) == 3


def test_out_of_order_hops_are_a_path_but_no_pivot():
    rows = [row(OFFICE_PC, JUMP_HOST, 3389, "tcp", T0 + 1200), *PIVOT[1:]]
    found = search(rows)
    assert [p.pivot for p in found.paths] == [True, False]  # jump -> ews -> plc still is in order
    assert nodes(found)[1] == (OFFICE_PC, JUMP_HOST, EWS, PLC)


def test_window_bounds_the_gap_between_hops():
    rows = [PIVOT[0], row(JUMP_HOST, EWS, 3389, "tcp", T0 + 25 * HOUR),
            row(EWS, PLC, 502, "modbus", T0 + 26 * HOUR, actions=WRITE)]
    assert [p.pivot for p in search(rows).paths] == [True, False]
    assert [p.pivot for p in search(rows, window_s=30 * HOUR).paths] == [True, True]


def test_direct_path_is_one_hop_and_never_a_pivot():
    found = search([row(OFFICE_PC, PLC, actions=WRITE)])
    assert nodes(found) == [(OFFICE_PC, PLC)] and not found.paths[0].pivot
    assert pivot_alerts(found.paths, {}, HOUR) == []


def test_paths_stop_at_the_first_controller_and_descend_inside_it():
    rows = [row("10.40.0.8", OFFICE_PC, 445, "tcp", T0 - 60),  # office to office: not a longer path
            row(OFFICE_PC, PLC, t=T0), row(PLC, PLC2, t=T0 + 60),  # controller to controller: stops at PLC
            row(HMI, JUMP_HOST, 3389, "tcp", T0)]  # climbing back into the DMZ: no path through it
    assert nodes(search(rows)) == [(OFFICE_PC, PLC)]


def test_a_path_never_visits_an_address_twice():
    rows = [row(JUMP_HOST, HMI, 3389, "tcp"), row(HMI, EWS, 3389, "tcp"), row(EWS, HMI, 3389, "tcp"), row(HMI, PLC)]
    assert nodes(search(rows)) == [(JUMP_HOST, HMI, PLC)]


def test_max_hops_bounds_the_search():
    assert nodes(search(PIVOT, max_hops=2)) == [(JUMP_HOST, EWS, PLC)]


def test_no_levels_no_paths():
    assert search(PIVOT, zones=[Zone("x", None, (ipaddress.ip_network("10.0.0.0/8"),))]).paths == ()


def test_limit_keeps_the_shortest_and_says_so():
    rows = [row(OFFICE_PC, f"10.10.1.{i}", t=T0) for i in range(1, 4)]
    rows += [row(OFFICE_PC, HMI, 3389, "tcp", T0)] + [row(HMI, f"10.10.2.{i}", t=T0 + 1) for i in range(1, 4)]
    found = search(rows, limit=4)
    assert found.truncated and "path limit 4 reached" in found.note
    assert [len(p.hops) for p in found.paths] == [2, 1, 1, 1]  # the one pivot first, then by hops
    assert not search(rows, limit=6).truncated


def test_risk_order_fewer_hops_then_writes_then_recent():
    rows = [row(OFFICE_PC, PLC, t=T0, actions={"read_coils": 1}),
            row(OFFICE_PC, PLC2, t=T0 - 10, actions=WRITE),
            row("10.40.0.8", PLC, t=T0 + 50, actions={"read_coils": 1})]
    assert nodes(search(rows)) == [(OFFICE_PC, PLC2), ("10.40.0.8", PLC), (OFFICE_PC, PLC)]


def hop(t: float, service: str = "s", actions=None) -> Hop:
    return Hop("a", "b", service, "tcp", 1, "modbus", t, t + 1, actions or {}, ())


def test_choose_hops_looks_past_the_earliest_service():
    # Earliest-first would pick 10 on the middle edge and miss the window; 90 makes the chain.
    chain, pivot = choose_hops([[hop(0)], [hop(10), hop(90)], [hop(150, actions=WRITE)]], 100)
    assert pivot and [h.first_seen for h in chain] == [0, 90, 150]


def test_choose_hops_prefers_a_dangerous_last_hop():
    chain, pivot = choose_hops([[hop(0)], [hop(5, "read"), hop(7, "write", WRITE)]], 60)
    assert pivot and chain[-1].service == "write"
    chain, pivot = choose_hops([[hop(50)], [hop(5, "read"), hop(7, "write", WRITE)]], 60)
    assert not pivot and chain[-1].service == "write"
