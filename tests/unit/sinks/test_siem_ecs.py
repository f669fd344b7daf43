"""ECS documents (field names and types) and Community ID v1 against the spec's published values."""
from __future__ import annotations

import json
import re

import pytest
from siem_samples import ASSET, POLICY_ALERT

from sensor.sinks.siem.common import asset_record_id, iso_ms
from sensor.sinks.siem.community_id import community_id, community_id_v1
from sensor.sinks.siem.ecs import alert_to_ecs, asset_to_ecs
from sensor.sinks.siem.forwarder import format_alert

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# corelight/community-id-spec baseline/README.md tables (defaults, and seed=1).
SPEC_TABLE = [
    (6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
    (6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
    (17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
    (17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
    (132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="),
    (132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="),
    (46, "1.2.3.4", "5.6.7.8", None, None, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="),
    (46, "5.6.7.8", "1.2.3.4", None, None, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="),
    (46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", None, None,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="),
    (46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", None, None,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="),
]
# corelight/community-id-spec baseline/baseline_deflt.json (ICMP ports already mapped to type/counter-type).
SPEC_BASELINE = [
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
    (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:zavyT/cezQr1fmImYCwYnMXbgck="),
    (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
    (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="),
    (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
    (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
    (58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
    (58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
    (1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    (1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    (1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
    (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    (132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    (132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    (6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    (6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    (17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    (46, "10.1.12.1", "10.1.12.2", None, None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
    (46, "10.1.12.2", "10.1.12.1", None, None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
]


@pytest.mark.parametrize("proto, src, dst, sport, dport, default, seed1", SPEC_TABLE)
def test_community_id_spec_table(proto, src, dst, sport, dport, default, seed1) -> None:
    assert community_id_v1(src, dst, sport, dport, proto) == default
    assert community_id_v1(src, dst, sport, dport, proto, seed=1) == seed1


@pytest.mark.parametrize("proto, src, dst, sport, dport, expected", SPEC_BASELINE)
def test_community_id_spec_baseline(proto, src, dst, sport, dport, expected) -> None:
    assert community_id_v1(src, dst, sport, dport, proto) == expected


def test_community_id_needs_the_whole_tuple() -> None:
    assert community_id("1.2.3.4", "5.6.7.8", "tcp", 1122, 3344) == "1:wCb3OG7yAFWelaUydu0D+125CLM="
    assert community_id("1.2.3.4", "5.6.7.8", "tcp", None, 3344) is None
    assert community_id("1.2.3.4", "5.6.7.8", None, 1122, 3344) is None
    assert community_id("1.2.3.4", "::1", "tcp", 1, 2) is None
    assert community_id("aa:bb:cc:dd:ee:ff", "5.6.7.8", "udp", 1, 2) is None


# --- alerts ------------------------------------------------------------------------------------------------

def test_ecs_policy_alert() -> None:
    doc = alert_to_ecs(POLICY_ALERT, "sensor-1")
    assert doc["@timestamp"] == "2026-01-05T08:05:00.000Z"
    event = doc["event"]
    assert event["kind"] == "alert" and event["category"] == ["network", "intrusion_detection"]
    assert event["id"] == POLICY_ALERT["id"] and event["severity"] == 8 and isinstance(event["severity"], int)
    assert event["start"] == "2026-01-05T08:05:00.000Z" and event["end"] == "2026-01-05T08:05:00.405Z"
    assert doc["rule"] == {"id": "policy.no_conduit", "name": POLICY_ALERT["summary"], "category": "policy",
                           "ruleset": "otsensor"}
    assert doc["message"] == POLICY_ALERT["summary"]
    assert doc["source"] == {"address": "10.40.0.7", "ip": "10.40.0.7"}
    assert doc["destination"] == {"address": "10.10.0.5", "ip": "10.10.0.5", "port": 502}
    assert doc["network"] == {"protocol": "modbus", "transport": "tcp"}  # no source port: no community_id
    assert doc["observer"]["name"] == "sensor-1" and doc["observer"]["type"] == "sensor"
    assert doc["observer"]["product"] == "otsensor" and doc["observer"]["vendor"] == "otsensor"
    ot = doc["ot"]
    assert ot["evidence"] == POLICY_ALERT["evidence"] and ot["frames"] == POLICY_ALERT["frames"]
    assert ot["count"] == 1 and ot["category"] == "policy" and ot["first_seen"] == 1767600300.0
    assert not {"id", "ts", "rule", "summary", "severity", "src", "dst", "proto"} & set(ot)


def test_ecs_detection_alert_with_ports_and_unknown_keys() -> None:
    alert = {"id": "x", "ts": 1.0015, "rule": "r", "rules": ["r", "q"], "category": "signature", "severity": 9,
             "src": "10.0.0.1", "dst": "10.0.0.2", "proto": "Modbus", "sport": 40000, "dport": 502,
             "transport": "tcp", "summary": "s", "evidence": {"k": 1}, "frames": [["f", 1]], "count": 2,
             "brand_new": {"a": [1]}}
    doc = alert_to_ecs(alert, "s")
    assert doc["@timestamp"] == "1970-01-01T00:00:01.001Z"
    assert doc["source"]["port"] == 40000 and doc["destination"]["port"] == 502
    assert doc["network"]["protocol"] == "modbus"
    assert doc["network"]["community_id"] == community_id_v1("10.0.0.1", "10.0.0.2", 40000, 502, 6)
    assert doc["ot"]["rules"] == ["r", "q"] and doc["ot"]["brand_new"] == {"a": [1]}


def test_ecs_alert_tolerates_almost_nothing() -> None:
    doc = alert_to_ecs({}, "s")
    assert doc["event"]["kind"] == "alert" and doc["event"]["severity"] == 0 and "@timestamp" not in doc
    doc = alert_to_ecs({"src": "00:0e:8c:00:00:01", "ts": "not a time", "severity": "high", "evidence": "text"}, "s")
    assert doc["source"] == {"address": "00:0e:8c:00:00:01", "mac": "00-0E-8C-00-00-01"}
    assert doc["event"]["severity"] == 0 and doc["ot"]["evidence"] == "text"


def test_ecs_alert_is_one_json_line() -> None:
    text = format_alert(dict(POLICY_ALERT, summary="two\nlines ☃"), "json", "s")
    assert "\n" not in text and json.loads(text)["message"] == "two\nlines ☃"
    assert format_alert(POLICY_ALERT, "ecs", "s") == text.replace("two\\nlines ☃", POLICY_ALERT["summary"])


# --- assets ------------------------------------------------------------------------------------------------

def test_ecs_asset() -> None:
    doc = asset_to_ecs(ASSET, "sensor-1")
    assert doc["event"]["kind"] == "asset" and doc["event"]["category"] == ["host"]
    assert doc["@timestamp"] == iso_ms(ASSET["last_seen"]) and ISO_MS.match(doc["@timestamp"])
    assert doc["event"]["id"] == asset_record_id(ASSET) and doc["event"]["id"].startswith("192.168.0.6:")
    host = doc["host"]
    assert host["ip"] == ["192.168.0.6"] and host["mac"] == ["08-00-06-93-CF-32"]
    assert re.fullmatch(r"([0-9A-F]{2}-){5}[0-9A-F]{2}", host["mac"][0])
    assert host["name"] == "X208-BORD" and host["type"] == "plc"
    ot = doc["ot"]
    assert ot["identity"] == ASSET["identity"] and ot["roles"] == ASSET["roles"] and ot["services"] == ASSET["services"]
    assert ot["zone"] == "field" and ot["first_seen"] == ASSET["first_seen"] and ot["asset_key"] == "192.168.0.6"
    assert doc["observer"]["type"] == "sensor"


def test_asset_id_is_stable_and_follows_content() -> None:
    same = dict(reversed(list(ASSET.items())))
    assert asset_record_id(same) == asset_record_id(ASSET)
    moved = dict(ASSET, last_seen=ASSET["last_seen"] + 1, packets=99, bytes=12345)
    assert asset_record_id(moved) == asset_record_id(ASSET)  # counters and times are not a new state
    changed = dict(ASSET, roles=["modbus_server"])
    assert asset_record_id(changed) != asset_record_id(ASSET)
    assert asset_record_id(changed).split(":")[0] == "192.168.0.6"
    assert asset_record_id(dict(ASSET, digest="abc123")) == "192.168.0.6:abc123"  # the asset feed's digest


def test_ecs_mac_keyed_asset() -> None:
    doc = asset_to_ecs({"ip": None, "mac": "08:00:06:93:cf:32", "hostnames": [], "device_type": None}, "s")
    assert "ip" not in doc["host"] and doc["host"]["mac"] == ["08-00-06-93-CF-32"]
    assert doc["host"]["id"] == "08:00:06:93:cf:32" and doc["event"]["id"].startswith("08:00:06:93:cf:32:")
