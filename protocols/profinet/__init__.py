"""PROFINET DCP (IEC 61158-6-10 §4.3): discovery and basic configuration of PROFINET stations at layer 2.

Where it lives: ethertype 0x8892, FrameIDs 0xFEFC (Hello), 0xFEFD (Get/Set), 0xFEFE (Identify request) and
0xFEFF (Identify response). The other FrameIDs of that ethertype (cyclic real-time data, alarms, PTCP) are
not DCP and give no message. ``wire`` decodes frames into records, ``message`` turns them into
protocol-neutral ``Message``s, ``codes`` names the numbers and holds the one action table and the weird
codes, ``vendors`` the VendorIDs known by name. Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore, ProtocolSpec
from protocols.profinet.codes import ACTIONS, DCP_FRAME_IDS, ETHERTYPE, WEIRDS
from protocols.profinet.message import dcp_message
from protocols.profinet.wire import parse_dcp, parse_frame_id


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one ethertype 0x8892 payload (FrameID first), none for frames that are not DCP.

    Raises Malformed when the frame cannot be read: ``profinet_frame_truncated``, ``profinet_dcp_truncated``,
    ``profinet_dcp_bad_block_length``. ``is_request`` is unused: DCP says its own direction.
    """
    head = parse_frame_id(payload)
    if isinstance(head, NeedMore):
        raise Malformed("profinet_frame_truncated", 0, f"{len(payload)} octets")
    if head[0] not in DCP_FRAME_IDS:
        return []
    result = parse_dcp(payload)
    if isinstance(result, NeedMore):
        raise Malformed("profinet_dcp_truncated", len(payload), f"{result.needed} octets missing")
    return [dcp_message(result[0])]


SPEC = ProtocolSpec(
    name="profinet",
    ethertypes=frozenset({ETHERTYPE}),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
)

__all__ = ["ETHERTYPE", "SPEC", "datagram", "dcp_message", "parse_dcp", "parse_frame_id"]
