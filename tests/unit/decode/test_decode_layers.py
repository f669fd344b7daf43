"""Batched L2–L4 decode: every column checked against the fields the frame was built with.

Frames are crafted with scapy (link headers scapy lacks or gets wrong, SLL/SLL2 and BSD loopback,
are packed by hand from their layouts), several link types share one batch as in a pcapng with
many interfaces, and frame numbers do not start at 1 so a row can only get the right number from
the batch.
"""
from __future__ import annotations

import ipaddress
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from sensor.capture import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import decode
from sensor.decode.packets import (
    PROTO_ICMP,
    PROTO_ICMPV6,
    PROTO_NONE,
    PROTO_TCP,
    PROTO_UDP,
    Packets,
    address_text,
    mac_text,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import frame_batch

MAC_A, MAC_B = "02:00:5e:10:20:30", "00:80:f4:01:02:03"
V4_A, V4_B = "192.168.10.5", "10.1.2.254"
V6_A, V6_B = "2001:db8::5", "fe80::1:2:3:4"
TCP_OPTIONS = [("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (123456, 654321))]


def mac_int(text: str) -> int:
    return int(text.replace(":", ""), 16)


def sll(mac: str, proto: int, *, addr_len: int = 6) -> bytes:
    """Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol."""
    return struct.pack(">HHH8sH", 0, 1, addr_len, bytes.fromhex(mac.replace(":", "")) + b"\0\0", proto)


def sll2(mac: str, proto: int, *, addr_len: int = 6) -> bytes:
    """Linux cooked v2: protocol, reserved, ifindex, ARPHRD type, packet type, address length, address."""
    return struct.pack(">HHIHBB8s", proto, 0, 3, 1, 4, addr_len, bytes.fromhex(mac.replace(":", "")) + b"\0\0")


@dataclass
class Expect:
    """What one frame must decode to."""

    frame: bytes
    linktype: int
    mac: str | None
    version: int
    proto: int
    src: str
    dst: str
    sport: int = 0
    dport: int = 0
    flags: int = 0
    seq: int = 0
    header_len: int = 0  # bytes before the L4 payload (0 when no ports)
    payload: bytes = b""


def tcp_ip(src: str, dst: str, *, sport: int, dport: int, seq: int, flags: str, payload: bytes,
           options=TCP_OPTIONS, v6: bool = False):
    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    return ip / TCP(sport=sport, dport=dport, seq=seq, flags=flags, options=options) / Raw(payload)


def tcp_expect(link: bytes, linktype: int, mac: str | None, pkt, *, pad: int = 0) -> Expect:
    raw = bytes(pkt)
    payload = bytes(pkt[Raw].load)
    tcp = TCP(bytes(pkt[TCP]))
    v6 = pkt.haslayer(IPv6)
    return Expect(
        frame=link + raw + b"\0" * pad, linktype=linktype, mac=mac, version=6 if v6 else 4, proto=PROTO_TCP,
        src=pkt[IPv6].src if v6 else pkt[IP].src, dst=pkt[IPv6].dst if v6 else pkt[IP].dst,
        sport=tcp.sport, dport=tcp.dport, flags=int(tcp.flags), seq=tcp.seq,
        header_len=len(link) + len(raw) - len(payload), payload=payload,
    )


def check_rows(packets: Packets, fb, expects: list[Expect], rows: list[int] | None = None) -> None:
    """Rows ``rows`` (default: all, in order) of ``packets`` hold what ``expects`` says."""
    if rows is None:
        assert len(packets) == len(expects)
        rows = list(range(len(expects)))
    for i, e in zip(rows, expects):
        where = f"row {i} (linktype {e.linktype})"
        assert packets.frame[i] == fb.frame[i], where
        assert packets.ts[i] == fb.ts[i], where
        assert packets.wirelen[i] == fb.wirelen[i], where
        assert mac_text(int(packets.mac_src[i])) == e.mac, where
        assert packets.ip_version[i] == e.version, where
        assert packets.proto[i] == e.proto, where
        src = address_text(int(packets.src_hi[i]), int(packets.src_lo[i]))
        dst = address_text(int(packets.dst_hi[i]), int(packets.dst_lo[i]))
        assert ipaddress.ip_address(src) == ipaddress.ip_address(e.src), where
        assert ipaddress.ip_address(dst) == ipaddress.ip_address(e.dst), where
        assert (packets.sport[i], packets.dport[i]) == (e.sport, e.dport), where
        assert packets.tcp_flags[i] == e.flags, where
        assert packets.seq[i] == e.seq, where
        assert packets.payload_len[i] == len(e.payload), where
        if e.header_len:
            assert packets.payload_off[i] == fb.offset[i] + e.header_len, where
            start = int(packets.payload_off[i])
            assert packets.data[start:start + int(packets.payload_len[i])].tobytes() == e.payload, where


def decode_one(frames: list[tuple], **kw) -> tuple[Packets, object]:
    fb = frame_batch(frames, **kw)
    parts = decode(fb, FragmentReassembler())
    assert len(parts) == 1
    return parts[0], fb


def all_link_types() -> list[Expect]:
    """One TCP or UDP packet behind every link layer the decoder claims, IPv4 and IPv6."""
    out: list[Expect] = []
    v4 = lambda seq, payload: tcp_ip(V4_A, V4_B, sport=40001, dport=502, seq=seq, flags="PA", payload=payload)
    v6 = lambda seq, payload: tcp_ip(V6_A, V6_B, sport=502, dport=40002, seq=seq, flags="A", payload=payload,
                                     v6=True)
    eth = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800))
    out.append(tcp_expect(eth, LINKTYPE_ETHERNET, MAC_A, v4(1, b"ethernet")))
    # 2 payload bytes: the frame is padded to the 60-byte minimum, and the padding is no payload
    short = v4(0xFFFFFFF0, b"\x01\x02")
    out.append(tcp_expect(eth, LINKTYPE_ETHERNET, MAC_A, short, pad=60 - 14 - len(bytes(short))))
    dot1q = bytes(Ether(src=MAC_B, dst=MAC_A) / Dot1Q(vlan=10, type=0x86DD))
    out.append(tcp_expect(dot1q, LINKTYPE_ETHERNET, MAC_B, v6(2, b"vlan v6")))
    qinq = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x88A8) / Dot1AD(vlan=100, type=0x8100) / Dot1Q(vlan=20, type=0x0800))
    out.append(tcp_expect(qinq, LINKTYPE_ETHERNET, MAC_A, v4(3, b"qinq")))
    old_qinq = bytes(Ether(src=MAC_B, dst=MAC_A, type=0x9100) / Dot1Q(vlan=7, type=0x8100) / Dot1Q(vlan=8, type=0x0800))
    out.append(tcp_expect(old_qinq, LINKTYPE_ETHERNET, MAC_B, v4(4, b"9100")))
    out.append(tcp_expect(sll(MAC_A, 0x0800), LINKTYPE_LINUX_SLL, MAC_A, v4(5, b"sll")))
    out.append(tcp_expect(sll(MAC_B, 0x86DD), LINKTYPE_LINUX_SLL, MAC_B, v6(6, b"sll v6")))
    out.append(tcp_expect(sll(MAC_A, 0x0800, addr_len=0), LINKTYPE_LINUX_SLL, None, v4(7, b"sll no mac")))
    out.append(tcp_expect(sll2(MAC_B, 0x0800), LINKTYPE_LINUX_SLL2, MAC_B, v4(8, b"sll2")))
    out.append(tcp_expect(sll2(MAC_A, 0x86DD), LINKTYPE_LINUX_SLL2, MAC_A, v6(9, b"sll2 v6")))
    out.append(tcp_expect(b"", LINKTYPE_RAW, None, v4(10, b"raw v4")))
    out.append(tcp_expect(b"", LINKTYPE_RAW, None, v6(11, b"raw v6")))
    out.append(tcp_expect(b"", LINKTYPE_IPV4, None, v4(12, b"linktype 228")))
    out.append(tcp_expect(b"", LINKTYPE_IPV6, None, v6(13, b"linktype 229")))
    out.append(tcp_expect(struct.pack("<I", 2), LINKTYPE_NULL, None, v4(14, b"null little")))
    out.append(tcp_expect(struct.pack(">I", 2), LINKTYPE_NULL, None, v4(15, b"null big")))
    for n, af in enumerate((24, 28, 30)):
        out.append(tcp_expect(struct.pack("<I", af), LINKTYPE_NULL, None, v6(16 + n, b"null v6 %d" % af)))
    out.append(tcp_expect(struct.pack(">I", 30), LINKTYPE_NULL, None, v6(19, b"null v6 big")))
    out.append(tcp_expect(struct.pack(">I", 2), LINKTYPE_LOOP, None, v4(20, b"loop")))
    out.append(tcp_expect(struct.pack(">I", 24), LINKTYPE_LOOP, None, v6(21, b"loop v6")))
    udp = IP(src=V4_B, dst=V4_A) / UDP(sport=47808, dport=47809) / Raw(b"udp payload")
    out.append(Expect(eth + bytes(udp), LINKTYPE_ETHERNET, MAC_A, 4, PROTO_UDP, V4_B, V4_A, 47808, 47809,
                      header_len=14 + 28, payload=b"udp payload"))
    udp_short = IP(src=V4_B, dst=V4_A) / UDP(sport=53, dport=5353) / Raw(b"xy")
    out.append(Expect(eth + bytes(udp_short) + b"\0" * (46 - len(bytes(udp_short))), LINKTYPE_ETHERNET, MAC_A, 4,
                      PROTO_UDP, V4_B, V4_A, 53, 5353, header_len=14 + 28, payload=b"xy"))
    udp6 = IPv6(src=V6_B, dst=V6_A) / UDP(sport=123, dport=124) / Raw(b"ntp?")
    out.append(Expect(bytes(udp6), LINKTYPE_IPV6, None, 6, PROTO_UDP, V6_B, V6_A, 123, 124, header_len=48,
                      payload=b"ntp?"))
    icmp = IP(src=V4_A, dst=V4_B) / ICMP(type=8) / Raw(b"ping")
    out.append(Expect(eth + bytes(icmp), LINKTYPE_ETHERNET, MAC_A, 4, PROTO_ICMP, V4_A, V4_B))
    icmp6 = IPv6(src=V6_A, dst=V6_B) / ICMPv6EchoRequest(data=b"ping6")
    out.append(Expect(bytes(icmp6), LINKTYPE_RAW, None, 6, PROTO_ICMPV6, V6_A, V6_B))
    return out


def test_every_link_type_in_one_batch_decodes_every_column():
    expects = all_link_types()
    frames = [(e.frame, e.linktype, 1_700_000_000 + i / 8, len(e.frame) + (i % 2)) for i, e in enumerate(expects)]
    packets, fb = decode_one(frames, first=41)
    assert packets.weirds == []
    check_rows(packets, fb, expects)
    assert packets.non_ip == 0


@pytest.mark.parametrize("index", range(len(all_link_types())))
def test_each_link_type_alone(index):
    e = all_link_types()[index]
    packets, fb = decode_one([(e.frame, e.linktype, 5.0)], first=9)
    assert packets.weirds == []
    check_rows(packets, fb, [e])


def test_tcp_options_move_the_payload():
    bare = tcp_ip(V4_A, V4_B, sport=1, dport=2, seq=5, flags="S", payload=b"data", options=[])
    rich = tcp_ip(V4_A, V4_B, sport=1, dport=2, seq=5, flags="S", payload=b"data")
    assert TCP(bytes(rich[TCP])).dataofs * 4 > 20
    expects = [tcp_expect(b"", LINKTYPE_RAW, None, bare), tcp_expect(b"", LINKTYPE_RAW, None, rich)]
    packets, fb = decode_one([(e.frame, e.linktype, 0.0) for e in expects])
    check_rows(packets, fb, expects)
    assert packets.payload_off[1] - fb.offset[1] - (packets.payload_off[0] - fb.offset[0]) == len(
        bytes(rich)) - len(bytes(bare))


@pytest.mark.parametrize("flags", ["S", "SA", "A", "PA", "FA", "R", "RA", "FSRPAUEC"])
def test_tcp_flags_byte(flags):
    pkt = tcp_ip(V4_A, V4_B, sport=3, dport=4, seq=0x80000001, flags=flags, payload=b"z")
    e = tcp_expect(b"", LINKTYPE_IPV4, None, pkt)
    packets, fb = decode_one([(e.frame, e.linktype, 0.0)])
    check_rows(packets, fb, [e])
    assert packets.tcp_flags[0] == int(TCP(flags=flags).flags)


def test_ipv6_extension_headers_are_skipped():
    payload = b"behind two extension headers"
    for exts in (IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt(),
                 IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() / IPv6ExtHdrDestOpt()):
        pkt = IPv6(src=V6_A, dst=V6_B) / exts / TCP(sport=5000, dport=502, seq=77, flags="PA",
                                                     options=TCP_OPTIONS) / Raw(payload)
        raw = bytes(pkt)
        assert len(raw) - 40 - len(bytes(pkt[TCP])) >= 16  # the extension headers really are there
        eth = bytes(Ether(src=MAC_B, dst=MAC_A, type=0x86DD))
        e = Expect(eth + raw, LINKTYPE_ETHERNET, MAC_B, 6, PROTO_TCP, V6_A, V6_B, 5000, 502,
                   int(TCP(flags="PA").flags), 77, header_len=len(eth) + len(raw) - len(payload), payload=payload)
        packets, fb = decode_one([(e.frame, e.linktype, 1.0)])
        assert packets.weirds == []
        check_rows(packets, fb, [e])


def test_ipv6_udp_behind_destination_options():
    pkt = IPv6(src=V6_B, dst=V6_A) / IPv6ExtHdrDestOpt() / UDP(sport=47808, dport=47808) / Raw(b"bacnet")
    raw = bytes(pkt)
    e = Expect(raw, LINKTYPE_IPV6, None, 6, PROTO_UDP, V6_B, V6_A, 47808, 47808, header_len=len(raw) - 6,
               payload=b"bacnet")
    packets, fb = decode_one([(e.frame, e.linktype, 1.0)])
    check_rows(packets, fb, [e])


def test_ipv6_fragment_header_is_a_weird_not_a_payload():
    pkt = IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrFragment(m=1, id=5) / UDP(sport=1, dport=2) / Raw(b"x" * 16)
    packets, _fb = decode_one([(bytes(pkt), LINKTYPE_IPV6, 2.0)], first=7)
    assert [(w.code, w.frame) for w in packets.weirds] == [("ipv6_fragment_not_reassembled", 7)]
    assert packets.proto[0] == PROTO_NONE
    assert packets.ip_version[0] == 6
    assert packets.payload_len[0] == 0


def test_dont_fragment_is_not_a_fragment():
    pkt = IP(src=V4_A, dst=V4_B, flags="DF") / TCP(sport=1, dport=502, flags="PA") / Raw(b"df")
    e = tcp_expect(b"", LINKTYPE_RAW, None, pkt)
    packets, fb = decode_one([(e.frame, e.linktype, 0.0)])
    check_rows(packets, fb, [e])


def test_ip_options_move_the_transport_header():
    pkt = IP(src=V4_A, dst=V4_B, options=b"\x94\x04\x00\x00") / TCP(sport=9, dport=502, seq=3, flags="PA") / Raw(b"opt")
    assert IP(bytes(pkt)).ihl == 6
    e = tcp_expect(b"", LINKTYPE_RAW, None, pkt)
    packets, fb = decode_one([(e.frame, e.linktype, 0.0)])
    check_rows(packets, fb, [e])


def test_arp_sender_fields_and_non_ip_count():
    request = Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MAC_A, psrc=V4_A, pdst=V4_B)
    reply = Ether(src=MAC_B, dst=MAC_A) / ARP(op=2, hwsrc=MAC_B, psrc=V4_B, hwdst=MAC_A, pdst=V4_A)
    tcp = tcp_expect(bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800)), LINKTYPE_ETHERNET, MAC_A,
                     tcp_ip(V4_A, V4_B, sport=1, dport=2, seq=3, flags="A", payload=b"ip"))
    tagged = Ether(src=MAC_B, dst=MAC_A) / Dot1Q(vlan=3) / ARP(op=2, hwsrc=MAC_B, psrc="10.9.9.9")
    packets, _fb = decode_one([(bytes(request), 1, 1.0), (tcp.frame, 1, 2.0), (bytes(reply), 1, 3.0),
                              (bytes(tagged), 1, 4.0)], first=100)
    arp = packets.arp
    assert arp is not None
    assert arp.frame.tolist() == [100, 102, 103]
    assert arp.ts.tolist() == [1.0, 3.0, 4.0]
    assert arp.op.tolist() == [1, 2, 2]
    assert arp.sender_mac.tolist() == [mac_int(MAC_A), mac_int(MAC_B), mac_int(MAC_B)]
    assert arp.sender_ip.tolist() == [int(ipaddress.IPv4Address(a)) for a in (V4_A, V4_B, "10.9.9.9")]
    assert packets.non_ip == 3
    assert packets.ip_version.tolist() == [0, 4, 0, 0]
    assert packets.weirds == []


def test_unknown_link_type_is_not_ip():
    pkt = bytes(IP(src=V4_A, dst=V4_B) / TCP())
    packets, _ = decode_one([(pkt, 147, 0.0)])
    assert packets.ip_version.tolist() == [0]
    assert packets.proto.tolist() == [PROTO_NONE]


def test_empty_batch():
    assert decode(frame_batch([]), FragmentReassembler()) == []


# --- bad lengths ------------------------------------------------------------------------------


def _ip_tcp(payload: bytes = b"0123456789") -> bytes:
    return bytes(IP(src=V4_A, dst=V4_B) / TCP(sport=1000, dport=502, seq=1, flags="PA") / Raw(payload))


def _patch(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value):]


ETH4 = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800))
ETH6 = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86DD))
GOOD = _ip_tcp()


BAD_FRAMES = [  # (name, frame bytes, linktype, wirelen or None, expected weird codes)
    ("ethernet shorter than its header", ETH4[:10], LINKTYPE_ETHERNET, None, ["ethernet_frame_too_short"]),
    ("sll shorter than its header", sll(MAC_A, 0x0800)[:12], LINKTYPE_LINUX_SLL, None, ["sll_frame_too_short"]),
    ("sll2 shorter than its header", sll2(MAC_A, 0x0800)[:19], LINKTYPE_LINUX_SLL2, None, ["sll2_frame_too_short"]),
    ("null shorter than its header", b"\x02\x00\x00", LINKTYPE_NULL, None, ["loopback_frame_too_short"]),
    ("loop shorter than its header", b"\x00\x00", LINKTYPE_LOOP, None, ["loopback_frame_too_short"]),
    ("ipv4 header cut", ETH4 + GOOD[:12], LINKTYPE_ETHERNET, None, ["ipv4_header_truncated"]),
    ("ipv4 ihl 4", _patch(GOOD, 0, b"\x44"), LINKTYPE_RAW, None, ["ipv4_bad_header_length"]),
    ("ipv4 ihl 0", ETH4 + _patch(GOOD, 0, b"\x40"), LINKTYPE_ETHERNET, None, ["ipv4_bad_header_length"]),
    ("ipv4 ihl beyond frame", _patch(GOOD, 0, b"\x4f")[:50], LINKTYPE_IPV4, None, ["ipv4_bad_header_length"]),
    ("ipv4 total < ihl", _patch(GOOD, 2, b"\x00\x10"), LINKTYPE_RAW, None, ["ipv4_bad_header_length"]),
    ("ipv4 total > frame", _patch(GOOD, 2, (len(GOOD) + 100).to_bytes(2, "big")), LINKTYPE_RAW, None,
     ["ipv4_total_length_exceeds_frame"]),
    ("tcp data offset too big", _patch(GOOD, 32, b"\xf0"), LINKTYPE_RAW, None, ["tcp_bad_header_length"]),
    ("tcp data offset below 5", _patch(GOOD, 32, b"\x40"), LINKTYPE_RAW, None, ["tcp_bad_header_length"]),
    ("tcp header cut", _patch(GOOD[:30], 2, (30).to_bytes(2, "big")), LINKTYPE_RAW, None, ["tcp_header_truncated"]),
    ("udp length < 8", _patch(bytes(IP(src=V4_A, dst=V4_B) / UDP(sport=1, dport=2) / Raw(b"abcd")), 24, b"\x00\x07"),
     LINKTYPE_RAW, None, ["udp_bad_length"]),
    ("udp header cut", bytes(IP(src=V4_A, dst=V4_B, proto=17, len=26)) + b"\x00\x01\x00\x02\x00\x08",
     LINKTYPE_RAW, None, ["udp_header_truncated"]),
    ("ipv6 header cut", ETH6 + bytes(IPv6(src=V6_A, dst=V6_B))[:30], LINKTYPE_ETHERNET, None,
     ["ipv6_header_truncated"]),
    ("ipv6 bad version", ETH6 + _patch(bytes(IPv6(src=V6_A, dst=V6_B) / UDP()), 0, b"\x40"), LINKTYPE_ETHERNET,
     None, ["ipv6_bad_version"]),
    ("ipv6 payload length > frame", _patch(bytes(IPv6(src=V6_A, dst=V6_B) / UDP() / Raw(b"q")), 4, b"\x01\x00"),
     LINKTYPE_IPV6, None, ["ipv6_payload_length_exceeds_frame"]),
]


@pytest.mark.parametrize("name,data,linktype,wirelen,codes", BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_lengths_become_weirds_with_their_frame(name, data, linktype, wirelen, codes):
    good = tcp_expect(ETH4, LINKTYPE_ETHERNET, MAC_A, IP(GOOD))
    frames = [(good.frame, 1, 10.0), (data, linktype, 11.0), (good.frame, 1, 12.0)]
    packets, fb = decode_one(frames, first=500)
    assert [(w.code, w.frame, w.ts, w.file) for w in packets.weirds] == [(c, 501, 11.0, "test.pcap") for c in codes]
    # the neighbours are untouched
    check_rows(packets, fb, [good, good], rows=[0, 2])


def test_linktype_ipv6_frames_are_ipv6_even_with_a_bad_version():
    """LINKTYPE_IPV6 (229) says the frame *is* IPv6 (tcpdump linktypes); tshark reports "Bogus IPv6 version"
    rather than reading the bytes as IPv4. Version-sniffing is only right for the ambiguous raw types."""
    frame = _patch(bytes(IPv6(src=V6_A, dst=V6_B) / UDP() / Raw(b"q")), 0, b"\x40")
    packets, _ = decode_one([(frame, LINKTYPE_IPV6, 0.0)], first=3)
    assert [(w.code, w.frame) for w in packets.weirds] == [("ipv6_bad_version", 3)]
    assert packets.ip_version.tolist() == [0]


def test_bad_tcp_header_is_no_tcp_row():
    packets, _ = decode_one([(_patch(GOOD, 32, b"\xf0"), LINKTYPE_RAW, 0.0)])
    assert packets.proto.tolist() == [PROTO_NONE]
    assert packets.payload_len.tolist() == [0]


def test_total_length_beyond_a_snapped_frame_is_no_weird():
    """A frame cut by the snaplen is short by design: what was captured is decoded, quietly."""
    cut = GOOD[:-4]
    packets, _fb = decode_one([(cut, LINKTYPE_RAW, 0.0, len(GOOD))])
    assert packets.weirds == []
    assert packets.proto.tolist() == [PROTO_TCP]
    assert packets.payload_len.tolist() == [len(b"0123456789") - 4]


def test_total_length_beyond_frame_decodes_what_is_there():
    frame = _patch(GOOD, 2, (len(GOOD) + 100).to_bytes(2, "big"))
    packets, fb = decode_one([(frame, LINKTYPE_RAW, 0.0)])
    assert packets.proto.tolist() == [PROTO_TCP]
    assert packets.payload_len.tolist() == [10]
    assert packets.payload_off[0] + packets.payload_len[0] <= fb.offset[0] + fb.caplen[0]


def test_every_bad_frame_in_one_batch():
    frames = [(d, lt, float(i), w if w is not None else len(d)) for i, (_, d, lt, w, _) in enumerate(BAD_FRAMES)]
    packets, fb = decode_one(frames, first=1000)
    got = sorted((w.frame, w.code) for w in packets.weirds)
    want = sorted((1000 + i, c) for i, b in enumerate(BAD_FRAMES) for c in b[4])
    assert got == want
    assert (packets.payload_off + packets.payload_len <= fb.offset + fb.caplen).all()


def test_zero_length_frames_do_not_read_their_neighbours():
    good = tcp_expect(b"", LINKTYPE_RAW, None, IP(GOOD))
    frames = [(b"", LINKTYPE_RAW, 0.0), (good.frame, LINKTYPE_RAW, 1.0), (b"", LINKTYPE_ETHERNET, 2.0),
              (b"", LINKTYPE_NULL, 3.0)]
    packets, _fb = decode_one(frames, first=1)
    assert packets.ip_version.tolist() == [0, 4, 0, 0]
    assert sorted((w.frame, w.code) for w in packets.weirds) == [
        (3, "ethernet_frame_too_short"), (4, "loopback_frame_too_short")]


def test_non_ip_frames_keep_their_ethertype_and_payload_offset():
    """Link-layer protocols (LLDP, PROFINET DCP) are dispatched on these, after any VLAN tags."""
    lldp = bytes(Ether(src=MAC_A, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(b"\x02\x07\x04" + b"\0" * 6))
    dcp = bytes(Ether(src=MAC_A, dst="01:0e:cf:00:00:00") / Dot1Q(vlan=5, type=0x8892) / Raw(b"\xfe\xfe\x05\x00"))
    packets, _ = decode_one([(lldp, LINKTYPE_ETHERNET, 1.0), (dcp, LINKTYPE_ETHERNET, 2.0)])
    assert packets.ethertype.tolist() == [0x88CC, 0x8892]
    assert packets.l3_off.tolist()[0] == 14
    start = int(packets.l3_off[1])
    assert packets.data[start:start + 4].tobytes() == b"\xfe\xfe\x05\x00"
    assert packets.ip_version.tolist() == [0, 0] and packets.non_ip == 2


def test_link_rows_bound_each_payload_and_name_both_macs():
    """``Packets.link`` keeps frames of other ethertypes with their payload bounds; IP, ARP and 802.3 lengths stay out."""
    dcp = bytes(Ether(src=MAC_A, dst="01:0e:cf:00:00:00") / Dot1Q(vlan=5, type=0x8892) / Raw(b"\xfe\xfe\x05\x00"))
    llc = bytes(Ether(src=MAC_A, dst="01:80:c2:00:00:00", type=0x0026) / Raw(b"\x42\x42\x03" + b"\0" * 35))
    arp = bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.2"))
    packets, _ = decode_one([(dcp, LINKTYPE_ETHERNET, 1.0), (llc, LINKTYPE_ETHERNET, 2.0), (arp, LINKTYPE_ETHERNET, 3.0)])
    link = packets.link
    assert link is not None and link.frame.tolist() == [1] and link.ethertype.tolist() == [0x8892]
    assert packets.data[int(link.payload_off[0]):int(link.payload_end[0])].tobytes()[:4] == b"\xfe\xfe\x05\x00"
    assert int(link.payload_end[0]) - int(link.payload_off[0]) == len(dcp) - 18
    assert (int(link.mac_src[0]), int(link.mac_dst[0])) == (int(MAC_A.replace(":", ""), 16), 0x010ECF000000)
