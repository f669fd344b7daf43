"""Attacks and faults played inside the realistic plant (tests/e2e/plant), by real pymodbus stacks.

    python tests/e2e/scenarios/make_scenarios.py --out DIR [--speed 40] [--normal-seconds 3600]

Two runs of the plant, both stretched back to plant time (make_plant.rescale):

- ``normal``: the plant alone (seed 7) for ``normal_seconds``: what the sensor learns from;
- ``attacked``: the plant again with another seed (8): ``normal_seconds`` of normal traffic (a second normal
  capture, never learned), then the scenarios in ``SLOTS`` slots of ``SLOT_S`` plant seconds. Scenarios that
  share a slot are on different channels (client, server), so their alerts cannot join; the slot outlasts an
  episode's gap (300 s of silence), so nothing of one slot can grow into the next.

Every scenario is made by a real stack: the HMI's own pymodbus client writes the out-of-range setpoint and
sends the function it never used; the historian's client floods; the gateway's pymodbus server answers
"busy"; a compromised HMI resends old writes (bytes taken from the normal capture) on a real socket; a new
host runs a pymodbus scanner. ``SCENARIOS`` says for each what it did and who did it to whom.
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plant"))
sys.path.insert(0, str(HERE.parents[2]))
from make_plant import CLIENTS, PLCS, Intruder, Plant, build  # noqa: E402

from models.timing import Schedule  # noqa: E402

SPEED = 40.0  # plant seconds per real second. At 60x the HMI's pymodbus client (12 requests per plant second)
# cannot keep its 1 s period on a shared 2-core machine: 10-20 % of its intervals are 25 % late, which is a new
# schedule to the timing model. At 40x, 0.5-4 % (the worst 1.4-1.6 s), and no timing alert in a normal hour.
NORMAL_S = 3600.0
SLOT_S = 400.0  # a scenario's slot: its lead-in, the scenario (at most 60 s), then more than an episode's gap
SLOTS = 2
STEADY_TRIES = 3  # runs of the plant to get one the machine did not keep off its schedule (steadily)

HMI, HISTORIAN, SCADA = (CLIENTS[n][0] for n in ("hmi", "historian", "scada"))
PLC1, PLC2, PLC3, PLC4, GATEWAY = (PLCS[n][0] for n in ("plc1", "plc2", "plc3", "plc4", "gateway"))
SCANNER = ("scanner", "10.20.1.66", "08:00:27:3a:66:66")  # a VirtualBox NIC: someone's laptop VM


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    src: str  # the attacker, or the client that sees the fault
    dst: str
    rules: tuple[str, ...]  # the rules expected to name the one alert
    slot: int
    at: float  # plant seconds into the slot


SCENARIOS = (
    Scenario("setpoint", "the HMI writes 9000 to the setpoint register 40 of plc1 (its operator writes 500-899)",
             HMI, PLC1, ("baseline.value_range",), 0, 30),
    Scenario("function", "the HMI reads the device identification of plc2 (43/14), which it never did",
             HMI, PLC2, ("baseline.new_function", "modbus.read_device_identification"), 0, 40),
    Scenario("diagnostics", "the HMI sends diagnostics 8/0 (return query data) to plc3, which it never did",
             HMI, PLC3, ("baseline.new_function",), 0, 50),
    Scenario("replay", "from the HMI's host, its last 4 writes to plc1 in the normal capture are resent byte for "
             "byte on a new connection, back to back (the operator writes one setpoint every 15-45 s)", HMI, PLC1,
             ("baseline.sequence",), 1, 30),
    Scenario("flood", "the historian reads plc4 (FC3 0+50) back to back for 30 s instead of every 5 s, on its "
             "one connection (so its FC4 poll waits), then polls again", HISTORIAN, PLC4,
             ("baseline.flood", "baseline.sequence", "baseline.silence", "baseline.volume"), 1, 80),
    Scenario("exceptions", "the gateway answers every request with exception 6 (busy) for 60 s",
             SCADA, GATEWAY, ("baseline.volume", "modbus.exception_burst"), 0, 60),
    Scenario("scan", "a new host scans plc3: unit ids 1-40, then holding registers 0-1180 every 20 (10 each)",
             SCANNER[1], PLC3, ("baseline.new_communication", "modbus.address_scan", "modbus.points_scan",
                                "modbus.unit_scan"), 0, 70),
)


def start(s: Scenario, normal_seconds: float) -> float:
    """Plant time at which scenario ``s`` acts."""
    return normal_seconds + s.slot * SLOT_S + s.at


def unsteady(plant: Plant, judged: Callable[[str, str, float], bool] = lambda client, server, t: True) -> list[str]:
    """Where the machine kept a client of the plant from polling on its schedule, found as the sensor would find it
    in the capture: the client's own send times per (server, unit id, function) judged by the timing model against
    the period the plant meant, with the jitter the machine gave. A function read twice a cycle (two blocks) keeps
    no schedule in the sensor either, and is not judged. A stalled poller moves its clock (hosts.poller), so a long
    stall is a silence and a slow stretch a new schedule. ``judged(client address, server address, plant time)``
    leaves out the polls a scenario changes on purpose."""
    found = []
    for name, log in plant.logs.items():
        blocks: dict[tuple[str, str, str], list[list[float]]] = {}
        for key, times in log.get("polls", {}).items():
            ip, unit, fc, _ = key.split()
            blocks.setdefault((ip, unit, fc), []).append([t for t in times if judged(CLIENTS[name][0], ip, t)])
        for (ip, unit, fc), [times] in ((channel, b) for channel, b in blocks.items() if len(b) == 1):
            intervals = np.diff(times)
            if not len(intervals):
                continue
            meant = Schedule(log["period"], float(np.median(np.abs(intervals - log["period"]))), len(intervals))
            verdicts, recent = meant.judge(np.empty(0), intervals)
            bad = np.flatnonzero(verdicts != "")
            if len(bad):
                i = bad[0]
                found.append(f"{name} -> {ip} unit {unit} fc {fc}: {verdicts[i]} at interval {i} ({intervals[i]:.2f} s, "
                             f"recent {recent[i]:.2f} s, period {meant.period:g} s, jitter {meant.jitter:.3f} s)")
    return found


def steadily(make: Callable[[], Plant], judged: Callable[[str, str, float], bool] | None = None,
             tries: int = STEADY_TRIES) -> Plant:
    """The plant ``make`` builds, made again (up to ``tries`` times) when the machine kept its pollers from their
    schedule (``unsteady``): the capture would hold timing the plant never meant, which the sensor rightly flags."""
    for _ in range(tries):
        plant = make()
        found = unsteady(plant, *([judged] if judged else []))
        if not found:
            return plant
        print("make_scenarios: the machine kept the plant off its schedule, making it again:\n  "
              + "\n  ".join(found[:5]), file=sys.stderr)
    raise RuntimeError(f"the machine kept the plant's pollers off their schedule in {tries} runs out of {tries}, "
                       f"it is too loaded to play the plant at {SPEED:g}x:\n  " + "\n  ".join(found[:5]))


def normal(out: Path, speed: float = SPEED, seconds: float = NORMAL_S, seed: int = 7) -> Plant:
    return steadily(lambda: build(out, seconds, speed, seed))


def attacked(out: Path, learned: Plant, speed: float = SPEED, normal_seconds: float = NORMAL_S,
             seed: int = 8) -> Plant:
    """The plant with every scenario of ``SCENARIOS`` in its slot after ``normal_seconds`` of normal traffic."""
    t = {s.name: start(s, normal_seconds) for s in SCENARIOS}

    def edit(specs: dict[str, tuple[str, dict]]) -> None:
        hmi, historian = specs["hmi"][1], specs["historian"][1]
        hmi["writes"] += [{"t": t["setpoint"], "ip": PLC1, "unit": 1, "fc": 6, "address": 40, "values": [9000]},
                          {"t": t["function"], "ip": PLC2, "unit": 1, "fc": 43},
                          {"t": t["diagnostics"], "ip": PLC3, "unit": 1, "fc": 8, "values": [0x12, 0x34]}]
        historian.setdefault("writes", []).append(
            {"t": t["flood"], "ip": PLC4, "unit": 1, "flood": 30.0, "read": [3, 0, 50]})
        specs["gateway"][1]["faults"] = [{"from": t["exceptions"], "to": t["exceptions"] + 60, "exception": 6,
                                          "speed": speed}]

    intruders = {
        "replayer": Intruder("replay", {"t": t["replay"], "server": PLC1, "gap": 0.0,
                                        "adus": captured_writes(learned.pcap, HMI, PLC1, 4)},
                             HERE / "attackers.py", host="hmi"),
        SCANNER[0]: Intruder("scan", {"t": t["scan"], "server": PLC3, "units": list(range(1, 41)), "unit": 1,
                                      "addresses": [0, 1200, 20], "count": 10, "gap": 0.2},
                             HERE / "attackers.py", address=SCANNER[1], mac=SCANNER[2]),
    }
    acted = {(s.src, s.dst) for s in SCENARIOS}
    return steadily(lambda: build(out, normal_seconds + SLOTS * SLOT_S, speed, seed, edit=edit,
                                  intruders=intruders, expect_errors=("scada", "historian")),
                    lambda client, server, t: t < normal_seconds or (client, server) not in acted)


def captured_writes(pcap: Path, client: str, server: str, n: int) -> list[str]:
    """The last ``n`` Modbus/TCP write-single-register ADUs ``client`` sent ``server`` in a capture (hex)."""
    data = pcap.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    src, dst = bytes(map(int, client.split("."))), bytes(map(int, server.split(".")))
    found, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, pos + 8)[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if frame[12:14] != b"\x08\x00" or frame[23] != 6 or frame[26:30] != src or frame[30:34] != dst:
            continue
        ip = 14 + (frame[14] & 0x0F) * 4
        if struct.unpack_from(">H", frame, ip + 2)[0] != 502:
            continue
        adu = frame[ip + (frame[ip + 12] >> 4) * 4:]
        if len(adu) == 12 and adu[7] == 6:
            found.append(adu.hex())
    if len(found) < n:
        raise RuntimeError(f"{pcap}: only {len(found)} writes from {client} to {server}")
    return found[-n:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--speed", type=float, default=SPEED)
    ap.add_argument("--normal-seconds", type=float, default=NORMAL_S)
    args = ap.parse_args()
    learned = normal(args.out / "normal", args.speed, args.normal_seconds)
    plant = attacked(args.out / "attacked", learned, args.speed, args.normal_seconds)
    print(json.dumps({"normal": str(learned.pcap), "attacked": str(plant.pcap), "t0": plant.t0,
                      "scenarios": [{**asdict(s), "t": plant.t0 + start(s, args.normal_seconds)}
                                    for s in SCENARIOS]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
