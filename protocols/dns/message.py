"""A DNS message as a protocol-neutral ``Message``: names, action, direction, event fields and facts.

Event fields follow Zeek's dns.log where it has a word (``query``, ``qtype_name``, ``rcode_name``, ``answers``) and
Wireshark's type names (``A``, ``PTR``...). The function is the OPCODE (a query, an update...); a response is a
response to the query with the same ID in the same flow (``pair_key``). mDNS and LLMNR build their messages from
the same pieces (``header_fields``, ``section_fields``) and add what their RFC changes.

Facts come from responses only, and only from the answer section: a DNS server is not the host it names, so every
name is about the address the answer gives (``names.hostname_facts``). The server gets no role: it is known by its
service (dns on port 53), and a ``*_server`` role would make it a PLC to device typing.
"""
from __future__ import annotations

from typing import Any

from protocols.base import REQUEST, RESPONSE, Message
from protocols.dns.codes import (
    AA,
    AD,
    CD,
    CLASS_MASK,
    RA,
    RD,
    TC,
    TOP_BIT,
    action_of,
    class_name,
    opcode_name,
    rcode_name,
    type_name,
)
from protocols.dns.names import hostname_facts
from protocols.dns.wire import DnsWire, Question, Record

SECTIONS = (("answers", "answers"), ("authorities", "authorities"), ("additionals", "additionals"))


def header_fields(wire: DnsWire) -> dict[str, Any]:
    """ID, QR, opcode and rcode (the flags between them differ between DNS and LLMNR)."""
    return {"transaction_id": wire.id, "response": wire.is_response, "opcode": wire.opcode,
            "rcode": wire.rcode, "rcode_name": rcode_name(wire.rcode)}


def dns_flags(wire: DnsWire) -> dict[str, bool]:
    """AA, TC, RD, RA, AD, CD (RFC 1035 §4.1.1, RFC 4035 §3.2)."""
    f = wire.flags
    return {"authoritative": bool(f & AA), "truncated": bool(f & TC), "recursion_desired": bool(f & RD),
            "recursion_available": bool(f & RA), "authentic_data": bool(f & AD), "checking_disabled": bool(f & CD)}


def question_fields(question: Question, mdns: bool = False) -> dict[str, Any]:
    qclass = question.qclass & CLASS_MASK if mdns else question.qclass
    out: dict[str, Any] = {"name": question.name, "type": question.qtype, "type_name": type_name(question.qtype),
                           "class": qclass, "class_name": class_name(qclass)}
    if mdns:
        out["unicast_response"] = bool(question.qclass & TOP_BIT)
    return out


def record_fields(record: Record, mdns: bool = False) -> dict[str, Any]:
    rclass = record.rclass & CLASS_MASK if mdns else record.rclass
    out: dict[str, Any] = {"name": record.name, "type": record.rtype, "type_name": type_name(record.rtype),
                           "class": rclass, "ttl": record.ttl}
    if mdns:
        out["cache_flush"] = bool(record.rclass & TOP_BIT)
    if record.data is not None:
        out["data"] = record.data
    elif record.rdlength:
        out["rdlength"] = record.rdlength
    return out


def section_fields(wire: DnsWire, mdns: bool = False) -> dict[str, Any]:
    """The questions (and the first one as Zeek's ``query``/``qtype``), and each non-empty record section."""
    out: dict[str, Any] = {}
    if wire.questions:
        first = wire.questions[0]
        out.update(query=first.name, qtype=first.qtype, qtype_name=type_name(first.qtype))
        out["queries"] = [question_fields(q, mdns) for q in wire.questions]
    for field, attribute in SECTIONS:
        records: tuple[Record, ...] = getattr(wire, attribute)
        if records:
            out[field] = [record_fields(r, mdns) for r in records]
    return out


def dns_message(wire: DnsWire) -> Message:
    """The message of one DNS query or response."""
    name = opcode_name(wire.opcode)
    fields = {**header_fields(wire), **dns_flags(wire), **section_fields(wire)}
    facts = hostname_facts(wire.answers) if wire.is_response and wire.rcode == 0 else []
    return Message(function_code=wire.opcode, function_name=name, action=action_of(name),
                   direction=RESPONSE if wire.is_response else REQUEST, pair_key=wire.id, fields=fields,
                   facts=tuple(facts), weird=wire.problem)
