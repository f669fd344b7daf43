"""What the command line calls: thin functions over the store's plain dicts, no I/O but the policy file.

``otsensor analyze --policy P`` should call ``load_policy(P)`` before reading any capture (a bad file
then stops the run before anything is analysed) and pass the loaded ``Policy`` here afterwards.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sensor.detect.baseline import Baseline
from sensor.inventory.addresses import is_host
from sensor.policy.check import CATEGORY, alerts_for, breaches
from sensor.policy.observed import Communication, merge
from sensor.policy.pathways import (
    DEFAULT_MAX_HOPS,
    DEFAULT_WINDOW_S,
    IT_LEVEL,
    OT_LEVEL,
    Pathway,
    Search,
    build_graph,
    find_paths,
    path_json,
    pivot_alerts,
)
from sensor.policy.policy_file import Policy, load_policy
from sensor.policy.suggest import suggest
from sensor.policy.zones import UNKNOWN, Zone, ZoneMap

Rows = Iterable[Mapping[str, Any]]


def run_policy_check(policy: str | Path | Policy, communications: Rows, assets: Rows,
                     window_s: float = DEFAULT_WINDOW_S, max_hops: int = DEFAULT_MAX_HOPS
                     ) -> tuple[dict[str, str], list[dict]]:
    """Zone of every address, and the alerts: policy breaches, then pivot chains.

    ``policy`` is a path (loaded here; PolicyError if bad) or an already loaded Policy.
    """
    policy = policy if isinstance(policy, Policy) else load_policy(policy)
    comms, assets = merge(communications), list(assets)
    zone_map = ZoneMap(policy.zones)
    alerts, _, _ = _analyse(comms, assets, policy, zone_map, window_s, max_hops)
    addresses = {str(a["ip"]) for a in assets if a.get("ip")} | {ip for c in comms for ip in (c.initiator, c.responder)}
    return {ip: zone_map.zone_of(ip).name for ip in sorted(addresses)}, alerts


def paths_document(communications: Rows, assets: Rows, policy: str | Path | Policy | None = None,
                   window_s: float = DEFAULT_WINDOW_S, max_hops: int = DEFAULT_MAX_HOPS,
                   stored_alerts: Rows | None = None) -> dict:
    """The ``otsensor paths --format json`` document.

    Without a policy, zones come from the stored assets (``zone`` and, when the store keeps it,
    ``zone_level``); an asset with neither is ``unknown``, and zones without a level start or end no path.
    The violations are then those analyze's policy check stored (``stored_alerts``, so that ``paths`` and
    ``alerts`` agree): zones alone, without their conduits, would report hops the policy allows.
    """
    comms, assets = merge(communications), list(assets)
    notes = []
    if policy is None:
        zone_map, policy = _stored_zones(assets)
        notes.append(NO_ZONES if not policy.zones else STORED_VERDICT)
    else:
        policy = policy if isinstance(policy, Policy) else load_policy(policy)
        zone_map = ZoneMap(policy.zones)
    alerts, search, breached = _analyse(comms, assets, policy, zone_map, window_s, max_hops)
    if policy.source == STORED_ZONES:
        alerts = [a for a in stored_alerts or () if a.get("category") == CATEGORY] if policy.zones else []

    def allowed(path: Pathway) -> bool | None:
        """Whether the policy allows every hop (None when it does not enforce conduits)."""
        if not policy.enforcing:
            return None
        return not any((h.src, h.dst, h.transport, h.port) in breached for h in path.hops)

    return {
        "violations": alerts,
        "paths": [path_json(p, allowed(p)) for p in search.paths],
        "notes": notes + ([search.note] if search.note else []),
        "zones_defined": bool(policy.zones),
        "window_s": window_s,
        "max_hops": max_hops,
    }


NO_ZONES = ("no zones defined: the database was analysed without --policy, so nothing can be judged; give "
            "--policy PATH (`otsensor policy suggest` proposes one)")
STORED_VERDICT = ("no --policy: the violations are those analyze's policy check stored (as `otsensor alerts` lists "
                  "them), the paths use the zones it stored and are not judged hop by hop; give --policy PATH to "
                  "judge them again")
STORED_ZONES = "stored zones"


def suggest_policy(communications: Rows, assets: Rows) -> str:
    """``otsensor policy suggest``: a commented policy YAML proposing zones and conduits from what was seen."""
    return suggest(merge(communications), list(assets))


def baseline_communications(baseline: Baseline) -> list[dict[str, Any]]:
    """The communications a learned baseline allows, as store rows, with the functions it allows on each:
    ``policy suggest --baseline`` then proposes exactly the conduits the allowlist allows (read-only where
    the baseline learned only reads)."""
    learned = baseline.learned
    first, last = float(learned.get("first_ts") or 0.0), float(learned.get("last_ts") or 0.0)
    functions: dict[tuple[str, str], dict[str, int]] = {}
    for client, server, _protocol, _action, function in baseline.functions.items:
        functions.setdefault((client, server), {})[function] = 1
    return [{"initiator": client, "responder": server, "transport": transport, "port": port,
             "protocol": baseline.services.get((client, server, transport, port)) or transport,
             "first_seen": first, "last_seen": last, "actions": functions.get((client, server), {})}
            for client, server, transport, port in sorted(baseline.communications.items)]


def render_paths_table(doc: Mapping[str, Any]) -> str:
    """The paths document as text for a terminal: violations, then paths riskiest first, then notes."""
    lines = [f"Violations: {len(doc['violations'])}" if doc.get("zones_defined", True)
             else "Violations: not checked, no zones defined"]
    for a in doc["violations"]:
        lines.append(f"  [{a['severity']:>2}] {a['rule']:<25} {a['src']} -> {a['dst']} ({a['proto']})")
        lines.append(f"       {a['summary']}")
    lines.append(f"Paths: {len(doc['paths'])} (from level >= {IT_LEVEL:g} to level <= {OT_LEVEL:g})")
    for i, p in enumerate(doc["paths"], 1):
        flags = ("PIVOT " if p["pivot"] else "") + {True: "allowed", False: "breach", None: ""}[p.get("allowed")]
        lines.append(f"  {i:>3}. {p['from_zone']} -> {p['to_zone']}, {len(p['hops'])} hop(s) {flags}".rstrip())
        for h in p["hops"]:
            used = f" [{', '.join(f'{k} x{v}' for k, v in h['actions'].items())}]" if h["actions"] else ""
            lines.append(f"         {h['src']} -> {h['dst']} {h['service']}{used}")
    lines += [f"Note: {n}" for n in doc.get("notes", [])]
    return "\n".join(lines) + "\n"


def _analyse(comms: list[Communication], assets: list[Mapping], policy: Policy, zone_map: ZoneMap,
             window_s: float, max_hops: int) -> tuple[list[dict], Search, set[tuple[str, str, str, int]]]:
    """Policy and pivot-chain alerts over one zone map, the path search, and the breaching keys."""
    broadcasts = policy.broadcasts
    comms = [c for c in comms if is_host(c.responder) and is_host(c.initiator)
             and c.responder not in broadcasts and c.initiator not in broadcasts]  # stored before the rule
    kinds = {str(a["ip"]): str(a["device_type"]) for a in assets
             if a.get("ip") and a.get("device_type") not in (None, "", "unknown")}
    found = breaches(comms, policy, zone_map)
    search = find_paths(build_graph(comms, zone_map), window_s, max_hops)
    alerts = alerts_for(found, kinds) + pivot_alerts(search.paths, kinds, window_s)
    return alerts, search, {b.comm.key for b in found}


def _stored_zones(assets: list[Mapping]) -> tuple[ZoneMap, Policy]:
    """Zones as the store recorded them per asset; the policy over them reports level skips only."""
    names = {str(a["ip"]): str(a["zone"]) for a in assets
             if a.get("ip") and a.get("zone") not in (None, "", UNKNOWN.name)}
    levels: dict[str, float] = {}
    for a in assets:
        if str(a.get("ip")) in names and a.get("zone_level") is not None:
            levels.setdefault(names[str(a["ip"])], float(a["zone_level"]))
    zones = {name: Zone(name, levels.get(name)) for name in sorted(set(names.values()))}
    zone_map = ZoneMap.from_assignments({ip: zones[name] for ip, name in names.items()})
    return zone_map, Policy(zones=tuple(zones.values()), source=STORED_ZONES)
