"""Names on the wire reach the events and the inventory: DNS, mDNS, LLMNR and NBNS crafted with scapy.

One pcap is written in a temporary folder: a DNS client asking a server for a PLC's name (answered through a CNAME,
with an AAAA too), a PTR look-up of a historian, an answer about an address that never sends anything, an mDNS
announcement of a printer and its IPP service (PTR, SRV, TXT, HINFO, A), an LLMNR query answered by an engineering
station, an NBNS name registration of an HMI, and an NBNS node status response of a SCADA server with its name
table and MAC address. Every named address but one also sends a packet of its own, so it is an asset.

``otsensor analyze --events`` must give each name with its address in the events; the assets (``otsensor assets
--format json``) must carry each name on the right asset, the workgroup and MAC of the node status as identity, and
the address only an answer named must not be an asset at all (DESIGN: a name never makes an asset). The NBNS and
mDNS frames, which the corpus lacks (no node status response, no service announcement with SRV and HINFO), are also
checked against tshark.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import run_otsensor

scapy = pytest.importorskip("scapy.all", reason="scapy crafts the traffic")
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSRV  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.layers.netbios import (  # noqa: E402
    NBNSHeader,
    NBNSNodeStatusResponse,
    NBNSNodeStatusResponseService,
    NBNSRegistrationRequest,
)
from scapy.utils import wrpcap  # noqa: E402

CLIENT, SERVER = "10.1.0.10", "10.1.0.1"
PLC, HISTORIAN, PRINTER, ENG, HMI, SCADA, GHOST = ("10.1.0.20", "10.1.0.30", "10.1.0.40", "10.1.0.50", "10.1.0.60",
                                                   "10.1.0.70", "10.9.9.9")
PLC6 = "fd00::20"
SCADA_MAC = "00:1b:1b:aa:bb:cc"
EXPECTED_NAMES = {  # address -> names the inventory must give it
    PLC: {"plc1.plant.example", "plc1-a.plant.example"}, HISTORIAN: {"historian.plant.example"},
    PRINTER: {"printer.local"}, ENG: {"eng-ws"}, HMI: {"HMI-02"}, SCADA: {"SCADA-SRV"},
}


def udp(src: str, dst: str, sport: int, dport: int, payload: object, mac: str = "02:00:00:00:00:01") -> Ether:
    dst_mac = "01:00:5e:00:00:fb" if dst.startswith("224.") else "ff:ff:ff:ff:ff:ff" if dst.endswith(".255") \
        else "02:00:00:00:00:02"
    return Ether(src=mac, dst=dst_mac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload


def rdata(*strings: str) -> bytes:
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


def padded(name: str) -> str:
    """A name padded with spaces as Windows pads it (scapy would pad with NULs)."""
    return name.ljust(15)


def frames() -> list[Ether]:
    q = DNSQR(qname="plc1.plant.example", qtype="A")
    out = [
        udp(CLIENT, SERVER, 40001, 53, DNS(id=11, rd=1, qd=[q])),
        udp(SERVER, CLIENT, 53, 40001, DNS(id=11, qr=1, rd=1, ra=1, qd=[q], an=[
            DNSRR(rrname="plc1.plant.example", type="CNAME", rdata="plc1-a.plant.example"),
            DNSRR(rrname="plc1-a.plant.example", type="A", rdata=PLC),
            DNSRR(rrname="plc1-a.plant.example", type="AAAA", rdata=PLC6)])),
        udp(CLIENT, SERVER, 40002, 53, DNS(id=12, rd=1, qd=[DNSQR(qname="30.0.1.10.in-addr.arpa", qtype="PTR")])),
        udp(SERVER, CLIENT, 53, 40002, DNS(id=12, qr=1, rd=1, ra=1, qd=[DNSQR(qname="30.0.1.10.in-addr.arpa",
                                                                               qtype="PTR")],
                                           an=[DNSRR(rrname="30.0.1.10.in-addr.arpa", type="PTR",
                                                     rdata="historian.plant.example")])),
        udp(SERVER, CLIENT, 53, 40003, DNS(id=13, qr=1, qd=[DNSQR(qname="ghost.plant.example")],
                                           an=[DNSRR(rrname="ghost.plant.example", type="A", rdata=GHOST)])),
        udp(PRINTER, "224.0.0.251", 5353, 5353, DNS(id=0, qr=1, aa=1, qd=[], an=[
            DNSRR(rrname="_ipp._tcp.local", type="PTR", rdata="Office Printer._ipp._tcp.local"),
            DNSRRSRV(rrname="Office Printer._ipp._tcp.local", target="printer.local", port=631, cacheflush=1),
            DNSRR(rrname="Office Printer._ipp._tcp.local", type="TXT", rdata=["ty=LaserJet 400", "rp=ipp/print"],
                  cacheflush=1),
            DNSRR(rrname="printer.local", type="HINFO", rdata=rdata("ARMV7", "LINUX"), cacheflush=1),
            DNSRR(rrname="printer.local", type="A", rdata=PRINTER, cacheflush=1)])),
        udp(CLIENT, "224.0.0.252", 40004, 5355, DNS(id=14, qd=[DNSQR(qname="eng-ws")])),
        udp(ENG, CLIENT, 5355, 40004, DNS(id=14, qr=1, qd=[DNSQR(qname="eng-ws")],
                                          an=[DNSRR(rrname="eng-ws", type="A", rdata=ENG)])),
        udp(HMI, "10.1.0.255", 137, 137, NBNSHeader(NAME_TRN_ID=0x55, OPCODE=5, NM_FLAGS=0x11) /
            NBNSRegistrationRequest(QUESTION_NAME="HMI-02", NB_ADDRESS=HMI)),
        udp(SCADA, CLIENT, 137, 40005, NBNSHeader(NAME_TRN_ID=0x66, RESPONSE=1, NM_FLAGS=0x40) / NBNSNodeStatusResponse(
            RR_NAME="*", NODE_NAME=[NBNSNodeStatusResponseService(NETBIOS_NAME=padded("SCADA-SRV"), SUFFIX=0x00, NAME_FLAGS=0x04),
                                    NBNSNodeStatusResponseService(NETBIOS_NAME=padded("PLANT"), SUFFIX=0x00, NAME_FLAGS=0x84),
                                    NBNSNodeStatusResponseService(NETBIOS_NAME=padded("SCADA-SRV"), SUFFIX=0x20, NAME_FLAGS=0x04)],
            MAC_ADDRESS=SCADA_MAC), mac=SCADA_MAC),
    ]
    # each named address (but the ghost) sends something of its own, so it is an asset the names can join
    out += [udp(ip, CLIENT, 41000, 41001, b"hello") for ip in (PLC, HISTORIAN)]
    for i, packet in enumerate(out):
        packet.time = 1_700_000_000 + i * 0.01
    return out


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], list[dict]]:
    tmp = tmp_path_factory.mktemp("names")
    pcap = tmp / "names.pcap"
    wrpcap(str(pcap), frames())
    events_path, db = tmp / "events.jsonl", tmp / "names.db"
    proc = run_otsensor("analyze", pcap, "--strict", "--no-progress", "--db", db, "--events", events_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    listing = run_otsensor("assets", "--db", db, "--format", "json")
    assert listing.returncode == 0, listing.stderr[-2000:]
    return pcap, events, json.loads(listing.stdout)


def records(event: dict) -> list[dict]:
    return [r for key in ("answers", "authorities", "additionals") for r in event.get(key, ())]


def answered(events: list[dict], proto: str) -> set[tuple[str, str]]:
    """(owner name, address) of every A/AAAA record the events of ``proto`` carry."""
    return {(r["name"], r["data"]) for e in events if e["proto"] == proto for r in records(e)
            if r["type_name"] in ("A", "AAAA")}


def test_every_message_is_an_event_and_none_is_weird(analysed) -> None:
    _, events, _ = analysed
    assert not [e for e in events if e["proto"] == "weird"]
    counted = {proto: sum(e["proto"] == proto for e in events) for proto in ("dns", "mdns", "llmnr", "nbns")}
    assert counted == {"dns": 5, "mdns": 1, "llmnr": 2, "nbns": 2}


def test_dns_names_reach_the_events_with_their_addresses(analysed) -> None:
    _, events, _ = analysed
    assert {("plc1-a.plant.example", PLC), ("plc1-a.plant.example", PLC6), ("ghost.plant.example", GHOST)} <= \
        answered(events, "dns")
    response = next(e for e in events if e["proto"] == "dns" and e["transaction_id"] == 11 and e["response"])
    assert response["direction"] == "response" and response["request_frame"] == 1
    assert response["answers"][0] == {**response["answers"][0], "type_name": "CNAME", "data": "plc1-a.plant.example"}
    ptr = next(e for e in events if e["proto"] == "dns" and e["transaction_id"] == 12 and e["response"])
    assert [(r["name"], r["data"]) for r in ptr["answers"]] == [("30.0.1.10.in-addr.arpa", "historian.plant.example")]


def test_mdns_announcement_names_the_host_and_its_service(analysed) -> None:
    _, events, _ = analysed
    (announce,) = [e for e in events if e["proto"] == "mdns"]
    assert announce["direction"] == "announce" and announce["action"] == "discovery"
    assert ("printer.local", PRINTER) in answered(events, "mdns")
    by_type = {r["type_name"]: r for r in announce["answers"]}
    assert by_type["SRV"]["data"] == {"priority": 0, "weight": 0, "port": 631, "target": "printer.local"}
    assert by_type["TXT"]["data"] == ["ty=LaserJet 400", "rp=ipp/print"] and by_type["SRV"]["cache_flush"]
    assert by_type["HINFO"]["data"] == {"cpu": "ARMV7", "os": "LINUX"}


def test_llmnr_answer_names_the_responder(analysed) -> None:
    _, events, _ = analysed
    assert answered(events, "llmnr") == {("eng-ws", ENG)}


def test_nbns_registration_and_node_status(analysed) -> None:
    _, events, _ = analysed
    registration = next(e for e in events if e["proto"] == "nbns" and e["function_name"] == "registration")
    assert (registration["name"], registration["addresses"]) == ("HMI-02<00>", [HMI])
    status = next(e for e in events if e["proto"] == "nbns" and e["function_name"] == "node_status")
    table = status["answers"][0]["data"]
    assert table["unit_id"] == SCADA_MAC and status["src"] == SCADA
    assert [(n["netbios_name"], n["suffix"], n["group"]) for n in table["names"]] == \
        [("SCADA-SRV", 0x00, False), ("PLANT", 0x00, True), ("SCADA-SRV", 0x20, False)]


def test_the_inventory_names_the_assets_and_only_those(analysed) -> None:
    _, _, assets = analysed
    by_ip = {a["ip"]: a for a in assets}
    for ip, names in EXPECTED_NAMES.items():
        assert ip in by_ip, f"{ip} is no asset"
        assert names <= set(by_ip[ip]["hostnames"]), (ip, by_ip[ip]["hostnames"])
    assert GHOST not in by_ip and PLC6 not in by_ip, "a name made an asset"
    assert not {"plc1.plant.example", "historian.plant.example"} & set(by_ip[SERVER]["hostnames"]), \
        "the DNS server got the names it served"
    identity = by_ip[SCADA]["identity"]
    assert identity["workgroup"] == "PLANT" and identity["mac_address"] == SCADA_MAC
    assert by_ip[PRINTER]["identity"]["model"] == "ARMV7"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_reads_the_crafted_nbns_and_mdns_alike(analysed) -> None:
    pcap, events, _ = analysed
    out = subprocess.run(["tshark", "-n", "-r", str(pcap), "-Y", "nbns or mdns", "-T", "fields", "-E", "occurrence=a",
                          "-E", "aggregator=|", "-e", "frame.number", "-e", "nbns.netbios_name", "-e", "nbns.unit_id",
                          "-e", "nbns.addr", "-e", "dns.srv.port", "-e", "dns.srv.target", "-e", "dns.a"],
                         capture_output=True, text=True, timeout=60)
    rows = {int(line.split("\t")[0]): line.split("\t")[1:] for line in out.stdout.splitlines()}
    ours = {e["frame"]: e for e in events if e["proto"] in ("nbns", "mdns")}
    assert set(rows) == set(ours)
    for frame, (names, unit, addr, port, target, a) in rows.items():
        event = ours[frame]
        if event["proto"] == "nbns" and event["function_name"] == "node_status":
            table = event["answers"][0]["data"]
            assert names.split("|") == [n["name"][:-4] for n in table["names"]] and unit == table["unit_id"]  # no <xx>
        elif event["proto"] == "nbns":
            assert addr.split("|") == event["addresses"]
        else:
            srv = next(r["data"] for r in event["answers"] if r["type_name"] == "SRV")
            assert (int(port), target, a) == (srv["port"], srv["target"], PRINTER)
