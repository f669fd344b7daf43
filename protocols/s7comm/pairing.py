"""What an S7 response means once its request is known (``ProtocolSpec.complete``).

Each direction of a flow is framed on its own, so a response is first decoded alone. Two things only
the pair can tell:

- the refined action: an S7comm-plus response does not repeat the object its request addressed, so
  the SetVariable that stops the CPU, the CreateObject that downloads a block or opens the session,
  and the SetVariable that only renews a subscription's credit are known from the request alone;
- which variables a read var response's data items are: the response lists values in the order of
  the request's items, without their addresses. The request's items go into the response's fields
  (``request_items``), so its values are named; points stay on the request (``Point.values`` are
  values written).

Pure: no state, no I/O.
"""
from __future__ import annotations

from dataclasses import replace

from protocols.base import REQUEST, RESPONSE, Message

_CONTEXT = ("object", "object_id", "attribute", "session_id")


def complete(request: Message, response: Message) -> Message:
    """The response with its request's action and context; ``response`` itself when they are no pair."""
    if (request.direction != REQUEST or response.direction != RESPONSE or request.pair_key != response.pair_key
            or request.function_code != response.function_code
            or request.fields.get("pdu") != response.fields.get("pdu")):
        return response
    fields = dict(response.fields)
    if response.fields.get("pdu") == "s7comm_plus":
        for key in _CONTEXT:
            if key in request.fields and key not in fields:
                fields[key] = request.fields[key]
    elif "items" in request.fields and "data_items" in fields:
        fields["request_items"] = request.fields["items"]
    if fields == response.fields and request.action == response.action:
        return response
    return replace(response, action=request.action, fields=fields)
