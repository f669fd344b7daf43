"""ArcSight Common Event Format: ``CEF:0|Vendor|Product|Version|Class ID|Name|Severity|Extension``.

Escaping follows the CEF specification exactly, because a SIEM parser that meets an unescaped ``|`` or
``=`` silently shifts every later field:

* header fields: ``\\`` -> ``\\\\`` and ``|`` -> ``\\|``. The spec allows no line breaks in the header, so a
  CR or LF there becomes a space (the full text is also in ``msg``, where line breaks survive);
* extension values: ``\\`` -> ``\\\\``, ``=`` -> ``\\=``, LF -> ``\\n``, CR -> ``\\r``. Pipes are not escaped there;
* extension keys are fixed identifiers of ours, never data, so they need no escaping.

Fields a standard key cannot hold go in the labelled custom strings ``cs1``..``cs6`` and ``flexString1``
(see ALERT_FIELDS / ASSET_FIELDS). Pure functions.
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
    epoch_ms,
    escape_header,
    flow_of,
    ip_of,
    mac_of,
    severity_of,
    text_of,
    zones_of,
)
from sensor.sinks.siem.community_id import community_id
from sensor.sinks.siem.ecs import asset_summary

_VALUE = str.maketrans({"\\": "\\\\", "=": "\\=", "\r": "\\r", "\n": "\\n"})


def escape_value(text: str) -> str:
    """A CEF extension value: backslash, equals sign, LF and CR escaped."""
    return text.translate(_VALUE)


def build(class_id: str, name: str, severity: int, extension: Iterable[tuple[str, Any]], version: str = VERSION,
          vendor: str = VENDOR, product: str = PRODUCT) -> str:
    """One CEF record; extension pairs whose value is None or empty are left out."""
    header = "|".join(escape_header(str(f)) for f in (vendor, product, version, class_id, name))
    pairs = " ".join(f"{k}={escape_value(text_of(v) if not isinstance(v, (int, float)) else str(v))}"
                     for k, v in extension if v is not None and v != "" and v != [] and v != {})
    return f"CEF:0|{header}|{severity}|{pairs}"


def _addresses(prefix: str, address: Any) -> list[tuple[str, Any]]:
    """``src``/``dst`` for IPv4, ``c6a2``/``c6a3`` (labelled) for IPv6, ``smac``/``dmac`` for a MAC."""
    ip = ip_of(address)
    if ip is not None and ip.version == 4:
        return [(prefix, str(ip))]
    if ip is not None:
        slot = "c6a2" if prefix == "src" else "c6a3"
        return [(f"{slot}Label", "Source IPv6 Address" if prefix == "src" else "Destination IPv6 Address"),
                (slot, str(ip))]
    mac = mac_of(address)
    if mac is not None:
        return [("smac" if prefix == "src" else "dmac", mac.upper())]
    return []


def alert_to_cef(alert: dict, sensor_name: str, version: str = VERSION) -> str:
    """An alert as CEF; see ALERT_FIELDS for where each field goes."""
    transport, sport, dport = flow_of(alert)
    rule = alert.get("rule") if isinstance(alert.get("rule"), str) and alert["rule"] else "alert"
    summary = alert.get("summary") if isinstance(alert.get("summary"), str) else None
    src_zone, dst_zone = zones_of(alert)
    src, dst = alert.get("src"), alert.get("dst")
    src_ip, dst_ip = ip_of(src), ip_of(dst)
    cid = community_id(src_ip and str(src_ip), dst_ip and str(dst_ip), transport, sport, dport)
    rules = alert.get("rules")
    extra = {k: v for k, v in sorted(alert.items()) if k not in ALERT_MAPPED}
    ext: list[tuple[str, Any]] = [
        ("rt", epoch_ms(alert.get("ts"))),
        ("start", epoch_ms(alert.get("first_seen"))),
        ("end", epoch_ms(alert.get("last_seen"))),
        ("externalId", None if alert.get("id") is None else str(alert["id"])),
        *_addresses("src", src),
        *_addresses("dst", dst),
        ("spt", sport),
        ("dpt", dport),
        ("proto", transport.upper() if transport else None),
        ("app", alert.get("proto") if isinstance(alert.get("proto"), str) else None),
        ("msg", summary),
        ("cat", alert.get("category") if isinstance(alert.get("category"), str) else None),
        ("cnt", alert.get("count") if isinstance(alert.get("count"), int) else None),
        ("dvchost", sensor_name),
        ("cs1Label", "rules"), ("cs1", ",".join(map(str, rules)) if isinstance(rules, list) and rules else None),
        ("cs2Label", "evidence"), ("cs2", alert.get("evidence")),
        ("cs3Label", "frames"), ("cs3", alert.get("frames")),
        ("cs4Label", "srcZone"), ("cs4", src_zone),
        ("cs5Label", "dstZone"), ("cs5", dst_zone),
        ("cs6Label", "communityId"), ("cs6", cid),
        ("flexString1Label", "otExtra"), ("flexString1", extra or None),
    ]
    return build(rule, summary or rule, severity_of(alert.get("severity")), _labelled(ext), version)


def asset_to_cef(asset: dict, sensor_name: str, version: str = VERSION) -> str:
    """An inventory entry as CEF, class ``asset``, severity 0; see ASSET_FIELDS."""
    names = [n for n in asset.get("hostnames") or [] if isinstance(n, str) and n]
    services = asset.get("services")
    service_text = None
    if isinstance(services, list) and services:
        service_text = ",".join(f"{s.get('protocol')}/{s.get('transport')}/{s.get('port')}" if isinstance(s, dict)
                                else str(s) for s in services)
    roles = asset.get("roles")
    mac = mac_of(asset.get("mac"))
    extra = {k: v for k, v in sorted(asset.items()) if k not in ASSET_MAPPED}
    ext: list[tuple[str, Any]] = [
        ("rt", epoch_ms(asset.get("last_seen"))),
        ("start", epoch_ms(asset.get("first_seen"))),
        ("end", epoch_ms(asset.get("last_seen"))),
        ("externalId", asset_record_id(asset)),
        *_addresses("src", asset.get("ip")),
        ("smac", mac.upper() if mac else None),
        ("shost", names[0] if names else None),
        ("cat", "asset"),
        ("msg", asset_summary(asset)),
        ("dvchost", sensor_name),
        ("cs1Label", "deviceType"), ("cs1", asset.get("device_type")),
        ("cs2Label", "identity"), ("cs2", asset.get("identity")),
        ("cs3Label", "roles"), ("cs3", ",".join(map(str, roles)) if isinstance(roles, list) and roles else None),
        ("cs4Label", "services"), ("cs4", service_text),
        ("cs5Label", "zone"), ("cs5", asset.get("zone") if isinstance(asset.get("zone"), str) else None),
        ("cs6Label", "assetKey"), ("cs6", asset_key(asset)),
        ("flexString1Label", "otExtra"), ("flexString1", extra or None),
    ]
    return build("asset", asset_summary(asset), 0, _labelled(ext), version)


def _labelled(ext: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Drop a ``...Label`` pair whose field has no value, so no label stands alone."""
    present = {k for k, v in ext if v is not None and v != "" and v != [] and v != {}}
    return [(k, v) for k, v in ext if not k.endswith("Label") or k[:-5] in present]


# For the README: CEF key <- source field.
ALERT_FIELDS = {
    "header Device Event Class ID": "rule", "header Name": "summary (else rule)", "header Severity": "severity 0-10",
    "rt": "ts (ms)", "start": "first_seen (ms)", "end": "last_seen (ms)", "externalId": "id",
    "src/dst": "src/dst when IPv4", "c6a2/c6a3": "src/dst when IPv6", "smac/dmac": "src/dst when MACs",
    "spt/dpt": "source/destination port when known", "proto": "transport (TCP/UDP)", "app": "proto (modbus...)",
    "msg": "summary", "cat": "category", "cnt": "count", "dvchost": "sensor name", "cs1 rules": "rules",
    "cs2 evidence": "evidence (JSON)", "cs3 frames": "frames (JSON)", "cs4 srcZone": "initiator zone",
    "cs5 dstZone": "responder zone", "cs6 communityId": "Community ID v1", "flexString1 otExtra": "other keys (JSON)",
}
ASSET_FIELDS = {
    "header Device Event Class ID": "asset", "header Name": "one-line summary", "header Severity": "0",
    "rt/end": "last_seen (ms)", "start": "first_seen (ms)", "externalId": "asset key:content hash",
    "src (or c6a2)": "ip", "smac": "mac", "shost": "first hostname", "cat": "asset", "msg": "one-line summary",
    "dvchost": "sensor name", "cs1 deviceType": "device_type", "cs2 identity": "identity (JSON)",
    "cs3 roles": "roles", "cs4 services": "protocol/transport/port,...", "cs5 zone": "zone", "cs6 assetKey": "key",
    "flexString1 otExtra": "other keys (JSON)",
}
