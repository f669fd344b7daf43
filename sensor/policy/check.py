"""Every observed communication against the zones and conduits: which breach the policy, and why.

A communication passes when a conduit matches it whole (initiator's zone and address, responder's
zone and address, service) and, for a read-only conduit, used only reads; or when it stays inside a
zone that does not say ``intra: deny``. Otherwise it is one breach, named by the first that applies:

- ``policy.access_violation``: a read-only conduit matched, but writes, program or diagnostic
  functions went over it;
- ``policy.reverse_direction``: no conduit allows it, but one would if the responder had initiated
  (conduits are one-way: a PLC opening a session to its HMI is how malware phones out);
- ``policy.no_conduit``: nothing allows it; the alert names the nearest conduit and what differed;
- ``policy.level_skip``: only for a policy that does not deny by default (zones alone, or
  ``default: allow``): traffic that jumps over a Purdue level, such as level 4 straight to level 1.

One alert per (initiator, responder, transport/port, rule, zone pair): the store updates it, never
one per packet.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from sensor.policy import actions
from sensor.policy.observed import Communication
from sensor.policy.policy_file import Conduit, Policy
from sensor.policy.zones import Zone, ZoneMap, parse_ip

NO_CONDUIT = "policy.no_conduit"
ACCESS_VIOLATION = "policy.access_violation"
REVERSE_DIRECTION = "policy.reverse_direction"
LEVEL_SKIP = "policy.level_skip"
CATEGORY = "policy"

# Severity (0-10, as CEF) = base of the rule + how close to the process the responder sits + what was
# done. The base says how sure the breach is a threat: a reversed session (a controller initiating)
# is the classic sign of a foothold (6); traffic no conduit allows, or writes over a read-only
# conduit, is a plain breach (5); a level skip under a permissive policy is an architecture smell (4).
# Reach adds 2 when the responder is a controller or field device (level <= 1) and 1 for level 2,
# because that is where a breach moves the process. Writes add 1 and program-class functions 2.
BASE = {REVERSE_DIRECTION: 6, NO_CONDUIT: 5, ACCESS_VIOLATION: 5, LEVEL_SKIP: 4}


def reach(level: float | None) -> int:
    """How close to the process a zone is, for severity."""
    if level is None:
        return 0
    return 2 if level <= 1 else 1 if level <= 2 else 0


def act(protocol: str, functions: Mapping[str, int]) -> int:
    """What the functions used can change, for severity."""
    rank = actions.rank(protocol, functions)
    return 2 if rank >= actions.CHANGES_CONTROLLER else 1 if rank >= actions.CHANGES_PROCESS else 0


def severity(rule_base: int, level: float | None, protocol: str, functions: Mapping[str, int]) -> int:
    return max(0, min(10, rule_base + reach(level) + act(protocol, functions)))


@dataclass(frozen=True, slots=True)
class Breach:
    """One communication that the policy does not allow, with what it was measured against."""

    rule: str
    comm: Communication
    initiator_zone: Zone
    responder_zone: Zone
    conduit: Conduit | None  # the read-only one (access), the reversed one, or the nearest one
    why: tuple[str, ...]  # why that conduit did not allow it
    expected: str
    functions: Mapping[str, int]  # the offending functions for access violations, else all used
    skipped: tuple[float, ...] = ()  # Purdue levels jumped over (level skips)


def judge(comm: Communication, policy: Policy, zone_map: ZoneMap) -> Breach | None:
    """The breach one communication commits, or None when the policy allows it."""
    zi = zone_map.zone_of(comm.initiator)
    zr = zone_map.peer_zone(comm.responder, zi)
    pairs = policy.by_pair
    matched = [k for k in pairs.get((zi.name, zr.name), ()) if covers(k, comm, zi, zr)]
    found = Breach(NO_CONDUIT, comm, zi, zr, None, (), "", comm.actions)
    if matched:
        if any(not k.read_only for k in matched):
            return None
        bad = actions.not_reads(comm.protocol, comm.actions)
        if not bad:
            return None
        k = matched[0]
        return replace(found, rule=ACCESS_VIOLATION, conduit=k, functions=bad,
                       why=(f"conduit {k.name!r} allows reading functions only",),
                       expected=f"only reading functions over conduit {k.name!r} (line {k.line})")
    if zi.name == zr.name and not zi.intra_deny:
        return None
    if not policy.enforcing and zi.name != zr.name:
        skipped = skipped_levels(zi.level, zr.level, [z.level for z in policy.zones])
        if not skipped:
            return None
        return replace(found, rule=LEVEL_SKIP, skipped=skipped,
                       expected=f"traffic between adjacent Purdue levels (through {_levels(skipped)})")
    swapped = replace(comm, initiator=comm.responder, responder=comm.initiator)
    for k in pairs.get((zr.name, zi.name), ()):
        if covers(k, swapped, zr, zi):
            return replace(found, rule=REVERSE_DIRECTION, conduit=k,
                           why=((f"conduit {k.name!r} allows {comm.service.label} initiated from "
                                 f"{k.from_zone} to {k.to_zone} only"),),
                           expected=f"{comm.responder} initiates, as conduit {k.name!r} (line {k.line}) allows")
    inside = zi.name == zr.name
    expected = (f"zone {zi.name!r} denies traffic inside it unless a conduit allows it" if inside
                else f"a conduit from {zi.name} to {zr.name} allowing {comm.service.label}")
    if not policy.conduits:
        return replace(found, why=("the policy declares no conduits",), expected=expected)
    # Nearest: the same zone pair first, then the fewest differences, then the first in the file.
    why, nearest = min(((list(differences(k, comm, zi, zr)), k) for k in policy.conduits),
                       key=lambda s: ((s[1].from_zone, s[1].to_zone) != (zi.name, zr.name), len(s[0]), s[1].line))
    return replace(found, conduit=nearest, why=tuple(why), expected=expected)


def covers(k: Conduit, comm: Communication, zi: Zone, zr: Zone) -> bool:
    """Whether a conduit allows a communication's zones, addresses and service (not yet its actions)."""
    return next(differences(k, comm, zi, zr), None) is None


def differences(k: Conduit, comm: Communication, zi: Zone, zr: Zone) -> Iterator[str]:
    """Why a conduit does not cover a communication, criterion by criterion, in words for the evidence.

    A generator, so ``covers`` stops at the first difference and words only that one.
    """
    if zi.name != k.from_zone:
        yield f"initiator {comm.initiator} is in zone {zi.name}, the conduit starts in {k.from_zone}"
    if zr.name != k.to_zone:
        yield f"responder {comm.responder} is in zone {zr.name}, the conduit leads to {k.to_zone}"
    seen = comm.service
    if not any(spec.matches(seen) for spec in k.services):
        named = f" identified as {seen.protocol}" if seen.identified else ""
        yield (f"{seen.transport}/{seen.port}{named} is not among its services "
               f"({', '.join(s.text for s in k.services)})")
    if k.sources and not _within(comm.initiator, k.sources):
        yield f"initiator {comm.initiator} is not among its sources"
    if k.destinations and not _within(comm.responder, k.destinations):
        yield f"responder {comm.responder} is not among its destinations"


def _within(address: str, networks: Iterable) -> bool:
    ip = parse_ip(address)
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


def skipped_levels(a: float | None, b: float | None, declared: Iterable[float | None]) -> tuple[float, ...]:
    """Purdue levels strictly between two zones: every whole level, and every level a zone declares.

    Whole levels catch level 4 straight to level 1; declared ones catch level 4 to level 3 past a
    declared DMZ at 3.5, which is the point of having one.
    """
    if a is None or b is None:
        return ()
    low, high = sorted((a, b))
    whole = range(math.floor(low) + 1, math.ceil(high))
    between = {float(x) for x in whole} | {lv for lv in declared if lv is not None and low < lv < high}
    return tuple(sorted(between, reverse=True))


def _levels(levels: Iterable[float]) -> str:
    return ", ".join(f"{lv:g}" for lv in levels)


def alert_id(*parts: object) -> str:
    """A stable id: the same breach in the same input gives the same id, run after run."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def to_alert(b: Breach, kinds: Mapping[str, str]) -> dict:
    """The contract alert for a breach; ``kinds`` maps an address to its device type, for the summary."""
    c, zi, zr = b.comm, b.initiator_zone, b.responder_zone
    count = sum(b.functions.values()) if b.rule == ACCESS_VIOLATION else max(c.flows, 1)
    evidence = {
        "seen": {
            "initiator": c.initiator, "responder": c.responder,
            "initiator_zone": zi.name, "responder_zone": zr.name,
            "initiator_level": zi.level, "responder_level": zr.level,
            "service": c.service.label, "transport": c.transport, "port": c.port, "protocol": c.protocol,
            "functions": dict(sorted(c.actions.items())),
            "packets": c.packets, "bytes": c.bytes, "flows": c.flows,
        },
        "expected": b.expected,
        "conduit": _conduit_json(b.conduit, b.why),
    }
    if b.rule == ACCESS_VIOLATION:
        evidence["offending_functions"] = dict(b.functions)
    if b.skipped:
        evidence["skipped_levels"] = list(b.skipped)
    return {
        "id": alert_id(b.rule, c.initiator, c.responder, f"{c.transport}/{c.port}", f"{zi.name}->{zr.name}"),
        "ts": c.first_seen,
        "rule": b.rule,
        "category": CATEGORY,
        "severity": severity(BASE[b.rule], zr.level, c.protocol, b.functions),
        "src": c.initiator,
        "dst": c.responder,
        "proto": c.protocol,
        "summary": _summary(b, who(c.initiator, zi, kinds), who(c.responder, zr, kinds)),
        "evidence": evidence,
        "frames": [[f, n] for f, n in c.sample_frames],
        "first_seen": c.first_seen,
        "last_seen": c.last_seen,
        "count": count,
    }


def who(address: str, zone: Zone, kinds: Mapping[str, str]) -> str:
    """An address as a person reads it: ``plc 10.10.0.5 (field, level 1)``."""
    kind = kinds.get(address)
    level = f", level {zone.level:g}" if zone.level is not None else ""
    return f"{kind + ' ' if kind else ''}{address} ({zone.name}{level})"


def _summary(b: Breach, src: str, dst: str) -> str:
    c, label = b.comm, b.comm.service.label
    rank = actions.rank(c.protocol, c.actions)
    done = ("changed the program or state of" if rank >= actions.CHANGES_CONTROLLER
            else "wrote to" if rank >= actions.CHANGES_PROCESS else "connected to")
    k = b.conduit
    if b.rule == ACCESS_VIOLATION:
        return (f"{src} used {', '.join(b.functions)} on {dst} over {label}, but conduit {k.name!r} allows "
                "reads only: stop the writes or widen the conduit if they are intended.")
    if b.rule == REVERSE_DIRECTION:
        return (f"{src} opened {label} to {dst}, against conduit {k.name!r}, which allows it only the other "
                "way: find out why this device initiates.")
    if b.rule == LEVEL_SKIP:
        return (f"{src} {done} {dst} over {label}, skipping Purdue level {_levels(b.skipped)}: route it "
                "through the levels between, or declare a conduit for it.")
    if b.initiator_zone.name == b.responder_zone.name:
        return (f"{src} {done} {dst} over {label}, inside a zone that denies internal traffic and with no "
                "conduit for it: block it, or add a conduit if it is intended.")
    return (f"{src} {done} {dst} over {label}, and no conduit allows it: block it, or add a conduit if "
            "it is intended.")


def _conduit_json(k: Conduit | None, why: tuple[str, ...]) -> dict | None:
    if k is None:
        return {"name": None, "why_not": list(why)} if why else None
    return {
        "name": k.name, "line": k.line, "from": k.from_zone, "to": k.to_zone,
        "services": [s.text for s in k.services], "access": "read" if k.read_only else "any",
        "why_not": list(why),
    }


def breaches(comms: Iterable[Communication], policy: Policy, zone_map: ZoneMap) -> list[Breach]:
    """The breach of every communication that commits one (communications already merged one per key)."""
    return [b for c in comms if (b := judge(c, policy, zone_map)) is not None]


def alerts_for(found: Iterable[Breach], kinds: Mapping[str, str]) -> list[dict]:
    """Contract alerts for breaches, riskiest first."""
    alerts = [to_alert(b, kinds) for b in found]
    return sorted(alerts, key=lambda a: (-a["severity"], a["first_seen"], a["id"]))
