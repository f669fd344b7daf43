"""Columns of decoded L2–L4 headers for a whole batch of frames.

One ``Packets`` row per frame. Addresses are kept as two uint64 halves so IPv4 and IPv6 share
one representation: an IPv4 address is stored IPv4-mapped (``::ffff:a.b.c.d``), which keeps the
flow key arithmetic identical for both families.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import numpy as np

IPV4_MAPPED_HI = np.uint64(0)
IPV4_MAPPED_LO_PREFIX = np.uint64(0xFFFF) << np.uint64(32)

PROTO_NONE = -1
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass(frozen=True, slots=True)
class Weird:
    """An anomaly in the input: stable code, where it was, and which layer saw it."""

    code: str
    layer: str
    file: str
    frame: int
    ts: float
    detail: str = ""


@dataclass(slots=True)
class ArpRows:
    """Sender MAC/IP of every ARP packet: the most trustworthy IP-to-MAC evidence on a LAN."""

    frame: np.ndarray
    ts: np.ndarray
    op: np.ndarray
    sender_mac: np.ndarray  # uint64
    sender_ip: np.ndarray  # uint32


@dataclass(slots=True)
class LinkRows:
    """Frames of an ethertype that is neither IP nor ARP, for the link-layer protocols (PROFINET DCP, LLDP...).

    ``payload_off``/``payload_end`` bound what follows the ethertype (after VLAN tags) in ``Packets.data``;
    ``mac_dst`` is 0 where the link layer carries no destination (Linux cooked captures).
    """

    frame: np.ndarray
    ts: np.ndarray
    ethertype: np.ndarray  # the ethertype, or for LLC/SNAP frames protocols.base.snap_id(OUI, PID)
    mac_src: np.ndarray  # uint64
    mac_dst: np.ndarray  # uint64
    payload_off: np.ndarray
    payload_end: np.ndarray


@dataclass(slots=True)
class Packets:
    """Decoded header fields; ``proto == PROTO_NONE`` rows carry no L4 header we understand."""

    data: np.ndarray
    file: str
    frame: np.ndarray
    ts: np.ndarray
    wirelen: np.ndarray
    mac_src: np.ndarray  # uint64, 0 when the link layer carries none
    ethertype: np.ndarray  # after VLAN tags (0 where the link layer has none): link-layer protocols dispatch on it
    l3_off: np.ndarray  # where the ethertype's payload starts in ``data``
    l2_broadcast: np.ndarray  # sent to every station of the link: its IP destination is a broadcast address
    ip_version: np.ndarray  # 4, 6 or 0
    proto: np.ndarray  # L4 protocol number or PROTO_NONE
    src_hi: np.ndarray
    src_lo: np.ndarray
    dst_hi: np.ndarray
    dst_lo: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    tcp_flags: np.ndarray
    seq: np.ndarray
    ack: np.ndarray  # acknowledgment number, meaningful where tcp_flags has ACK
    window: np.ndarray  # advertised window, unscaled
    wscale: np.ndarray  # window scale shift from a SYN's option (RFC 7323 §2.2), -1 when absent or not a SYN
    payload_off: np.ndarray
    payload_len: np.ndarray
    arp: ArpRows | None = None
    link: LinkRows | None = None  # non-IP, non-ARP frames with an ethertype
    weirds: list[Weird] = field(default_factory=list)
    non_ip: int = 0  # frames with no IP header (ARP, LLDP, STP, ...)

    def __len__(self) -> int:
        return len(self.frame)

    def select(self, mask: np.ndarray) -> "Packets":
        """The rows where ``mask`` holds, sharing the byte buffer (and the columns too when it holds everywhere, as
        it does for a batch that is all IP: the columns are never written in place)."""
        every = bool(mask.all())
        cols = {name: getattr(self, name) if every else getattr(self, name)[mask] for name in ROW_COLUMNS}
        return Packets(data=self.data, file=self.file, **cols)


ROW_COLUMNS = (
    "frame", "ts", "wirelen", "mac_src", "ethertype", "l3_off", "l2_broadcast", "ip_version", "proto", "src_hi", "src_lo", "dst_hi", "dst_lo",
    "sport", "dport", "tcp_flags", "seq", "ack", "window", "wscale", "payload_off", "payload_len",
)


def address_text(hi: int, lo: int) -> str:
    """The printable form of a stored address (dotted quad for IPv4-mapped)."""
    if hi == 0 and (lo >> 32) == 0xFFFF:
        v = lo & 0xFFFFFFFF
        return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"
    return str(ipaddress.IPv6Address((hi << 64) | lo))


def group_address(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Per stored address: IPv4 multicast (224/4) or limited broadcast, or IPv6 multicast (ff00::/8); destinations
    that no one host answers for."""
    v4 = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
    first = (lo >> np.uint64(24)) & np.uint64(0xFF)
    v4_group = ((first >= np.uint64(224)) & (first <= np.uint64(239))) | ((lo & np.uint64(0xFFFFFFFF)) == np.uint64(0xFFFFFFFF))
    return np.where(v4, v4_group, (hi >> np.uint64(56)) == np.uint64(0xFF))


def mac_text(value: int) -> str | None:
    """``aa:bb:cc:dd:ee:ff``, or None for the all-zero address loopback captures carry."""
    if value == 0:
        return None
    return ":".join(f"{(value >> shift) & 255:02x}" for shift in range(40, -8, -8))
