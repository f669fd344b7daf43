"""LLDP, the Link Layer Discovery Protocol (IEEE 802.1AB-2016): stations announcing themselves to their link
neighbours.

Where it lives: ethertype 0x88CC, sent to the nearest-bridge group address 01:80:c2:00:00:0e. ``wire`` cuts an
LLDPDU into TLVs and decodes their values, ``message`` turns it into a protocol-neutral ``Message``, ``facts``
says what an advertisement teaches the inventory (shared with CDP), ``codes`` names the numbers and holds the
action table and the weird codes. Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore, ProtocolSpec
from protocols.lldp.codes import ACTIONS, ETHERTYPE, WEIRDS
from protocols.lldp.message import lldp_message
from protocols.lldp.wire import parse_lldpdu


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one ethertype 0x88CC payload; Malformed ``lldp_truncated`` when it holds no TLV header.
    ``is_request`` is unused: every LLDPDU is an announcement."""
    result = parse_lldpdu(payload)
    if isinstance(result, NeedMore):
        raise Malformed("lldp_truncated", 0, f"{len(payload)} octets")
    return [lldp_message(result[0])]


SPEC = ProtocolSpec(
    name="lldp",
    ethertypes=frozenset({ETHERTYPE}),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["ETHERTYPE", "SPEC", "datagram", "lldp_message", "parse_lldpdu"]
