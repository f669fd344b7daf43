"""Real cpppo EtherNet/IP stacks on loopback, captured, parsed with the package: the messages, the identity the
server announces, the roles, the modules and the points must be what the clients did.

stacks/enip_stack.py runs cpppo's server on 127.0.0.21:44818 with a configured Identity and three tags, and
cpppo's own clients through the steps of its SCRIPT (ListIdentity over UDP and TCP, Read/Write Tag, a Multiple
Service Packet, Read Tag Fragmented, Get_Attributes_All of the Identity object routed to slot 0 and unrouted);
tcpdump records it. The capture is read with scapy, each TCP direction is fed in sequence order (retransmitted
bytes dropped) to ``EnipStream``, each UDP payload to ``datagram``, and replies are completed with their
requests. Expectations come from the script and the configured identity, never from the package's output.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections import Counter, defaultdict, deque
from pathlib import Path

import pytest

from protocols.base import Malformed, Message, Point
from protocols.enip import ENIP_PORT, EnipStream, complete, datagram

sys.path.insert(0, str(Path(__file__).resolve().parent / "stacks"))
from enip_stack import IDENTITY, SCRIPT, SERVER_IP, capture  # noqa: E402

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tcpdump") is None,
                       reason="needs root and tcpdump to capture on lo (and to bind port 44818)"),
]
cpppo = pytest.importorskip("cpppo", reason="cpppo (the EtherNet/IP stack under test) is not installed")
scapy_all = pytest.importorskip("scapy.all")

CLIENT_IP = "127.0.0.1"  # cpppo's clients cannot choose their source address
EXPECTED_IDENTITY = {
    "vendor": "Rockwell Automation/Allen-Bradley", "vendor_id": IDENTITY["vendor_id"],
    "device_type": IDENTITY["device_type"], "device_type_name": "programmable_logic_controller",
    "product_code": IDENTITY["product_code"],
    "revision": f"{IDENTITY['revision_major']}.{IDENTITY['revision_minor']}",
    "serial": f"0x{IDENTITY['serial_number']:08x}", "product": IDENTITY["product_name"],
}


def subset(actual: dict, expected: dict) -> bool:
    return all(actual.get(k) == v for k, v in expected.items())


class Parsed:
    """Every message of the capture: (frame, transport, src ip, message), replies completed with their requests."""

    def __init__(self, pcap: Path) -> None:
        self.messages: list[tuple[int, str, str, Message]] = []
        self.malformed: list[tuple[int, Malformed]] = []
        framers: dict[tuple, EnipStream] = {}
        next_seq: dict[tuple, int] = {}
        pending: dict[tuple, deque[Message]] = defaultdict(deque)
        for frame, packet in enumerate(scapy_all.rdpcap(str(pcap)), start=1):
            if not packet.haslayer("IP"):
                continue
            ip = packet["IP"]
            if packet.haslayer("TCP"):
                tcp = packet["TCP"]
                key = (ip.src, tcp.sport, ip.dst, tcp.dport)
                conn = tuple(sorted([(ip.src, tcp.sport), (ip.dst, tcp.dport)]))
                if tcp.flags & 0x02:  # SYN: the stream starts after it
                    next_seq[key] = (tcp.seq + 1) % 2**32
                data = bytes(tcp.payload)
                if not data or key not in next_seq:
                    continue
                seen = (next_seq[key] - tcp.seq) % 2**32
                if seen >= 2**31:  # a hole: not expected on loopback
                    raise AssertionError(f"frame {frame}: bytes missing before this segment")
                if seen >= len(data):
                    continue  # a retransmission of bytes already fed
                data = data[seen:]
                next_seq[key] = (next_seq[key] + len(data)) % 2**32
                framer = framers.setdefault(key, EnipStream(tcp.dport == ENIP_PORT))
                found = framer.feed(data, frame)
                transport = "tcp"
            elif packet.haslayer("UDP"):
                udp = packet["UDP"]
                conn = ("udp",)
                try:
                    found = [(frame, m) for m in datagram(bytes(udp.payload), udp.dport == ENIP_PORT)]
                except Malformed as bad:
                    found = [(frame, bad)]
                transport = "udp"
            else:
                continue
            for tag, message in found:
                if isinstance(message, Malformed):
                    self.malformed.append((tag, message))
                    continue
                if message.direction == "request":
                    pending[(conn, message.pair_key)].append(message)
                elif message.direction == "response" and pending[(conn, message.pair_key)]:
                    message = complete(pending[(conn, message.pair_key)].popleft(), message)
                self.messages.append((tag, transport, ip.src, message))

    def facts(self, kind: str) -> list[tuple[str, str, object]]:
        return [(src, f.about, f.value) for _, _, src, m in self.messages for f in m.facts if f.kind == kind]

    def named(self, name: str) -> list[Message]:
        return [m for _, _, _, m in self.messages if m.function_name == name]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    pcap = tmp_path_factory.mktemp("enip_stack") / "enip.pcap"
    steps = capture(pcap)
    assert len(steps) == len(SCRIPT)
    return Parsed(pcap)


def test_every_message_parses_cleanly(parsed: Parsed) -> None:
    assert not parsed.malformed
    assert [(f, m.function_name, m.weird) for f, _, _, m in parsed.messages if m.weird] == []
    assert len(parsed.messages) >= 30


def test_the_functions_and_actions_are_what_the_clients_did(parsed: Parsed) -> None:
    seen = Counter((m.function_name, m.action, m.direction) for _, _, _, m in parsed.messages)
    assert seen[("list_identity", "discovery", "request")] == 2  # once over UDP, once over TCP
    assert seen[("list_identity", "discovery", "announce")] == 1  # the UDP answer
    assert seen[("list_identity", "discovery", "response")] == 1  # the TCP answer
    assert seen[("register_session", "session", "request")] == 5  # one per TCP client run
    assert seen[("read_tag", "read", "request")] == 2 + 3  # two plain reads, three inside the Multiple Service Packet
    assert seen[("read_tag", "read", "response")] == 5
    assert seen[("write_tag", "write", "request")] == seen[("write_tag", "write", "response")] == 3
    assert seen[("read_tag_fragmented", "read", "request")] == 1
    assert seen[("get_attributes_all", "read", "request")] == 2
    assert seen[("get_attribute_single", "read", "request")] == 1
    assert {m.action for _, _, _, m in parsed.messages} <= {"discovery", "session", "read", "write"}


def test_the_announced_identity_is_the_configured_one(parsed: Parsed) -> None:
    identities = parsed.facts("identity")
    announced = [(src, about, v) for src, about, v in identities if about == "src"]
    assert len(announced) == 1 and announced[0][0] == SERVER_IP and subset(announced[0][2], EXPECTED_IDENTITY)
    answered = [v for src, about, v in identities if about == "server" and "vendor_id" in v]
    # the TCP ListIdentity reply and the unrouted Get_Attributes_All reply
    assert len(answered) == 2 and all(subset(v, EXPECTED_IDENTITY) for v in answered)
    assert (SERVER_IP, "server", {"product": IDENTITY["product_name"]}) in identities  # Get_Attribute_Single 7


def test_the_routed_identity_is_the_module_in_slot_0(parsed: Parsed) -> None:
    modules = [v for _, about, v in parsed.facts("module") if about == "server"]
    with_identity = [v for v in modules if "vendor_id" in v]
    assert len(with_identity) == 1 and with_identity[0]["slot"] == 0
    assert subset(with_identity[0], EXPECTED_IDENTITY)
    assert {v["slot"] for v in modules} == {0}  # cpppo routes every unconnected request to 1/0


def test_roles(parsed: Parsed) -> None:
    roles = {(src, about, v) for src, about, v in parsed.facts("role")}
    assert (CLIENT_IP, "client", "originator") in roles
    assert (SERVER_IP, "server", "target") in roles
    assert (SERVER_IP, "src", "target") in roles  # the UDP ListIdentity announcement


def test_the_points_are_the_tags_read_and_written(parsed: Parsed) -> None:
    points = Counter((p.access, p.name, p.quantity, p.values) for _, about, p in parsed.facts("point")
                     if about == "server" and isinstance(p, Point) and p.space == "logix_tag")
    assert points == Counter({
        ("read", "SCADA[0]", 4, None): 2,
        ("write", "SCADA[1]", 1, (99,)): 1,
        ("write", "TEMP", 1, (21.5,)): 1,
        ("write", "COUNT", 1, (123456,)): 1,
        ("read", "SCADA[0]", 10, None): 1,
        ("read", "TEMP", 1, None): 1,
        ("read", "COUNT", 1, None): 1,
        ("read", "SCADA[2]", 4, None): 1,
    })


def test_replies_carry_the_values_the_client_printed(parsed: Parsed) -> None:
    reads = [(m.fields.get("tag"), m.fields.get("values")) for m in parsed.named("read_tag")
             if m.direction == "response"]
    assert ("SCADA[0]", [0, 99, 0, 0]) in reads
    assert ("SCADA[0]", [0, 99, 0, 0, 0, 0, 0, 0, 0, 0]) in reads
    assert ("TEMP", [21.5]) in reads and ("COUNT", [123456]) in reads


def test_the_multiple_service_packet_was_unpacked_behind_its_route(parsed: Parsed) -> None:
    inside = [m for _, _, _, m in parsed.messages
              if m.direction == "request" and "multiple_service_packet" in m.fields]
    assert [m.fields["multiple_service_packet"] for m in inside] == [{"index": i, "count": 3} for i in range(3)]
    assert all(m.fields["route_path"] == [{"port": 1, "link": 0}] for m in inside)
    assert [m.fields["tag"] for m in inside] == ["SCADA[0]", "TEMP", "COUNT"]
