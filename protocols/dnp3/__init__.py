"""DNP3 (IEEE 1815-2012) over TCP and UDP port 20000.

``wire`` decodes link frames and application fragments, ``objects`` knows Annex A's object sizes,
``transport`` reassembles fragments from link frames, ``message`` turns them into protocol-neutral
``Message``s, ``stream`` frames a TCP direction or a UDP datagram, ``codes`` names the numbers and
holds the package's one action table and its weird codes. Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec, Verdict
from protocols.dnp3.codes import ACTIONS, WEIRDS
from protocols.dnp3.message import complete
from protocols.dnp3.stream import MAX_BUFFER, Dnp3Stream, datagram, parse_datagram
from protocols.dnp3.transport import MAX_FRAGMENT, MAX_REASSEMBLIES
from protocols.dnp3.wire import parse_fragment, parse_link_frame, probe

PORT = 20000


def detect(data: bytes) -> Verdict:
    """The probe as the dispatcher asks it: start octets, LENGTH and the header CRC decide."""
    verdict = probe(data)
    if verdict is None:
        return Verdict.MORE
    return Verdict.ACCEPT if verdict else Verdict.REJECT


SPEC = ProtocolSpec(
    name="dnp3",
    ports=frozenset({("tcp", PORT), ("udp", PORT)}),
    probe=detect,
    framer=Dnp3Stream,
    datagram=datagram,
    complete=complete,
    actions=ACTIONS,
    weirds=WEIRDS,
)

__all__ = [
    "MAX_BUFFER",
    "MAX_FRAGMENT",
    "MAX_REASSEMBLIES",
    "PORT",
    "SPEC",
    "Dnp3Stream",
    "complete",
    "datagram",
    "detect",
    "parse_datagram",
    "parse_fragment",
    "parse_link_frame",
    "probe",
]
