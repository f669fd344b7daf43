"""IBM QRadar LEEF 2.0: ``LEEF:2.0|Vendor|Product|Version|EventID|x09|key=value<TAB>key=value...``.

The attribute delimiter is a tab, declared in the header in the spec's hex form ``x09`` (IBM: a single
character, or ``0x``/``x`` followed by 1-4 hex digits), so the header itself holds no control character.

Escaping. The LEEF guide defines no escape inside attribute values; it only asks that values not contain the
delimiter. A value is taken up to the next delimiter, and the key ends at the first ``=``, so ``=`` needs no
escaping. To keep every value on one line and reversible we escape, as CEF does:

* header fields: ``\\`` -> ``\\\\``, ``|`` -> ``\\|``; a CR or LF there becomes a space;
* attribute values: ``\\`` -> ``\\\\``, TAB -> ``\\t``, LF -> ``\\n``, CR -> ``\\r``.

``sev`` is 1..10 as LEEF defines it: an alert of severity 0 is sent as 1.
``devTime`` is ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` in UTC, declared in ``devTimeFormat`` (Java date pattern).
Pure functions.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sensor.sinks.siem.common import (
    ALERT_MAPPED,
    ASSET_MAPPED,
    PRODUCT,
    VENDOR,
    VERSION,
    asset_key,
    asset_record_id,
    epoch,
    escape_header,
    flow_of,
    ip_of,
    iso_ms,
    mac_of,
    severity_of,
    text_of,
    zones_of,
)
from sensor.sinks.siem.community_id import community_id
from sensor.sinks.siem.ecs import asset_summary

DELIMITER = "\t"
DELIMITER_HEADER = "x09"
DEV_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"

_VALUE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escape_value(text: str) -> str:
    """An attribute value: backslash, tab (the delimiter), LF and CR escaped."""
    return text.translate(_VALUE)


def dev_time(ts: Any) -> str | None:
    """``2026-01-05T08:05:00.000+0000``: what DEV_TIME_FORMAT parses."""
    iso = iso_ms(ts)
    return None if iso is None else iso[:-1] + "+0000"


def build(event_id: str, attributes: Iterable[tuple[str, Any]], version: str = VERSION, vendor: str = VENDOR,
          product: str = PRODUCT) -> str:
    """One LEEF 2.0 record; attributes whose value is None or empty are left out."""
    header = "|".join(escape_header(str(f)) for f in (vendor, product, version, event_id))
    pairs = DELIMITER.join(f"{k}={escape_value(text_of(v) if not isinstance(v, (int, float)) else str(v))}"
                           for k, v in attributes if v is not None and v != "" and v != [] and v != {})
    return f"LEEF:2.0|{header}|{DELIMITER_HEADER}|{pairs}"


def _address(prefix: str, address: Any) -> list[tuple[str, Any]]:
    """``src``/``dst`` for an IP (v4 or v6), ``srcMAC``/``dstMAC`` for a link-layer address."""
    if ip_of(address) is not None:
        return [(prefix, address)]
    mac = mac_of(address)
    return [(f"{prefix}MAC", mac.upper())] if mac else []


def alert_to_leef(alert: dict, sensor_name: str, version: str = VERSION) -> str:
    """An alert as LEEF 2.0; see ALERT_FIELDS."""
    transport, sport, dport = flow_of(alert)
    rule = alert.get("rule") if isinstance(alert.get("rule"), str) and alert["rule"] else "alert"
    src_zone, dst_zone = zones_of(alert)
    src, dst = alert.get("src"), alert.get("dst")
    cid = community_id(src if ip_of(src) else None, dst if ip_of(dst) else None, transport, sport, dport)
    rules = alert.get("rules")
    extra = {k: v for k, v in sorted(alert.items()) if k not in ALERT_MAPPED}
    when = alert.get("ts") if epoch(alert.get("ts")) is not None else alert.get("first_seen")
    attributes: list[tuple[str, Any]] = [
        ("devTime", dev_time(when)),
        ("devTimeFormat", DEV_TIME_FORMAT if dev_time(when) else None),
        ("cat", alert.get("category") if isinstance(alert.get("category"), str) else None),
        ("sev", max(1, severity_of(alert.get("severity")))),
        *_address("src", src),
        *_address("dst", dst),
        ("srcPort", sport),
        ("dstPort", dport),
        ("proto", transport.upper() if transport else None),
        ("externalId", None if alert.get("id") is None else str(alert["id"])),
        ("msg", alert.get("summary") if isinstance(alert.get("summary"), str) else None),
        ("dvchost", sensor_name),
        ("otProtocol", alert.get("proto") if isinstance(alert.get("proto"), str) else None),
        ("otSeverity", severity_of(alert.get("severity"))),
        ("otRules", ",".join(map(str, rules)) if isinstance(rules, list) and rules else None),
        ("otCount", alert.get("count") if isinstance(alert.get("count"), int) else None),
        ("otFirstSeen", iso_ms(alert.get("first_seen"))),
        ("otLastSeen", iso_ms(alert.get("last_seen"))),
        ("srcZone", src_zone),
        ("dstZone", dst_zone),
        ("communityId", cid),
        ("otEvidence", alert.get("evidence")),
        ("otFrames", alert.get("frames")),
        ("otExtra", extra or None),
    ]
    return build(rule, attributes, version)


def asset_to_leef(asset: dict, sensor_name: str, version: str = VERSION) -> str:
    """An inventory entry as LEEF 2.0, EventID ``asset``; see ASSET_FIELDS."""
    names = [n for n in asset.get("hostnames") or [] if isinstance(n, str) and n]
    mac = mac_of(asset.get("mac"))
    services = asset.get("services")
    roles = asset.get("roles")
    extra = {k: v for k, v in sorted(asset.items()) if k not in ASSET_MAPPED}
    attributes: list[tuple[str, Any]] = [
        ("devTime", dev_time(asset.get("last_seen"))),
        ("devTimeFormat", DEV_TIME_FORMAT if dev_time(asset.get("last_seen")) else None),
        ("cat", "asset"),
        ("sev", 1),
        ("identSrc", asset.get("ip") if ip_of(asset.get("ip")) else None),
        ("identMAC", mac.upper() if mac else None),
        ("identHostName", names[0] if names else None),
        ("externalId", asset_record_id(asset)),
        ("msg", asset_summary(asset)),
        ("dvchost", sensor_name),
        ("otAssetKey", asset_key(asset)),
        ("otDeviceType", asset.get("device_type") if isinstance(asset.get("device_type"), str) else None),
        ("otIdentity", asset.get("identity")),
        ("otRoles", ",".join(map(str, roles)) if isinstance(roles, list) and roles else None),
        ("otServices", services if isinstance(services, list) and services else None),
        ("otZone", asset.get("zone") if isinstance(asset.get("zone"), str) else None),
        ("otFirstSeen", iso_ms(asset.get("first_seen"))),
        ("otLastSeen", iso_ms(asset.get("last_seen"))),
        ("otHostnames", names or None),
        ("otExtra", extra or None),
    ]
    return build("asset", attributes, version)


# For the README: LEEF key <- source field.
ALERT_FIELDS = {
    "header EventID": "rule", "devTime/devTimeFormat": "ts, UTC", "cat": "category", "sev": "severity (min 1)",
    "src/dst": "src/dst when IPs", "srcMAC/dstMAC": "src/dst when MACs", "srcPort/dstPort": "ports when known",
    "proto": "transport (TCP/UDP)", "externalId": "id", "msg": "summary", "dvchost": "sensor name",
    "otProtocol": "proto (modbus...)", "otSeverity": "severity 0-10", "otRules": "rules", "otCount": "count",
    "otFirstSeen/otLastSeen": "first_seen/last_seen (ISO)", "srcZone/dstZone": "zones", "communityId": "Community ID",
    "otEvidence": "evidence (JSON)", "otFrames": "frames (JSON)", "otExtra": "other keys (JSON)",
}
ASSET_FIELDS = {
    "header EventID": "asset", "devTime": "last_seen", "cat": "asset", "sev": "1", "identSrc": "ip",
    "identMAC": "mac", "identHostName": "first hostname", "externalId": "asset key:content hash",
    "msg": "one-line summary", "dvchost": "sensor name", "otAssetKey": "key", "otDeviceType": "device_type",
    "otIdentity": "identity (JSON)", "otRoles": "roles", "otServices": "services (JSON)", "otZone": "zone",
    "otFirstSeen/otLastSeen": "first/last seen", "otHostnames": "hostnames (JSON)", "otExtra": "other keys (JSON)",
}
