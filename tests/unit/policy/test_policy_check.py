"""Communications against the plant policy: exactly the breaches the issue names, with their evidence."""
from __future__ import annotations

from policy_fixtures import EWS, HISTORIAN, HMI, JUMP_HOST, OFFICE_PC, PLANT_POLICY, PLC, PLC2, T0, plant, row

from sensor.policy.check import (
    ACCESS_VIOLATION,
    LEVEL_SKIP,
    NO_CONDUIT,
    REVERSE_DIRECTION,
    alerts_for,
    breaches,
    judge,
    skipped_levels,
)
from sensor.policy.observed import from_dict, merge
from sensor.policy.policy_file import parse_policy
from sensor.policy.zones import ZoneMap

CONTRACT = {"id", "ts", "rule", "category", "severity", "src", "dst", "proto", "summary", "evidence", "frames",
            "first_seen", "last_seen", "count"}
READ = {"read_holding_registers": 40}
WRITE = {"write_single_register": 2}


def verdict(r: dict, policy=None):
    policy = policy or plant()
    return judge(from_dict(r), policy, ZoneMap(policy.zones))


def alerts(rows: list[dict], policy=None, kinds=None) -> list[dict]:
    policy = policy or plant()
    return alerts_for(breaches(merge(rows), policy, ZoneMap(policy.zones)), kinds or {})


def test_allowed_plant_has_no_breach():
    allowed = [
        row(OFFICE_PC, JUMP_HOST, 3389, "tcp"),
        row(JUMP_HOST, EWS, 3389, "tls"),
        row(EWS, PLC, actions={**READ, **WRITE}),
        row(HMI, PLC, actions={**READ, **WRITE}),
        row(HISTORIAN, PLC, actions=READ),
        row(HISTORIAN, PLC2, actions={"encapsulated_interface_transport/read_device_identification": 1}),
        row(HMI, "10.20.0.11", 445, "tcp"),  # inside control: allowed, the zone does not deny
        row(HMI, "255.255.255.255", 47808, "bacnet", transport="udp"),  # broadcast stays on the link
    ]
    assert alerts(allowed) == []


def test_enterprise_write_to_plc_has_no_conduit():
    (a,) = alerts([row(OFFICE_PC, PLC, actions=WRITE)], kinds={PLC: "plc"})
    assert (a["rule"], a["src"], a["dst"], a["proto"], a["category"]) == (NO_CONDUIT, OFFICE_PC, PLC, "modbus", "policy")
    assert CONTRACT <= a.keys()
    assert a["severity"] == 8  # base 5, a controller +2, a write +1
    seen = a["evidence"]["seen"]
    assert (seen["initiator_zone"], seen["responder_zone"], seen["functions"]) == ("enterprise", "field", WRITE)
    conduit = a["evidence"]["conduit"]
    assert conduit["name"] == "engineering-to-plc"  # the nearest: only the initiator's zone differs
    assert conduit["why_not"] == [f"initiator {OFFICE_PC} is in zone enterprise, the conduit starts in engineering"]
    assert "plc 10.10.0.5 (field, level 1)" in a["summary"] and "wrote to" in a["summary"]
    assert a["frames"] == [["scenario.pcap", 4]]


def test_write_over_read_only_conduit():
    (a,) = alerts([row(HISTORIAN, PLC, actions={**READ, "write_multiple_registers": 3})])
    assert (a["rule"], a["src"], a["dst"]) == (ACCESS_VIOLATION, HISTORIAN, PLC)
    assert a["evidence"]["offending_functions"] == {"write_multiple_registers": 3}
    assert a["evidence"]["conduit"]["name"] == "historian-reads"
    assert a["count"] == 3


def test_diagnostics_and_program_do_not_pass_a_read_only_conduit():
    assert verdict(row(HISTORIAN, PLC, actions={"diagnostics": 1})).rule == ACCESS_VIOLATION
    b = verdict(row(HISTORIAN, PLC, actions={"umas/stop_plc": 1}))
    assert b.rule == ACCESS_VIOLATION
    assert alerts_for([b], {})[0]["severity"] == 9  # base 5, controller +2, mode change +2
    assert verdict(row(HISTORIAN, PLC, actions={"user_defined_0x41": 1})).rule == ACCESS_VIOLATION


def test_plc_initiating_to_hmi_is_reverse_direction():
    b = verdict(row(PLC, HMI, actions=READ))
    assert b.rule == REVERSE_DIRECTION and b.conduit.name == "hmi-to-plc"


def test_smb_from_it_into_control():
    b = verdict(row(OFFICE_PC, HMI, 445, "tcp"))
    assert b.rule == NO_CONDUIT
    assert (b.initiator_zone.name, b.responder_zone.name) == ("enterprise", "control")


def test_wrong_source_on_a_narrowed_conduit():
    b = verdict(row("10.20.0.99", PLC, actions=READ))
    assert b.rule == NO_CONDUIT
    assert b.conduit.name == "hmi-to-plc" and b.why == ("initiator 10.20.0.99 is not among its sources",)


def test_wrong_service_on_a_conduit_says_so():
    b = verdict(row(EWS, PLC, 102, "s7comm"))
    assert b.rule == NO_CONDUIT and b.conduit.name == "engineering-to-plc"
    assert b.why == ("tcp/102 identified as s7comm is not among its services (modbus)",)


def test_plc_to_plc_inside_an_intra_deny_zone():
    b = verdict(row(PLC, PLC2, actions=READ))
    assert b.rule == NO_CONDUIT and "denies traffic inside it" in b.expected
    assert verdict(row(PLC, "255.255.255.255", 47808, "bacnet", transport="udp")).rule == NO_CONDUIT


def test_unknown_addresses():
    assert verdict(row("192.0.2.7", PLC, actions=READ)).initiator_zone.name == "unknown"
    assert verdict(row("192.0.2.7", "198.51.100.1", 443, "tls")) is None  # unknown to unknown: one zone


def test_one_alert_per_key_after_merging_rows():
    rows = [row(OFFICE_PC, PLC, t=T0 + 100, actions=WRITE), row(OFFICE_PC, PLC, t=T0, actions=READ)]
    (a,) = alerts(rows)
    assert a["first_seen"] == T0 and a["last_seen"] == T0 + 160 and a["ts"] == T0
    assert a["evidence"]["seen"]["functions"] == {**READ, **WRITE}
    assert a["evidence"]["seen"]["flows"] == 2 and a["count"] == 2


def test_ids_are_stable_and_distinct():
    rows = [row(OFFICE_PC, PLC), row(OFFICE_PC, PLC2), row(OFFICE_PC, PLC, 102, "s7comm")]
    first, again = alerts(rows), alerts(list(reversed(rows)))
    assert [a["id"] for a in first] == [a["id"] for a in again]
    assert len({a["id"] for a in first}) == 3


def test_level_skip_with_zones_only():
    zones_only = parse_policy("zones:\n  - {name: it, level: 4, networks: [10.40.0.0/16]}\n"
                              "  - {name: dmz, level: 3.5, networks: [10.35.0.0/16]}\n"
                              "  - {name: ops, level: 3, networks: [10.30.0.0/16]}\n"
                              "  - {name: plc, level: 1, networks: [10.10.0.0/16]}\n")
    (a,) = alerts([row(OFFICE_PC, PLC, actions=WRITE), row(OFFICE_PC, JUMP_HOST, 3389, "tcp"),
                   row(JUMP_HOST, HISTORIAN, 443, "tls")], zones_only)
    assert (a["rule"], a["src"], a["dst"]) == (LEVEL_SKIP, OFFICE_PC, PLC)
    assert a["evidence"]["skipped_levels"] == [3.5, 3.0, 2.0]
    assert verdict(row("10.40.0.8", HISTORIAN, 443, "tls"), zones_only).skipped == (3.5,)  # past the DMZ


def test_default_allow_still_enforces_read_only_and_level_skips():
    allow = parse_policy(PLANT_POLICY.read_text().replace("default: deny", "default: allow"))
    assert verdict(row(JUMP_HOST, HISTORIAN, 443, "tls"), allow) is None  # no conduit, adjacent levels
    assert verdict(row(OFFICE_PC, HMI, 445, "tcp"), allow).skipped == (3.5, 3.0)
    assert verdict(row(OFFICE_PC, PLC, actions=WRITE), allow).rule == LEVEL_SKIP
    assert verdict(row(HISTORIAN, PLC, actions=WRITE), allow).rule == ACCESS_VIOLATION


def test_skipped_levels():
    assert skipped_levels(4, 1, []) == (3.0, 2.0)
    assert skipped_levels(4, 3, [3.5]) == (3.5,)
    assert skipped_levels(4, 3, []) == ()
    assert skipped_levels(3.5, 2, []) == (3.0,)
    assert skipped_levels(1, 4, [3.5]) == (3.5, 3.0, 2.0)
    assert skipped_levels(None, 1, []) == ()


def test_a_read_only_conduit_judges_cip_and_dnp3_by_the_same_vocabulary():
    """The same rule as for Modbus: the package's action table decides, not the protocol's names."""
    text = PLANT_POLICY.read_text().replace("services: [modbus]\n    sources: [10.30.0.20]",
                                            "services: [modbus, enip, dnp3]\n    sources: [10.30.0.20]")
    policy = parse_policy(text, "plant-with-enip.yaml")
    enip = lambda actions: row(HISTORIAN, PLC, 44818, "enip", actions=actions)
    assert verdict(enip({"read_tag": 9, "get_attribute_single": 2, "register_session": 1}), policy) is None
    b = verdict(enip({"read_tag": 9, "write_tag": 1}), policy)
    assert b.rule == ACCESS_VIOLATION and b.functions == {"write_tag": 1}
    assert verdict(enip({"reset": 1}), policy).rule == ACCESS_VIOLATION
    dnp3 = lambda actions: row(HISTORIAN, PLC, 20000, "dnp3", actions=actions)
    assert verdict(dnp3({"read": 10}), policy) is None
    assert verdict(dnp3({"direct_operate": 1}), policy).rule == ACCESS_VIOLATION
