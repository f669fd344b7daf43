"""What every SIEM format shares: who we are, times, addresses, and the flow tuple of an alert.

Alerts come from several producers (policy checks, pathways, detection episodes) and not all carry the
same keys, so these helpers read what is there and say ``None`` for what is not, never raising.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

VENDOR = "otsensor"
PRODUCT = "otsensor"
APP_NAME = "otsensor"  # the RFC 5424 APP-NAME


def product_version() -> str:
    """The installed package version; ``0`` when running from a tree that was never installed."""
    try:
        return metadata.version("otsensor")
    except metadata.PackageNotFoundError:
        return "0"


VERSION = product_version()

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str).encode


def compact_json(value: Any) -> str:
    """One-line JSON with sorted keys, so the same value always gives the same text (and the same hash)."""
    return _dumps(value)


def epoch(value: Any) -> float | None:
    """Seconds since the epoch, or None when the value is missing or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def epoch_ms(ts: Any) -> int | None:
    """Milliseconds since the epoch (CEF ``rt``): rounded to the microsecond first, as the sensor's own
    times are, then truncated, so ``iso_ms`` and ``epoch_ms`` of one time always agree."""
    seconds = epoch(ts)
    return None if seconds is None else round(seconds * 1_000_000) // 1000


def iso_ms(ts: Any) -> str | None:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-01-05T08:05:00.000Z``; None without a time."""
    ms = epoch_ms(ts)
    if ms is None:
        return None
    try:
        when = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return (f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
            f".{ms % 1000:03d}Z")


def ip_of(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address when ``value`` is an IP address (link-layer alerts carry MACs in src/dst)."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def mac_of(value: Any) -> str | None:
    """A MAC address as six lowercase hex pairs joined by colons, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    digits = value.replace(":", "").replace("-", "").replace(".", "")
    if len(digits) != 12 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        return None
    if len(value) not in (12, 14, 17):
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)).lower()


def ecs_mac(mac: str) -> str:
    """ECS writes MACs as ``AA-BB-CC-DD-EE-FF``: uppercase, dash-separated."""
    return mac.replace(":", "-").upper()


def port_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value <= 65535 else None


def _text(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def flow_of(alert: dict) -> tuple[str | None, int | None, int | None]:
    """(transport, source port, destination port) as far as the alert knows them.

    Detection alerts may carry ``sport``/``dport``/``transport`` at the top level or in ``evidence``;
    policy alerts carry the responder's port and transport in ``evidence.seen`` (the initiator's ephemeral
    port is not kept, so it stays None).
    """
    evidence = alert.get("evidence") if isinstance(alert.get("evidence"), dict) else {}
    seen = evidence.get("seen") if isinstance(evidence.get("seen"), dict) else {}
    places = (alert, evidence, seen)

    def first(*keys: str, read=port_of) -> Any:
        for place in places:
            for key in keys:
                value = read(place.get(key))
                if value is not None:
                    return value
        return None

    return first("transport", read=_text), first("sport", "src_port"), first("dport", "dst_port", "port")


def zones_of(alert: dict) -> tuple[str | None, str | None]:
    """(source zone, destination zone) named in a policy alert's evidence."""
    evidence = alert.get("evidence") if isinstance(alert.get("evidence"), dict) else {}
    seen = evidence.get("seen") if isinstance(evidence.get("seen"), dict) else {}
    src = seen.get("initiator_zone", seen.get("from_zone"))
    dst = seen.get("responder_zone", seen.get("to_zone"))
    return (src if isinstance(src, str) else None), (dst if isinstance(dst, str) else None)


def severity_of(value: Any) -> int:
    """The alert severity clamped to 0..10 (CEF's range); anything unreadable is 0, "unknown"."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, min(10, int(round(value))))


def asset_key(asset: dict) -> str:
    """The key the store uses: the IP, or the MAC for a device seen only at layer 2."""
    for key in ("key", "ip", "mac"):
        value = asset.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


# Asset fields that move with every packet: a change in them alone is not a new asset state.
VOLATILE_ASSET_FIELDS = frozenset({"first_seen", "last_seen", "packets", "bytes", "sources", "digest"})


def asset_record_id(asset: dict) -> str:
    """``<key>:<digest>``: the same asset state always gets the same id, so a SIEM drops the duplicates that
    at-least-once delivery sends, and a changed asset gets a new one. The digest is the one the asset feed
    attached (``digest``) or else a hash of everything but the counters and times."""
    digest = asset.get("digest")
    if not isinstance(digest, str) or not digest:
        stable = {k: v for k, v in asset.items() if k not in VOLATILE_ASSET_FIELDS}
        digest = hashlib.sha256(compact_json(stable).encode()).hexdigest()[:16]
    return f"{asset_key(asset)}:{digest}"


def text_of(value: Any) -> str:
    """A field as text: strings as they are, other values as compact JSON."""
    return value if isinstance(value, str) else compact_json(value)


# Alert and asset keys that CEF and LEEF map to fields of their own; the rest go, as JSON, in one extra field.
ALERT_MAPPED = frozenset({"id", "ts", "rule", "summary", "severity", "src", "dst", "proto", "sport", "dport",
                          "transport", "category", "count", "first_seen", "last_seen", "rules", "evidence", "frames"})
ASSET_MAPPED = frozenset({"ip", "mac", "hostnames", "device_type", "identity", "roles", "services", "zone",
                          "first_seen", "last_seen"})


_HEADER = str.maketrans({"\\": "\\\\", "|": "\\|", "\r": " ", "\n": " "})


def escape_header(text: str) -> str:
    """A CEF or LEEF header field: backslash and pipe escaped, line breaks (not allowed there) made spaces."""
    return text.translate(_HEADER)
