"""Link-Local Multicast Name Resolution (RFC 4795) on UDP and TCP 5355.

The message format is DNS's (``protocols.dns.wire``), with other flags (§2.1.1): C (conflict), TC and T
(tentative) where DNS has AA, TC and RD. Queries go to 224.0.0.252 / ff02::1:3; the host that owns the name answers
unicast with its own addresses, which name it (``hostname`` facts about each address). That answer is a flow of its
own (another host, to the querier), so nothing pairs: messages carry no ``pair_key``, and unanswerable queries do
not fill the pairing table. Over TCP each message has DNS's 2-octet length (§2.5, RFC 1035 §4.2.2).
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import MappingProxyType

from protocols.base import REQUEST, RESPONSE, Message, ProtocolSpec
from protocols.dns import parse
from protocols.dns.codes import STREAM_WEIRDS, WIRE_WEIRDS, opcode_name
from protocols.dns.message import header_fields, section_fields
from protocols.dns.names import hostname_facts
from protocols.dns.stream import LengthFramed
from protocols.dns.wire import DnsWire

PORT = 5355
CONFLICT, TC, TENTATIVE = 0x0400, 0x0200, 0x0100

ACTIONS: Mapping[str, str] = MappingProxyType({
    # A query asks the link which host has a name: discovery, changing nothing. §2.1.1 allows no other opcode.
    "query": "discovery",
})

WEIRDS: Mapping[str, str] = MappingProxyType({**WIRE_WEIRDS, **STREAM_WEIRDS})


def llmnr_message(wire: DnsWire) -> Message:
    name = opcode_name(wire.opcode)
    f = wire.flags
    fields = {**header_fields(wire), "conflict": bool(f & CONFLICT), "truncated": bool(f & TC),
              "tentative": bool(f & TENTATIVE), **section_fields(wire)}
    facts = hostname_facts(wire.answers) if wire.is_response and wire.rcode == 0 else []
    return Message(function_code=wire.opcode, function_name=name, action=ACTIONS.get(name, "other"),
                   direction=RESPONSE if wire.is_response else REQUEST, pair_key=None, fields=fields,
                   facts=tuple(facts), weird=wire.problem)


def messages(payload: bytes) -> list[Message]:
    return [llmnr_message(parse(payload))]


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The message of one UDP payload; LLMNR says its own direction (QR), so ``is_request`` is unused."""
    return messages(payload)


SPEC = ProtocolSpec(name="llmnr", ports=frozenset({("udp", PORT), ("tcp", PORT)}),
                    framer=partial(LengthFramed, parse=messages), datagram=datagram, actions=ACTIONS, weirds=WEIRDS, industrial=False)

__all__ = ["PORT", "SPEC", "datagram", "llmnr_message", "messages"]
