"""IT-to-OT pathways: every observed chain of sessions from the enterprise or DMZ down to controllers.

The graph is the observed communications (initiator → responder). A path starts at an asset in a
zone of level >= 3.5 and ends at the first asset of level <= 1 it reaches; in between it may cross
anything, allowed or not, because a chain of individually allowed hops is exactly how attackers
walk from IT into OT. Inside the IT levels a path only descends (enterprise → DMZ, never
enterprise → enterprise → DMZ): otherwise every office PC that ever talked to the one with a session
into the DMZ would be a path of its own.

A path is a *pivot chain* when each hop was first seen after the hop before, within a window: the
order in which someone walking the chain must open the sessions. Pivot chains become alerts.

The search is networkx: two breadth-first sweeps give every node its hops from the nearest start and
to the nearest end, the graph is unrolled by hops left (node, r) so that every branch can still end
at a controller, and ``all_simple_paths`` enumerates it one path length at a time, shortest first, so
that the ``PATH_LIMIT`` paths reported are the shortest when a busy plant has more.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice, pairwise

import networkx as nx

from sensor.policy import DEFAULT_MAX_HOPS, DEFAULT_WINDOW_S, actions
from sensor.policy.check import CATEGORY, act, alert_id, reach, who
from sensor.policy.observed import Communication
from sensor.policy.zones import Zone, ZoneMap, is_group

PIVOT_CHAIN = "path.pivot_chain"
IT_LEVEL = 3.5  # enterprise and DMZ: where paths start
OT_LEVEL = 1.0  # controllers and field devices: where paths end
PATH_LIMIT = 1000  # paths reported at most; the document says so when more exist
_START, _END = ("start",), ("end",)  # virtual ends of the search: tuples never collide with addresses

# Severity of a pivot chain (0-10, as CEF): 6, since every hop was a session opened in order, plus the
# same reach (2 for a controller or field device) and action terms (1 for writes, 2 for program
# functions on the last hop) that policy alerts use. A chain ending in a write to a PLC scores 9.
PIVOT_BASE = 6


@dataclass(frozen=True, slots=True)
class Hop:
    """One service on one edge of the graph."""

    src: str
    dst: str
    service: str
    transport: str
    port: int
    protocol: str
    first_seen: float
    last_seen: float
    actions: Mapping[str, int]
    frames: tuple[tuple[str, int], ...]

    @property
    def danger(self) -> int:
        return actions.rank(self.protocol, self.actions)

    def to_json(self) -> dict:
        return {
            "src": self.src, "dst": self.dst, "service": self.service, "first_seen": self.first_seen,
            "last_seen": self.last_seen, "actions": dict(sorted(self.actions.items())),
            "transport": self.transport, "port": self.port, "protocol": self.protocol,
        }


@dataclass(frozen=True, slots=True)
class Pathway:
    """A chain of hops from an IT asset to an OT asset."""

    hops: tuple[Hop, ...]
    from_zone: Zone
    to_zone: Zone
    pivot: bool

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.hops[0].src, *(h.dst for h in self.hops))

    def risk_key(self) -> tuple:
        """Riskiest first: pivot chains, fewer hops, writes or programming on the last hop, most recent."""
        recency = max(h.first_seen for h in self.hops)
        return (not self.pivot, len(self.hops), -self.hops[-1].danger, -recency, self.nodes)


@dataclass(frozen=True, slots=True)
class Search:
    """What the path search found, and whether it stopped at the limit."""

    paths: tuple[Pathway, ...]
    truncated: bool
    note: str | None = None


def build_graph(comms: Iterable[Communication], zone_map: ZoneMap) -> nx.DiGraph:
    """The directed graph of observed communications; each edge keeps every service seen on it."""
    edges: dict[tuple[str, str], list[Hop]] = {}
    for c in comms:
        if c.initiator == c.responder or is_group(c.responder):
            continue
        edges.setdefault((c.initiator, c.responder), []).append(
            Hop(c.initiator, c.responder, c.service.label, c.transport, c.port, c.protocol,
                c.first_seen, c.last_seen, c.actions, c.sample_frames))
    graph = nx.DiGraph()
    graph.add_edges_from((u, v, {"hops": hops}) for (u, v), hops in edges.items())
    nx.set_node_attributes(graph, {n: zone_map.zone_of(n) for n in graph}, "zone")
    return graph


def find_paths(graph: nx.DiGraph, window_s: float = DEFAULT_WINDOW_S, max_hops: int = DEFAULT_MAX_HOPS,
               limit: int = PATH_LIMIT) -> Search:
    """Every path of at most ``max_hops`` from level >= 3.5 to level <= 1, riskiest first."""
    level = {n: zone.level for n, zone in graph.nodes(data="zone")}
    sources = {n for n, lv in level.items() if lv is not None and lv >= IT_LEVEL}
    targets = {n for n, lv in level.items() if lv is not None and lv <= OT_LEVEL}

    def walkable(u: str, v: str) -> bool:
        if u in targets:
            return False  # a path ends at the first controller it reaches
        if v in sources:
            return level[u] is not None and level[v] < level[u]  # inside IT levels, only downwards
        return True

    if not sources or not targets:
        return Search((), False)
    # Hops from the nearest source and to the nearest target, by breadth-first search from virtual ends.
    walk = nx.DiGraph()
    walk.add_edges_from((_START, s) for s in sorted(sources))  # sorted: the order never depends on hash seeds
    walk.add_edges_from((t, _END) for t in sorted(targets))
    walk.add_edges_from((u, v) for u, v in graph.edges if walkable(u, v))
    down = nx.single_source_shortest_path_length(walk, _START, cutoff=max_hops + 1)
    up = nx.single_source_shortest_path_length(walk.reverse(copy=False), _END, cutoff=max_hops + 1)
    layered = _layered(walk, {n: d - 1 for n, d in down.items()}, {n: d - 1 for n, d in up.items()}, targets,
                       max_hops)
    found: list[tuple[str, ...]] = []
    for hops in range(1, max_hops + 1):  # shortest first, so a limit keeps the riskiest
        if (_START, hops) in layered:
            found += islice(_simple(layered, hops), limit + 1 - len(found))
        if len(found) > limit:
            break
    truncated = len(found) > limit
    paths = sorted((_path(graph, nodes, window_s) for nodes in found[:limit]), key=Pathway.risk_key)
    note = (f"path limit {limit} reached: only the first {limit} paths, shortest first, are listed"
            if truncated else None)
    return Search(tuple(paths), truncated, note)


def _layered(walk: nx.DiGraph, ds: dict, dt: dict, targets: set[str], max_hops: int) -> nx.DiGraph:
    """The walkable graph unrolled by hops left: node (v, r) is v with r hops still to go.

    An edge u -> v becomes (u, r) -> (v, r - 1) only where v can still reach a target in r - 1 hops
    and u was reachable from a source in max_hops - r, so every branch of the search below ends at a
    controller: the depth-first search never wanders through a busy zone that leads nowhere.
    Targets sit at r = 0 only; ``(_START, k)`` enters at the sources with k hops to go.
    """
    edges = []
    for u, v in walk.edges:
        if u == _START:
            continue  # entries are added below, once the layers of each source are known
        if v == _END:
            edges.append(((u, 0), _END))
        elif u in ds and v in dt:
            low, high = dt[v] + 1, max_hops - ds[u]
            if v in targets:
                high = min(high, 1)  # a target is entered with one hop to go, never passed through
            edges.extend(((u, r), (v, r - 1)) for r in range(low, high + 1))
    layered = nx.DiGraph(edges)
    layered.add_edges_from(((_START, r), (s, r)) for s in walk.successors(_START) for r in range(1, max_hops + 1)
                           if (s, r) in layered)
    return layered


def _simple(layered: nx.DiGraph, hops: int) -> Iterator[tuple[str, ...]]:
    """Paths of exactly ``hops`` hops: the unrolled walks that never visit an address twice."""
    for walk in nx.all_simple_paths(layered, (_START, hops), _END):
        nodes = tuple(v for v, _ in walk[1:-1])
        if len(set(nodes)) == len(nodes):
            yield nodes


def _path(graph: nx.DiGraph, nodes: tuple[str, ...], window_s: float) -> Pathway:
    hops, pivot = choose_hops([graph.edges[u, v]["hops"] for u, v in pairwise(nodes)], window_s)
    return Pathway(hops, graph.nodes[nodes[0]]["zone"], graph.nodes[nodes[-1]]["zone"], pivot)


def choose_hops(options: list[list[Hop]], window_s: float) -> tuple[tuple[Hop, ...], bool]:
    """One service per edge, and whether they form a pivot chain.

    A chain needs two hops or more, each first seen after the one before and no later than the
    window after it. Forward, keep the services a chain can reach; if the last edge has one, take the
    most dangerous and walk back, each time to the latest service that still precedes it. Otherwise
    show the earliest service of each edge and the most dangerous of the last.
    """
    def follows(prev: Hop, nxt: Hop) -> bool:
        return prev.first_seen < nxt.first_seen <= prev.first_seen + window_s

    def last_pick(hops: list[Hop]) -> Hop:
        return max(hops, key=lambda h: (h.danger, -h.first_seen))

    reachable = [list(options[0])]
    for opts in options[1:]:
        reachable.append([h for h in opts if any(follows(p, h) for p in reachable[-1])])
    if len(options) > 1 and reachable[-1]:
        chain = [last_pick(reachable[-1])]
        for step in reversed(reachable[:-1]):
            chain.insert(0, max((p for p in step if follows(p, chain[0])), key=lambda h: h.first_seen))
        return tuple(chain), True
    first = tuple(min(opts, key=lambda h: (h.first_seen, h.service)) for opts in options[:-1])
    return first + (last_pick(options[-1]),), False


def pivot_alerts(paths: Iterable[Pathway], kinds: Mapping[str, str], window_s: float) -> list[dict]:
    """One alert per pivot chain that is not the tail of a longer one (that one tells the story)."""
    chains = [p for p in paths if p.pivot]
    tails = {p.nodes[i:] for p in chains for i in range(1, len(p.nodes) - 1)}
    return [_pivot_alert(p, kinds, window_s) for p in chains if p.nodes not in tails]


def _pivot_alert(p: Pathway, kinds: Mapping[str, str], window_s: float) -> dict:
    first, last = p.hops[0], p.hops[-1]
    route = first.src + "".join(f" → {h.dst} ({_hop_words(h)})" for h in p.hops)
    hours = f"{window_s / 3600:g} h"
    return {
        "id": alert_id(PIVOT_CHAIN, *(f"{h.src}>{h.dst}/{h.transport}/{h.port}" for h in p.hops)),
        "ts": last.first_seen,
        "rule": PIVOT_CHAIN,
        "category": CATEGORY,
        "severity": min(10, PIVOT_BASE + reach(p.to_zone.level) + act(last.protocol, last.actions)),
        "src": first.src,
        "dst": last.dst,
        "proto": last.protocol,
        "summary": (f"{who(first.src, p.from_zone, kinds)} reached {who(last.dst, p.to_zone, kinds)} in "
                    f"{len(p.hops)} hops, each opened after the one before within {hours}: {route}; check "
                    "that one authorised person did this."),
        "evidence": {
            "seen": {"hops": [h.to_json() for h in p.hops], "from_zone": p.from_zone.name,
                     "to_zone": p.to_zone.name},
            "expected": f"no chain of sessions from level >= {IT_LEVEL:g} down to level <= {OT_LEVEL:g} "
                        f"opened hop after hop within {hours}",
            "window_s": window_s,
        },
        "frames": [[f, n] for h in p.hops for f, n in h.frames[:1]],
        "first_seen": first.first_seen,
        "last_seen": max(h.last_seen for h in p.hops),
        "count": 1,
    }


def _hop_words(h: Hop) -> str:
    return h.service + (f": {', '.join(sorted(h.actions))}" if h.actions else "")


def path_json(p: Pathway, allowed: bool | None) -> dict:
    """A path as the paths document lists it."""
    return {
        "hops": [h.to_json() for h in p.hops], "from_zone": p.from_zone.name, "to_zone": p.to_zone.name,
        "pivot": p.pivot, "allowed": allowed,
    }
