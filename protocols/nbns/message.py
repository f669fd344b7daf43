"""An NBNS message as a protocol-neutral ``Message``: names, action, direction, event fields and facts.

The function is the opcode, except that a query for NBSTAT (and its answer) is ``node_status``. Names are decoded
from the first-level encoding with their suffix. Facts:

- an NB record of a registration, refresh or multi-homed registration, or of a positive response to a query or a
  registration, names its NB_ADDRESS: a unique name with suffix <00> or <20> is the host's name (``hostname``
  about that address); in the registrant's own requests a group name with <00> or <1E> is the sender's workgroup
  or domain (identity ``workgroup``) and the group <1C> makes the sender a domain controller (role
  ``domain_controller``, identity ``domain``);
- a node status response describes its sender (``src``): the computer name (the unique <00> name) as hostname,
  identity ``name``, ``workgroup`` (the group <00> name) and ``mac_address`` (the statistics' UNIT_ID, unless 0).

A release gives a name up and a WACK only says "wait": neither says who has a name.
"""
from __future__ import annotations

from typing import Any

from protocols.base import ADDRESS, REQUEST, RESPONSE, Fact, Message, unknown_name
from protocols.dns.codes import AA, RA, RD, TC
from protocols.dns.names import plausible_name
from protocols.dns.wire import DnsWire, Record
from protocols.nbns.codes import (
    BROADCAST,
    DOMAIN_CONTROLLERS,
    HOST_SUFFIXES,
    NB,
    NBSTAT,
    SUFFIXES,
    TYPE_NAMES,
    WORKGROUP_SUFFIXES,
    Opcode,
    action_of,
    opcode_name,
    rcode_name,
)
from protocols.nbns.names import NetbiosName, netbios_name

NAMING = frozenset({Opcode.REGISTRATION, Opcode.REFRESH, Opcode.REFRESH_ALT, Opcode.MULTIHOMED_REGISTRATION})
ANSWERING = frozenset({Opcode.QUERY, *NAMING})  # opcodes whose positive responses say who has the name


def _type_name(value: int) -> str:
    return TYPE_NAMES.get(value) or unknown_name(value)


def _name_fields(name: NetbiosName | None, text: str) -> dict[str, Any]:
    if name is None:
        return {"name": text}
    return {"name": name.text, "netbios_name": name.bare, "suffix": name.suffix,
            "suffix_name": SUFFIXES.get(name.suffix) or unknown_name(name.suffix)}


def _record_fields(record: Record) -> dict[str, Any]:
    out = {**_name_fields(netbios_name(record.labels), record.name), "type": record.rtype,
           "type_name": _type_name(record.rtype), "ttl": record.ttl}
    if record.data is not None:
        out["data"] = record.data
    return out


def nbns_message(wire: DnsWire) -> Message:
    """The message; its weird is the wire's fault, else ``nbns_bad_name`` when a name is not first-level encoded."""
    f = wire.flags
    first_names = [netbios_name(q.labels) for q in wire.questions]
    fields: dict[str, Any] = {
        "transaction_id": wire.id, "response": wire.is_response, "opcode": wire.opcode, "rcode": wire.rcode,
        "rcode_name": rcode_name(wire.rcode), "authoritative": bool(f & AA), "truncated": bool(f & TC),
        "recursion_desired": bool(f & RD), "recursion_available": bool(f & RA), "broadcast": bool(f & BROADCAST),
    }
    queries = [{**_name_fields(n, q.name), "type": q.qtype, "type_name": _type_name(q.qtype)}
               for q, n in zip(wire.questions, first_names)]
    records = wire.answers + wire.authorities + wire.additionals
    about = queries[0] if queries else _record_fields(records[0]) if records else {}
    fields.update({k: about[k] for k in ("name", "netbios_name", "suffix", "suffix_name") if k in about})
    if queries:
        fields["queries"] = queries
    for key, section in (("answers", wire.answers), ("authorities", wire.authorities),
                         ("additionals", wire.additionals)):
        if section:
            fields[key] = [_record_fields(r) for r in section]
    addresses = [e["address"] for r in records if r.rtype == NB and isinstance(r.data, list) for e in r.data]
    if addresses:
        fields["addresses"] = addresses
    status = any(q.qtype == NBSTAT for q in wire.questions) or any(r.rtype == NBSTAT for r in wire.answers)
    name = "node_status" if status and wire.opcode == Opcode.QUERY else opcode_name(wire.opcode)
    bad_name = any(n is None for n in first_names) or any(netbios_name(r.labels) is None for r in records)
    return Message(function_code=wire.opcode, function_name=name, action=action_of(name),
                   direction=RESPONSE if wire.is_response else REQUEST, pair_key=_pair_key(wire), fields=fields,
                   facts=tuple(_facts(wire, records)), weird=wire.problem or ("nbns_bad_name" if bad_name else None))


def _pair_key(wire: DnsWire) -> int | None:
    """The transaction ID, except on a broadcast request: its answers (if any) come from other hosts, in flows of
    their own, so it could only wait in the pairing table until the table is full."""
    return None if wire.flags & BROADCAST and not wire.is_response else wire.id


def _facts(wire: DnsWire, records: tuple[Record, ...]) -> list[Fact]:
    if wire.is_response and wire.rcode != 0:
        return []
    facts: list[Fact] = []
    if wire.is_response:
        for record in wire.answers:
            if record.rtype == NBSTAT and isinstance(record.data, dict):
                facts += _status_facts(record.data)
    if wire.opcode in (ANSWERING if wire.is_response else NAMING):
        for record in records:
            name = netbios_name(record.labels)
            if record.rtype == NB and isinstance(record.data, list) and name is not None:
                for entry in record.data:
                    facts += _nb_facts(name, entry["address"], entry["group"], own=not wire.is_response)
    return facts


def _nb_facts(name: NetbiosName, address: str, group: bool, own: bool) -> list[Fact]:
    """``own``: the sender registers the name for itself; only then do group names say something, about the sender
    (``src``): a fact about the NB_ADDRESS other than a name would make that address an asset, and a forged
    registration or a response about another host must not (DESIGN: a name never makes an asset)."""
    if not plausible_name(name.bare) or address == "0.0.0.0":
        return []
    if not group and name.suffix in HOST_SUFFIXES:
        return [Fact("hostname", ADDRESS, name.bare, address=address)]
    if not own:
        return []
    if group and name.suffix in WORKGROUP_SUFFIXES:
        return [Fact("identity", "src", {"workgroup": name.bare})]
    if group and name.suffix == DOMAIN_CONTROLLERS:
        return [Fact("role", "src", "domain_controller"), Fact("identity", "src", {"domain": name.bare})]
    return []


def _status_facts(status: dict[str, Any]) -> list[Fact]:
    names = status["names"]
    computer = next((n["netbios_name"] for n in names if not n["group"] and n["suffix"] == 0x00
                     and plausible_name(n["netbios_name"])), None)
    workgroup = next((n["netbios_name"] for n in names if n["group"] and n["suffix"] == 0x00
                      and plausible_name(n["netbios_name"])), None)
    mac = status.get("unit_id")
    identity = {"name": computer, "workgroup": workgroup,
                "mac_address": mac if mac and mac != "00:00:00:00:00:00" else None}
    facts = [Fact("hostname", "src", computer)] if computer else []
    if any(v is not None for v in identity.values()):
        facts.append(Fact("identity", "src", {k: v for k, v in identity.items() if v is not None}))
    if any(n["group"] and n["suffix"] == DOMAIN_CONTROLLERS for n in names):
        facts.append(Fact("role", "src", "domain_controller"))
    return facts
