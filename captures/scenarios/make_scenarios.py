"""Build the segmentation scenario captures: small pcaps planted in the plant of ``policy.yaml``.

Every session is a whole TCP conversation (handshake, data with correct seq/ack, FIN both ways)
between planted addresses, with timestamps that tell each story in order. Modbus ADUs are built with
``struct`` from the spec (MBAP: transaction id, protocol id 0, length, unit id; then the PDU). The
historian's sessions are real pymodbus traffic (``pymodbus_raw.pcap``, made by
``record_pymodbus.py``) with addresses, ports and times rewritten and checksums recomputed.

    python captures/scenarios/make_scenarios.py     # rewrites the *.pcap beside it, byte for byte the same

README.md beside this file tells each capture's story and the alerts and paths it must produce.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import rdpcap, wrpcap

HERE = Path(__file__).resolve().parent
T0 = 1_767_600_000.0  # 2026-01-05 08:00:00 UTC
MINUTE, HOUR = 60.0, 3600.0

OFFICE_PC, JUMP_HOST, HISTORIAN = "10.40.0.7", "10.35.0.10", "10.30.0.20"
HMI, EWS, PLC, PLC2 = "10.20.0.10", "10.20.50.5", "10.10.0.5", "10.10.0.6"


def mac(ip: str) -> str:
    """A locally administered MAC that spells the address, so captures read easily in Wireshark."""
    return "02:00:" + ":".join(f"{int(octet):02x}" for octet in ip.split("."))


# --- Modbus/TCP (Modbus Application Protocol v1.1b3, Modbus Messaging on TCP/IP v1.0b) ---------------

def adu(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    """MBAP header (7 bytes: tid, protocol 0, length of unit id + PDU, unit id) + PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read_holding(tid: int, address: int, values: list[int]) -> tuple[bytes, bytes]:
    """FC 3: request (address, quantity) and response (byte count, registers)."""
    request = struct.pack(">BHH", 3, address, len(values))
    response = struct.pack(">BB", 3, 2 * len(values)) + struct.pack(f">{len(values)}H", *values)
    return adu(tid, request), adu(tid, response)


def write_register(tid: int, address: int, value: int) -> tuple[bytes, bytes]:
    """FC 6: the response echoes the request."""
    pdu = struct.pack(">BHH", 6, address, value)
    return adu(tid, pdu), adu(tid, pdu)


# --- other payloads ----------------------------------------------------------------------------------

def tls_records(seed: int) -> tuple[bytes, bytes]:
    """Two TLS 1.2 application-data records: what an RDP session looks like once encrypted."""
    body = bytes((seed * 37 + i * 11) % 256 for i in range(48))
    return b"\x17\x03\x03" + struct.pack(">H", len(body)) + body, b"\x17\x03\x03" + struct.pack(">H", 32) + body[:32]


def smb2_negotiate() -> tuple[bytes, bytes]:
    """SMB2 NEGOTIATE request and response ([MS-SMB2] 2.2.1, 2.2.3, 2.2.4) in NetBIOS session framing."""
    def header(flags: int) -> bytes:
        # ProtocolId, StructureSize 64, CreditCharge, Status, Command 0 (NEGOTIATE), Credits, Flags,
        # NextCommand, MessageId, Reserved, TreeId, SessionId, Signature
        return b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, flags, 0, 0, 0, 0, 0, b"\0" * 16)

    request = header(0) + struct.pack("<HHHHI16sQ", 36, 2, 1, 0, 0, b"otsensor-client!", 0) + struct.pack("<HH", 0x0202,
                                                                                                           0x0210)
    response = header(1) + struct.pack("<HHHH16sIIIIQQHHI", 65, 1, 0x0210, 0, b"otsensor-server!", 0, 65536, 65536,
                                       65536, 0, 0, 128, 0, 0) + b"\0"

    def netbios(message: bytes) -> bytes:
        return struct.pack(">I", len(message)) + message

    return netbios(request), netbios(response)


# --- TCP sessions ------------------------------------------------------------------------------------

@dataclass
class Session:
    """A client talking to a server: handshake, request/response exchanges, FIN from both ends."""

    client: str
    server: str
    sport: int
    dport: int
    start: float
    exchanges: list[tuple[bytes, bytes]]
    gap: float = 0.2  # seconds between exchanges

    def packets(self) -> list[Packet]:
        c, s = 1000, 5000  # initial sequence numbers
        out: list[Packet] = []
        t = self.start

        def send(src_is_client: bool, flags: str, payload: bytes = b"") -> None:
            nonlocal c, s, t
            src, dst = (self.client, self.server) if src_is_client else (self.server, self.client)
            sport, dport = (self.sport, self.dport) if src_is_client else (self.dport, self.sport)
            seq, ack = (c, s) if src_is_client else (s, c)
            pkt = (Ether(src=mac(src), dst=mac(dst)) / IP(src=src, dst=dst, ttl=64 if src_is_client else 63)
                   / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack if "A" in flags else 0, window=64240))
            if payload:
                pkt = pkt / Raw(payload)
            pkt.time = round(t, 6)
            out.append(pkt)
            advance = len(payload) + (1 if "S" in flags or "F" in flags else 0)
            if src_is_client:
                c += advance
            else:
                s += advance
            t += 0.0005

        send(True, "S")
        send(False, "SA")
        send(True, "A")
        for request, response in self.exchanges:
            send(True, "PA", request)
            send(False, "PA", response)
            send(True, "A")
            t += self.gap
        send(True, "FA")
        send(False, "FA")
        send(True, "A")
        return out


def planted_pymodbus(write: bool, start: float, sport: int) -> list[Packet]:
    """One historian session of the real pymodbus capture, moved to historian -> PLC:502 at ``start``."""
    raw = rdpcap(str(HERE / "pymodbus_raw.pcap"))
    clients = [p[TCP].sport for p in raw if p[TCP].flags == "S"]
    client_port = clients[1 if write else 0]
    moved = {"127.0.0.3": HISTORIAN, "127.0.0.2": PLC}
    session = [p for p in raw if client_port in (p[TCP].sport, p[TCP].dport)]
    out = []
    for p in session:
        ip, tcp = p[IP], p[TCP]
        src, dst = moved[ip.src], moved[ip.dst]
        fresh = Ether(src=mac(src), dst=mac(dst)) / ip.copy()
        fresh[IP].src, fresh[IP].dst = src, dst
        fresh[TCP].sport = sport if tcp.sport == client_port else 502
        fresh[TCP].dport = sport if tcp.dport == client_port else 502
        del fresh[IP].chksum, fresh[TCP].chksum  # recomputed when written
        fresh.time = round(start + float(p.time - session[0].time), 6)
        out.append(fresh)
    return out


def hmi_polling(start: float) -> list[Packet]:
    """The plant's normal traffic: the HMI reads the PLC and sets one setpoint (allowed: hmi-to-plc)."""
    return Session(HMI, PLC, 49152, 502, start, [
        read_holding(1, 0, [120, 121, 122, 123]), read_holding(2, 0, [120, 121, 122, 124]),
        write_register(3, 40, 75),
    ]).packets()


def scenarios() -> dict[str, list[Packet]]:
    """Each capture's packets, by file name."""
    return {
        "allowed_plant.pcap": [
            *hmi_polling(T0),
            *planted_pymodbus(write=False, start=T0 + MINUTE, sport=50100),
            *Session(EWS, PLC2, 50200, 502, T0 + 2 * MINUTE, [write_register(1, 10, 1)]).packets(),
            *Session(OFFICE_PC, JUMP_HOST, 50300, 3389, T0 + 3 * MINUTE, [tls_records(1), tls_records(2)]).packets(),
        ],
        "enterprise_plc_write.pcap": [
            *hmi_polling(T0),
            *Session(OFFICE_PC, PLC, 50400, 502, T0 + 5 * MINUTE,
                     [read_holding(1, 40, [75]), write_register(2, 40, 9999)]).packets(),
        ],
        "historian_write.pcap": [
            *hmi_polling(T0),
            *planted_pymodbus(write=True, start=T0 + MINUTE, sport=50500),
        ],
        "plc_reverse.pcap": [
            *hmi_polling(T0),
            *Session(PLC, HMI, 50600, 502, T0 + 2 * MINUTE, [read_holding(1, 0, [1, 2])]).packets(),
        ],
        "smb_it_to_control.pcap": [
            *hmi_polling(T0),
            *Session(OFFICE_PC, HMI, 50700, 445, T0 + 3 * MINUTE, [smb2_negotiate()]).packets(),
        ],
        "pivot_chain.pcap": [
            *hmi_polling(T0),
            *Session(OFFICE_PC, JUMP_HOST, 50800, 3389, T0 + HOUR, [tls_records(3), tls_records(4)]).packets(),
            *Session(JUMP_HOST, EWS, 50900, 3389, T0 + HOUR + 10 * MINUTE, [tls_records(5)]).packets(),
            *Session(EWS, PLC, 51000, 502, T0 + HOUR + 20 * MINUTE,
                     [read_holding(1, 40, [75]), write_register(2, 40, 0)]).packets(),
        ],
    }


def main() -> None:
    for name, packets in scenarios().items():
        wrpcap(str(HERE / name), sorted(packets, key=lambda p: p.time))
        print(f"wrote {name}: {len(packets)} packets")


if __name__ == "__main__":
    main()
