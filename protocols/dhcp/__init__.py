"""DHCPv4 and BOOTP (RFC 951, RFC 2131, RFC 2132): how hosts get their addresses, and what they call themselves.

Where it lives: UDP 67 (servers and relays) and 68 (clients). For the inventory DHCP is a naming protocol: a
client tells its host name, FQDN, vendor class and parameter request list (a fingerprint of its DHCP stack)
under its hardware address, and a server's ACK binds that address to an IP. ``wire`` decodes datagrams into
records, ``message`` turns them into protocol-neutral ``Message``s with their facts, ``names`` reads and checks
host names, ``codes`` names the numbers and holds the one action table and the weird codes.
"""
from __future__ import annotations

from protocols.base import Message, ProtocolSpec
from protocols.dhcp.codes import ACTIONS, CLIENT_PORT, SERVER_PORT, WEIRDS
from protocols.dhcp.message import bootp_message
from protocols.dhcp.wire import parse_bootp


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload. Raises Malformed (``dhcp_truncated``, ``dhcp_bad_op``) when it is not
    BOOTP. ``is_request`` is unused: op says the direction, and the port a flow is keyed on cannot (a relay
    and a server both send from 67, and a server may answer first on a flow the sensor has not seen open)."""
    record, _ = parse_bootp(payload)
    return [bootp_message(record)]


SPEC = ProtocolSpec(
    name="dhcp",
    ports=frozenset({("udp", SERVER_PORT), ("udp", CLIENT_PORT)}),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["SPEC", "bootp_message", "datagram", "parse_bootp"]
