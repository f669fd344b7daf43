"""What a device is, from what it did, for every protocol alike, with the measured evidence as reasons.

- PLC/RTU/outstation: the server side of a control protocol (it answers requests).
- Engineering station: a client that changes programs or modes, restarts devices, runs diagnostics,
  reads identification, or writes at irregular times (a person at a keyboard).
- HMI/SCADA: steady polling with a cycle of up to about two seconds, with or without writes.
- Historian: steady, read-only polling slower than that, usually of many servers.
- IT host: everything else.

The cycle and its steadiness come from the histogram of gaps between requests (``timing``), so a poller
that reads several blocks per cycle is still seen as the one-second poller it is.
"""
from __future__ import annotations

from typing import Any

from protocols import NAMING
from sensor.inventory import timing

PLC, HMI, ENGINEERING, HISTORIAN, IT_HOST = "plc", "hmi", "engineering_station", "historian", "it_host"
HMI_MAX_PERIOD_S = 2.5  # "a period up to about 2 s": the largest poll cycle of an operator display
# PROFINET's io_controller (the PLC) and io_device (its field station) are both the controlled side of a plant
SERVER_ROLES = ("server", "outstation", "target", "adapter", "controlled_station", "io_controller", "io_device")
CLIENT_ROLES = ("client", "master", "originator", "scanner", "controlling_station")


def _roles_of(asset: dict[str, Any], suffixes: tuple[str, ...]) -> list[str]:
    """Roles in industrial protocols only: a DHCP server or a NetBIOS domain controller is no PLC."""
    return sorted(r for r in asset.get("roles") or []
                  if any(r.endswith(f"_{s}") for s in suffixes) and _protocol(r, suffixes) not in NAMING)


def _protocol(role: str, suffixes: tuple[str, ...]) -> str:
    return next((role[: -len(s) - 1] for s in suffixes if role.endswith(f"_{s}")), role)


def infer_device_type(asset: dict[str, Any], polls: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """``polls`` are this asset's rows as a client (store ``polls`` table)."""
    served = _roles_of(asset, SERVER_ROLES)
    if served:
        return PLC, _server_reasons(asset, served)
    if not _roles_of(asset, CLIENT_ROLES) and not polls:
        return IT_HOST, ["no industrial protocol role observed"]
    if not polls:
        return IT_HOST, ["a client of an industrial protocol, but no requests were timed"]
    totals = {k: sum(p.get(k) or 0 for p in polls) for k in ("requests", "reads", "writes", "diagnostics", "programs")}
    servers = len({p["server"] for p in polls})
    if totals["programs"] or totals["diagnostics"]:
        reasons = []
        if totals["programs"]:
            reasons.append(f"changed programs, modes or restarted devices ({totals['programs']} requests)")
        if totals["diagnostics"]:
            reasons.append(f"ran diagnostics or read device identification ({totals['diagnostics']} requests)")
        return ENGINEERING, reasons
    gaps: list[int] = []
    for p in polls:
        gaps = timing.add(gaps, p.get("gaps") or [])
    cycle = timing.cycle(gaps, sum(p.get("cycle_sum") or 0.0 for p in polls), sum(p.get("cycle_count") or 0 for p in polls))
    writes = totals["writes"]
    if cycle is not None and cycle.steady:
        polled = (f"polls {servers} server(s) every {cycle.period_s:.2g} s "
                  f"({cycle.share:.0%} of {cycle.cycles} cycle gaps within ±41 % of it)")
        if cycle.period_s <= HMI_MAX_PERIOD_S:
            return HMI, [polled] + ([f"and writes ({writes} write requests)"] if writes else [])
        if not writes:
            return HISTORIAN, [polled, f"reads only ({totals['reads']} read requests), slower than an operator display"]
        return HMI, [polled, f"and writes ({writes} write requests)"]
    timed = (f"{cycle.cycles} gaps between its requests, no steady cycle ({cycle.share:.0%} near the most common, "
             f"{cycle.period_s:.2g} s)") if cycle is not None else "too few requests to see a cycle"
    if writes:
        return ENGINEERING, [f"writes at irregular times ({writes} write requests to {servers} server(s))", timed]
    return IT_HOST, [f"a client with {totals['requests']} requests to {servers} server(s) and no steady polling", timed]


def _server_reasons(asset: dict[str, Any], served: list[str]) -> list[str]:
    services = asset.get("services") or []
    reasons = []
    for protocol in dict.fromkeys(_protocol(role, SERVER_ROLES) for role in served):  # one reason per protocol
        ports = sorted({f"{s['transport']}/{s['port']}" for s in services if s["protocol"] == protocol})
        reasons.append(f"answers {protocol} requests" + (f" on {', '.join(ports)}" if ports else "")
                       + (f" for unit ids {', '.join(map(str, asset.get('unit_ids') or []))}"
                          if protocol == "modbus" and asset.get("unit_ids") else ""))
    if _roles_of(asset, CLIENT_ROLES):
        reasons.append("also sends requests itself (a gateway or a controller polling peers)")
    return reasons
