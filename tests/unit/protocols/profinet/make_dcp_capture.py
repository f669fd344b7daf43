"""Write data/dcp_two_stations.pcap: an engineering station's DCP Identify (multicast) answered by two stations.

    python tests/unit/protocols/profinet/make_dcp_capture.py

``io-1`` (00:1b:1b:00:00:01, announces 192.168.0.20) is seen only at layer 2: it must become an asset keyed by
its MAC. ``plc-1`` (00:1b:1b:00:00:02, announces 192.168.0.10) also talks UDP with the engineering station
(192.168.0.5), after an ARP exchange: its identity must attach to the IP asset 192.168.0.10.
"""
from __future__ import annotations

import sys
from pathlib import Path

from scapy.all import ARP, IP, UDP, Ether, Raw, wrpcap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dcp_frames import IDENTIFY_MULTICAST, identify_request, identify_response  # noqa: E402

PATH = Path(__file__).resolve().parent / "data" / "dcp_two_stations.pcap"
PC, IO, PLC = "00:0c:29:00:00:05", "00:1b:1b:00:00:01", "00:1b:1b:00:00:02"


def frames() -> list:
    def dcp(src: str, dst: str, payload: bytes) -> Ether:
        return Ether(src=src, dst=dst, type=0x8892) / Raw(payload)

    out = [
        dcp(PC, IDENTIFY_MULTICAST, identify_request()),
        dcp(IO, PC, identify_response("io-1", device_id=0x0301, ip="192.168.0.20", mask="255.255.255.0",
                                      product="ET200SP", role=0x01)),
        dcp(PLC, PC, identify_response("plc-1", device_id=0x0E0A, ip="192.168.0.10", mask="255.255.255.0",
                                       gateway="192.168.0.1", product="S7-1500", role=0x03)),
        Ether(src=PC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PC, psrc="192.168.0.5", pdst="192.168.0.10"),
        Ether(src=PLC, dst=PC) / ARP(op=2, hwsrc=PLC, psrc="192.168.0.10", hwdst=PC, pdst="192.168.0.5"),
        Ether(src=PC, dst=PLC) / IP(src="192.168.0.5", dst="192.168.0.10") / UDP(sport=50000, dport=161) / Raw(b"q"),
        Ether(src=PLC, dst=PC) / IP(src="192.168.0.10", dst="192.168.0.5") / UDP(sport=161, dport=50000) / Raw(b"a"),
    ]
    for i, frame in enumerate(out):
        frame.time = 1_700_000_000 + i / 100
    return out


if __name__ == "__main__":
    PATH.parent.mkdir(exist_ok=True)
    wrpcap(str(PATH), frames())
    print(PATH)
