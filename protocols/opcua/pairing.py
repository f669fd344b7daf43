"""What a response means once its request is known (pairing by request id, Part 6 §6.7.2.4).

A ReadResponse lists values in the order of the request's NodesToRead and does not repeat them, so the
BuildInfo variables of the Server object (ns=0;i=2261..2265: product name, product URI, manufacturer,
software version, build number; Part 5 §12.4) name the server only when the request is known. A
ServiceFault answers any request: it takes the request's function and action. Pure: no state, no I/O.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from protocols.base import Fact, Message
from protocols.opcua.codes import BUILD_INFO_NODES, VALUE_ATTRIBUTE
from protocols.opcua.services import build_info_identity

READ_REQUEST, READ_RESPONSE, SERVICE_FAULT = 631, 634, 397


def complete(request: Message, response: Message) -> Message:
    """The response with what only the pair tells; ``response`` itself when there is nothing to add."""
    if request.direction != "request" or response.direction != "response" or request.pair_key != response.pair_key:
        return response
    if response.function_code == SERVICE_FAULT and request.function_name != response.function_name:
        fields = dict(response.fields)
        fields["request_service"] = request.fields.get("service")
        return replace(response, function_name=request.function_name, action=request.action, fields=fields)
    if request.function_code == READ_REQUEST and response.function_code == READ_RESPONSE:
        return _read(request, response)
    return response


def _read(request: Message, response: Message) -> Message:
    nodes = request.fields.get("nodes_to_read") or []
    results = response.fields.get("results") or []
    info: dict[str, Any] = {}
    named = []
    for node, result in zip(nodes, results):
        named.append({"node_id": node["node_id"], **result})
        key = BUILD_INFO_NODES.get(_ns0_numeric(node["node_id"]) or -1)
        value = result.get("value")
        if key and node["attribute_id"] == VALUE_ATTRIBUTE and isinstance(value, str) and value:
            info[key] = value
    fields = dict(response.fields)
    fields["results"] = named + results[len(named):]
    facts = list(response.facts)
    identity = build_info_identity(info)
    if identity:
        facts.append(Fact("identity", "server", identity))
    return replace(response, fields=fields, facts=tuple(facts))


def _ns0_numeric(node_id: str) -> int | None:
    """2261 for ``i=2261`` (namespace 0); None for anything else."""
    if node_id.startswith("i=") and node_id[2:].isdigit():
        return int(node_id[2:])
    return None
