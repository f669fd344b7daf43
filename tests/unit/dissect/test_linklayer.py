"""Link-layer dispatch: ethertypes and LLC/SNAP ids reach the protocol that declares them, and only it."""
from __future__ import annotations

import sys
from pathlib import Path

from scapy.layers.l2 import LLC, SNAP, Dot3, Ether
from scapy.packet import Raw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import frame_batch  # noqa: E402

from protocols.base import ANNOUNCE, Message, ProtocolSpec, snap_id  # noqa: E402
from sensor.capture import LINKTYPE_ETHERNET  # noqa: E402
from sensor.decode.fragments import FragmentReassembler  # noqa: E402
from sensor.decode.layers import decode  # noqa: E402
from sensor.dissect.linklayer import link_batches  # noqa: E402

CISCO, CDP_PID = 0x00000C, 0x2000


def echo(name: str) -> ProtocolSpec:
    """A protocol whose one message carries the payload it was given, to see exactly what dispatch hands over."""
    def datagram(payload: bytes, is_request: bool) -> list[Message]:
        return [Message(0, "frame", "discovery", ANNOUNCE, fields={"payload": payload})]
    return ProtocolSpec(name, datagram=datagram, snap_ids=frozenset({(CISCO, CDP_PID)}) if name == "cdp" else frozenset(),
                        ethertypes=frozenset({0x88CC}) if name == "lldp" else frozenset())


def packets_of(*frames: bytes):
    [packets] = list(decode(frame_batch([(f, LINKTYPE_ETHERNET, 1.0 + i) for i, f in enumerate(frames)]),
                            FragmentReassembler()))
    return packets


def test_snap_and_ethertype_frames_reach_their_protocol_with_the_payload_after_the_header() -> None:
    cdp = bytes(Dot3(src="00:00:0c:11:22:33", dst="01:00:0c:cc:cc:cc") / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                / SNAP(OUI=CISCO, code=CDP_PID) / Raw(b"\x02\xb4cdp-body"))
    lldp = bytes(Ether(src="00:11:22:33:44:55", dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(b"lldp-body"))
    stp = bytes(Dot3(src="00:11:22:33:44:66", dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3)
                / Raw(b"\x00" * 35))
    other_snap = bytes(Dot3(src="00:00:0c:11:22:34", dst="01:00:0c:cc:cc:cd") / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                       / SNAP(OUI=CISCO, code=0x010B) / Raw(b"pvst"))
    packets = packets_of(cdp, lldp, stp, other_snap)
    assert snap_id(CISCO, CDP_PID) in packets.link.ethertype.tolist()
    batches, decoded = link_batches(packets, [echo("cdp"), echo("lldp")], [])
    got = {b.protocol: (b.frame.tolist(), b.src, [m.fields["payload"] for m in b.messages]) for b in batches}
    assert got == {"cdp": ([1], ["00:00:0c:11:22:33"], [b"\x02\xb4cdp-body"]),
                   "lldp": ([2], ["00:11:22:33:44:55"], [b"lldp-body"])}
    assert decoded == 2  # STP (plain LLC) and a SNAP id nobody declares stay undecoded
