"""DNS (RFC 1035, RFC 3596): queries and answers on UDP 53, and on TCP 53 with a 2-octet length (§4.2.2).

``wire`` decodes the message format (names with compression, questions, records) that mDNS, LLMNR and NBNS share,
``rdata`` the data of the record types that name hosts and services, ``names`` which names answers give which
addresses (the inventory's hostnames), ``message`` turns a message into a protocol-neutral ``Message``, ``stream``
frames TCP, ``codes`` names the numbers and holds the one action table and the weird codes.
"""
from __future__ import annotations

from functools import partial

from protocols.base import Message, ProtocolSpec
from protocols.dns.codes import ACTIONS, PORT, WEIRDS
from protocols.dns.message import dns_message
from protocols.dns.rdata import decode_rdata
from protocols.dns.stream import LengthFramed
from protocols.dns.wire import DnsWire, parse_message


def parse(payload: bytes) -> DnsWire:
    """One DNS message (a datagram, or a TCP message without its length); raises ``Malformed`` below 12 octets."""
    return parse_message(payload, decode_rdata)[0]


def messages(payload: bytes) -> list[Message]:
    return [dns_message(parse(payload))]


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload; DNS says its own direction (QR), so ``is_request`` is unused."""
    return messages(payload)


SPEC = ProtocolSpec(
    name="dns",
    ports=frozenset({("udp", PORT), ("tcp", PORT)}),
    framer=partial(LengthFramed, parse=messages),
    datagram=datagram,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["PORT", "SPEC", "LengthFramed", "datagram", "dns_message", "messages", "parse"]
