"""FlowTable: canonical 5-tuple grouping, who initiated, per-direction counters, across batches."""
from __future__ import annotations

import ipaddress
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from sensor.capture import LINKTYPE_ETHERNET, LINKTYPE_RAW
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import decode
from sensor.decode.packets import TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, address_text
from sensor.flows.table import FlowTable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import frame_batch

A, B = "10.0.0.10", "10.0.0.20"
A6, B6 = "2001:db8::a", "2001:db8::b"
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
SERVICE = frozenset({502})


def tcp(src, dst, sport, dport, flags="A", payload=b"", seq=0):
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq) / Raw(payload)


def udp(src, dst, sport, dport, payload=b"x"):
    ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
    return ip / UDP(sport=sport, dport=dport) / Raw(payload)


def eth(pkt, mac):
    return Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / pkt


def packets_of(pkts, *, first=1, t0=0.0, linktype=LINKTYPE_RAW):
    fb = frame_batch([(bytes(p), linktype, t0 + i) for i, p in enumerate(pkts)], first=first)
    parts = decode(fb, FragmentReassembler())
    assert len(parts) == 1
    return parts[0]


def single_flow(table, pkts, **kw):
    fb = table.update(packets_of(pkts, **kw), [])
    assert len(fb.flows) == 1
    return fb.flows[0], fb


@pytest.mark.parametrize("first_pkt,initiator,init_port,responder,resp_port", [
    # (a bare SYN names its sender, whatever the ports: test_a_lone_syn_is_an_attempt_until_answered)
    # a SYN-ACK names its receiver, even against the port rules (A is on port 80)
    (tcp(B, A, 50000, 80, "SA"), A, 80, B, 50000),
    # mid-stream: the registered service port is the responder's ...
    (tcp(B, A, 502, 40000, "PA", b"resp"), A, 40000, B, 502),
    (tcp(A, B, 40000, 502, "PA", b"req"), A, 40000, B, 502),
    # ... even against a port below 1024
    (tcp(B, A, 502, 80, "A"), A, 80, B, 502),
    # else a port below 1024 ...
    (tcp(B, A, 80, 50000, "A"), A, 50000, B, 80),
    (tcp(A, B, 50000, 443, "A"), A, 50000, B, 443),
    # ... else the lower port
    (tcp(B, A, 3000, 5000, "A"), A, 5000, B, 3000),
    (tcp(A, B, 5000, 3000, "A"), A, 5000, B, 3000),
    # failing all that, the first sender
    (tcp(B, A, 502, 502, "A"), B, 502, A, 502),
    (tcp(A, B, 7000, 7000, "A"), A, 7000, B, 7000),
    (tcp(B, A, 100, 200, "A"), A, 200, B, 100),
], ids=["syn-ack", "mid-resp", "mid-req", "service-beats-low", "low-resp", "low-req", "lower-resp",
        "lower-req", "both-service", "same-port", "both-low"])
def test_initiator_rules(first_pkt, initiator, init_port, responder, resp_port):
    table = FlowTable(SERVICE)
    flow, fb = single_flow(table, [first_pkt])
    assert (flow.transport, flow.initiator, flow.init_port, flow.responder, flow.resp_port) == (
        "tcp", initiator, init_port, responder, resp_port)
    src_is_initiator = first_pkt[IP].src == initiator and first_pkt[TCP].sport == init_port
    assert fb.direction.tolist() == [0 if src_is_initiator else 1]
    assert fb.new_flows == [flow]


@pytest.mark.parametrize("first_pkt,initiator,init_port,resp_port", [
    (udp(B, A, 53, 50000), A, 50000, 53),
    (udp(A, B, 50000, 53), A, 50000, 53),
    (udp(B, A, 47808, 47808), B, 47808, 47808),
    (udp(A, B, 40000, 30000), A, 40000, 30000),
])
def test_udp_is_oriented_by_ports(first_pkt, initiator, init_port, resp_port):
    flow, _ = single_flow(FlowTable(SERVICE), [first_pkt, first_pkt])  # a one-way stream: no attempt
    assert (flow.transport, flow.initiator, flow.init_port, flow.resp_port) == ("udp", initiator, init_port, resp_port)
    assert sorted(flow.packets) == [0, 2]
    assert flow.streams is None
    assert flow.state == "-"


def test_icmp_first_sender_initiates():
    flow, fb = single_flow(FlowTable(SERVICE), [IP(src=B, dst=A) / ICMP(), IP(src=A, dst=B) / ICMP(type=0)])
    assert (flow.transport, flow.initiator, flow.responder) == ("icmp", B, A)
    assert fb.direction.tolist() == [0, 1]


def test_both_directions_of_a_connection_are_one_flow_with_counters():
    pkts = [
        tcp(A, B, 40000, 502, "S", seq=100),
        tcp(B, A, 502, 40000, "SA", seq=900),
        tcp(A, B, 40000, 502, "A", seq=101),
        tcp(A, B, 40000, 502, "PA", b"request!", seq=101),
        tcp(B, A, 502, 40000, "PA", b"response", seq=901),
        tcp(A, B, 40000, 502, "FA", seq=109),
        tcp(B, A, 502, 40000, "FA", seq=909),
    ]
    sizes = [len(bytes(p)) for p in pkts]
    table = FlowTable(SERVICE)
    flow, fb = single_flow(table, pkts, first=11, t0=50.0)
    direction = [0 if p[IP].src == A else 1 for p in pkts]
    assert fb.direction.tolist() == direction
    assert fb.row_flow.tolist() == [0] * len(pkts)
    assert flow.packets == [direction.count(0), direction.count(1)]
    assert flow.bytes == [sum(s for s, d in zip(sizes, direction) if d == k) for k in (0, 1)]
    assert fb.counts.tolist() == [flow.packets]
    assert fb.octets.tolist() == [flow.bytes]
    assert flow.flags == [TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN] * 2
    assert (flow.first_ts, flow.last_ts, flow.first_frame) == (50.0, 56.0, 11)
    assert flow.state == "closed"
    assert len(table) == 1 and table.total == 1


def test_a_flow_continues_across_batches():
    table = FlowTable(SERVICE)
    flow, _fb1 = single_flow(table, [tcp(A, B, 40000, 502, "S"), tcp(B, A, 502, 40000, "SA")], first=1, t0=1.0)
    assert flow.state == "established"
    fb2 = table.update(packets_of([tcp(B, A, 502, 40000, "PA", b"r"), tcp(A, B, 40000, 502, "A")], first=3,
                                  t0=10.0), [])
    assert fb2.flows == [flow]
    assert fb2.new_flows == []
    assert fb2.direction.tolist() == [1, 0]
    assert fb2.counts.tolist() == [[1, 1]]
    assert flow.packets == [2, 2]
    assert (flow.first_ts, flow.last_ts, flow.first_frame) == (1.0, 11.0, 1)
    assert table.total == 1


def test_states():
    assert single_flow(FlowTable(SERVICE), [tcp(A, B, 1, 502, "S"), tcp(A, B, 1, 502, "A")])[0].state == "syn_sent"
    assert single_flow(FlowTable(SERVICE), [tcp(A, B, 1, 502, "PA")])[0].state == "midstream"
    assert single_flow(FlowTable(SERVICE), [tcp(A, B, 1, 502, "S"), tcp(B, A, 502, 1, "R")])[0].state == "reset"


def test_ipv6_flows_and_ipv4_flows_stay_apart():
    table = FlowTable(SERVICE)
    pkts = [tcp(A6, B6, 40000, 502, "S"), tcp(A, B, 40000, 502, "S"), tcp(B6, A6, 502, 40000, "SA"),
            tcp(B, A, 502, 40000, "SA")]
    fb = table.update(packets_of(pkts), [])
    assert len(fb.flows) == 2
    v6 = fb.flows[int(fb.row_flow[0])]
    v4 = fb.flows[int(fb.row_flow[1])]
    assert fb.row_flow[0] == fb.row_flow[2] and fb.row_flow[1] == fb.row_flow[3]
    assert (v6.initiator, v6.responder) == (str(ipaddress.ip_address(A6)), str(ipaddress.ip_address(B6)))
    assert (v4.initiator, v4.responder) == (A, B)
    assert fb.direction.tolist() == [0, 0, 1, 1]


def test_protocol_and_ports_are_part_of_the_key():
    table = FlowTable(SERVICE)
    pkts = [tcp(A, B, 40000, 502), udp(A, B, 40000, 502), tcp(A, B, 40001, 502), tcp(A, B, 40000, 503),
            tcp(B, A, 502, 40000), udp(B, A, 502, 40000)]
    fb = table.update(packets_of(pkts), [])
    assert len(fb.flows) == 4
    assert fb.row_flow[0] == fb.row_flow[4]
    assert fb.row_flow[1] == fb.row_flow[5]
    assert len(set(fb.row_flow[:4].tolist())) == 4


def test_macs_per_side_and_non_ip_rows_left_out():
    table = FlowTable(SERVICE)
    pkts = [eth(ARP(psrc=A, hwsrc=MAC_A), MAC_A), eth(tcp(A, B, 40000, 502, "S"), MAC_A),
            eth(tcp(B, A, 502, 40000, "SA"), MAC_B)]
    packets = packets_of(pkts, linktype=LINKTYPE_ETHERNET, first=1)
    fb = table.update(packets, [])
    assert len(fb.packets) == 2
    assert fb.packets.frame.tolist() == [2, 3]
    flow = fb.flows[0]
    assert flow.macs == [int(MAC_A.replace(":", ""), 16), int(MAC_B.replace(":", ""), 16)]


def test_many_flows_group_exactly_by_the_unordered_five_tuple():
    """Random traffic between a few hosts: rows share a flow exactly when their 5-tuples match either way,
    each direction counts what its sender sent, and direction 0 is always the initiator's side."""
    rng = random.Random(1234)
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1", "2001:db8::2"]
    pkts = []
    for _ in range(600):
        v6 = rng.random() < 0.4
        pool = hosts[3:] if v6 else hosts[:3]
        src, dst = rng.sample(pool, 2) if rng.random() < 0.9 else (pool[0], pool[0])
        sport, dport = rng.choice([502, 80, 40000, 40001, 3000]), rng.choice([502, 80, 40000, 40001, 3000])
        # no bare SYN and UDP on a service port: conversations only (attempts: test_attempts_*)
        make = tcp if rng.random() < 0.7 else udp
        pkts.append(udp(src, dst, sport, 502) if make is udp else tcp(src, dst, sport, dport, rng.choice("APF")))
    table = FlowTable(SERVICE)
    half = len(pkts) // 2
    seen: dict[tuple, object] = {}
    totals: dict[int, list[int]] = {}
    for part, first in ((pkts[:half], 1), (pkts[half:], half + 1)):
        fb = table.update(packets_of(part, first=first), [])
        for row, p in enumerate(part):
            ip = p[IPv6] if p.haslayer(IPv6) else p[IP]
            l4 = p[TCP] if p.haslayer(TCP) else p[UDP]
            src, dst = str(ipaddress.ip_address(ip.src)), str(ipaddress.ip_address(ip.dst))
            key = (l4.name, frozenset([(src, l4.sport), (dst, l4.dport)]))
            flow = fb.flows[int(fb.row_flow[row])]
            assert seen.setdefault(key, flow) is flow
            from_initiator = (src, l4.sport) == (flow.initiator, flow.init_port)
            from_responder = (src, l4.sport) == (flow.responder, flow.resp_port)
            assert from_initiator or from_responder
            d = int(fb.direction[row])
            if from_initiator and from_responder:  # talking to itself on one port: side 0 by definition
                assert d == 0
            else:
                assert d == (0 if from_initiator else 1)
            totals.setdefault(flow.id, [0, 0])[d] += 1
    assert table.total == len(seen) == len(table)
    assert {f.id: f.packets for f in table.flows()} == totals


def test_address_text_round_trip():
    fb = FlowTable(SERVICE).update(packets_of([tcp(A6, "::ffff:1.2.3.4", 1, 2), tcp("0.0.0.0", "255.255.255.255", 1, 2)]),
                                   [])
    p = fb.packets
    texts = [address_text(int(p.src_hi[i]), int(p.src_lo[i])) for i in range(2)] + [
        address_text(int(p.dst_hi[i]), int(p.dst_lo[i])) for i in range(2)]
    assert texts == [str(ipaddress.ip_address(A6)), "0.0.0.0", "1.2.3.4", "255.255.255.255"]


def test_counts_use_wire_length():
    pkt = bytes(tcp(A, B, 40000, 502, "PA", b"x" * 30))
    fb = frame_batch([(pkt, LINKTYPE_RAW, 0.0, 1500), (pkt[:40], LINKTYPE_RAW, 1.0, len(pkt))])
    flows = FlowTable(SERVICE).update(decode(fb, FragmentReassembler())[0], [])
    assert flows.flows[0].bytes == [1500 + len(pkt), 0]
    assert np.array_equal(flows.octets, np.array([[1500 + len(pkt), 0]]))


def test_the_table_is_bounded_and_evicts_the_least_recently_active():
    """One flow more than MAX_FLOWS (UDP on a service port, one packet each, one second apart): the table goes
    down to 7/8 of its limit, the oldest first, with one flow_table_full weird at the last frame of the batch."""
    from sensor.decode.packets import IPV4_MAPPED_LO_PREFIX, PROTO_UDP, Packets
    from sensor.flows.table import EVICT_FRACTION, MAX_FLOWS

    n = MAX_FLOWS + 1
    i = np.arange(n, dtype=np.int64)
    zero = np.zeros(n, dtype=np.int64)
    packets = Packets(
        data=np.zeros(1, np.uint8), file="big.pcap", frame=i + 1, ts=i.astype(float), wirelen=zero + 60,
        mac_src=np.zeros(n, np.uint64), ethertype=zero + 0x0800, l3_off=zero + 14,
        l2_broadcast=np.zeros(n, bool), ip_version=zero + 4, proto=zero + PROTO_UDP,
        src_hi=np.zeros(n, np.uint64),
        src_lo=(np.uint64(0x0A000000) + (i // 60000).astype(np.uint64)) | IPV4_MAPPED_LO_PREFIX,
        dst_hi=np.zeros(n, np.uint64), dst_lo=np.full(n, 0x0B000001, np.uint64) | IPV4_MAPPED_LO_PREFIX,
        sport=1024 + i % 60000, dport=zero + 53, tcp_flags=zero, seq=zero, ack=zero, window=zero, wscale=zero - 1,
        payload_off=zero, payload_len=zero)
    table = FlowTable(frozenset({53}))
    weirds = []
    fb = table.update(packets, weirds)
    evicted = n - int(MAX_FLOWS * (1 - EVICT_FRACTION))
    assert len(fb.flows) == n
    assert len(table) == n - evicted
    assert table.total == n
    assert min(f.last_ts for f in table.flows()) == float(evicted)
    assert [(w.code, w.frame, w.file) for w in weirds] == [("flow_table_full", n, "big.pcap")]
