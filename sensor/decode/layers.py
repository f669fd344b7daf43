"""Decode Ethernet/VLAN/SLL/raw/loopback, ARP, IPv4, IPv6, TCP, UDP and ICMP for a whole batch.

Every field is read for all frames at once with numpy gathers; Python only loops over the rare
rows that need it (weirds, IP fragments). A frame whose lengths do not add up is recorded as a
``Weird`` with its frame number and otherwise ignored: decoding never raises on traffic.

Layouts: Ethernet II (IEEE 802.3 clause 3.2.6), 802.1Q/802.1ad tags (4 bytes each), Linux cooked
SLL (16 bytes, protocol at 14) and SLL2 (20 bytes, protocol at 0), BSD loopback (4-byte address
family, host or network order), IPv4 (RFC 791), IPv6 (RFC 8200), TCP (RFC 9293), UDP (RFC 768).
"""
from __future__ import annotations

import numpy as np

from protocols.base import SNAP_BASE
from sensor.capture import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    FrameBatch,
)
from sensor.decode.arrays import one_of, u8, u16, u16le, u32, u48, u64
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.packets import (
    IPV4_MAPPED_LO_PREFIX,
    PROTO_NONE,
    PROTO_TCP,
    PROTO_UDP,
    TCP_SYN,
    ArpRows,
    LinkRows,
    Packets,
    Weird,
)

ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
SNAP_HEADER = 8  # LLC (DSAP, SSAP, control) + SNAP (OUI, PID)
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
RAW_LINKTYPES = (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6, 12, 14)  # 12/14: DLT_RAW on some BSDs
SUPPORTED_LINKTYPES = frozenset({LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL,
                                 LINKTYPE_LOOP, *RAW_LINKTYPES})
BSD_AF_INET6 = (24, 28, 30)  # AF_INET6 differs between NetBSD/OpenBSD, FreeBSD and macOS
IPV6_EXTENSION_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options
IPV6_FRAGMENT = 44
MAX_IPV6_EXTENSIONS = 4
MAX_TCP_OPTIONS = 40  # at most 40 option bytes, so at most 40 options
MAX_WINDOW_SCALE = 14  # RFC 7323 §2.3: a larger shift is used as 14


def _link_layer(fb: FrameBatch, macs: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                            np.ndarray, list[tuple[int, str]]]:
    """Ethertype, offset of the network header, source and destination MAC and link-layer broadcast flag of
    every frame (the destination is 0 where the link layer has none). Without ``macs`` the MACs and the flag
    stay 0: what ``address_pairs`` needs, at half the cost."""
    data, base, end, lt = fb.data, fb.offset, fb.offset + fb.caplen, fb.linktype
    n = len(base)
    ethertype = np.zeros(n, dtype=np.int64)
    l3 = base.copy()
    mac = np.zeros(n, dtype=np.uint64)
    mac_dst = np.zeros(n, dtype=np.uint64)
    broadcast = np.zeros(n, dtype=bool)  # sent to ff:ff:ff:ff:ff:ff (SLL: packet type 1, "to everyone")
    short: list[tuple[int, str]] = []

    eth = lt == LINKTYPE_ETHERNET
    if eth.any():
        ok = eth & (fb.caplen >= 14)
        et = u16(data, base + 12)
        off = base + 14
        for _ in range(2):  # 802.1Q, then QinQ
            tagged = np.flatnonzero(ok & one_of(et, VLAN_TPIDS) & (off + 4 <= end))
            if not len(tagged):
                break
            et[tagged] = u16(data, off[tagged] + 2)
            off[tagged] += 4
        ethertype = np.where(ok, et, ethertype)
        l3 = np.where(ok, off, l3)
        if macs:
            mac = np.where(ok, u48(data, base + 6).astype(np.uint64), mac)
            dst = u48(data, base)
            mac_dst = np.where(ok, dst.astype(np.uint64), mac_dst)
            broadcast |= ok & (dst == 0xFFFFFFFFFFFF)
        short += [(i, "ethernet_frame_too_short") for i in np.nonzero(eth & ~ok)[0]]

    sll = lt == LINKTYPE_LINUX_SLL
    if sll.any():
        ok = sll & (fb.caplen >= 16)
        ethertype = np.where(ok, u16(data, base + 14), ethertype)
        l3 = np.where(ok, base + 16, l3)
        has_mac = ok & (u16(data, base + 4) == 6)
        mac = np.where(has_mac, u48(data, base + 6).astype(np.uint64), mac)
        broadcast |= ok & (u16(data, base) == 1)
        short += [(i, "sll_frame_too_short") for i in np.nonzero(sll & ~ok)[0]]

    sll2 = lt == LINKTYPE_LINUX_SLL2
    if sll2.any():
        ok = sll2 & (fb.caplen >= 20)
        ethertype = np.where(ok, u16(data, base), ethertype)
        l3 = np.where(ok, base + 20, l3)
        has_mac = ok & (u8(data, base + 11) == 6)
        mac = np.where(has_mac, u48(data, base + 12).astype(np.uint64), mac)
        broadcast |= ok & (u8(data, base + 10) == 1)
        short += [(i, "sll2_frame_too_short") for i in np.nonzero(sll2 & ~ok)[0]]

    raw = one_of(lt, RAW_LINKTYPES)
    if raw.any():  # LINKTYPE_IPV4/IPV6 say the version; plain raw IP leaves it to the first nibble
        version = u8(data, base) >> 4
        guessed = np.where(version == 4, ETH_IPV4, np.where(version == 6, ETH_IPV6, 0))
        et = np.where(lt == LINKTYPE_IPV4, ETH_IPV4, np.where(lt == LINKTYPE_IPV6, ETH_IPV6, guessed))
        ethertype = np.where(raw & (fb.caplen >= 1), et, ethertype)

    for linktype, family in ((LINKTYPE_NULL, None), (LINKTYPE_LOOP, "big")):
        loop = lt == linktype
        if not loop.any():
            continue
        ok = loop & (fb.caplen >= 4)
        big = u32(data, base)
        if family is None:  # host byte order of the capturing machine: accept either
            little = u16le(data, base) | (u16le(data, base + 2) << 16)
            af = np.where(little < 256, little, big)
        else:
            af = big
        et = np.where(af == 2, ETH_IPV4, np.where(np.isin(af, BSD_AF_INET6), ETH_IPV6, 0))
        ethertype = np.where(ok, et, ethertype)
        l3 = np.where(ok, base + 4, l3)
        short += [(i, "loopback_frame_too_short") for i in np.nonzero(loop & ~ok)[0]]
    return ethertype, l3, mac, mac_dst, broadcast, short


def address_pairs(fb: FrameBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: is it IP, and its source and destination as (hi, lo) halves, read without decoding the rest
    (what ``sensor.parallel`` shares the frames out by). IPv4 addresses come as their 32-bit value in ``lo``."""
    data, end = fb.data, fb.offset + fb.caplen
    ethertype, l3, *_ = _link_layer(fb, macs=False)
    v4 = (ethertype == ETH_IPV4) & (end - l3 >= 20)
    v6 = (ethertype == ETH_IPV6) & (end - l3 >= 40)
    zero = np.zeros(len(l3), np.uint64)
    both = u64(data, l3 + 12)  # IPv4 source and destination, one gather
    src_lo = np.where(v4, both >> np.uint64(32), zero)
    dst_lo = np.where(v4, both & np.uint64(0xFFFFFFFF), zero)
    src_hi, dst_hi = zero, zero
    if v6.any():
        src_hi, src_lo = np.where(v6, u64(data, l3 + 8), zero), np.where(v6, u64(data, l3 + 16), src_lo)
        dst_hi, dst_lo = np.where(v6, u64(data, l3 + 24), zero), np.where(v6, u64(data, l3 + 32), dst_lo)
    return v4 | v6, src_hi, src_lo, dst_hi, dst_lo


def decode(fb: FrameBatch, fragments: FragmentReassembler) -> list[Packets]:
    """Decode a frame batch; reassembled IPv4 datagrams come back as a second ``Packets``."""
    if len(fb) == 0 or len(fb.data) == 0:
        return []
    data, end = fb.data, fb.offset + fb.caplen
    n = len(fb)
    ethertype, l3, mac, mac_dst, l2_broadcast, short = _link_layer(fb)
    weird_rows: list[tuple[int, str]] = list(short)
    avail = end - l3
    snapped = fb.caplen < fb.wirelen

    ip_version = np.zeros(n, dtype=np.int64)
    proto = np.full(n, PROTO_NONE, dtype=np.int64)
    src_hi = np.zeros(n, dtype=np.uint64)
    src_lo = np.zeros(n, dtype=np.uint64)
    dst_hi = np.zeros(n, dtype=np.uint64)
    dst_lo = np.zeros(n, dtype=np.uint64)
    l4 = np.zeros(n, dtype=np.int64)
    ip_end = np.zeros(n, dtype=np.int64)

    # IPv4 -------------------------------------------------------------------------------
    v4 = (ethertype == ETH_IPV4) & (avail >= 20)
    weird_rows += [(i, "ipv4_header_truncated") for i in np.nonzero((ethertype == ETH_IPV4) & (avail < 20))[0]]
    first = u8(data, l3)
    ihl = (first & 15) * 4
    total = u16(data, l3 + 2)
    bad = v4 & (((first >> 4) != 4) | (ihl < 20) | (total < ihl) | (ihl > avail))
    weird_rows += [(i, "ipv4_bad_header_length") for i in np.nonzero(bad)[0]]
    v4 &= ~bad
    too_long = v4 & (total > avail)
    weird_rows += [(i, "ipv4_total_length_exceeds_frame") for i in np.nonzero(too_long & ~snapped)[0]]
    frag = v4 & ((u16(data, l3 + 6) & 0x3FFF) != 0)
    ip_version[v4] = 4
    proto = np.where(v4 & ~frag, u8(data, l3 + 9), proto)
    src_lo = np.where(v4, u32(data, l3 + 12).astype(np.uint64) | IPV4_MAPPED_LO_PREFIX, src_lo)
    dst_lo = np.where(v4, u32(data, l3 + 16).astype(np.uint64) | IPV4_MAPPED_LO_PREFIX, dst_lo)
    l4 = np.where(v4, l3 + ihl, l4)
    ip_end = np.where(v4, l3 + np.minimum(total, avail), ip_end)

    # IPv6 -------------------------------------------------------------------------------
    v6 = (ethertype == ETH_IPV6) & (avail >= 40)
    weird_rows += [(i, "ipv6_header_truncated") for i in np.nonzero((ethertype == ETH_IPV6) & (avail < 40))[0]]
    bad6 = v6 & ((u8(data, l3) >> 4) != 6)
    weird_rows += [(i, "ipv6_bad_version") for i in np.nonzero(bad6)[0]]
    v6 &= ~bad6
    if v6.any():
        plen = u16(data, l3 + 4)
        ip_version[v6] = 6
        src_hi = np.where(v6, u64(data, l3 + 8), src_hi)
        src_lo = np.where(v6, u64(data, l3 + 16), src_lo)
        dst_hi = np.where(v6, u64(data, l3 + 24), dst_hi)
        dst_lo = np.where(v6, u64(data, l3 + 32), dst_lo)
        v6_end = l3 + 40 + np.where(plen == 0, avail - 40, np.minimum(plen, avail - 40))
        weird_rows += [(i, "ipv6_payload_length_exceeds_frame") for i in np.nonzero(v6 & (plen > avail - 40) & ~snapped)[0]]
        ip_end = np.where(v6, v6_end, ip_end)
        next_header = u8(data, l3 + 6)
        at = l3 + 40
        for _ in range(MAX_IPV6_EXTENSIONS):
            ext = v6 & np.isin(next_header, IPV6_EXTENSION_HEADERS) & (at + 8 <= v6_end)
            if not ext.any():
                break
            next_header = np.where(ext, u8(data, at), next_header)
            at = np.where(ext, at + (u8(data, at + 1) + 1) * 8, at)
        fragmented6 = v6 & (next_header == IPV6_FRAGMENT)
        weird_rows += [(i, "ipv6_fragment_not_reassembled") for i in np.nonzero(fragmented6)[0]]
        proto = np.where(v6 & ~fragmented6, next_header, proto)
        l4 = np.where(v6, at, l4)

    # TCP / UDP --------------------------------------------------------------------------
    l4_room = ip_end - l4
    tcp = proto == PROTO_TCP
    tcp_short = tcp & (l4_room < 20)
    thl = (u8(data, l4 + 12) >> 4) * 4
    tcp_bad = tcp & ~tcp_short & ((thl < 20) | (thl > l4_room))
    weird_rows += [(i, "tcp_header_truncated") for i in np.nonzero(tcp_short)[0]]
    weird_rows += [(i, "tcp_bad_header_length") for i in np.nonzero(tcp_bad)[0]]
    tcp &= ~(tcp_short | tcp_bad)

    udp = proto == PROTO_UDP
    udp_short = udp & (l4_room < 8)
    ulen = np.zeros(n, dtype=np.int64)  # read for UDP rows only: only they use it
    ulen[udp] = u16(data, l4[udp] + 4)
    udp_bad = udp & ~udp_short & (ulen < 8)
    weird_rows += [(i, "udp_header_truncated") for i in np.nonzero(udp_short)[0]]
    weird_rows += [(i, "udp_bad_length") for i in np.nonzero(udp_bad)[0]]
    udp &= ~(udp_short | udp_bad)
    proto = np.where(tcp_short | tcp_bad | udp_short | udp_bad, PROTO_NONE, proto)

    ports = tcp | udp
    sport = np.where(ports, u16(data, l4), 0)
    dport = np.where(ports, u16(data, l4 + 2), 0)
    tcp_flags = np.where(tcp, u8(data, l4 + 13), 0)
    seq = np.where(tcp, u32(data, l4 + 4), 0)
    ack = np.where(tcp, u32(data, l4 + 8), 0)
    window = np.where(tcp, u16(data, l4 + 14), 0)
    wscale = _window_scale(data, l4, thl, tcp & ((tcp_flags & TCP_SYN) != 0))
    payload_off = np.where(tcp, l4 + thl, np.where(udp, l4 + 8, 0))
    payload_len = np.where(tcp, ip_end - l4 - thl, np.where(udp, np.minimum(ulen - 8, l4_room - 8), 0))

    arp = _arp(fb, ethertype, l3, avail)
    packets = Packets(
        data=data, file=fb.file, frame=fb.frame, ts=fb.ts, wirelen=fb.wirelen, mac_src=mac, ethertype=ethertype,
        l3_off=l3, l2_broadcast=l2_broadcast,
        ip_version=ip_version, proto=proto, src_hi=src_hi, src_lo=src_lo, dst_hi=dst_hi, dst_lo=dst_lo,
        sport=sport, dport=dport, tcp_flags=tcp_flags, seq=seq, ack=ack, window=window,
        wscale=wscale, payload_off=payload_off,
        payload_len=payload_len, arp=arp, link=_link_rows(fb, ethertype, l3, mac, mac_dst),
        non_ip=int(np.count_nonzero(ip_version == 0)),
    )
    packets.weirds = [Weird(code, code.split("_", 1)[0], fb.file, int(fb.frame[i]), float(fb.ts[i]))
                      for i, code in sorted(weird_rows)]
    parts = [packets]
    if frag.any():
        rebuilt = fragments.add(fb, np.nonzero(frag)[0], l3, ihl, total, packets.weirds)
        if rebuilt is not None:
            parts += decode(rebuilt, fragments)
    return parts


def _window_scale(data: np.ndarray, l4: np.ndarray, thl: np.ndarray, syn: np.ndarray) -> np.ndarray:
    """The window scale option (kind 3, length 3) of SYN segments, -1 elsewhere (RFC 7323 §2).

    Options are walked for all SYN rows at once: kind 0 ends the list, kind 1 is one byte of padding,
    every other kind carries its length in the next byte.
    """
    out = np.full(len(l4), -1, dtype=np.int64)
    rows = np.nonzero(syn & (thl > 20))[0]
    if len(rows) == 0:
        return out
    at = l4[rows] + 20
    end = l4[rows] + thl[rows]
    found = np.full(len(rows), -1, dtype=np.int64)
    for _ in range(MAX_TCP_OPTIONS):
        live = at < end
        if not live.any():
            break
        kind = u8(data, at)
        size = np.where(kind == 1, 1, np.maximum(u8(data, at + 1), 2))
        is_scale = live & (kind == 3) & (size == 3) & (at + 3 <= end)
        found = np.where(is_scale & (found < 0), np.minimum(u8(data, at + 2), MAX_WINDOW_SCALE), found)
        at = np.where(live & (kind != 0), at + size, end)
    out[rows] = found
    return out


def _link_rows(fb: FrameBatch, ethertype: np.ndarray, l3: np.ndarray, mac: np.ndarray,
               mac_dst: np.ndarray) -> LinkRows | None:
    """Frames of every other ethertype, kept with their payload bounds so link-layer protocols can be dispatched.

    An ethertype below 0x0600 is an IEEE 802.3 length: what follows is LLC. LLC/SNAP frames (DSAP and SSAP
    0xAA, control 0x03; IEEE 802-2014 §10.3) are tagged with ``snap_id(OUI, PID)`` and their payload starts
    after the SNAP header (CDP is OUI 0x00000C, PID 0x2000); other LLC frames (STP...) are left out."""
    end = fb.offset + fb.caplen
    snap = np.zeros(len(l3), dtype=bool)
    tag = ethertype.copy()
    llc = np.flatnonzero((ethertype > 0) & (ethertype < 0x0600) & (l3 + SNAP_HEADER <= end))  # read only these
    if len(llc):
        data, at = fb.data, l3[llc]
        snap[llc] = is_snap = (u16(data, at) == 0xAAAA) & (u8(data, at + 2) == 0x03)
        tag[llc] = np.where(is_snap, SNAP_BASE | (u8(data, at + 3) << 32) | (u16(data, at + 4) << 16)
                            | u16(data, at + 6), ethertype[llc])
    start = np.where(snap, l3 + SNAP_HEADER, l3)
    # An Ethernet 802.3 length counts LLC and data: the padding after them is no payload (SLL's 0x0004 is no length)
    end = np.where(snap & (fb.linktype == LINKTYPE_ETHERNET), np.minimum(end, l3 + ethertype), end)
    rows = np.nonzero(snap | ((ethertype >= 0x0600) & ~one_of(ethertype, (ETH_IPV4, ETH_IPV6, ETH_ARP))))[0]
    if len(rows) == 0:
        return None
    return LinkRows(frame=fb.frame[rows], ts=fb.ts[rows], ethertype=tag[rows], mac_src=mac[rows],
                    mac_dst=mac_dst[rows], payload_off=np.minimum(start[rows], end[rows]), payload_end=end[rows])


def _arp(fb: FrameBatch, ethertype: np.ndarray, l3: np.ndarray, avail: np.ndarray) -> ArpRows | None:
    """Ethernet/IPv4 ARP (RFC 826): sender hardware and protocol addresses."""
    data = fb.data
    rows = np.nonzero((ethertype == ETH_ARP) & (avail >= 28))[0]
    if len(rows) == 0:
        return None
    at = l3[rows]
    ok = (u16(data, at) == 1) & (u16(data, at + 2) == ETH_IPV4) & (u8(data, at + 4) == 6) & (u8(data, at + 5) == 4)
    rows, at = rows[ok], at[ok]
    return ArpRows(
        frame=fb.frame[rows], ts=fb.ts[rows], op=u16(data, at + 6),
        sender_mac=u48(data, at + 8).astype(np.uint64), sender_ip=u32(data, at + 14),
    )
