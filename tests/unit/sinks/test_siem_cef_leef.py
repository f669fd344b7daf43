"""CEF and LEEF: escaping character by character, header against extension rules, and the field tables."""
from __future__ import annotations

import json

import pytest
from siem_parsers import ParseError, parse_cef, parse_leef
from siem_samples import ASSET, POLICY_ALERT

from sensor.sinks.siem import cef, leef
from sensor.sinks.siem.common import asset_record_id
from sensor.sinks.siem.community_id import community_id_v1

# --- escaping, one character at a time -------------------------------------------------------------------

@pytest.mark.parametrize("raw, escaped", [
    ("|", "\\|"), ("\\", "\\\\"), ("=", "="), ("a|b", "a\\|b"), ("\\|", "\\\\\\|"),
    ("\n", " "), ("\r", " "), ("\r\n", "  "), ("\t", "\t"), ("ünï☃", "ünï☃"), ("plain", "plain"),
])
def test_cef_header_escaping(raw: str, escaped: str) -> None:
    assert cef.escape_header(raw) == escaped


@pytest.mark.parametrize("raw, escaped", [
    ("=", "\\="), ("\\", "\\\\"), ("|", "|"), ("\n", "\\n"), ("\r", "\\r"), ("\r\n", "\\r\\n"),
    ("\t", "\t"), ("a=b\\c", "a\\=b\\\\c"), ("\\n", "\\\\n"), ("ünï☃", "ünï☃"), (" x ", " x "),
])
def test_cef_extension_escaping(raw: str, escaped: str) -> None:
    assert cef.escape_value(raw) == escaped


@pytest.mark.parametrize("raw, escaped", [
    ("|", "\\|"), ("\\", "\\\\"), ("=", "="), ("\n", " "), ("\r", " "), ("\t", "\t"), ("ünï", "ünï"),
])
def test_leef_header_escaping(raw: str, escaped: str) -> None:
    assert leef.escape_header(raw) == escaped


@pytest.mark.parametrize("raw, escaped", [
    ("\t", "\\t"), ("\\", "\\\\"), ("=", "="), ("|", "|"), ("\n", "\\n"), ("\r", "\\r"), ("\\t", "\\\\t"),
    ("ünï☃", "ünï☃"), ("a b", "a b"),
])
def test_leef_value_escaping(raw: str, escaped: str) -> None:
    assert leef.escape_value(raw) == escaped


NASTY = "p|i\\pe = eq\nnl\rcr\ttab ünï ☃ \\n \\="


def test_cef_header_and_extension_differ_for_the_same_text() -> None:
    alert = dict(POLICY_ALERT, rule="rule|x\\y=z", summary=NASTY)
    line = cef.alert_to_cef(alert, "sensor|1=a\\b", "1.0|beta")
    header, ext = parse_cef(line)
    assert header[0] == "0" and header[1:4] == ["otsensor", "otsensor", "1.0|beta"]
    assert header[4] == "rule|x\\y=z"
    assert header[5] == NASTY.replace("\n", " ").replace("\r", " ")  # no line breaks in a CEF header
    assert ext["msg"] == NASTY  # the extension keeps them
    assert ext["dvchost"] == "sensor|1=a\\b"
    assert "\n" not in line and "\r" not in line
    assert "\\|" not in line.split("|8|", 1)[1].replace("\\\\", "")  # pipes in the extension are not escaped


def test_leef_header_and_attributes_differ_for_the_same_text() -> None:
    alert = dict(POLICY_ALERT, rule="rule|x\\y=z", summary=NASTY)
    line = leef.alert_to_leef(alert, "sensor\t1")
    header, attrs = parse_leef(line)
    assert header[0] == "2.0" and header[4] == "rule|x\\y=z" and header[5] == "x09"
    assert attrs["msg"] == NASTY and attrs["dvchost"] == "sensor\t1"
    assert line.count("\t") == len(attrs) - 1  # every raw tab is a delimiter
    assert "\n" not in line and "\r" not in line


def test_parsers_are_strict() -> None:
    with pytest.raises(ParseError):
        parse_cef("CEF:0|a|b|c|d|e|5|msg=a=b")  # an unescaped "=" inside a value
    with pytest.raises(ParseError):
        parse_cef("CEF:0|a|b\\x|c|d|e|5|")
    with pytest.raises(ParseError):
        parse_leef("LEEF:2.0|a|b|c|d|x09|k=v\\q")


# --- CEF field table ---------------------------------------------------------------------------------------

def test_cef_policy_alert_fields() -> None:
    header, ext = parse_cef(cef.alert_to_cef(POLICY_ALERT, "sensor-1", "0.1.0"))
    assert header == ["0", "otsensor", "otsensor", "0.1.0", "policy.no_conduit", POLICY_ALERT["summary"], "8"]
    assert ext["externalId"] == "0307929058e2cd76113a"
    assert ext["rt"] == "1767600300000" and ext["start"] == "1767600300000" and ext["end"] == "1767600300405"
    assert (ext["src"], ext["dst"], ext["dpt"]) == ("10.40.0.7", "10.10.0.5", "502")
    assert "spt" not in ext  # the initiator's port is not in a policy alert
    assert ext["proto"] == "TCP" and ext["app"] == "modbus"
    assert ext["msg"] == POLICY_ALERT["summary"] and ext["cat"] == "policy" and ext["cnt"] == "1"
    assert ext["dvchost"] == "sensor-1"
    assert ext["cs2Label"] == "evidence" and json.loads(ext["cs2"]) == POLICY_ALERT["evidence"]
    assert ext["cs3Label"] == "frames" and json.loads(ext["cs3"]) == POLICY_ALERT["frames"]
    assert (ext["cs4Label"], ext["cs4"], ext["cs5Label"], ext["cs5"]) == ("srcZone", "enterprise", "dstZone", "field")
    assert "cs1" not in ext and "cs1Label" not in ext  # no rules list: no lonely label
    assert "cs6" not in ext  # no Community ID without the source port
    assert "flexString1" not in ext


def test_cef_detection_alert_fields() -> None:
    alert = {"id": "e1", "ts": 10.5, "rule": "modbus.write_burst", "rules": ["a.b", "c.d"], "category": "anomaly",
             "severity": 11.7, "src": "fd00::1", "dst": "fd00::2", "proto": "modbus", "sport": 40001, "dport": 502,
             "transport": "tcp", "summary": "s", "evidence": {}, "frames": [], "count": 3, "weird_new_key": [1, 2]}
    header, ext = parse_cef(cef.alert_to_cef(alert, "s1", "1"))
    assert header[6] == "10"  # clamped to CEF's range
    assert (ext["c6a2Label"], ext["c6a2"], ext["c6a3"]) == ("Source IPv6 Address", "fd00::1", "fd00::2")
    assert "src" not in ext and (ext["spt"], ext["dpt"]) == ("40001", "502")
    assert ext["cs1"] == "a.b,c.d" and ext["cs1Label"] == "rules"
    assert ext["cs6Label"] == "communityId"
    assert ext["cs6"] == community_id_v1("fd00::1", "fd00::2", 40001, 502, 6)
    assert json.loads(ext["flexString1"]) == {"weird_new_key": [1, 2]}


def test_cef_link_layer_alert_and_missing_keys() -> None:
    header, ext = parse_cef(cef.alert_to_cef({"src": "00:0e:8c:01:02:03", "dst": "01-0E-CF-00-00-00"}, "s", "1"))
    assert header[4:] == ["alert", "alert", "0"]
    assert ext == {"smac": "00:0E:8C:01:02:03", "dmac": "01:0E:CF:00:00:00", "dvchost": "s"}


def test_cef_asset_fields() -> None:
    header, ext = parse_cef(cef.asset_to_cef(ASSET, "sensor-1", "0.1.0"))
    assert header[4:] == ["asset", "plc 192.168.0.6 (Siemens INC, zone field)", "0"]
    assert ext["externalId"] == asset_record_id(ASSET)
    assert (ext["src"], ext["smac"], ext["shost"]) == ("192.168.0.6", "08:00:06:93:CF:32", "X208-BORD")
    assert ext["cs1"] == "plc" and json.loads(ext["cs2"]) == ASSET["identity"]
    assert ext["cs3"] == "profinet_io_device" and ext["cs4"] == "modbus/tcp/502" and ext["cs5"] == "field"
    assert ext["cs6Label"] == "assetKey" and ext["cs6"] == "192.168.0.6"
    assert json.loads(ext["flexString1"]) == {"bytes": 0, "mac_vendor": "SIEMENS AG", "zone_level": 1.0}


# --- LEEF field table --------------------------------------------------------------------------------------

def test_leef_policy_alert_fields() -> None:
    header, attrs = parse_leef(leef.alert_to_leef(POLICY_ALERT, "sensor-1", "0.1.0"))
    assert header == ["2.0", "otsensor", "otsensor", "0.1.0", "policy.no_conduit", "x09"]
    assert attrs["devTime"] == "2026-01-05T08:05:00.000+0000"
    assert attrs["devTimeFormat"] == "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
    assert (attrs["src"], attrs["dst"], attrs["dstPort"], attrs["proto"]) == ("10.40.0.7", "10.10.0.5", "502", "TCP")
    assert "srcPort" not in attrs
    assert (attrs["sev"], attrs["otSeverity"], attrs["cat"]) == ("8", "8", "policy")
    assert attrs["externalId"] == POLICY_ALERT["id"] and attrs["msg"] == POLICY_ALERT["summary"]
    assert (attrs["srcZone"], attrs["dstZone"], attrs["otProtocol"]) == ("enterprise", "field", "modbus")
    assert json.loads(attrs["otEvidence"]) == POLICY_ALERT["evidence"]
    assert attrs["otFirstSeen"] == "2026-01-05T08:05:00.000Z" and attrs["otLastSeen"] == "2026-01-05T08:05:00.405Z"


def test_leef_severity_floor_and_ipv6() -> None:
    _, attrs = parse_leef(leef.alert_to_leef({"severity": 0, "src": "fd00::1", "dst": "aa:bb:cc:dd:ee:ff"}, "s"))
    assert attrs["sev"] == "1" and attrs["otSeverity"] == "0"  # LEEF's sev is 1..10
    assert attrs["src"] == "fd00::1" and attrs["dstMAC"] == "AA:BB:CC:DD:EE:FF"


def test_leef_asset_fields() -> None:
    header, attrs = parse_leef(leef.asset_to_leef(ASSET, "sensor-1"))
    assert header[4] == "asset"
    assert (attrs["identSrc"], attrs["identMAC"], attrs["identHostName"]) == ("192.168.0.6", "08:00:06:93:CF:32",
                                                                              "X208-BORD")
    assert attrs["externalId"] == asset_record_id(ASSET) and attrs["otAssetKey"] == "192.168.0.6"
    assert json.loads(attrs["otServices"]) == ASSET["services"] and attrs["otZone"] == "field"


def test_mac_keyed_asset() -> None:
    asset = {"ip": None, "mac": "08:00:06:93:cf:32", "device_type": "plc", "hostnames": []}
    _, ext = parse_cef(cef.asset_to_cef(asset, "s", "1"))
    assert ext["smac"] == "08:00:06:93:CF:32" and "src" not in ext and ext["cs6"] == "08:00:06:93:cf:32"
    _, attrs = parse_leef(leef.asset_to_leef(asset, "s"))
    assert attrs["identMAC"] == "08:00:06:93:CF:32" and "identSrc" not in attrs


def test_formatting_is_deterministic() -> None:
    shuffled = dict(reversed(list(POLICY_ALERT.items())))
    assert cef.alert_to_cef(POLICY_ALERT, "s", "1") == cef.alert_to_cef(shuffled, "s", "1")
    assert leef.alert_to_leef(POLICY_ALERT, "s", "1") == leef.alert_to_leef(shuffled, "s", "1")
