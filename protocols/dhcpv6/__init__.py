"""DHCPv6 (RFC 8415): how IPv6 hosts get addresses and configuration, and what they call themselves.

Where it lives: UDP 546 (clients) and 547 (servers and relay agents). For the inventory DHCPv6 names hosts: a
client's DUID carries a MAC of it, its client FQDN (RFC 4704) its name, its vendor class and Option Request
option a fingerprint of its stack, and a server's REPLY binds addresses to it. ``wire`` decodes datagrams into
records (relay chains unwrapped), ``message`` turns them into protocol-neutral ``Message``s with their facts,
``codes`` names the numbers and holds the one action table and the weird codes. Host names are read and checked
with DHCPv4's ``protocols.dhcp.names``.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, ProtocolSpec
from protocols.dhcpv6.codes import ACTIONS, CLIENT_PORT, SERVER_PORT, WEIRDS
from protocols.dhcpv6.message import dhcpv6_message
from protocols.dhcpv6.wire import parse_dhcpv6


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload; raises Malformed(``dhcpv6_truncated``) when even the header is missing.
    ``is_request`` is unused: the message type says the direction."""
    if not payload:
        raise Malformed("dhcpv6_truncated", 0, "empty payload")
    record, _ = parse_dhcpv6(payload)
    return [dhcpv6_message(record, payload[0])]


SPEC = ProtocolSpec(
    name="dhcpv6",
    ports=frozenset({("udp", CLIENT_PORT), ("udp", SERVER_PORT)}),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["SPEC", "datagram", "dhcpv6_message", "parse_dhcpv6"]
