"""Community ID v1 (https://github.com/corelight/community-id-spec): one flow hash every NSM tool agrees on.

It lets a SIEM join our alerts with Zeek, Suricata or Elastic Packetbeat records of the same connection.

Hash input, all in network byte order, after ordering the endpoints so the smaller (address, port) is first::

    seed (2) | saddr (4 or 16) | daddr (4 or 16) | proto (1) | 0 (1) | sport (2) | dport (2)

The ports are left out for protocols without them. The result is ``"1:" + base64(sha1(input))``.
ICMP type/code mapping is not done here: callers pass ports already mapped, or none.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import struct

TRANSPORTS = {"icmp": 1, "tcp": 6, "udp": 17, "icmp6": 58, "icmpv6": 58, "sctp": 132}
_PORTED = {6, 17, 132}  # protocols whose 5-tuple has ports


def community_id_v1(saddr: str, daddr: str, sport: int | None, dport: int | None, proto: int,
                    seed: int = 0) -> str:
    """The v1 Community ID; ``sport``/``dport`` None for port-less protocols."""
    src, dst = ipaddress.ip_address(saddr), ipaddress.ip_address(daddr)
    if src.version != dst.version:
        raise ValueError("both addresses must be of the same IP version")
    src_b, dst_b = src.packed, dst.packed
    ports = sport is not None and dport is not None
    if ports and (src_b, sport) > (dst_b, dport):
        src_b, dst_b, sport, dport = dst_b, src_b, dport, sport
    elif not ports and src_b > dst_b:
        src_b, dst_b = dst_b, src_b
    data = struct.pack("!H", seed & 0xFFFF) + src_b + dst_b + struct.pack("!BB", proto, 0)
    if ports:
        data += struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")


def community_id(src: str | None, dst: str | None, transport: str | None, sport: int | None,
                 dport: int | None) -> str | None:
    """The Community ID of a TCP/UDP/SCTP flow when its whole 5-tuple is known, else None."""
    proto = TRANSPORTS.get((transport or "").lower())
    if proto not in _PORTED or sport is None or dport is None or src is None or dst is None:
        return None
    try:
        return community_id_v1(src, dst, sport, dport, proto)
    except ValueError:
        return None
