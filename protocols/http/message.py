"""HTTP heads into protocol-neutral ``Message``s with the facts they teach the inventory, and the pairing.

- a request's Host (RFC 9110 §7.2) is the name the client used for the server: a ``hostname`` about the server
  when it is a host name (the port stripped; IP literals are not names);
- User-Agent (§10.1.5) is ``identity`` of the client (``http_user_agent``), Server (§10.2.4) ``identity`` of
  the server (``http_server``), kept verbatim: PLCs and gateways name their firmware there.

Requests and responses pair in order (RFC 9112 §9.3: responses come in the order of the requests): the pair key
is the request's number on its connection; interim 1xx responses pair with nothing. A response alone does not
know its method: ``complete`` gives it the request's function and action.
"""
from __future__ import annotations

from dataclasses import replace

from protocols.base import REQUEST, RESPONSE, Fact, Message
from protocols.http.codes import ACTIONS, METHOD_CODES
from protocols.http.wire import Head
from protocols.tls.names import host_name

RESPONSE_NAME = "response"  # a response's function until its request is known


def host_of(value: str | None) -> str | None:
    """The host of a Host header value (``name:port``), when it is a name; None for IP literals and junk."""
    if not value:
        return None
    if value.startswith("["):  # an IPv6 literal
        return None
    return host_name(value.rsplit(":", 1)[0] if value.count(":") == 1 else value)


def _common(head: Head) -> dict:
    fields: dict = {"version": head.version, "content_type": head.header("content-type"),
                    "content_length": head.header("content-length"),
                    "transfer_encoding": head.header("transfer-encoding")}
    return fields


def request_message(head: Head, number: int) -> Message:
    method = head.method or ""
    name = method.lower()
    fields = {"method": method, "target": head.target, "host": head.header("host"),
              "user_agent": head.header("user-agent"), **_common(head)}
    facts: list[Fact] = []
    host = host_of(fields["host"])
    if host:
        facts.append(Fact("hostname", "server", host))
    if fields["user_agent"]:
        facts.append(Fact("identity", "client", {"http_user_agent": fields["user_agent"]}))
    return Message(METHOD_CODES.get(method, 0), name, ACTIONS.get(name, "other"), REQUEST, number, fields,
                   tuple(facts), head.weird)


def response_message(head: Head, number: int | None) -> Message:
    """``number``: the request it answers, None for an interim (1xx) response."""
    fields = {"status_code": head.status_code, "reason": head.reason, "server": head.header("server"),
              **_common(head)}
    facts = (Fact("identity", "server", {"http_server": fields["server"]}),) if fields["server"] else ()
    return Message(0, RESPONSE_NAME, "other", RESPONSE, number, fields, facts, head.weird)


def complete(request: Message, response: Message) -> Message:
    """The response with its request's method, function and action."""
    if request.direction != REQUEST or response.direction != RESPONSE:
        return response
    return replace(response, function_code=request.function_code, function_name=request.function_name,
                   action=request.action, fields={"method": request.fields.get("method"), **response.fields})
