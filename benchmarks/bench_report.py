"""How long the report of a 500-asset plant takes to build, and to render in headless Chromium.

The synthetic plant: 100 office PCs, a DMZ of 5 jump hosts, 20 operations servers, 40 HMIs and 10
engineering stations in control, 325 PLCs in 13 field subnets; HMIs poll PLCs (reads, some writes),
engineering stations write, the office reaches the DMZ over RDP, and a few leaks (office PCs writing to
PLCs, a DMZ host to an engineering station) give violations and paths. It prints the seconds to gather
and write the file, its size, and the seconds from navigation until the map is drawn and the tables are
live (``data-ready``), averaged over runs in one browser. Aims: under 3 s to render, under 5 MB.

    python benchmarks/bench_report.py [--runs 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensor.inventory.model import AssetDelta, CommunicationDelta, Service, Source
from sensor.report.chromium import Chromium
from sensor.report.gather import gather
from sensor.report.html import render_html
from sensor.store import Store, StoreBatch

FILE = "synthetic.pcap"
POLICY = """\
zones:
  - {name: enterprise, level: 4, networks: [10.40.0.0/16]}
  - {name: dmz, level: 3.5, networks: [10.35.0.0/16]}
  - {name: operations, level: 3, networks: [10.30.0.0/16]}
  - {name: control, level: 2, networks: [10.20.0.0/16]}
  - {name: field, level: 1, networks: [10.10.0.0/16]}
conduits:
  - {name: remote-access, from: enterprise, to: dmz, services: [rdp]}
  - {name: jump, from: dmz, to: control, services: [rdp]}
  - {name: hmi-to-plc, from: control, to: field, services: [modbus]}
  - {name: historian-reads, from: operations, to: field, services: [modbus], access: read}
default: deny
"""
READY = "document.body && document.body.dataset.ready === '1'"


def plant(rng: random.Random) -> tuple[StoreBatch, int]:
    """The synthetic plant as one store batch, and its number of assets."""
    groups = {
        "it_host": [f"10.40.{i // 50}.{i % 50 + 10}" for i in range(100)],
        "dmz": [f"10.35.0.{i + 10}" for i in range(5)],
        "historian": [f"10.30.0.{i + 10}" for i in range(20)],
        "hmi": [f"10.20.{i // 20}.{i % 20 + 10}" for i in range(40)],
        "engineering_station": [f"10.20.50.{i + 5}" for i in range(10)],
        "plc": [f"10.10.{i // 25}.{i % 25 + 5}" for i in range(325)],
    }
    t0 = 1_767_600_000.0
    batch = StoreBatch()
    for kind, ips in groups.items():
        for n, ip in enumerate(ips):
            source = Source("modbus" if kind == "plc" else "tcp", FILE, n + 1)
            services = {Service("modbus", "tcp", 502)} if kind == "plc" else set()
            batch.assets.append(AssetDelta(ip=ip, first_seen=t0, last_seen=t0 + 3600, packets=100, bytes=6400,
                                           mac=f"02:00:{n // 256:02x}:{n % 256:02x}:{len(kind):02x}:01",
                                           services=services, sources={"mac": source}))
            batch.device_types.append((ip, "it_host" if kind == "dmz" else kind, ["synthetic"]))

    def talk(src: str, dst: str, port: int, protocol: str, actions: dict[str, int]) -> None:
        batch.communications.append(CommunicationDelta(src, dst, "tcp", port, protocol, t0 + rng.random() * 3000,
                                                       t0 + 3600, 40, 2400, 1, actions, [(FILE, rng.randrange(1, 99999))]))

    for hmi in groups["hmi"]:
        for plc in rng.sample(groups["plc"], 8):
            talk(hmi, plc, 502, "modbus", {"read_holding_registers": 100, "write_single_register": rng.choice([0, 2])})
    for ews in groups["engineering_station"]:
        for plc in rng.sample(groups["plc"], 30):
            talk(ews, plc, 502, "modbus", {"write_multiple_registers": 3})
    for historian in groups["historian"]:
        for plc in rng.sample(groups["plc"], 15):
            talk(historian, plc, 502, "modbus", {"read_input_registers": 50})
    for pc in groups["it_host"]:
        talk(pc, rng.choice(groups["dmz"]), 3389, "tcp", {})
        talk(pc, rng.choice(groups["historian"]), 443, "tls", {})
    for jump in groups["dmz"]:
        talk(jump, rng.choice(groups["engineering_station"]), 3389, "tcp", {})
    for pc in rng.sample(groups["it_host"], 3):  # the leaks
        talk(pc, rng.choice(groups["plc"]), 502, "modbus", {"write_single_register": 1})
    return batch, sum(map(len, groups.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", metavar="DIR", help="keep the database, policy and report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db, policy, html = folder / "plant500.db", folder / "plant500.yaml", folder / "plant500.html"
        db.unlink(missing_ok=True)
        policy.write_text(POLICY)
        batch, count = plant(random.Random(args.seed))
        with Store.open(str(db)) as store:
            store.commit(batch)
            start = time.perf_counter()
            data = gather(store, policy)
            html.write_text(render_html(data), encoding="utf-8")
            build = time.perf_counter() - start
        size = html.stat().st_size
        print(f"assets {count} ({len(data['assets'])} in the report), edges {len(data['edges'])}, "
              f"violations {len(data['violations'])}, paths {len(data['paths'])}")
        print(f"build   {build:.2f} s (gather + write HTML)")
        print(f"size    {size / 1e6:.2f} MB (aim < 5 MB)")
        with Chromium() as browser:
            times = []
            page = browser.open("about:blank")
            for _ in range(args.runs):
                times.append(page.navigate(html.resolve().as_uri(), READY, timeout=60))
            nodes = page.evaluate("window.reportMap.nodes('.device').length")
            others = sorted(set(page.requests()) - {html.resolve().as_uri()})
        print(f"render  {sum(times) / len(times):.2f} s mean of {args.runs} (min {min(times):.2f}, "
              f"max {max(times):.2f}; aim < 3 s), {nodes} devices on the map")
        print(f"network {'no request but the file itself' if not others else others}")

if __name__ == "__main__":
    main()
