"""Elastic Common Schema documents for alerts (``event.kind: alert``) and assets (``event.kind: asset``).

ECS has no ICS fields, so what ECS cannot hold goes under our own ``ot.*`` namespace unchanged: nothing
the sensor knows is dropped on the way to the SIEM. Pure functions: the same input gives the same document.
"""
from __future__ import annotations

from typing import Any

from sensor.sinks.siem.common import (
    PRODUCT,
    VENDOR,
    VERSION,
    asset_key,
    asset_record_id,
    ecs_mac,
    flow_of,
    ip_of,
    iso_ms,
    mac_of,
    severity_of,
)
from sensor.sinks.siem.community_id import community_id

# Alert keys that land in ECS fields; every other key is kept under ``ot.``.
_ALERT_MAPPED = {"id", "ts", "rule", "summary", "severity", "src", "dst", "proto", "sport", "dport", "transport"}
# Asset keys that land in ECS fields (besides also being kept under ``ot.`` where noted in asset_to_ecs).
_ASSET_MAPPED = {"ip", "mac", "device_type"}


def observer(sensor_name: str) -> dict:
    """The sensor as ECS describes an IDS or network monitor."""
    return {"name": sensor_name, "type": "sensor", "product": PRODUCT, "vendor": VENDOR, "version": VERSION}


def _endpoint(address: Any, port: int | None) -> dict:
    """``source``/``destination``: ``ip`` for an IP, ``mac`` for a link-layer address, ``address`` always."""
    out: dict[str, Any] = {}
    if isinstance(address, str) and address:
        out["address"] = address
        if ip_of(address) is not None:
            out["ip"] = address
        elif (mac := mac_of(address)) is not None:
            out["mac"] = ecs_mac(mac)
    if port is not None:
        out["port"] = port
    return out


def alert_to_ecs(alert: dict, sensor_name: str) -> dict:
    """An alert as an ECS document; tolerant of missing keys, keeps unknown ones under ``ot``."""
    transport, sport, dport = flow_of(alert)
    rule = alert.get("rule") if isinstance(alert.get("rule"), str) else None
    summary = alert.get("summary") if isinstance(alert.get("summary"), str) else None
    severity = severity_of(alert.get("severity"))
    event: dict[str, Any] = {
        "kind": "alert",
        "category": ["network", "intrusion_detection"],
        "type": ["info"],
        "module": PRODUCT,
        "dataset": f"{PRODUCT}.alert",
        "severity": severity,
    }
    if alert.get("id") is not None:
        event["id"] = str(alert["id"])
    for ecs_key, key in (("start", "first_seen"), ("end", "last_seen")):
        if (when := iso_ms(alert.get(key))) is not None:
            event[ecs_key] = when
    doc: dict[str, Any] = {"@timestamp": iso_ms(alert.get("ts")) or iso_ms(alert.get("first_seen")), "event": event}
    if doc["@timestamp"] is None:
        del doc["@timestamp"]
    rule_doc: dict[str, Any] = {"ruleset": PRODUCT}
    if rule:
        rule_doc["id"] = rule
    if summary or rule:
        rule_doc["name"] = summary or rule
    if isinstance(alert.get("category"), str):
        rule_doc["category"] = alert["category"]
    doc["rule"] = rule_doc
    if summary is not None:
        doc["message"] = summary
    if source := _endpoint(alert.get("src"), sport):
        doc["source"] = source
    if destination := _endpoint(alert.get("dst"), dport):
        doc["destination"] = destination
    network: dict[str, Any] = {}
    if isinstance(alert.get("proto"), str):
        network["protocol"] = alert["proto"].lower()
    if transport:
        network["transport"] = transport
    src, dst = doc.get("source", {}).get("ip"), doc.get("destination", {}).get("ip")
    if (cid := community_id(src, dst, transport, sport, dport)) is not None:
        network["community_id"] = cid
    if network:
        doc["network"] = network
    doc["observer"] = observer(sensor_name)
    doc["ot"] = {k: v for k, v in sorted(alert.items()) if k not in _ALERT_MAPPED}
    return doc


def asset_to_ecs(asset: dict, sensor_name: str) -> dict:
    """An inventory entry as an ECS ``event.kind: asset`` document.

    ``event.id`` is the asset key plus a hash of its content, so a SIEM can drop the duplicates that
    at-least-once delivery sends, while a changed asset gets a new id.
    """
    key = asset_key(asset)
    event: dict[str, Any] = {
        "kind": "asset",
        "category": ["host"],
        "type": ["info"],
        "module": PRODUCT,
        "dataset": f"{PRODUCT}.asset",
        "id": asset_record_id(asset),
    }
    for ecs_key, field in (("start", "first_seen"), ("end", "last_seen")):
        if (when := iso_ms(asset.get(field))) is not None:
            event[ecs_key] = when
    doc: dict[str, Any] = {}
    if (when := iso_ms(asset.get("last_seen"))) is not None:
        doc["@timestamp"] = when
    doc["event"] = event
    host: dict[str, Any] = {"id": key}
    if ip_of(asset.get("ip")) is not None:
        host["ip"] = [asset["ip"]]
    if (mac := mac_of(asset.get("mac"))) is not None:
        host["mac"] = [ecs_mac(mac)]
    names = [n for n in asset.get("hostnames") or [] if isinstance(n, str) and n]
    if names:
        host["name"] = host["hostname"] = names[0]
    if isinstance(asset.get("device_type"), str):
        host["type"] = asset["device_type"]
    doc["host"] = host
    doc["message"] = asset_summary(asset)
    doc["observer"] = observer(sensor_name)
    ot = {k: v for k, v in sorted(asset.items()) if k not in _ASSET_MAPPED}
    ot["asset_key"] = key
    doc["ot"] = ot
    return doc


def asset_summary(asset: dict) -> str:
    """One line a person reads in a SIEM list: ``plc 10.10.0.5 (Schneider Electric BMX P34 2020, zone field)``."""
    kind = asset.get("device_type") if isinstance(asset.get("device_type"), str) else "device"
    identity = asset.get("identity") if isinstance(asset.get("identity"), dict) else {}
    words = " ".join(str(identity[k]) for k in ("vendor", "product", "revision") if identity.get(k) not in (None, ""))
    parts = [p for p in (words, f"zone {asset['zone']}" if isinstance(asset.get("zone"), str) else "") if p]
    return f"{kind} {asset_key(asset)}" + (f" ({', '.join(parts)})" if parts else "")
