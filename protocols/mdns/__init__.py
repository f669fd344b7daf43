"""Multicast DNS (RFC 6762) on UDP 5353, with DNS-SD service announcements (RFC 6763).

The message format is DNS's (``protocols.dns.wire``, one parser for all); mDNS changes three things this package
reads: the top bit of a question's class asks for a unicast response, the top bit of a record's class flushes
caches (RFC 6762 §5.4, §10.2), and responses go to the group without repeating the question, so a response
without questions is an ``announce`` (an unsolicited announcement or a multicast answer: the same thing to the
link). A response that repeats its question answers a legacy unicast query (§6.7). Nothing pairs: a query goes to
the group and its answers come from other hosts, flows of their own, so messages carry no ``pair_key``.
``services`` turns announced services, HINFO and device-info into facts.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, Message, ProtocolSpec
from protocols.dns import parse
from protocols.dns.codes import WIRE_WEIRDS, opcode_name
from protocols.dns.message import dns_flags, header_fields, section_fields
from protocols.dns.names import hostname_facts
from protocols.dns.wire import DnsWire
from protocols.mdns.services import service_facts, split_instance

PORT = 5353

ACTIONS: Mapping[str, str] = MappingProxyType({
    # Queries look for hosts and services on the link and responses announce them: discovery, which changes
    # nothing. RFC 6762 §18.3 allows no other opcode (any other is ``other``).
    "query": "discovery",
})

WEIRDS: Mapping[str, str] = WIRE_WEIRDS


def mdns_message(wire: DnsWire) -> Message:
    name = opcode_name(wire.opcode)
    fields = {**header_fields(wire), **dns_flags(wire), **section_fields(wire, mdns=True)}
    if not wire.is_response:
        direction = REQUEST
    else:
        direction = RESPONSE if wire.questions else ANNOUNCE
    facts = []
    if wire.is_response and wire.rcode == 0:
        records = wire.answers + wire.additionals  # RFC 6762 §6: a host's addresses ride in the additional section
        facts = hostname_facts(records) + service_facts(records)
    return Message(function_code=wire.opcode, function_name=name, action=ACTIONS.get(name, "other"),
                   direction=direction, pair_key=None, fields=fields, facts=tuple(facts), weird=wire.problem)


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload; mDNS says its own direction (QR), so ``is_request`` is unused."""
    return [mdns_message(parse(payload))]


SPEC = ProtocolSpec(name="mdns", ports=frozenset({("udp", PORT)}), datagram=datagram, actions=ACTIONS,
                    weirds=WEIRDS, industrial=False)

__all__ = ["PORT", "SPEC", "datagram", "mdns_message", "service_facts", "split_instance"]
