"""``conn.log``: one line per flow as it ends, with the fields of Zeek 8's base/protocols/conn/main.zeek.

The uid is Zeek-like (``C`` and base62) but not random: a hash of the capture's file name, the flow's first
frame and time and its 5-tuple, so the protocol logs join conn.log by uid and a rerun gives the same uids.

What the flow table knows and Zeek's analysis would know differ, so some fields are approximations:

- ``conn_state`` follows Zeek's ``Conn::conn_state`` from the TCP flags each side sent at all (the table keeps
  their union, not their order): a side that sent no packet is inactive, a side that sent no SYN/SYN-ACK is
  "partial";
- ``history`` lists the letters of what each side was seen to do, in Zeek's usual order (``S h A D a d T t G g
  F f R r``), once each: S/h from the SYN flags, A/a from the ACK flag (Zeek counts pure ACKs only), D/d when
  the sensor dissected a message from that side or the side's frames average more than a header-only frame,
  T/t and G/g from retransmitted and missing bytes TCP reassembly counted (dissected flows only);
- ``orig_ip_bytes``/``resp_ip_bytes`` are the bytes of the frames each side sent, link-layer header included
  (the flow table counts frames), and ``orig_bytes``/``resp_bytes`` (payload) are unset: neither is counted;
  a flow that carries ``ip_bytes``/``payload_bytes`` per side is written with those instead;
- ``local_orig``/``local_resp`` are unset, as Zeek leaves them without ``Site::local_nets``;
- an ICMP flow has the ports the flow table gives it, where Zeek writes the ICMP type and code;
- ``service`` is the protocol the sensor dissected the flow as (``modbus``, ``dnp3``, ``s7comm``, ``enip``), else
  the name of a well-known IT port (``ssh``, ``rdp``, ``smb``, ...: sensor.services); Zeek finds these by
  reading the payload, so on an unusual port the two can differ.
"""
from __future__ import annotations

import hashlib
import os

from sensor.decode.packets import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN
from sensor.flows.table import Flow
from sensor.services import flow_service
from sensor.sinks.zeek.ascii import ID, fields

CONN = fields(f"ts:time uid:string {ID} proto:enum service:string duration:interval orig_bytes:count "
              "resp_bytes:count conn_state:string local_orig:bool local_resp:bool missed_bytes:count "
              "history:string orig_pkts:count orig_ip_bytes:count resp_pkts:count resp_ip_bytes:count "
              "tunnel_parents:set[string] ip_proto:count")

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
IP_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}
ZEEK_TRANSPORT = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmp6": "icmp"}
HEADER_ONLY_FRAME = 114  # Ethernet + IPv6 + TCP with 40 bytes of options: a bigger frame carries payload
DATA_ORIG, DATA_RESP = 1, 2  # which sides the sensor saw a message from


def conn_uid(flow: Flow) -> str:
    """``C`` and the base62 digits of a 96-bit hash of what identifies the flow in its capture."""
    key = (f"{os.path.basename(flow.file)}|{flow.first_frame}|{flow.first_ts!r}|{flow.transport}|"
           f"{flow.initiator}|{flow.init_port}|{flow.responder}|{flow.resp_port}")
    value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=12).digest(), "big")
    digits = []
    while value:
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "C" + "".join(reversed(digits or ["0"]))


def ip_proto(transport: str) -> int | None:
    if transport in IP_PROTOCOLS:
        return IP_PROTOCOLS[transport]
    return int(transport[2:]) if transport.startswith("ip") and transport[2:].isdigit() else None


def conn_state(flow: Flow) -> str:
    """Zeek's ``Conn::conn_state`` from what the flow table keeps (see the module docstring)."""
    active = [n > 0 for n in flow.packets]
    if flow.transport == "udp":
        if active[0]:
            return "SF" if active[1] else "S0"
        return "SHR" if active[1] else "OTH"
    if flow.transport != "tcp":
        return "OTH"
    f0, f1 = flow.flags
    o_inactive, r_inactive = not f0 & TCP_SYN, not f1 & TCP_SYN  # inactive or partial: no SYN seen from it
    if f1 & TCP_RST:
        if f0 & TCP_SYN and not f1 & TCP_SYN:
            return "REJ"
        return "RSTRH" if o_inactive else "RSTR"
    if f0 & TCP_RST:
        if not active[1] or r_inactive:
            return "RSTOS0" if f0 & TCP_SYN and not active[1] else "OTH"
        return "RSTO"
    if f0 & TCP_FIN and f1 & TCP_FIN:
        return "SF"
    if f0 & TCP_FIN:
        return "SH" if r_inactive else "S2"
    if f1 & TCP_FIN:
        return "SHR" if o_inactive else "S3"
    if f0 & TCP_SYN and not active[1]:
        return "S0"
    if f0 & TCP_SYN and f1 & TCP_SYN:
        return "S1"
    return "OTH"


def history(flow: Flow, data_sides: int) -> str | None:
    """Zeek's history letters, approximated (see the module docstring); None for other transports."""
    if flow.transport == "udp":
        return ("D" if flow.packets[0] else "") + ("d" if flow.packets[1] else "") or None
    if flow.transport != "tcp":
        return None
    f0, f1 = flow.flags
    streams = flow.streams or ()
    data = [bool(data_sides & DATA_ORIG), bool(data_sides & DATA_RESP)]
    for side in (0, 1):
        n = flow.packets[side]
        data[side] = data[side] or (n > 0 and flow.bytes[side] > n * HEADER_ONLY_FRAME)
    letters = [
        ("S", f0 & TCP_SYN), ("h", f1 & TCP_SYN), ("A", f0 & TCP_ACK), ("D", data[0]), ("a", f1 & TCP_ACK),
        ("d", data[1]),
        ("T", streams and streams[0].duplicate_bytes), ("t", streams and streams[1].duplicate_bytes),
        ("G", streams and streams[0].gap_bytes), ("g", streams and streams[1].gap_bytes),
        ("F", f0 & TCP_FIN), ("f", f1 & TCP_FIN), ("R", f0 & TCP_RST), ("r", f1 & TCP_RST),
    ]
    return "".join(letter for letter, seen in letters if seen) or None


def conn_record(flow: Flow, uid: str, data_sides: int = 0) -> tuple:
    """The conn.log values of a flow that ended, in CONN's order."""
    duration = flow.last_ts - flow.first_ts
    payload = getattr(flow, "payload_bytes", None)
    ip_bytes = getattr(flow, "ip_bytes", None) or flow.bytes
    timed = duration > 0  # Zeek sets duration and the payload counts only then
    return (
        flow.first_ts, uid, flow.initiator, flow.init_port, flow.responder, flow.resp_port,
        ZEEK_TRANSPORT.get(flow.transport, "unknown_transport"), flow_service(flow.protocol, flow.transport,
                                                                               flow.resp_port),
        duration if timed else None,
        payload[0] if timed and payload is not None else None, payload[1] if timed and payload is not None else None,
        conn_state(flow), None, None, sum(s.gap_bytes for s in flow.streams or ()), history(flow, data_sides),
        flow.packets[0], ip_bytes[0], flow.packets[1], ip_bytes[1], None, ip_proto(flow.transport),
    )
