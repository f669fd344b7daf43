"""CDP, the Cisco Discovery Protocol (versions 1 and 2): Cisco devices (and phones, access points, some
hosts) announcing themselves to their directly connected neighbours.

Where it lives: IEEE 802.3 frames with LLC/SNAP, OUI 00-00-0C and PID 0x2000 (``snap_ids``), sent to
01:00:0c:cc:cc:cc. The checksum is not verified (``wire`` says why). ``wire`` cuts a frame into TLVs and
decodes their values, ``message`` turns it into a protocol-neutral ``Message`` with the facts LLDP gives too,
``codes`` names the numbers and holds the action table and the weird codes. Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore, ProtocolSpec
from protocols.cdp.codes import ACTIONS, OUI_CISCO, PID_CDP, WEIRDS
from protocols.cdp.message import cdp_message
from protocols.cdp.wire import parse_cdp


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one CDP payload (after the SNAP header); Malformed ``cdp_truncated`` when it is shorter
    than the CDP header. ``is_request`` is unused: every CDP frame is an announcement."""
    result = parse_cdp(payload)
    if isinstance(result, NeedMore):
        raise Malformed("cdp_truncated", 0, f"{len(payload)} octets")
    return [cdp_message(result[0])]


SPEC = ProtocolSpec(
    name="cdp",
    snap_ids=frozenset({(OUI_CISCO, PID_CDP)}),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["SPEC", "cdp_message", "datagram", "parse_cdp"]
