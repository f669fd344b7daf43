"""Exposure scoring: how much harm could reach each asset, as points out of 100 with the reasons.

The scale (documented in the README, "The report"):
- reach (0-30): reachable from the enterprise over observed communications in 1 hop 30, 2 hops 20,
  3 hops 12, more 6;
- control (0-40): the most powerful action that reached it, program download or firmware 25, mode change
  or restart 20, write or operate 12; +10 when that action came from another zone, +5 when its sender is
  in the enterprise or reachable from it;
- criticality (0-20): device type (PLC 12, engineering station 10, HMI 8, historian 6, other 2) plus its
  Purdue level (level 1 or below 8, level 2 5, level 3 2);
- alerts (0-10): the highest severity of the alerts that name it.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

ENTERPRISE_LEVEL = 4.0  # the office network; when no zone has it, the highest level >= IT_LEVEL starts
IT_LEVEL = 3.5
REACH_POINTS = {1: 30, 2: 20, 3: 12}
REACH_FAR = 6
ACTION_POINTS = {5: 25, 4: 20, 3: 12}  # sensor.policy.actions.RANK -> points
OTHER_ZONE, REACHABLE_SENDER = 10, 5
TYPE_POINTS = {"plc": 12, "engineering_station": 10, "hmi": 8, "historian": 6}
OTHER_TYPE = 2
ACTION_WORDS = {5: "reprogram", 4: "stop, restart or change the mode of", 3: "write to"}


def level_points(level: float | None) -> int:
    if level is None:
        return 0
    return 8 if level <= 1 else 5 if level <= 2 else 2 if level <= 3 else 0


def enterprise_sources(assets: list[Mapping[str, Any]]) -> set[str]:
    """The assets paths start from: level >= 4, else the highest level at or above 3.5."""
    levels = [a["level"] for a in assets if a.get("level") is not None and a["level"] >= IT_LEVEL]
    if not levels:
        return set()
    start = ENTERPRISE_LEVEL if max(levels) >= ENTERPRISE_LEVEL else max(levels)
    return {a["id"] for a in assets if a.get("level") is not None and a["level"] >= start}


def reach(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Shortest observed chain from an enterprise asset to every asset it reaches (initiator -> responder)."""
    sources = enterprise_sources(data["assets"])
    out_edges: dict[str, list[str]] = {}
    for e in data["edges"]:
        out_edges.setdefault(e["src"], []).append(e["dst"])
    chain: dict[str, list[str]] = {s: [s] for s in sources}
    queue = deque(sorted(sources))
    while queue:
        node = queue.popleft()
        for nxt in sorted(out_edges.get(node, ())):
            if nxt not in chain:
                chain[nxt] = chain[node] + [nxt]
                queue.append(nxt)
    return {k: v for k, v in chain.items() if k not in sources}


def score_assets(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every asset's score, parts and reasons, highest first (ties by address)."""
    by_id = {a["id"]: a for a in data["assets"]}
    chains = reach(data)
    reachable = set(chains) | enterprise_sources(data["assets"])
    out = []
    for asset in data["assets"]:
        aid, reasons = asset["id"], []
        chain = chains.get(aid)
        reach_pts = 0
        if chain:
            hops = len(chain) - 1
            reach_pts = REACH_POINTS.get(hops, REACH_FAR)
            reasons.append(f"reachable from the enterprise in {hops} hop{'s' * (hops > 1)}: {' → '.join(chain)}")
        control_pts, control_from = 0, None
        for e in data["edges"]:
            if e["dst"] != aid or e["rank"] not in ACTION_POINTS:
                continue
            sender = by_id.get(e["src"], {})
            pts = ACTION_POINTS[e["rank"]]
            pts += OTHER_ZONE if sender.get("zone") != asset["zone"] else 0
            pts += REACHABLE_SENDER if e["src"] in reachable else 0
            if pts > control_pts:
                control_pts, control_from = pts, e
        if control_from:
            e = control_from
            where = by_id.get(e["src"], {}).get("zone", "?")
            reasons.append(f"{e['worst']} ({e['protocol']}) from {e['src']} in zone {where}")
        crit = TYPE_POINTS.get(asset["type"], OTHER_TYPE) + level_points(asset.get("level"))
        reasons.append(f"{asset['type']} at level {_level(asset.get('level'))}")
        alert_pts = min(10, int(asset.get("max_severity") or 0))
        if asset.get("alerts"):
            reasons.append(f"{asset['alerts']} alert(s), highest severity {asset['max_severity']}")
        out.append({"id": aid, "score": reach_pts + control_pts + crit + alert_pts, "reasons": reasons,
                    "parts": {"reach": reach_pts, "control": control_pts, "criticality": crit, "alerts": alert_pts},
                    "chain": chain, "control": control_from and {k: control_from[k] for k in
                                                                  ("src", "protocol", "worst", "rank", "ports")}})
    return sorted(out, key=lambda r: (-r["score"], r["id"]))


def score_zones(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A zone scores as its most exposed asset, plus 5 for every policy violation into it (at most 20)."""
    zone_of = {a["id"]: a["zone"] for a in data["assets"]}
    best: dict[str, dict[str, Any]] = {}
    for row in data["exposure"]:
        best.setdefault(zone_of[row["id"]], row)
    into: dict[str, int] = {}
    for v in data["violations"]:
        if v["rule"].startswith("policy."):
            zone = zone_of.get(v["dst"])
            into[zone] = into.get(zone, 0) + 1
    out = []
    for zone in data["zones"]:
        name, top = zone["name"], best.get(zone["name"])
        if top is None:
            continue
        extra = min(20, 5 * into.get(name, 0))
        reasons = [f"most exposed asset {top['id']} ({top['score']})"]
        if into.get(name):
            reasons.append(f"{into[name]} policy violation(s) into the zone")
        out.append({"zone": name, "score": top["score"] + extra, "reasons": reasons})
    return sorted(out, key=lambda z: (-z["score"], z["zone"]))


def _level(level: float | None) -> str:
    return "unknown" if level is None else f"{level:g}"
