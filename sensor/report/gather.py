"""Everything the report shows, read once from the store (and the policy) into one plain dict.

The writers (``html``, ``markdown``) only format this dict; the scoring (``exposure``) and the top ten
(``sentences``) are computed here once so both writers say the same thing.
"""
from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sensor.policy.actions import DECODED, RANK, worst
from sensor.policy.commands import paths_document
from sensor.policy.policy_file import Policy, load_policy
from sensor.policy.zones import ZoneMap
from sensor.store.db import Store

from .exposure import score_assets, score_zones
from .sentences import top_ten

UNKNOWN_ZONE = "unknown"
ENCRYPTED = {"tls", "ssl", "https", "ssh", "rdp", "ms_wbt_server"}  # service names whose payload the sensor cannot read
ENCRYPTED_PORTS = {("tcp", 22), ("tcp", 443), ("tcp", 3389), ("tcp", 4843), ("tcp", 8443), ("tcp", 8883), ("tcp", 6514)}
LOSS_WEIRDS = ("tcp_gap", "capture_record_skipped", "ipv4_fragment_timeout")  # bytes the sensor never saw
LIMIT_SUFFIX = "_full"  # a table limit reached: the sensor shed state (README: every table has a limit)


def sensor_version() -> str:
    try:
        return version("otsensor")
    except PackageNotFoundError:
        return "unknown"


def ot_ports() -> dict[tuple[str, int], str]:
    """(transport, port) -> protocol, for the protocols with control actions (the OT ones)."""
    from protocols import BUILTIN

    return {port: spec.name for spec in BUILTIN if spec.name in DECODED for port in spec.ports}


PREFIXES = {4: (24, 16, 8), 6: (64, 48, 32)}  # the map's groups, finest first
MAX_GROUPS = 24  # per zone: past this many groups the next coarser prefix is used (a zone of scattered addresses)
SPARSE, SCATTERED = 2, "scattered addresses"  # at the coarsest prefix, groups this small are merged into one


def subnet_of(address: str | None, level: int = 0) -> str:
    """The network an address is in at grouping ``level`` (0: /24 or /64): the map groups devices by it."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "layer 2 only"
    return str(ipaddress.ip_network(f"{ip}/{PREFIXES[ip.version][level]}", strict=False))


def group_subnets(rows: list[dict[str, Any]]) -> None:
    """Set each row's ``subnet``: the finest prefix that gives its zone at most MAX_GROUPS groups (failing that,
    /8 or /32 with the sparse groups merged)."""
    by_zone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_zone[row["zone"]].append(row)
    for members in by_zone.values():
        for level in range(3):
            sizes = Counter(subnet_of(r["ip"], level) for r in members)
            if len(sizes) <= MAX_GROUPS or level == 2:
                crowded = len(sizes) > MAX_GROUPS  # still too many: the sparse ones share one group
                for r in members:
                    subnet = subnet_of(r["ip"], level)
                    r["subnet"] = SCATTERED if crowded and sizes[subnet] <= SPARSE else subnet
                break


def gather(store: Store, policy_path: str | Path | None = None) -> dict[str, Any]:
    """The report as one dict (JSON-serialisable): run, zones, assets, edges, violations, paths, alerts,
    blind spots, exposure and the top ten."""
    policy = load_policy(policy_path) if policy_path else None
    assets, comms, alerts = store.assets(), store.communications(), store.alerts()
    doc = paths_document(comms, assets, policy)
    zone_of = _zone_lookup(policy, assets)
    alerts_by_ip: dict[str, list[dict]] = defaultdict(list)  # stored alerts and this policy's violations, once each
    for alert in {a["id"]: a for a in [*alerts, *doc["violations"]]}.values():
        for ip in {alert.get("src"), alert.get("dst")} - {None}:
            alerts_by_ip[ip].append(alert)
    rows = [_asset(a, zone_of, alerts_by_ip) for a in assets]
    group_subnets(rows)
    known = {r["id"] for r in rows}
    edges = _edges(comms, doc, known)
    zones = _zones(policy, rows)
    data: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": _run(store, policy, policy_path),
        "zones": zones,
        "assets": rows,
        "edges": edges,
        "violations": [_alert(a) for a in doc["violations"]],
        "paths": doc["paths"],
        "path_notes": doc.get("notes", []),
        "alerts": _alert_groups(alerts),
        "blind": _blind(store.weirds(), comms, zone_of, _encrypted_servers(assets)),
    }
    data["exposure"] = score_assets(data)
    data["zone_exposure"] = score_zones(data)
    data["top_ten"] = top_ten(data)
    return data


def _zone_lookup(policy: Policy | None, assets: list[dict]) -> Any:
    """address -> (zone name, level): from the policy when given, else as the store recorded it."""
    if policy is not None:
        zone_map = ZoneMap(policy.zones)

        def from_policy(ip: str | None) -> tuple[str, float | None]:
            zone = zone_map.zone_of(ip or "")
            return zone.name, zone.level
        return from_policy
    stored = {a["ip"]: (a.get("zone") or UNKNOWN_ZONE, a.get("zone_level")) for a in assets if a.get("ip")}
    return lambda ip: stored.get(ip, (UNKNOWN_ZONE, None))


def _asset(a: Mapping[str, Any], zone_of: Any, alerts_by_ip: Mapping[str, list[dict]]) -> dict[str, Any]:
    ip = a.get("ip")
    zone, level = zone_of(ip) if ip else (a.get("zone") or UNKNOWN_ZONE, a.get("zone_level"))
    identity = a.get("identity") or {}
    points = a.get("points") or []
    return {
        "id": ip or a.get("mac"), "ip": ip, "mac": a.get("mac"), "mac_vendor": a.get("mac_vendor"),
        "name": (a.get("hostnames") or [None])[0], "hostnames": a.get("hostnames") or [],
        "type": a.get("device_type") or "unknown", "type_reasons": a.get("device_type_reasons") or [],
        "roles": a.get("roles") or [], "zone": zone, "level": level, "subnet": subnet_of(ip),  # group_subnets may widen it
        "vendor": identity.get("vendor"), "product": identity.get("product") or identity.get("model"),
        "firmware": identity.get("firmware") or identity.get("revision"), "identity": identity or None,
        "services": [f"{s['protocol']} {s['transport']}/{s['port']}" for s in a.get("services") or []],
        "sources": a.get("sources") or {},
        "points": [{"server": p["server"], "protocol": p["protocol"], "access": p["access"],
                    "table": p["table"], "address": p["address"], "quantity": p["quantity"], "count": p["count"]}
                   for p in points[:50]],
        "points_total": len(points),
        "first_seen": a.get("first_seen"), "last_seen": a.get("last_seen"),
        "packets": a.get("packets") or 0,
        "alerts": len(alerts_by_ip.get(ip or "", [])),
        "max_severity": max((int(x.get("severity") or 0) for x in alerts_by_ip.get(ip or "", [])), default=0),
    }


def _edges(comms: Iterable[Mapping[str, Any]], doc: Mapping[str, Any], known: set[str]) -> list[dict[str, Any]]:
    """One edge per initiator, responder and protocol, flagged when a violation or a path runs over it."""
    violating = {(v["src"], v["dst"]) for v in doc["violations"] if v["rule"].startswith("policy.")}
    on_path = {(h["src"], h["dst"]) for p in doc["paths"] for h in p["hops"]}
    on_pivot = {(h["src"], h["dst"]) for p in doc["paths"] if p["pivot"] for h in p["hops"]}
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in comms:
        src, dst = c["initiator"], c["responder"]
        if src not in known or dst not in known:
            continue  # broadcast and multicast are never assets: no node to draw them to
        key = (src, dst, c["protocol"])
        edge = merged.setdefault(key, {
            "src": src, "dst": dst, "protocol": c["protocol"], "ports": [], "packets": 0, "actions": Counter(),
            "first_seen": c["first_seen"], "last_seen": c["last_seen"],
            "frames": c.get("sample_frames") or []})
        edge["ports"].append(f"{c['transport']}/{c['port']}")
        edge["packets"] += c.get("packets") or 0
        edge["actions"].update(c.get("actions") or {})
        edge["first_seen"] = min(edge["first_seen"], c["first_seen"])
        edge["last_seen"] = max(edge["last_seen"], c["last_seen"])
    out = []
    for (src, dst, protocol), edge in merged.items():
        action = worst(protocol, edge["actions"])
        out.append({**edge, "actions": dict(edge["actions"]), "worst": action,
                    "rank": RANK[action] if action else -1,
                    "violation": (src, dst) in violating, "path": (src, dst) in on_path,
                    "pivot": (src, dst) in on_pivot})
    return out


def _zones(policy: Policy | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Zones highest Purdue level first (the map's bands top to bottom); zones without a level last."""
    count = Counter(r["zone"] for r in rows)
    levels = {z.name: z.level for z in policy.zones} if policy else {}
    for r in rows:
        levels.setdefault(r["zone"], r["level"])
    ordered = sorted(levels, key=lambda n: (levels[n] is None, -(levels[n] or 0), n))
    return [{"name": n, "level": levels[n], "assets": count.get(n, 0)} for n in ordered]


def _run(store: Store, policy: Policy | None, policy_path: str | Path | None) -> dict[str, Any]:
    runs = store.runs()
    files = [{"path": r[0], "bytes": r[1], "frames": r[2], "complete": bool(r[3]), "analyzed": r[4]}
             for r in store.db.execute("SELECT name, size, frames_done, complete, first_analyzed FROM files"
                                       " WHERE fingerprint NOT LIKE '%#%' ORDER BY name")]
    seen = store.db.execute("SELECT min(first_seen), max(last_seen) FROM assets").fetchone()
    return {
        "files": files, "runs": len(runs), "packets": sum(r.get("packets") or 0 for r in runs),
        "bytes": sum(r.get("bytes") or 0 for r in runs), "span": [seen[0], seen[1]],
        "version": sensor_version(),
        "policy": str(policy_path) if policy_path else "none: zones as stored by analyze",
        "policy_zones": len(policy.zones) if policy else 0,
    }


def _alert(a: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("id", "ts", "rule", "category", "severity", "src", "dst", "proto", "summary", "evidence", "frames", "count")
    return {k: a.get(k) for k in keep}


def _alert_groups(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts grouped by rule, the most severe rule first; each group keeps its first 50 alerts."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for a in alerts:
        groups[a["rule"]].append(a)
    out = [{"rule": rule, "category": items[0].get("category"),
            "severity": max(int(a.get("severity") or 0) for a in items), "count": len(items),
            "explanation": items[0].get("summary"), "alerts": [_alert(a) for a in items[:50]]}
           for rule, items in groups.items()]
    return sorted(out, key=lambda g: (-g["severity"], -g["count"], g["rule"]))


def _encrypted_servers(assets: list[dict]) -> set[str]:
    """Servers seen holding encrypted OPC UA channels (SignAndEncrypt): the package puts it in their identity."""
    return {a["ip"] for a in assets if a.get("ip") and (a.get("identity") or {}).get("opcua_encrypted_channel")}


def _blind(weirds: list[dict], comms: list[dict], zone_of: Any, encrypted_servers: set[str] = frozenset()
           ) -> dict[str, Any]:
    """What the sensor could not see: capture-wide losses (weirds are kept per file), and per zone the
    communications it could not read, from the counters analyze stores on each one."""
    loss = [w for w in weirds if w["code"] in LOSS_WEIRDS or w["code"].endswith(LIMIT_SUFFIX)]
    ports = ot_ports()
    per_zone: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    uncounted = 0
    for c in comms:
        found = per_zone[zone_of(c["responder"])[0]]
        label = f"{c['initiator']} → {c['responder']} {c['transport']}/{c['port']} ({c['protocol']})"
        key = (c["transport"], c["port"])
        if c["protocol"] in ENCRYPTED or key in ENCRYPTED_PORTS or (
                c["protocol"] == "opcua" and c["responder"] in encrypted_servers):
            found["encrypted"].append(label)
        elif key in ports and c["protocol"] != ports[key]:
            found["ot_unparsed"].append(label)
        if c.get("responder_packets") is None:
            uncounted += 1  # stored by an otsensor that did not count what it could see
            continue
        if c["transport"] == "tcp" and c["responder_packets"] in (0, c["packets"]):
            side = "initiator" if c["responder_packets"] == 0 else "responder"
            found["one_way"].append(f"{label}: {c['packets']} packets, all from the {side}")
        if c["midstream_flows"]:
            found["midstream"].append(f"{label}: {c['midstream_flows']} of {c['flows']} sessions")
        if c["gap_bytes"]:
            found["gaps"].append(f"{label}: {c['gap_bytes']} bytes missing")
    note = (f"{uncounted} communications were stored by an older otsensor, which did not count one-way flows, "
            "mid-stream pickups or gaps per communication: analyze the capture again to see them") if uncounted else ""
    return {
        "loss": [{"code": w["code"], "file": w["file"], "count": w["count"], "first_frame": w.get("first_frame")}
                 for w in loss],
        "zones": {zone: {kind: sorted(set(v)) for kind, v in kinds.items()}
                  for zone, kinds in sorted(per_zone.items()) if kinds},
        "note": note,
    }
