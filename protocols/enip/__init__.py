"""EtherNet/IP and CIP (The CIP Networks Library, Vol 1 "CIP" and Vol 2 "EtherNet/IP Adaptation of CIP").

Where it lives: explicit messaging and discovery on TCP and UDP 44818 (Vol 2 §2-2), class 0/1 I/O on
UDP 2222 (Vol 2 §3-2). ``wire`` decodes encapsulation and common packet format, ``epath`` and ``cip``
the CIP messages inside, ``messages`` turns them into protocol-neutral ``Message``s, ``stream``
frames one direction of a TCP stream, ``pairing.complete`` adds what a reply means once its request
is known, ``codes`` names the numbers and holds the one action table, ``vendors`` the ODVA vendor ids.
Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore, ProtocolSpec, Verdict
from protocols.enip.codes import ACTION_TABLE, WEIRDS
from protocols.enip.messages import UDP, encapsulation_messages, io_message
from protocols.enip.pairing import complete
from protocols.enip.stream import MAX_BUFFER, EnipStream
from protocols.enip.wire import looks_like_io, parse_encapsulation, parse_io, probe

ENIP_PORT = 44818  # Vol 2 §2-2: TCP and UDP
IO_PORT = 2222  # Vol 2 §3-2: UDP, class 0/1 implicit I/O


def detect(data: bytes) -> Verdict:
    """The probe as the dispatcher asks it: a header with a known command and a sane length decides."""
    verdict = probe(data)
    if verdict is None:
        return Verdict.MORE
    return Verdict.ACCEPT if verdict else Verdict.REJECT


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """Messages of one UDP payload: a class 0/1 I/O packet, or encapsulation message(s).

    Raises Malformed when the payload is neither (``enip_unknown_command``, ``enip_bad_length``,
    ``enip_truncated``, ``enip_bad_io_packet``). Over UDP the ListIdentity reply answers a broadcast,
    so it is an ``announce``.
    """
    if looks_like_io(payload):
        return [io_message(parse_io(payload))]
    out: list[Message] = []
    pos = 0
    while pos < len(payload) or not out:
        result = parse_encapsulation(payload, pos)
        if isinstance(result, NeedMore):
            raise Malformed("enip_truncated", pos, f"{result.needed} bytes missing")
        encap, used = result
        out.extend(encapsulation_messages(encap, is_request, UDP))
        pos += used
    return out


SPEC = ProtocolSpec(
    name="enip",
    ports=frozenset({("tcp", ENIP_PORT), ("udp", ENIP_PORT), ("udp", IO_PORT)}),
    probe=detect,
    framer=EnipStream,
    datagram=datagram,
    complete=complete,
    actions=ACTION_TABLE,
    weirds=WEIRDS,
)

__all__ = [
    "ENIP_PORT",
    "IO_PORT",
    "MAX_BUFFER",
    "SPEC",
    "EnipStream",
    "complete",
    "datagram",
    "detect",
]
