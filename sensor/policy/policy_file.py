"""Read the segmentation policy YAML into frozen records, or fail naming the line and what is wrong.

The file is read through ``yaml.compose`` so every node keeps its line: an engineer who typed
``nmae:`` or ``10.2.0.1/16`` is told where. Loading is all or nothing: a policy that failed anywhere
is never half-applied, because a missing conduit would turn into a flood of false alerts and a
missing zone into silence.

    zones:                                  # required, at least one
      - name: control                       # unique; "unknown" is reserved for addresses in no zone
        level: 2                            # Purdue level 0..5, may be fractional (3.5 = DMZ)
        networks: [10.20.0.0/16]            # CIDRs or addresses, IPv4 or IPv6
        intra: deny                         # optional: traffic inside the zone needs a conduit too
    conduits:                               # optional
      - name: hmi-polling                   # optional, shown in alerts
        from: control                       # the zone that initiates
        to: field                           # the zone that answers
        services: [modbus, tcp/44818]       # tcp/PORT, udp/PORT, ip/PROTOCOL (ip/47: GRE) or a protocol name
        sources: [10.20.0.10]               # optional: only these initiators
        destinations: [10.10.0.0/24]        # optional: only these responders
        access: read                        # optional: only reading actions pass
    default: deny                           # deny: enforce conduits; allow: report level skips only

``default`` is required once conduits are declared (silently guessing "allow" would hide every breach);
a file with zones alone checks only Purdue level skips.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sensor.inventory.addresses import directed_broadcasts
from sensor.policy import actions
from sensor.policy.services import ServiceSpec, parse_service
from sensor.policy.zones import UNKNOWN_NAME, IPNetwork, Zone, ZoneMap

MAX_LEVEL = 5


class PolicyError(ValueError):
    """A policy file that cannot be applied: where (1-based line) and what is wrong."""

    def __init__(self, line: int, message: str, source: str = "policy") -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.line = line
        self.message = message
        self.source = source


@dataclass(frozen=True, slots=True)
class Conduit:
    """Communications initiated from one zone to another that the policy allows."""

    name: str
    from_zone: str
    to_zone: str
    services: tuple[ServiceSpec, ...]
    sources: tuple[IPNetwork, ...] = ()
    destinations: tuple[IPNetwork, ...] = ()
    read_only: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole, validated policy file."""

    zones: tuple[Zone, ...]
    conduits: tuple[Conduit, ...] = ()
    default: str | None = None  # "deny", "allow", or None for a zones-only file
    source: str = "policy"
    # The conduits of each (from, to) zone pair: only those can cover a communication between them.
    by_pair: dict[tuple[str, str], tuple[Conduit, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs: dict[tuple[str, str], tuple[Conduit, ...]] = {}
        for k in self.conduits:
            pairs[(k.from_zone, k.to_zone)] = pairs.get((k.from_zone, k.to_zone), ()) + (k,)
        object.__setattr__(self, "by_pair", pairs)

    @property
    def broadcasts(self) -> frozenset[str]:
        """Directed broadcast addresses of the zones' IPv4 networks: destinations, never parties."""
        return directed_broadcasts([str(net) for zone in self.zones for net in zone.networks])

    @property
    def enforcing(self) -> bool:
        """Whether traffic no conduit allows is a breach (else only level skips are reported)."""
        return self.default == "deny"


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; PolicyError names the line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(0, f"cannot read the policy file: {err}", str(path)) from err
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate policy YAML text; ``source`` names it in errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise PolicyError(mark.line + 1 if mark else 1, f"not valid YAML: {err.problem}", source) from err
    except yaml.reader.ReaderError as err:  # a character YAML does not allow; it knows only the offset
        line = text[:err.position].count("\n") + 1
        raise PolicyError(line, f"not valid YAML: character {err.character!r} is not allowed", source) from err
    if root is None:
        raise PolicyError(1, "the policy is empty: it needs at least 'zones'", source)
    try:
        return _policy(root, source)
    except _Bad as bad:
        raise PolicyError(bad.node.start_mark.line + 1, bad.message, source) from None


class _Bad(Exception):
    """A problem at a node; turned into PolicyError with the source name at the top."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def _policy(root: Node, source: str) -> Policy:
    top = _mapping(root, "the policy", {"zones", "conduits", "default"}, {"zones"})
    zone_nodes = _items(top["zones"][1], "zones")
    if not zone_nodes:
        raise _Bad(top["zones"][1], "'zones' is empty: declare at least one zone")
    zones = _zones(zone_nodes)
    zone_map = ZoneMap(zones)
    names = {z.name for z in zones} | {UNKNOWN_NAME}
    conduit_nodes = _items(top["conduits"][1], "conduits") if "conduits" in top else []
    conduits = tuple(_conduit(node, names, zone_map) for node in conduit_nodes)
    default = None
    if "default" in top:
        default = _string(top["default"][1], "default")
        if default not in ("deny", "allow"):
            raise _Bad(top["default"][1], f"default must be 'deny' or 'allow', not {default!r}")
    elif conduits:
        raise _Bad(root, "conduits are declared but 'default' is missing: write 'default: deny' to enforce "
                   "them, or 'default: allow' to report only level skips and read-only breaches")
    return Policy(zones=zones, conduits=conduits, default=default, source=source)


def _zones(nodes: list[Node]) -> tuple[Zone, ...]:
    zones: list[Zone] = []
    where: dict[IPNetwork, Zone] = {}
    for node in nodes:
        fields = _mapping(node, "a zone", {"name", "level", "networks", "intra"}, {"name", "level", "networks"})
        name_node = fields["name"][1]
        name = _string(name_node, "zone name")
        if name == UNKNOWN_NAME:
            raise _Bad(name_node, f"'{UNKNOWN_NAME}' is reserved for addresses in no zone; choose another name")
        if any(z.name == name for z in zones):
            raise _Bad(name_node, f"zone {name!r} is declared twice")
        level = _level(fields["level"][1])
        networks = []
        for net_node in _items(fields["networks"][1], "networks"):
            net = _network(net_node, "network")
            if net in where:
                raise _Bad(net_node, f"network {net} is already in zone {where[net].name!r} (line {where[net].line})")
            networks.append(net)
        if not networks:
            raise _Bad(fields["networks"][1], f"zone {name!r} has no networks")
        intra_deny = False
        if "intra" in fields:
            intra = _string(fields["intra"][1], "intra")
            if intra not in ("deny", "allow"):
                raise _Bad(fields["intra"][1], f"intra must be 'deny' or 'allow', not {intra!r}")
            intra_deny = intra == "deny"
        zone = Zone(name, level, tuple(networks), intra_deny, node.start_mark.line + 1)
        where.update((net, zone) for net in networks)
        zones.append(zone)
    return tuple(zones)


def _conduit(node: Node, zone_names: set[str], zone_map: ZoneMap) -> Conduit:
    fields = _mapping(node, "a conduit", {"name", "from", "to", "services", "sources", "destinations", "access"},
                      {"from", "to", "services"})
    ends = {}
    for key in ("from", "to"):
        value_node = fields[key][1]
        ends[key] = _string(value_node, f"conduit '{key}'")
        if ends[key] not in zone_names:
            raise _Bad(value_node, f"conduit '{key}' names zone {ends[key]!r}, which is not declared "
                       f"(zones: {', '.join(sorted(zone_names))})")
    services = []
    for svc_node in _items(fields["services"][1], "services"):
        try:
            services.append(parse_service(_string(svc_node, "service")))
        except ValueError as err:
            raise _Bad(svc_node, str(err)) from None
    if not services:
        raise _Bad(fields["services"][1], "a conduit needs at least one service")
    addresses = {}
    for key, zone_key in (("sources", "from"), ("destinations", "to")):
        addresses[key] = tuple(_member(n, key, ends[zone_key], zone_map) for n in _items(fields[key][1], key)) \
            if key in fields else ()
    read_only = False
    if "access" in fields:
        access_node = fields["access"][1]
        if _string(access_node, "access") != "read":
            raise _Bad(access_node, "access must be 'read' (leave it out to allow every action)")
        blind = [s.text for s in services if not actions.decodes(s.protocol or "")]
        if blind:
            raise _Bad(access_node, f"access: read cannot be checked on {', '.join(blind)}: the sensor does "
                       f"not decode actions there (it does for: {', '.join(actions.DECODED)})")
        read_only = True
    name = _string(fields["name"][1], "conduit name") if "name" in fields else f"{ends['from']}->{ends['to']}"
    return Conduit(name, ends["from"], ends["to"], tuple(services), addresses["sources"],
                   addresses["destinations"], read_only, node.start_mark.line + 1)


def _member(node: Node, what: str, zone: str, zone_map: ZoneMap) -> IPNetwork:
    """An address of a conduit's sources/destinations, which must lie in the conduit's own zone."""
    net = _network(node, what[:-1])
    if zone != UNKNOWN_NAME:
        actual = zone_map.zone_of(str(net.network_address)).name
        if actual != zone:
            raise _Bad(node, f"{what[:-1]} {net} is in zone {actual!r}, not {zone!r}, so the conduit could never match it")
    return net


def _mapping(node: Node, what: str, allowed: set[str], required: set[str]) -> dict[str, tuple[Node, Node]]:
    if not isinstance(node, MappingNode):
        raise _Bad(node, f"{what} must be a mapping of keys ({', '.join(sorted(allowed))})")
    fields: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node, "key")
        if key in fields:
            raise _Bad(key_node, f"key {key!r} appears twice in {what}")
        if key not in allowed:
            raise _Bad(key_node, f"unknown key {key!r} in {what}; expected {', '.join(sorted(allowed))}")
        fields[key] = (key_node, value_node)
    missing = sorted(required - fields.keys())
    if missing:
        raise _Bad(node, f"{what} is missing {', '.join(repr(m) for m in missing)}")
    return fields


def _items(node: Node, what: str) -> list[Node]:
    """A list; a single scalar counts as a list of one (``services: modbus``)."""
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, ScalarNode) and node.value != "":
        return [node]
    raise _Bad(node, f"'{what}' must be a list")


def _scalar(node: Node, what: str) -> object:
    if not isinstance(node, ScalarNode):
        raise _Bad(node, f"{what} must be a single value, not a list or mapping")
    return SafeConstructor().construct_object(node)


def _string(node: Node, what: str) -> str:
    value = _scalar(node, what)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(node, f"{what} must be a non-empty text, not {value!r}")
    return value.strip()


def _level(node: Node) -> float:
    value = _scalar(node, "level")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_LEVEL:
        raise _Bad(node, f"level must be a Purdue level from 0 to {MAX_LEVEL} (3.5 for a DMZ), not {value!r}")
    return float(value)


def _network(node: Node, what: str) -> IPNetwork:
    text = str(_scalar(node, what)).strip()
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _Bad(node, f"{what} {text!r} is not an address or CIDR network") from None
    raise _Bad(node, f"{what} {text} has host bits set; did you mean {loose}?")
