"""The programs of the plant's hosts; make_plant.py runs each in its host's network namespace.

    python hosts.py plc       SPEC   # a pymodbus TCP server with device identification
    python hosts.py poller    SPEC   # HMI, operator panel, historian, SCADA front end: pymodbus clients
    python hosts.py engineer  SPEC   # engineering station: 43/14 once, writes at irregular times
    python hosts.py dhcp      SPEC   # the router's DHCP server (scapy: OFFER/ACK crafted on the link)
    python hosts.py laptop    SPEC   # a DHCP client (scapy, from 0.0.0.0), then broadcasts from a real socket

SPEC is one JSON object. Every host prints "ready" on stdout when it can start; clients then wait for a
line "go T0" on stdin (T0: the wall-clock start of plant time) and run their timeline in plant seconds,
divided by ``speed`` into real seconds. A client writes what it did (requests sent, what pymodbus decoded,
errors) as JSON to ``SPEC["log"]`` and exits; a server runs until SIGTERM.
"""
from __future__ import annotations

import asyncio
import json
import logging
import select
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path


def _quiet() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def _wait_go() -> float:
    """Block until the orchestrator says go; returns T0 (wall clock, seconds)."""
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        raise SystemExit(f"expected 'go T0' on stdin, got {line!r}")
    return float(line[1])


async def _sleep_until(t0: float, plant_s: float, speed: float) -> None:
    await asyncio.sleep(max(0.0, t0 + plant_s / speed - time.time()))


# --- PLC -------------------------------------------------------------------------------------------------------

def plc(spec: dict) -> None:
    """A PLC: holding registers, coils, inputs; answers one unit id, or every unit id when ``any_unit``."""
    _quiet()

    async def serve() -> None:
        from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
        from pymodbus.pdu.device import ModbusDeviceIdentification
        from pymodbus.server import ModbusTcpServer

        size = 1000
        device = ModbusDeviceContext(
            co=ModbusSequentialDataBlock(1, [i % 3 == 0 for i in range(size)]),
            di=ModbusSequentialDataBlock(1, [i % 5 == 0 for i in range(size)]),
            hr=ModbusSequentialDataBlock(1, [(i * 13 + 7) % 65536 for i in range(size)]),
            ir=ModbusSequentialDataBlock(1, [(i * 31 + 100) % 65536 for i in range(size)]),
        )
        # Blocks start at 1: pymodbus 3.16 maps protocol address 0 to the block start "1".
        # A single context (not a dict) is unit id 0, which pymodbus serves for every unit id asked.
        context = ModbusServerContext(devices=device if spec.get("any_unit") else {spec["unit"]: device})
        server = ModbusTcpServer(context, identity=ModbusDeviceIdentification(info_name=spec["identity"]),
                                 address=(spec["ip"], spec.get("port", 502)))
        faults = _Faults(spec.get("faults", []), server.context)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.shutdown()))
        await server.serve_forever(background=True)
        if spec.get("faults"):  # its faults are in plant time: it waits for "go T0" like a client
            faults.t0 = await loop.run_in_executor(None, _wait_go)
        else:
            print("ready", flush=True)
        await server.serving

    asyncio.run(serve())


class _Faults:
    """Every read and write of the server's datastore answered with an exception while a fault lasts:
    ``faults`` are ``{"from": plant s, "to": plant s, "exception": code, "speed": x}``."""

    def __init__(self, faults: list[dict], store) -> None:
        self.faults, self.t0 = faults, None
        get, put = store.async_getValues, store.async_setValues

        async def get_values(*args, **kwargs):
            return self.now() or await get(*args, **kwargs)

        async def set_values(*args, **kwargs):
            return self.now() or await put(*args, **kwargs)

        if faults:
            store.async_getValues, store.async_setValues = get_values, set_values

    def now(self):
        from pymodbus.constants import ExcCodes

        for f in self.faults if self.t0 is not None else []:
            if self.t0 + f["from"] / f["speed"] <= time.time() < self.t0 + f["to"] / f["speed"]:
                return ExcCodes(f["exception"])
        return None


# --- Modbus clients --------------------------------------------------------------------------------------------

class Log:
    """What a client did, per server: requests by kind, unit ids, values written, identity decoded, errors."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.units: dict[str, set[int]] = defaultdict(set)
        self.written: dict[str, list] = defaultdict(list)
        self.identity: dict[str, dict[int, str]] = {}
        self.errors: list[str] = []
        self.request_times: list[float] = []
        self.polls: dict[str, list[float]] = defaultdict(list)  # "ip unit fc address" -> plant times of its reads

    async def call(self, ip: str, unit: int, kind: str, coro):
        self.counts[ip][kind] += 1
        self.units[ip].add(unit)
        self.request_times.append(time.time())
        try:
            rr = await coro
        except Exception as exc:  # noqa: BLE001 -- recorded; the test fails on any error of the plant
            self.errors.append(f"{ip} unit {unit} {kind}: {type(exc).__name__}: {exc}")
            return None
        if rr.isError():
            self.errors.append(f"{ip} unit {unit} {kind}: exception response {rr}")
            return None
        return rr

    def dump(self, path: str, **extra) -> None:
        Path(path).write_text(json.dumps({
            "counts": {ip: dict(c) for ip, c in self.counts.items()},
            "units": {ip: sorted(u) for ip, u in self.units.items()},
            "written": self.written, "identity": self.identity, "errors": self.errors,
            "requests": len(self.request_times), "polls": self.polls, **extra}, indent=1) + "\n")


async def _read(client, fc: int, address: int, quantity: int, unit: int):
    kw = {"count": quantity, "device_id": unit}
    if fc == 1:
        return await client.read_coils(address, **kw)
    if fc == 2:
        return await client.read_discrete_inputs(address, **kw)
    if fc == 3:
        return await client.read_holding_registers(address, **kw)
    if fc == 4:
        return await client.read_input_registers(address, **kw)
    raise ValueError(f"no read with function code {fc}")


async def _write(client, write: dict):
    if write["fc"] == 6:
        return await client.write_register(write["address"], write["values"][0], device_id=write["unit"])
    if write["fc"] == 16:
        return await client.write_registers(write["address"], write["values"], device_id=write["unit"])
    if write["fc"] == 8:  # diagnostics, sub-function 0: return query data
        return await client.diag_query_data(bytes(write["values"]), device_id=write["unit"])
    if write["fc"] == 43:  # 43/14: read device identification
        return await client.read_device_information(read_code=1, object_id=0, device_id=write["unit"])
    raise ValueError(f"no write with function code {write['fc']}")


def _kind(write: dict) -> str:
    return {8: "diagnostics", 43: "identify"}.get(write["fc"], "writes")


async def _connect(ip: str):
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient(ip, port=502, timeout=3, retries=0, reconnect_delay=0)
    await client.connect()
    if not client.connected:
        raise SystemExit(f"could not connect to {ip}:502")
    return client


REANCHOR = 0.2  # periods late past which a poller's clock moves to the late cycle (poller)


def poller(spec: dict) -> None:
    """One persistent connection per target; each cycle reads every block of every unit id in turn, then
    sends the operator writes that fell due (an HMI sends a setpoint with its next cycle)."""
    _quiet()
    speed, period, duration = spec["speed"], spec["period"], spec["duration"]
    log = Log()

    async def poll(target: dict, client, t0: float) -> None:
        ip = target["ip"]
        writes = sorted((w for w in spec.get("writes", []) if w["ip"] == ip), key=lambda w: w["t"])
        due, cycles = target["phase"], 0
        while due < duration:
            await _sleep_until(t0, due, speed)
            started = (time.time() - t0) * speed
            for unit in target["units"]:
                for fc, address, quantity in target["blocks"]:
                    log.polls[f"{ip} {unit} {fc} {address}"].append(round((time.time() - t0) * speed, 4))
                    await log.call(ip, unit, "reads", _read(client, fc, address, quantity, unit))
            while writes and writes[0]["t"] <= due:
                w = writes.pop(0)
                if "flood" in w:  # a runaway loop: the same read back to back for ``flood`` plant seconds,
                    while time.time() < t0 + (w["t"] + w["flood"]) / speed:  # then a period's wait as after a cycle
                        await log.call(ip, w["unit"], "reads", _read(client, *w["read"], w["unit"]))
                    started = (time.time() - t0) * speed
                elif await log.call(ip, w["unit"], _kind(w), _write(client, w)) is not None and _kind(w) == "writes":
                    log.written[ip].append(w)
            cycles += 1
            # On time, the next cycle is a period after this one was due (no drift). A cycle the machine held up
            # (REANCHOR) moves the clock: a master then waits a period from that poll, it neither replays what it
            # missed nor hurries the next polls to catch up, which would be a burst the plant never meant.
            due = (started if started - due > REANCHOR * period else due) + period
        log.counts[ip]["cycles"] = cycles

    async def main() -> None:
        clients = [await _connect(t["ip"]) for t in spec["targets"]]
        t0 = await asyncio.get_running_loop().run_in_executor(None, _wait_go)
        try:
            await asyncio.gather(*(poll(t, c, t0) for t, c in zip(spec["targets"], clients)))
        finally:
            for c in clients:
                c.close()

    asyncio.run(main())
    log.dump(spec["log"], period=period)


def engineer(spec: dict) -> None:
    """A person with an engineering tool: connect, do one thing, disconnect, at the times of the script."""
    _quiet()
    speed = spec["speed"]
    log = Log()

    async def act(step: dict, t0: float) -> None:
        await _sleep_until(t0, step["t"], speed)
        client = await _connect(step["ip"])
        try:
            if step["do"] == "identify":
                rr = await log.call(step["ip"], step["unit"], "identify",
                                    client.read_device_information(read_code=step["read_code"], object_id=0,
                                                                   device_id=step["unit"]))
                if rr is not None:
                    log.identity[step["ip"]] = {int(k): v.decode() if isinstance(v, bytes) else v
                                                for k, v in rr.information.items()}
            elif await log.call(step["ip"], step["unit"], "writes", _write(client, step)) is not None:
                log.written[step["ip"]].append(step)
        finally:
            client.close()

    async def main() -> None:
        t0 = await asyncio.get_running_loop().run_in_executor(None, _wait_go)
        for step in sorted(spec["steps"], key=lambda s: s["t"]):
            await act(step, t0)

    asyncio.run(main())
    log.dump(spec["log"])


# --- DHCP and broadcasts (scapy crafts what a real DHCP client and server would put on the link) ----------------

def _dhcp_options(packet) -> dict:
    from scapy.layers.dhcp import DHCP

    return {o[0]: o[1] for o in packet[DHCP].options if isinstance(o, tuple) and len(o) >= 2}


def dhcp(spec: dict) -> None:
    """The router's DHCP server: answers DISCOVER with OFFER and REQUEST with ACK, broadcast (the client has
    no address yet and sets the broadcast flag)."""
    from scapy.all import conf
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    sock = conf.L2socket(iface="eth0")
    stop = False

    def on_term(*_) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    print("ready", flush=True)
    answered = []
    while not stop:
        if not select.select([sock], [], [], 0.1)[0]:
            continue  # wake up now and then to see SIGTERM
        packet = sock.recv()
        if packet is None or DHCP not in packet or packet[BOOTP].op != 1:
            continue
        kind = _dhcp_options(packet).get("message-type")
        reply = {1: "offer", 3: "ack"}.get(kind)
        if reply is None:
            continue
        frame = (Ether(src=spec["mac"], dst="ff:ff:ff:ff:ff:ff")
                 / IP(src=spec["ip"], dst="255.255.255.255", ttl=64)
                 / UDP(sport=67, dport=68)
                 / BOOTP(op=2, xid=packet[BOOTP].xid, flags=0x8000, yiaddr=spec["lease"], siaddr=spec["ip"],
                         chaddr=packet[BOOTP].chaddr)
                 / DHCP(options=[("message-type", reply), ("server_id", spec["ip"]), ("lease_time", 86400),
                                 ("subnet_mask", spec["netmask"]), ("router", spec["ip"]),
                                 ("broadcast_address", spec["broadcast"]), "end"]))
        sock.send(frame)
        answered.append(reply)
    Path(spec["log"]).write_text(json.dumps({"answered": answered}) + "\n")


def laptop(spec: dict) -> None:
    """A contractor's laptop plugged into the plant: DHCP DISCOVER/REQUEST from 0.0.0.0 to 255.255.255.255,
    an ARP probe (sender 0.0.0.0) and announcement, then what Windows sends on joining a LAN: NetBIOS name
    queries to the directed broadcast and an mDNS query to 224.0.0.251, from real UDP sockets."""
    from scapy.all import conf
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dns import DNS, DNSQR
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import ARP, Ether
    from scapy.layers.netbios import NBNSHeader, NBNSQueryRequest

    mac, speed, xid = spec["mac"], spec["speed"], spec["xid"]
    sock = conf.L2socket(iface="eth0")
    t0 = _wait_go()
    time.sleep(max(0.0, t0 + spec["t"] / speed - time.time()))
    sent: list[str] = []

    def bootp(kind: str, extra: list) -> Ether:
        return (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
                / IP(src="0.0.0.0", dst="255.255.255.255", ttl=128)
                / UDP(sport=68, dport=67)
                / BOOTP(op=1, xid=xid, flags=0x8000, chaddr=bytes.fromhex(mac.replace(":", "")))
                / DHCP(options=[("message-type", kind), ("client_id", b"\x01" + bytes.fromhex(mac.replace(":", ""))),
                                ("hostname", spec["hostname"]), *extra,
                                ("param_req_list", [1, 3, 6, 15, 28, 51, 58, 59]), "end"]))

    def await_reply(kind: int, timeout: float = 5.0):
        end = time.time() + timeout
        while time.time() < end:
            packet = sock.recv() if select.select([sock], [], [], 0.1)[0] else None
            if (packet is not None and DHCP in packet and packet[BOOTP].op == 2 and packet[BOOTP].xid == xid
                    and _dhcp_options(packet).get("message-type") == kind):
                return packet
        raise SystemExit(f"no DHCP reply of type {kind} within {timeout} s")

    sock.send(bootp("discover", []))
    sent.append("discover")
    offer = await_reply(2)
    lease, server = offer[BOOTP].yiaddr, _dhcp_options(offer)["server_id"]
    sock.send(bootp("request", [("requested_addr", lease), ("server_id", server)]))
    sent.append("request")
    await_reply(5)
    sock.send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc="0.0.0.0", pdst=lease))
    sent.append("arp probe")
    subprocess.run(["ip", "addr", "add", f"{lease}/{spec['prefix']}", "dev", "eth0"], check=True)
    subprocess.run(["ip", "route", "add", "default", "via", server], check=True)
    sock.send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=lease, pdst=lease))
    sent.append("arp announcement")

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    udp.bind((lease, 137))
    for n in range(3):  # Windows asks three times, 1.5 s apart
        query = NBNSHeader(NAME_TRN_ID=0x7A00 + n) / NBNSQueryRequest(QUESTION_NAME=spec["lookup"])
        udp.sendto(bytes(query), (spec["broadcast"], 137))
        sent.append(f"nbns to {spec['broadcast']}")
        if n == 0:
            mdns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            mdns.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(lease))
            mdns.sendto(bytes(DNS(rd=0, qd=DNSQR(qname="_workstation._tcp.local", qtype="PTR"))),
                        ("224.0.0.251", 5353))
            sent.append("mdns to 224.0.0.251")
        time.sleep(1.5 / speed)
    Path(spec["log"]).write_text(json.dumps({"sent": sent, "lease": lease}) + "\n")


def main() -> None:
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    {"plc": plc, "poller": poller, "engineer": engineer, "dhcp": dhcp, "laptop": laptop}[role](spec)


if __name__ == "__main__":
    main()
