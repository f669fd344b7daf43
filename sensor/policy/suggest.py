"""A first policy written from what was observed, for an engineer to review and then enforce.

Zones come from the subnets seen (/24 for IPv4, /64 for IPv6). Each subnet takes the Purdue level of
the most critical device in it (a subnet holding one PLC is a control subnet), and subnets of one
level form one zone. A device whose own level differs from its subnet's (an HMI beside its PLCs, as
test benches and flat plants have them) is listed on its own, as a /32 (/128), in the zone of its
level: the most specific network wins, so the conduits between them are proposed too. A DMZ (3.5) cannot be told from traffic, so none is proposed. Every
cross-zone service observed becomes a conduit narrowed to the addresses that used it, read-only where
only reads were seen, with comments counting what it covers. Applying the suggestion to the traffic
it came from gives no alert; that is its test.
"""
from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sensor.policy import actions
from sensor.policy.observed import Communication
from sensor.policy.services import parse_service, suggest_name
from sensor.policy.zones import Zone, ZoneMap, parse_ip

ADDRESS_LIST_LIMIT = 16  # above this many initiators or responders, a conduit lists none (and says so)

# Purdue level by what the inventory calls a device (its device_type first, else its roles).
LEVEL_OF_KIND: dict[str, float] = {
    **dict.fromkeys(("plc", "rtu", "ied", "controller", "field_device", "io_device", "drive", "safety_controller",
                     "modbus_server", "dnp3_outstation", "s7_server", "enip_adapter", "bacnet_device"), 1.0),
    **dict.fromkeys(("hmi", "engineering_station", "engineering_workstation", "scada", "scada_server",
                     "modbus_client", "dnp3_master", "s7_client", "enip_scanner"), 2.0),
    **dict.fromkeys(("historian", "opc_server", "mes", "operations_server"), 3.0),
}
IT_LEVEL = 4.0  # anything that shows no OT role
ZONE_NAMES = {1.0: "controllers", 2.0: "supervisory", 3.0: "operations", 4.0: "enterprise"}


def asset_level(asset: Mapping) -> float:
    """The level one asset suggests: its device type if known, else its most critical role, else a field
    device if it answers an industrial control protocol, else IT."""
    kind = str(asset.get("device_type") or "").lower()
    if kind in LEVEL_OF_KIND:
        return LEVEL_OF_KIND[kind]
    levels = [LEVEL_OF_KIND[r.lower()] for r in asset.get("roles") or () if r.lower() in LEVEL_OF_KIND]
    if any(actions.controls(str(s.get("protocol"))) for s in asset.get("services") or ()):
        levels.append(min(LEVEL_OF_KIND.values()))
    return min(levels, default=IT_LEVEL)


def host_network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    ip = ipaddress.ip_address(address)
    return ipaddress.ip_network(f"{ip}/{ip.max_prefixlen}")


def subnet_of(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The subnet a host is grouped by, or None for addresses that are not hosts."""
    ip = parse_ip(address)
    if ip is None or ip.is_multicast or ip.is_unspecified or ip.is_loopback or str(ip) == "255.255.255.255":
        return None
    return ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False)


@dataclass
class _Usage:
    """What one proposed conduit covers."""

    sources: set[str] = field(default_factory=set)
    destinations: set[str] = field(default_factory=set)
    communications: int = 0
    packets: int = 0
    flows: int = 0
    functions: dict[str, int] = field(default_factory=dict)
    first_seen: float = float("inf")
    last_seen: float = float("-inf")
    evidence: tuple[str, int] | None = None  # the earliest frame the sensor kept of it

    def add(self, c: Communication) -> None:
        if c.sample_frames and (self.evidence is None or c.first_seen < self.first_seen):
            self.evidence = c.sample_frames[0]
        self.sources.add(c.initiator)
        self.destinations.add(c.responder)
        self.communications += 1
        self.packets += c.packets
        self.flows += c.flows
        for name, n in c.actions.items():
            self.functions[name] = self.functions.get(name, 0) + n
        self.first_seen = min(self.first_seen, c.first_seen)
        self.last_seen = max(self.last_seen, c.last_seen)


def suggest(comms: list[Communication], assets: Iterable[Mapping]) -> str:
    """The suggested policy as commented YAML."""
    assets = [a for a in assets if a.get("ip")]
    levels = {str(a["ip"]): asset_level(a) for a in assets}
    kinds = {str(a["ip"]): str(a["device_type"]) for a in assets if a.get("device_type")}
    subnet_level: dict = {}
    members: dict = defaultdict(list)
    for ip in sorted({*levels, *(ip for c in comms for ip in (c.initiator, c.responder))}):
        net = subnet_of(ip)
        if net is not None:
            level = levels.get(ip, IT_LEVEL)
            subnet_level[net] = min(subnet_level.get(net, level), level)
            members[net].append(ip)
    by_level: dict[float, list] = defaultdict(list)
    for net in sorted(subnet_level, key=lambda n: (n.version, n)):
        by_level[subnet_level[net]].append(net)
    for net, addresses in list(members.items()):  # a device of another level than its subnet: on its own
        for ip in addresses:
            if ip in levels and levels[ip] != subnet_level[net]:
                host = host_network(ip)
                by_level[levels[ip]].append(host)
                members[host] = [ip]
                members[net] = [a for a in members[net] if a != ip]
    zones = [Zone(ZONE_NAMES[lv], lv, tuple(nets)) for lv, nets in sorted(by_level.items(), reverse=True)]
    zone_map = ZoneMap(zones)

    usage: dict[tuple[str, str, str], _Usage] = {}
    unnamed: list[Communication] = []  # cross-zone traffic no service can name: it stays a breach
    for c in comms:
        zi = zone_map.zone_of(c.initiator)
        zr = zone_map.peer_zone(c.responder, zi)
        if zi.name == zr.name:
            continue  # traffic inside a zone is allowed unless the zone says otherwise
        name = suggest_name(c.service)
        if name is None:
            unnamed.append(c)
        else:
            usage.setdefault((zi.name, zr.name, name), _Usage()).add(c)

    span = f", {_when(min(c.first_seen for c in comms))} to {_when(max(c.last_seen for c in comms))}" if comms else ""
    lines = [
        "# Segmentation policy suggested by otsensor from observed traffic:",
        f"# {len(comms)} communications between {sum(map(len, members.values()))} hosts{span}.",
        "# Review before enforcing: zone levels are guessed from device roles, a DMZ (level 3.5) cannot be",
        "# seen in traffic, and every conduit below only repeats what happened, wanted or not.",
        "zones:" if zones else "zones: []  # nothing observed yet",
    ]
    for zone in zones:
        count = sum(len(members[n]) for n in zone.networks)
        hosts = sum(n.prefixlen == n.max_prefixlen for n in zone.networks)
        subnets = len(zone.networks) - hosts
        where = [f"{subnets} subnet{'s' if subnets != 1 else ''}"] if subnets else []
        where += [f"{hosts} device(s) listed on their own (their level is not their subnet's)"] if hosts else []
        lines += [(f"  # {count} address{'es' if count != 1 else ''} in {' and '.join(where)}"
                   f"{_kinds(zone, members, kinds)}"),
                  f"  - name: {zone.name}", f"    level: {zone.level:g}",
                  f"    networks: [{', '.join(_scalar(str(n)) for n in zone.networks)}]"]
    lines.append("conduits:" if usage else "conduits: []")
    for (src, dst, name), u in sorted(usage.items()):
        lines += _conduit_lines(src, dst, name, u)
    if unnamed:
        examples = ", ".join(f"{c.initiator} -> {c.responder}" for c in unnamed[:3])
        lines += [f"  # Not proposed: {len(unnamed)} cross-zone communication(s) whose transport header could not",
                  f"  # be read, so no service names them (for example {examples}): look at them first."]
    lines += ["# Anything no conduit above allows is a breach.", "default: deny", ""]
    return "\n".join(lines)


def _conduit_lines(src: str, dst: str, name: str, u: _Usage) -> list[str]:
    protocol = parse_service(name).protocol or ""
    reads_only = bool(u.functions) and actions.decodes(protocol) and not actions.not_reads(protocol, u.functions)
    lines = [(f"  # {u.communications} communication{'s' if u.communications != 1 else ''}: {len(u.sources)} "
              f"initiator(s) -> {len(u.destinations)} responder(s), {u.packets} packets in {u.flows} flows, "
              f"{_when(u.first_seen)} to {_when(u.last_seen)}")]
    if u.evidence is not None:
        lines.append(f"  # evidence: {u.evidence[0]} frame {u.evidence[1]}")
    if u.functions:
        used = ", ".join(f"{fn} x{n}" for fn, n in sorted(u.functions.items()))
        lines.append(f"  # functions: {used}" + (" (reads only)" if reads_only else ""))
    lines += [f"  - name: {src}-to-{dst}-{name.replace('/', '-')}", f"    from: {src}", f"    to: {dst}",
              f"    services: [{name}]"]
    for key, addresses in (("sources", u.sources), ("destinations", u.destinations)):
        if len(addresses) <= ADDRESS_LIST_LIMIT:
            lines.append(f"    {key}: [{', '.join(_scalar(a) for a in sorted(addresses, key=_ip_order))}]")
        else:
            lines.append(f"    # {len(addresses)} {key}: too many to list, so any address of the zone may pass")
    if reads_only:
        lines.append("    access: read")
    return lines


def _kinds(zone: Zone, members: Mapping, kinds: Mapping[str, str]) -> str:
    """How many of each device type a zone holds, for its comment."""
    counts: dict[str, int] = defaultdict(int)
    for net in zone.networks:
        for ip in members[net]:
            if ip in kinds:
                counts[kinds[ip]] += 1
    return (": " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))) if counts else ""


def _ip_order(address: str) -> tuple:
    ip = parse_ip(address)
    return (ip.version, int(ip)) if ip else (9, 0)


def _scalar(text: str) -> str:
    """YAML-safe: IPv6 text has colons that a flow list would misread."""
    return f'"{text}"' if ":" in text else text


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
