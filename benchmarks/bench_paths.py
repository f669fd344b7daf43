"""How long the path search takes on a plant of 10,000 assets and 100,000 communication edges.

The synthetic plant has the shape real ones have: a large, chatty enterprise, a small DMZ, operations,
control and field zones, most edges inside zones or along the Purdue levels, and a few leaks (DMZ to
control, enterprise straight to PLCs, controllers answering back). Two harder shapes follow: a control
zone dense with sessions but with only three ways out (a depth-first search that wanders there never
ends), and the same number of edges spread uniformly at random. Each prints seconds for the path
search alone and for the whole ``otsensor paths`` work: merging rows, checking the policy, searching,
writing alerts.

    python benchmarks/bench_paths.py            # every shape, default seed
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensor.policy.commands import paths_document
from sensor.policy.observed import merge
from sensor.policy.pathways import build_graph, find_paths
from sensor.policy.policy_file import parse_policy
from sensor.policy.zones import ZoneMap

ASSETS = 10_000
EDGES = 100_000
# zone -> (level, second octet, hosts)
ZONES = {"enterprise": (4, 40, 6000), "dmz": (3.5, 35, 40), "operations": (3, 30, 400),
         "control": (2, 20, 1000), "field": (1, 10, 2560)}
# (from, to, edges, service): the plant's traffic; the last rows are the leaks
FLOWS = [("enterprise", "enterprise", 70_000, ("tcp", 445, "tcp")), ("enterprise", "dmz", 2_000, ("tcp", 3389, "tcp")),
         ("dmz", "operations", 300, ("tcp", 443, "tls")), ("operations", "operations", 2_000, ("tcp", 135, "tcp")),
         ("operations", "control", 1_000, ("tcp", 4840, "opcua")), ("operations", "field", 1_500, ("tcp", 502, "modbus")),
         ("control", "control", 3_000, ("tcp", 3389, "tcp")), ("control", "field", 15_000, ("tcp", 502, "modbus")),
         ("field", "field", 3_800, ("tcp", 502, "modbus")), ("dmz", "control", 100, ("tcp", 3389, "tcp")),
         ("enterprise", "field", 100, ("tcp", 502, "modbus")), ("field", "control", 1_200, ("tcp", 502, "modbus"))]
POLICY = parse_policy("\n".join(
    ["zones:"] + [f"  - {{name: {z}, level: {lv}, networks: [10.{o}.0.0/16]}}" for z, (lv, o, _) in ZONES.items()]
    + ["conduits:", "  - {from: enterprise, to: dmz, services: [rdp]}", "  - {from: dmz, to: operations, services: [https]}",
       "  - {from: operations, to: control, services: [opcua]}",
       "  - {from: operations, to: field, services: [modbus], access: read}",
       "  - {from: control, to: field, services: [modbus]}", "default: deny", ""]))


def host(zone: str, i: int) -> str:
    _, octet, _ = ZONES[zone]
    return f"10.{octet}.{i // 250}.{i % 250 + 1}"


def row(rng: random.Random, src: str, dst: str, service: tuple[str, int, str]) -> dict:
    transport, port, protocol = service
    t = 1_767_600_000 + rng.uniform(0, 14 * 86400)
    acts = {"read_holding_registers": 10, **({"write_single_register": 1} if rng.random() < 0.1 else {})} \
        if protocol == "modbus" else {}
    return {"initiator": src, "responder": dst, "transport": transport, "port": port, "protocol": protocol,
            "first_seen": t, "last_seen": t + 60, "packets": 20, "bytes": 2000, "flows": 1, "actions": acts,
            "sample_frames": [["synthetic.pcap", 1]]}


def plant(rng: random.Random, flows: list = FLOWS) -> list[dict]:
    rows = []
    for src_zone, dst_zone, count, service in flows:
        n_src, n_dst = ZONES[src_zone][2], ZONES[dst_zone][2]
        for _ in range(count):
            rows.append(row(rng, host(src_zone, rng.randrange(n_src)), host(dst_zone, rng.randrange(n_dst)), service))
    return rows


def busy_zone(rng: random.Random) -> list[dict]:
    """A control zone full of sessions with only three ways out to the PLCs: a search must not wander in it."""
    shape = [("enterprise", "enterprise", 60_000, ("tcp", 445, "tcp")), ("enterprise", "dmz", 2_000, ("tcp", 3389, "tcp")),
             ("dmz", "control", 200, ("tcp", 3389, "tcp")), ("control", "control", 30_000, ("tcp", 3389, "tcp")),
             ("control", "field", 3, ("tcp", 502, "modbus")), ("field", "field", 7_797, ("tcp", 502, "modbus"))]
    return plant(rng, shape)


def uniform(rng: random.Random) -> list[dict]:
    hosts = [host(z, i) for z, (_, _, n) in ZONES.items() for i in range(n)]
    return [row(rng, *rng.sample(hosts, 2), ("tcp", 502, "modbus")) for _ in range(EDGES)]


def measure(name: str, rows: list[dict]) -> None:
    """Seconds (wall and CPU: a shared machine inflates wall time) for the search alone and the whole command."""
    assets = [{"ip": ip} for ip in sorted({r[k] for r in rows for k in ("initiator", "responder")})]
    comms = merge(rows)
    wall, cpu = time.perf_counter(), time.process_time()
    found = find_paths(build_graph(comms, ZoneMap(POLICY.zones)))
    search = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    doc = paths_document(rows, assets, POLICY)
    whole = (time.perf_counter() - wall, time.process_time() - cpu)
    pivots = sum(p["pivot"] for p in doc["paths"])
    print(f"{name}: {len(assets)} assets, {len(comms)} edges -> {len(found.paths)} paths ({pivots} pivot), "
          f"{len(doc['violations'])} alerts{'; ' + found.note if found.note else ''}")
    print(f"  path search (graph + search): {search[0]:.2f} s wall, {search[1]:.2f} s CPU")
    print(f"  whole paths document (merge, policy check, search, alerts): {whole[0]:.2f} s wall, {whole[1]:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=62443)
    seed = parser.parse_args().seed
    measure("plant-shaped", plant(random.Random(seed)))
    measure("busy control zone", busy_zone(random.Random(seed)))
    measure("uniform random", uniform(random.Random(seed)))


if __name__ == "__main__":
    main()
