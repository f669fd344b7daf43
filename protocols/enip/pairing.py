"""What a CIP reply means once its request is known.

A CIP reply does not repeat its request's path (Vol 1 §2-4.2): the reply to a Get_Attributes_All
of the Identity object is 24+ anonymous bytes, a Read Tag reply does not name its tag, and an
Unconnected Send's reply does not say which slot it came from. Each direction of a flow is framed
on its own, so a reply is first decoded alone (with a guessed name, raw data kept in ``data``);
whoever pairs a response with its request (same flow, same ``pair_key``) calls ``complete`` to get
the reply with the request's name and action and the facts that need both:

- the Identity the reply carries: an ``identity`` of the server, or, when the request went through a
  backplane route (Unconnected Send, port 1, link = slot), a ``module`` of the server's chassis;
- the request's context in the reply's fields (class, instance, attribute, tag, route), so a Read Tag
  reply's values are named (points stay on the request: ``Point.values`` are values written).

Pure: no state, no I/O.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from protocols.base import Fact, Message
from protocols.enip.codes import ObjectClass
from protocols.enip.messages import BACKPLANE_PORT, identity_fact, identity_fields
from protocols.enip.wire import parse_identity_attributes

_CONTEXT_FIELDS = ("class_id", "class_name", "instance_id", "attribute_id", "tag", "route_path",
                   "unconnected_send", "attributes")
_IDENTITY_ATTRIBUTE_SIZES = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 4, 8: 1}  # attribute id -> bytes (7 is a SHORT_STRING)


def complete(request: Message, response: Message) -> Message:
    """The response, renamed after its request and with the facts only the pair can tell.

    Returns ``response`` itself when the two are not a request/response pair of one service.
    """
    if (request.direction != "request" or response.direction != "response"
            or request.function_code != response.function_code or request.pair_key != response.pair_key):
        return response
    fields = dict(response.fields)
    fields["service_name"] = request.function_name
    for key in _CONTEXT_FIELDS:
        if key in request.fields and key not in fields:
            fields[key] = request.fields[key]
    facts = list(response.facts)
    if fields.get("general_status") in (0x00, 0x06):
        facts.extend(_identity_facts(request, fields))
    return replace(response, function_name=request.function_name, action=request.action, fields=fields,
                   facts=tuple(facts))


def _slot(request: Message) -> int | None:
    route = request.fields.get("route_path")
    if route and route[0]["port"] == BACKPLANE_PORT and isinstance(route[0]["link"], int):
        return route[0]["link"]
    return None


def _identity_facts(request: Message, fields: dict[str, Any]) -> list[Fact]:
    """Identity attributes from Get_Attributes_All / Get_Attribute_Single / Get_Attribute_List of class 1."""
    if request.fields.get("class_id") != ObjectClass.IDENTITY or "data" not in fields:
        return []
    data = bytes.fromhex(fields["data"])
    service = request.function_code
    raw: dict[str, Any] = {}
    if service == 0x01:
        raw, _ = parse_identity_attributes(data, 0)
    elif service == 0x0E:
        raw = _identity_attribute(request.fields.get("attribute_id"), data)
    elif service == 0x03:
        raw = _identity_attribute_list(data)
    if not raw:
        return []
    fields["identity"] = identity_fields(raw)
    value = identity_fact(raw)
    if not value:
        return []
    slot = _slot(request)
    if slot is not None:
        return [Fact("module", "server", {"slot": slot, **value})]
    return [Fact("identity", "server", value)]


def _identity_attribute(attribute: int | None, data: bytes, pos: int = 0) -> dict[str, Any]:
    """One Identity attribute's value (Vol 1 §5-2.2.1); {} when it does not fit."""
    if attribute == 7:
        if pos < len(data) and pos + 1 + data[pos] <= len(data):
            return {"product_name": data[pos + 1:pos + 1 + data[pos]].decode("latin-1")}
        return {}
    size = _IDENTITY_ATTRIBUTE_SIZES.get(attribute or 0)
    if size is None or pos + size > len(data):
        return {}
    value = int.from_bytes(data[pos:pos + size], "little")
    if attribute == 4:
        return {"revision_major": data[pos], "revision_minor": data[pos + 1]}
    key = {1: "vendor_id", 2: "device_type", 3: "product_code", 5: "status", 6: "serial_number", 8: "state"}
    return {key[attribute]: value}  # type: ignore[index]


def _identity_attribute_list(data: bytes) -> dict[str, Any]:
    """Get_Attribute_List reply: count u16, then (id u16, status u16, value) per attribute; stops at
    the first attribute whose size is unknown or whose status is not success."""
    if len(data) < 2:
        return {}
    count = int.from_bytes(data[:2], "little")
    pos, out = 2, {}
    for _ in range(count):
        if pos + 4 > len(data):
            break
        attribute = int.from_bytes(data[pos:pos + 2], "little")
        status = int.from_bytes(data[pos + 2:pos + 4], "little")
        pos += 4
        if status != 0:
            break
        value = _identity_attribute(attribute, data, pos)
        if not value:
            break
        out.update(value)
        pos += 1 + data[pos] if attribute == 7 else _IDENTITY_ATTRIBUTE_SIZES[attribute]
    return out
