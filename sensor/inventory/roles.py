"""Infer what a device is from what it did, and say why.

The rules follow what an OT engineer reads from Modbus traffic:
- a device that answers Modbus requests is a PLC/RTU (or a gateway in front of one);
- a client that writes, runs diagnostics or reads device identification is an engineering station;
- a client that polls several servers on a steady period is an HMI/SCADA server;
- a client that only reads, slowly, is a historian;
- anything else is an IT host.
"""
from __future__ import annotations

import math
from typing import Any

PLC, HMI, ENGINEERING, HISTORIAN, IT_HOST = "plc", "hmi", "engineering_station", "historian", "it_host"
STEADY_CV = 0.5  # coefficient of variation of request gaps below which polling counts as periodic
MIN_INTERVALS = 10  # gaps needed before the period is trusted
SLOW_POLL_S = 10.0  # a mean gap at least this long makes a read-only poller a historian


def _period(polls: list[dict[str, Any]]) -> tuple[float, float] | None:
    """Mean and coefficient of variation of the request gaps, over all servers."""
    n = sum(p["intervals"] for p in polls)
    if n < MIN_INTERVALS:
        return None
    total = sum(p["interval_sum"] for p in polls)
    mean = total / n
    variance = max(sum(p["interval_sumsq"] for p in polls) / n - mean * mean, 0.0)
    return mean, (math.sqrt(variance) / mean if mean > 0 else math.inf)


def infer_device_type(asset: dict[str, Any], polls: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """``polls`` are this asset's rows as a client (store ``polls`` table)."""
    roles = set(asset.get("roles") or [])
    reasons: list[str] = []
    if "modbus_server" in roles:
        units = asset.get("unit_ids") or []
        ports = sorted({s["port"] for s in asset.get("services") or [] if s["protocol"] == "modbus"})
        reasons.append(f"answers Modbus requests on tcp/{','.join(map(str, ports)) or '?'}"
                       + (f" for unit ids {', '.join(map(str, units))}" if units else ""))
        if "modbus_client" in roles:
            reasons.append("also sends Modbus requests itself (a gateway or a controller polling peers)")
        return PLC, reasons
    if "modbus_client" not in roles:
        return IT_HOST, ["no industrial protocol role observed"]
    writes = sum(p["writes"] for p in polls)
    diagnostics = sum(p["diagnostics"] for p in polls)
    requests = sum(p["requests"] for p in polls)
    servers = len({p["server"] for p in polls})
    if writes or diagnostics:
        if writes:
            reasons.append(f"wrote to Modbus servers ({writes} write requests)")
        if diagnostics:
            reasons.append(f"ran diagnostics or read device identification ({diagnostics} requests)")
        return ENGINEERING, reasons
    period = _period(polls)
    if period is not None:
        mean, cv = period
        steady = cv < STEADY_CV
        if servers >= 2 and steady:
            return HMI, [f"polls {servers} Modbus servers every {mean:.3g} s on average (variation {cv:.2f})"]
        if mean >= SLOW_POLL_S:
            return HISTORIAN, [f"only reads, slowly: one request every {mean:.3g} s on average to {servers} server(s)"]
    return IT_HOST, [f"Modbus client with {requests} read requests to {servers} server(s), "
                     "without the steady multi-server polling of an HMI or the slow reads of a historian"]
