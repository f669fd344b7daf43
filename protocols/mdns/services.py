"""What an mDNS responder says about its services and itself (RFC 6763 DNS-SD over RFC 6762).

A service instance is named ``<Instance>.<_service>.<_tcp|_udp>.<domain>`` (RFC 6763 §4.1). An announcement
carries a PTR from the service type to the instance, the instance's SRV (target host and port) and TXT (key=value
strings), and the target's A/AAAA records. Each instance becomes an ``announced_service`` fact about the sender: a
responder answers for its own records (RFC 6762 §6). A fact about the SRV target's address would make that address
an asset, which a forged announcement must not do; the names of that address are ``hostname`` facts
(``protocols.dns.names``), which never make assets. (A Bonjour Sleep Proxy answering for a sleeping host is the one
responder whose services are not its own.) HINFO (CPU and OS) and the TXT ``model=`` of
``_device-info._tcp`` (what Apple devices announce) give the sender's model.
"""
from __future__ import annotations

import re
from typing import Any

from protocols.base import Fact
from protocols.dns.codes import RType
from protocols.dns.wire import Record

INSTANCE = re.compile(r"^(?P<instance>[^_].*?)\.(?P<service>_[^.]+\._(?:tcp|udp))\.(?P<domain>[^_].*)$", re.IGNORECASE)
ENUMERATION = "_services._dns-sd._udp."  # PTRs under it name service types, not instances (RFC 6763 §9)
DEVICE_INFO = "_device-info._tcp"
MAX_SERVICES = 32  # service instances described by one message
MAX_TXT = 16  # TXT strings kept per instance


def split_instance(name: str) -> tuple[str, str, str] | None:
    """(instance, service, domain) of a service instance name, None for other names."""
    match = INSTANCE.match(name)
    return (match["instance"], match["service"].lower(), match["domain"]) if match else None


def service_facts(records: tuple[Record, ...]) -> list[Fact]:
    """``announced_service`` facts per instance, and identity facts from HINFO and device-info."""
    instances: dict[str, dict[str, Any]] = {}

    def instance(name: str) -> dict[str, Any] | None:
        key = name.lower()
        if key not in instances:
            parts = split_instance(name)
            if parts is None or len(instances) >= MAX_SERVICES:
                return None
            instances[key] = {"service": parts[1], "instance": parts[0], "domain": parts[2]}
        return instances[key]

    for record in records:
        if record.rtype == RType.PTR and isinstance(record.data, str) and ENUMERATION not in record.name.lower():
            instance(record.data)
        elif record.rtype == RType.SRV and isinstance(record.data, dict):
            found = instance(record.name)
            if found is not None:
                found.update(port=record.data["port"], target=record.data["target"])
        elif record.rtype == RType.TXT and isinstance(record.data, list):
            found = instance(record.name)
            texts = [t for t in record.data if t][:MAX_TXT]
            if found is not None and texts:
                found["txt"] = texts
    facts = []
    for value in instances.values():
        facts.append(Fact("announced_service", "src", value))
        if value["service"] == DEVICE_INFO:
            model = next((t[6:] for t in value.get("txt", ()) if t.lower().startswith("model=")), None)
            if model:
                facts.append(Fact("identity", "src", {"model": model}))
    facts += [Fact("identity", "src", {"model": r.data["cpu"], "os": r.data["os"]}) for r in records
              if r.rtype == RType.HINFO and isinstance(r.data, dict)]
    return facts
