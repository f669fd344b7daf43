"""Host names from DHCP and DHCPv6 reach the event stream and the inventory, under the right MAC and address.

scapy crafts what a small plant network shows (BOOTP/DHCP and DHCPv6 layers of scapy's own, not the package's
builders): an engineering workstation's DISCOVER/OFFER/REQUEST/ACK with its host name and FQDN, after which it
speaks from its new address; a historian with a configured address sending DHCPINFORM; a relayed REQUEST; and a
DHCPv6 SOLICIT/REPLY with a client FQDN and an IA_NA. ``otsensor analyze`` reads the capture; the events must
carry each name with the MAC and address it belongs to, and ``otsensor assets`` must list the names on the
assets they name: the workstation at the leased address (its MAC seen once it speaks from there), the historian
at its configured address, the DHCPv6 client at its link-local address, the relayed client under its MAC (an
asset because it describes itself: its parameter request list is an identity; a name alone makes no asset).
"""
from __future__ import annotations

import json

import pytest
from helpers import run_otsensor

scapy = pytest.importorskip("scapy.all", reason="scapy crafts the traffic")
from scapy.layers.dhcp import BOOTP, DHCP  # noqa: E402
from scapy.layers.dhcp6 import (  # noqa: E402
    DUID_LL,
    DUID_LLT,
    DHCP6_Reply,
    DHCP6_Solicit,
    DHCP6OptClientFQDN,
    DHCP6OptClientId,
    DHCP6OptIA_NA,
    DHCP6OptIAAddress,
    DHCP6OptOptReq,
    DHCP6OptServerId,
)
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

WS_MAC, SERVER_MAC, HIST_MAC, RELAYED_MAC, RELAY_MAC = ("00:1b:1b:00:00:21", "00:1b:1b:00:00:01", "00:1b:1b:00:00:31",
                                                       "00:1b:1b:00:00:41", "00:1b:1b:00:00:51")
V6_MAC, V6_SERVER_MAC = "00:1b:1b:00:00:61", "00:1b:1b:00:00:02"
SERVER, LEASED, HISTORIAN, RELAY, RELAYED_LEASE = "10.20.0.1", "10.20.0.50", "10.20.0.9", "10.30.0.1", "10.30.0.77"
V6_CLIENT, V6_SERVER, V6_LEASED = "fe80::21b:1bff:fe00:61", "fe80::21b:1bff:fe00:2", "2001:db8:20::61"
BROADCAST = "ff:ff:ff:ff:ff:ff"


def fqdn_wire(name: str) -> bytes:
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def dhcp4(src_mac: str, dst_mac: str, src: str, dst: str, sport: int, dport: int, op: int, xid: int, chaddr: str,
          options: list, **header) -> Ether:
    return (Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport)
            / BOOTP(op=op, xid=xid, chaddr=mac_bytes(chaddr), flags=0x8000, **header) / DHCP(options=options + ["end"]))


def traffic() -> list:
    ws = [("hostname", b"eng-ws-1"), ("client_FQDN", b"\x05\x00\x00" + fqdn_wire("eng-ws-1.plant.example")),
          ("param_req_list", [1, 3, 6, 15, 119]), ("vendor_class_id", b"MSFT 5.0"),
          ("client_id", b"\x01" + mac_bytes(WS_MAC))]
    server = [("server_id", SERVER), ("lease_time", 3600), ("subnet_mask", "255.255.255.0"), ("router", SERVER)]
    packets = [
        dhcp4(WS_MAC, BROADCAST, "0.0.0.0", "255.255.255.255", 68, 67, 1, 0x1001, WS_MAC,
              [("message-type", "discover"), *ws]),
        dhcp4(SERVER_MAC, BROADCAST, SERVER, "255.255.255.255", 67, 68, 2, 0x1001, WS_MAC,
              [("message-type", "offer"), *server], yiaddr=LEASED),
        dhcp4(WS_MAC, BROADCAST, "0.0.0.0", "255.255.255.255", 68, 67, 1, 0x1001, WS_MAC,
              [("message-type", "request"), ("requested_addr", LEASED), ("server_id", SERVER), *ws]),
        dhcp4(SERVER_MAC, BROADCAST, SERVER, "255.255.255.255", 67, 68, 2, 0x1001, WS_MAC,
              [("message-type", "ack"), *server, ("hostname", b"eng-ws-1")], yiaddr=LEASED),
        # the workstation speaks from its lease (a syslog datagram to the server): its MAC joins that address
        Ether(src=WS_MAC, dst=SERVER_MAC) / IP(src=LEASED, dst=SERVER) / UDP(sport=40000, dport=514) / b"<13>hello",
        # a historian with a configured address asks only for parameters
        dhcp4(HIST_MAC, BROADCAST, HISTORIAN, "255.255.255.255", 68, 67, 1, 0x2002, HIST_MAC,
              [("message-type", "inform"), ("hostname", b"historian-a"), ("param_req_list", [1, 3, 6])],
              ciaddr=HISTORIAN),
        dhcp4(SERVER_MAC, HIST_MAC, SERVER, HISTORIAN, 67, 68, 2, 0x2002, HIST_MAC,
              [("message-type", "ack"), ("server_id", SERVER)], ciaddr=HISTORIAN),
        # a REQUEST relayed from another subnet: the client is only its MAC here
        dhcp4(RELAY_MAC, SERVER_MAC, RELAY, SERVER, 67, 67, 1, 0x3003, RELAYED_MAC,
              [("message-type", "request"), ("hostname", b"rtu-north-7"), ("requested_addr", RELAYED_LEASE),
               ("param_req_list", [1, 3, 6, 12])],
              giaddr=RELAY, hops=1),
        # DHCPv6: a SOLICIT with the client FQDN, and the server's REPLY binding an address (rapid commit)
        Ether(src=V6_MAC, dst="33:33:00:01:00:02") / IPv6(src=V6_CLIENT, dst="ff02::1:2") / UDP(sport=546, dport=547)
        / DHCP6_Solicit(trid=0x4004) / DHCP6OptClientId(duid=DUID_LLT(lladdr=V6_MAC, timeval=700000000))
        / DHCP6OptOptReq(reqopts=[23, 24, 39]) / DHCP6OptClientFQDN(flags=1, fqdn=b"plc-gw-2.plant.example.")
        / DHCP6OptIA_NA(iaid=7),
        Ether(src=V6_SERVER_MAC, dst=V6_MAC) / IPv6(src=V6_SERVER, dst=V6_CLIENT) / UDP(sport=547, dport=546)
        / DHCP6_Reply(trid=0x4004) / DHCP6OptServerId(duid=DUID_LL(lladdr=V6_SERVER_MAC))
        / DHCP6OptClientId(duid=DUID_LLT(lladdr=V6_MAC, timeval=700000000))
        / DHCP6OptIA_NA(iaid=7, ianaopts=[DHCP6OptIAAddress(addr=V6_LEASED, preflft=3600, validlft=7200)])
        / DHCP6OptClientFQDN(flags=1, fqdn=b"plc-gw-2.plant.example."),
    ]
    for i, packet in enumerate(packets):
        packet.time = 1_700_000_000 + i
    return packets


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], dict[str, dict]]:
    tmp = tmp_path_factory.mktemp("dhcp_names")
    pcap = tmp / "dhcp_names.pcap"
    wrpcap(str(pcap), traffic())
    proc = run_otsensor("analyze", pcap, "--strict", "--no-progress", "--db", tmp / "o.db", "--events",
                        tmp / "events.jsonl")
    assert proc.returncode == 0, proc.stderr[-2000:]
    listing = run_otsensor("assets", "--db", tmp / "o.db", "--format", "json")
    assert listing.returncode == 0, listing.stderr[-2000:]
    events = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines() if line.strip()]
    assets = {a["ip"] or a["mac"]: a for a in json.loads(listing.stdout)}
    return events, assets


def of(events: list[dict], proto: str) -> list[dict]:
    return [e for e in events if e.get("proto") == proto]


def test_every_message_is_an_event_without_weirds(analysed) -> None:
    events, _ = analysed
    assert not [e for e in events if e.get("proto") == "weird"]
    assert [e["function_name"] for e in of(events, "dhcp")] == ["discover", "offer", "request", "ack", "inform",
                                                                "ack", "request"]
    assert [e["function_name"] for e in of(events, "dhcpv6")] == ["solicit", "reply"]
    assert {e["action"] for e in of(events, "dhcp") + of(events, "dhcpv6")} == {"discovery"}


def test_dhcp_names_reach_the_events_with_their_mac_and_address(analysed) -> None:
    events, _ = analysed
    discover, offer, request, ack, inform, _, relayed = of(events, "dhcp")
    for e in (discover, request):
        assert (e["chaddr"], e["hostname"], e["client_fqdn"], e["src"]) == (WS_MAC, "eng-ws-1",
                                                                            "eng-ws-1.plant.example", "0.0.0.0")
        assert (e["parameter_request_list"], e["vendor_class_id"]) == ("1,3,6,15,119", "MSFT 5.0")
        assert e["client_fqdn_flag_names"] == ["s", "e"] and e["direction"] == "request"
    assert (ack["chaddr"], ack["yiaddr"], ack["hostname"], ack["server_identifier"]) == (WS_MAC, LEASED, "eng-ws-1",
                                                                                        SERVER)
    assert ack["direction"] == "response" and ack["transaction_id"] == discover["transaction_id"] == 0x1001
    assert offer["yiaddr"] == LEASED and request["requested_ip_address"] == LEASED
    assert (inform["src"], inform["ciaddr"], inform["chaddr"], inform["hostname"]) == (HISTORIAN, HISTORIAN, HIST_MAC,
                                                                                      "historian-a")
    assert (relayed["giaddr"], relayed["chaddr"], relayed["hostname"]) == (RELAY, RELAYED_MAC, "rtu-north-7")


def test_dhcpv6_names_reach_the_events_with_their_mac_and_address(analysed) -> None:
    events, _ = analysed
    solicit, reply = of(events, "dhcpv6")
    assert (solicit["src"], solicit["client_mac"], solicit["client_fqdn"]) == (V6_CLIENT, V6_MAC,
                                                                               "plc-gw-2.plant.example")
    assert solicit["option_request"] == "23,24,39"
    assert (reply["dst"], reply["client_mac"], reply["server_mac"], reply["ia_addresses"], reply["client_fqdn"]) == (
        V6_CLIENT, V6_MAC, V6_SERVER_MAC, [V6_LEASED], "plc-gw-2.plant.example")
    assert reply["direction"] == "response" and reply["transaction_id"] == solicit["transaction_id"] == 0x4004


def test_the_inventory_names_each_asset(analysed) -> None:
    _, assets = analysed
    ws = assets[LEASED]
    assert ws["mac"] == WS_MAC and {"eng-ws-1", "eng-ws-1.plant.example"} <= set(ws["hostnames"]), ws
    assert ws["identity"]["dhcp_fingerprint"] == "1,3,6,15,119" and ws["identity"]["dhcp_vendor_class"] == "MSFT 5.0"
    assert "historian-a" in assets[HISTORIAN]["hostnames"] and assets[HISTORIAN]["mac"] == HIST_MAC
    assert "dhcp_server" in assets[SERVER]["roles"] and "dhcp_relay_agent" in assets[RELAY]["roles"]
    assert "rtu-north-7" in assets[RELAYED_MAC]["hostnames"] and assets[RELAYED_MAC]["ip"] is None
    v6 = assets[V6_CLIENT]
    assert "plc-gw-2.plant.example" in v6["hostnames"] and v6["identity"]["dhcpv6_fingerprint"] == "23,24,39"
    assert "dhcpv6_server" in assets[V6_SERVER]["roles"]
    assert not any(name in a["hostnames"] for a in assets.values() if a["ip"] not in (LEASED, None)
                   for name in ("eng-ws-1", "rtu-north-7")), "a name landed on another asset"
