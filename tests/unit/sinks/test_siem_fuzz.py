"""Any text in any field gives a record that parses back to the same values (CEF, LEEF, ECS JSON, syslog)."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from siem_parsers import parse_cef, parse_leef

from sensor.sinks.siem.cef import alert_to_cef, asset_to_cef
from sensor.sinks.siem.common import compact_json
from sensor.sinks.siem.ecs import alert_to_ecs
from sensor.sinks.siem.forwarder import format_alert
from sensor.sinks.siem.leef import alert_to_leef, asset_to_leef
from sensor.sinks.siem.syslog import BOM, frame_5424, octet_frame, parse_octet_frames

# Text with every character the formats treat specially, mixed with anything else (non-ASCII included).
SPECIAL = st.sampled_from(list("|\\=\n\r\t \"'^") + ["\r\n", "\\n", "\\=", "\\|", "=\\", "ü", "☃", "\x00", "\u2028"])
TEXT = st.lists(st.one_of(SPECIAL, st.text(max_size=8)), max_size=12).map("".join)
SOME_TEXT = TEXT.filter(bool)
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                       max_leaves=8)
EXTRA_KEYS = st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
                             .filter(lambda k: k not in {"id", "ts", "rule", "summary", "severity", "src", "dst",
                                                         "proto", "sport", "dport", "transport", "category", "count",
                                                         "first_seen", "last_seen", "rules", "evidence", "frames"}),
                             JSONISH, max_size=3)

ALERTS = st.fixed_dictionaries({
    "id": SOME_TEXT, "rule": SOME_TEXT, "summary": TEXT, "category": SOME_TEXT, "proto": SOME_TEXT,
    "severity": st.integers(min_value=-5, max_value=20), "src": TEXT, "dst": TEXT,
    "evidence": st.dictionaries(TEXT, JSONISH, max_size=3), "rules": st.lists(TEXT, max_size=3),
    "ts": st.floats(min_value=0, max_value=4e9, allow_nan=False),
}, optional={"extra": EXTRA_KEYS}).map(lambda a: {**{k: v for k, v in a.items() if k != "extra"}, **a.get("extra", {})})


def flat(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def extras(alert: dict) -> dict:
    mapped = {"id", "ts", "rule", "summary", "severity", "src", "dst", "proto", "sport", "dport", "transport",
              "category", "count", "first_seen", "last_seen", "rules", "evidence", "frames"}
    return {k: v for k, v in alert.items() if k not in mapped}


@settings(max_examples=150, deadline=None)
@given(ALERTS, SOME_TEXT, SOME_TEXT)
def test_cef_round_trip(alert: dict, sensor: str, version: str) -> None:
    line = alert_to_cef(alert, sensor, version)
    assert "\n" not in line and "\r" not in line
    header, ext = parse_cef(line)
    assert header[1:4] == ["otsensor", "otsensor", flat(version)]
    assert header[4] == flat(alert["rule"])
    assert header[5] == flat(alert["summary"] or alert["rule"])
    assert header[6] == str(max(0, min(10, alert["severity"])))
    assert ext["externalId"] == alert["id"] and ext["cat"] == alert["category"] and ext["app"] == alert["proto"]
    assert ext["dvchost"] == sensor
    assert ext.get("msg", "") == alert["summary"]
    assert json.loads(ext.get("cs2", "{}")) == alert["evidence"]
    assert ext.get("cs1", "") == ",".join(alert["rules"])
    assert json.loads(ext.get("flexString1", "{}")) == json.loads(compact_json(extras(alert)))


@settings(max_examples=150, deadline=None)
@given(ALERTS, SOME_TEXT, SOME_TEXT)
def test_leef_round_trip(alert: dict, sensor: str, version: str) -> None:
    line = alert_to_leef(alert, sensor, version)
    assert "\n" not in line and "\r" not in line
    header, attrs = parse_leef(line)
    assert header[3:6] == [flat(version), flat(alert["rule"]), "x09"]
    assert attrs["externalId"] == alert["id"] and attrs["cat"] == alert["category"]
    assert attrs["otProtocol"] == alert["proto"] and attrs["dvchost"] == sensor
    assert attrs.get("msg", "") == alert["summary"]
    assert attrs["sev"] == str(max(1, min(10, alert["severity"])))
    assert json.loads(attrs.get("otEvidence", "{}")) == alert["evidence"]
    assert json.loads(attrs.get("otExtra", "{}")) == json.loads(compact_json(extras(alert)))


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"ip": TEXT, "mac": TEXT, "device_type": TEXT, "zone": TEXT,
                              "hostnames": st.lists(TEXT, max_size=2), "roles": st.lists(TEXT, max_size=2),
                              "identity": st.dictionaries(TEXT, JSONISH, max_size=3)}), SOME_TEXT)
def test_asset_round_trip(asset: dict, sensor: str) -> None:
    header, ext = parse_cef(asset_to_cef(asset, sensor, "1"))
    assert header[4] == "asset" and ext["dvchost"] == sensor
    assert json.loads(ext.get("cs2", "{}")) == asset["identity"]
    assert ext.get("cs5", "") == asset["zone"] and ext.get("cs1", "") == asset["device_type"]
    header, attrs = parse_leef(asset_to_leef(asset, sensor, "1"))
    assert attrs.get("otZone", "") == asset["zone"] and json.loads(attrs.get("otIdentity", "{}")) == asset["identity"]
    names = [n for n in asset["hostnames"] if n]
    assert attrs.get("identHostName") == (names[0] if names else None)


@settings(max_examples=100, deadline=None)
@given(ALERTS, SOME_TEXT)
def test_ecs_json_round_trip_through_syslog(alert: dict, sensor: str) -> None:
    text = format_alert(alert, "json", sensor)
    assert "\n" not in text and "\r" not in text
    message = frame_5424(text, "otsensor", sensor, 4, 16, "alert", alert["ts"])
    frames, rest = parse_octet_frames(octet_frame(message) * 2)
    assert frames == [message, message] and rest == b""
    body = message.split(b" ", 7)[7]  # after PRI+VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, SD
    if body.startswith(BOM):
        body = body[len(BOM):]
    doc = json.loads(body.decode("utf-8"))
    expected = json.loads(compact_json(alert_to_ecs(alert, sensor)))
    assert doc == expected
    assert doc["event"]["id"] == alert["id"] and doc.get("message", "") == alert["summary"]
    assert doc["rule"]["id"] == alert["rule"] and doc["ot"]["evidence"] == json.loads(compact_json(alert["evidence"]))
