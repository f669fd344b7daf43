"""NetBIOS Name Service (RFC 1001 §15, RFC 1002 §4.2) on UDP 137: name queries, registrations, releases, refreshes
and node status, read with the DNS wire parser (``protocols.dns.wire``: NBNS messages have DNS's layout and name
compression) and this package's record data (``rdata``), names (``names``) and meaning (``message``).
"""
from __future__ import annotations

from protocols.base import Message, ProtocolSpec
from protocols.dns.wire import parse_message
from protocols.nbns.codes import ACTIONS, PORT, WEIRDS
from protocols.nbns.message import nbns_message
from protocols.nbns.names import NetbiosName, netbios_name
from protocols.nbns.rdata import decode_rdata


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload; NBNS says its own direction (R bit), so ``is_request`` is unused."""
    return [nbns_message(parse_message(payload, decode_rdata)[0])]


SPEC = ProtocolSpec(name="nbns", ports=frozenset({("udp", PORT)}), datagram=datagram, actions=ACTIONS,
                    weirds=WEIRDS, industrial=False)

__all__ = ["PORT", "SPEC", "NetbiosName", "datagram", "nbns_message", "netbios_name"]
