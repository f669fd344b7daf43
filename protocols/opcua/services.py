"""Service bodies in the clear (Part 4 §5, encoded per Part 6 §5.2): the fields and facts worth an event.

A body starts with its type id (a NodeId, read by the caller) and a request or response header. Only
the services that name things, read or write data are decoded past the header: discovery (GetEndpoints,
FindServers), sessions (CreateSession, ActivateSession), secure channel set-up (OpenSecureChannel),
Read/Write/Browse/Call/HistoryRead with their node ids (MAX_LIST_ITEMS kept), Write values when they are
scalars, and ReadResponse values (BuildInfo names the server). ``decode`` returns what it read; when the
body ends early it raises Malformed, and the caller keeps the fields read until then.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from protocols.base import Fact, Point
from protocols.opcua import certs
from protocols.opcua.binary import MAX_LIST_ITEMS, Reader
from protocols.opcua.codes import (
    IDENTITY_TOKENS,
    VALUE_ATTRIBUTE,
    application_type_name,
    request_type_name,
    security_mode_name,
    user_token_type_name,
)

NODE_SPACE = "opcua_node"  # Point.space of OPC UA nodes (named by NodeId text)
MAX_HOSTNAMES = 4  # hostname facts one message gives
_URL_HOST = re.compile(r"^[a-z][a-z0-9.+-]*://\[?([^\]/:?#]+)", re.IGNORECASE)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")
_NOT_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class Out:
    """What a decoder builds: event fields and inventory facts."""

    __slots__ = ("facts", "fields")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.facts: list[Fact] = []


def url_hostname(url: str | None) -> str | None:
    """The host of ``opc.tcp://NAME:4840/path`` when it is a name (not an address, not localhost)."""
    match = _URL_HOST.match(url or "")
    if not match or "[" in url[:match.end()]:  # an IPv6 literal
        return None
    host = match.group(1).rstrip(".").lower()
    if host in _NOT_NAMES or not _HOSTNAME.match(host) or host.replace(".", "").isdigit() or ":" in host:
        return None
    return host


def hostname_facts(out: Out, urls: list[str | None]) -> None:
    """Hostname facts about the server from endpoint URLs (each name once, at most MAX_HOSTNAMES)."""
    seen: list[str] = []
    for url in urls:
        name = url_hostname(url)
        if name and name not in seen and len(seen) < MAX_HOSTNAMES:
            seen.append(name)
            out.facts.append(Fact("hostname", "server", name))


def certificate_fields(out: Out, key: str, r: Reader) -> None:
    """A ByteString certificate: its size and, when it parses, its subject's CN and O."""
    start, size = r.bytestring_span()
    if size <= 0:
        return
    out.fields[f"{key}_size"] = size
    subject = certs.subject(bytes(r.buf[start:start + min(size, 8192)]))
    if subject:
        out.fields[f"{key}_subject"] = subject


def application_description(r: Reader) -> dict[str, Any]:
    """ApplicationDescription (Part 4 §7.2)."""
    out = {"application_uri": r.string(), "product_uri": r.string(), "application_name": r.localized_text(),
           "application_type": application_type_name(r.i32())}
    r.string()  # gatewayServerUri
    r.string()  # discoveryProfileUri
    out["discovery_urls"] = r.array(Reader.string, keep=4)
    return {k: v for k, v in out.items() if v is not None}


def application_identity(description: dict[str, Any]) -> dict[str, Any]:
    """Identity keys an ApplicationDescription gives: name, product_uri, application_uri."""
    value = {"name": description.get("application_name"), "product_uri": description.get("product_uri"),
             "application_uri": description.get("application_uri")}
    return {k: v for k, v in value.items() if v}


def endpoint_description(r: Reader) -> dict[str, Any]:
    """EndpointDescription (Part 4 §7.14)."""
    out: dict[str, Any] = {"endpoint_url": r.string(), "server": application_description(r)}
    r.bytestring_span()  # serverCertificate
    out["security_mode"] = security_mode_name(r.i32())
    out["security_policy_uri"] = r.string()
    out["user_token_types"] = r.array(_user_token_policy, keep=8)
    r.string()  # transportProfileUri
    out["security_level"] = r.u8()
    return out


def _user_token_policy(r: Reader) -> str:
    r.string()  # policyId
    kind = user_token_type_name(r.i32())
    r.string()  # issuedTokenType
    r.string()  # issuerEndpointUrl
    r.string()  # securityPolicyUri
    return kind


def _endpoints(out: Out, r: Reader, key: str) -> None:
    endpoints = r.array(endpoint_description, keep=MAX_LIST_ITEMS) or []
    out.fields[key] = endpoints
    if endpoints:
        identity = application_identity(endpoints[0]["server"])
        if identity:
            out.facts.append(Fact("identity", "server", identity))
        hostname_facts(out, [e.get("endpoint_url") for e in endpoints])


# -- requests ------------------------------------------------------------------------------------------------

def _open_secure_channel_request(out: Out, r: Reader) -> None:
    out.fields["client_protocol_version"] = r.u32()
    out.fields["request_type"] = request_type_name(r.i32())
    out.fields["security_mode"] = security_mode_name(r.i32())
    r.bytestring_span()  # clientNonce
    out.fields["requested_lifetime"] = r.u32()


def _get_endpoints_request(out: Out, r: Reader) -> None:
    url = out.fields["endpoint_url"] = r.string()
    hostname_facts(out, [url])


def _find_servers_request(out: Out, r: Reader) -> None:
    out.fields["endpoint_url"] = r.string()


def _create_session_request(out: Out, r: Reader) -> None:
    client = application_description(r)
    out.fields["client_description"] = client
    out.fields["server_uri"] = r.string()
    url = out.fields["endpoint_url"] = r.string()
    out.fields["session_name"] = r.string()
    r.bytestring_span()  # clientNonce
    certificate_fields(out, "client_certificate", r)
    out.fields["requested_session_timeout"] = r.f64()
    identity = application_identity(client)
    if identity:
        out.facts.append(Fact("identity", "client", identity))
    hostname_facts(out, [url])


def _activate_session_request(out: Out, r: Reader) -> None:
    r.string()  # clientSignature.algorithm
    r.bytestring_span()  # clientSignature.signature
    r.array(lambda x: (x.bytestring_span(), x.bytestring_span()), keep=0)  # clientSoftwareCertificates
    out.fields["locale_ids"] = r.array(Reader.string, keep=4)
    type_id, start, size = r.extension_object()
    out.fields["identity_token_type"] = IDENTITY_TOKENS.get(type_id or -1, f"i={type_id}")
    if type_id == 324 and size > 0:  # UserNameIdentityToken: policyId, userName (the password is encrypted)
        token = Reader(r.buf, start, start + size)
        token.string()
        out.fields["user_name"] = token.string()


def _read_value_id(r: Reader) -> dict[str, Any]:
    node = r.node_id()
    attribute = r.u32()
    r.string()  # indexRange
    r.qualified_name()  # dataEncoding
    return {"node_id": node, "attribute_id": attribute}


def _read_request(out: Out, r: Reader) -> None:
    out.fields["max_age"] = r.f64()
    out.fields["timestamps_to_return"] = r.i32()
    nodes = out.fields["nodes_to_read"] = r.array(_read_value_id) or []
    _points(out, nodes, "read")


def _write_value(r: Reader) -> dict[str, Any]:
    node = r.node_id()
    attribute = r.u32()
    r.string()  # indexRange
    item: dict[str, Any] = {"node_id": node, "attribute_id": attribute}
    value = r.data_value()
    if "value" in value:
        item["value"] = value["value"]
    return item


def _write_request(out: Out, r: Reader) -> None:
    nodes = out.fields["nodes_to_write"] = r.array(_write_value) or []
    _points(out, nodes, "write")


def _points(out: Out, nodes: list[dict[str, Any]], access: str) -> None:
    """A point per node whose Value attribute is read or written (other attributes are metadata)."""
    for node in nodes:
        if node["attribute_id"] == VALUE_ATTRIBUTE:
            values = (node["value"],) if "value" in node and _scalar(node["value"]) else None
            out.facts.append(Fact("point", "server", Point(NODE_SPACE, None, 1, access, node["node_id"], values)))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _browse_description(r: Reader) -> str:
    node = r.node_id()
    r.i32()  # browseDirection
    r.node_id()  # referenceTypeId
    r.skip(1 + 4 + 4)  # includeSubtypes, nodeClassMask, resultMask
    return node


def _browse_request(out: Out, r: Reader) -> None:
    r.node_id()  # view.viewId
    r.skip(8 + 4)  # view.timestamp, view.viewVersion
    out.fields["requested_max_references_per_node"] = r.u32()
    out.fields["nodes_to_browse"] = r.array(_browse_description)


def _call_method(r: Reader) -> dict[str, Any]:
    item = {"object_id": r.node_id(), "method_id": r.node_id()}
    item["input_arguments"] = r.array(Reader.variant, keep=8)
    return item


def _call_request(out: Out, r: Reader) -> None:
    out.fields["methods_to_call"] = r.array(_call_method)


def _history_read_value_id(r: Reader) -> str:
    node = r.node_id()
    r.string()
    r.qualified_name()
    r.bytestring_span()
    return node


def _history_read_request(out: Out, r: Reader) -> None:
    r.extension_object()  # historyReadDetails
    out.fields["timestamps_to_return"] = r.i32()
    r.skip(1)  # releaseContinuationPoints
    out.fields["nodes_to_read"] = r.array(_history_read_value_id)


# -- responses -----------------------------------------------------------------------------------------------

def _open_secure_channel_response(out: Out, r: Reader) -> None:
    out.fields["server_protocol_version"] = r.u32()
    out.fields["channel_id"] = r.u32()
    out.fields["token_id"] = r.u32()
    r.skip(8)  # createdAt
    out.fields["revised_lifetime"] = r.u32()


def _get_endpoints_response(out: Out, r: Reader) -> None:
    _endpoints(out, r, "endpoints")


def _find_servers_response(out: Out, r: Reader) -> None:
    out.fields["servers"] = r.array(application_description)  # other servers, as an LDS knows them: no facts


def _create_session_response(out: Out, r: Reader) -> None:
    out.fields["session_id"] = r.node_id()
    r.node_id()  # authenticationToken: a secret, not reported
    out.fields["revised_session_timeout"] = r.f64()
    r.bytestring_span()  # serverNonce
    certificate_fields(out, "server_certificate", r)
    _endpoints(out, r, "server_endpoints")


def _read_response(out: Out, r: Reader) -> None:
    results = out.fields["results"] = r.array(Reader.data_value) or []
    for result in results:
        value = result.get("value")
        if isinstance(value, dict) and "build_info" in value:
            identity = build_info_identity(value["build_info"])
            if identity:
                out.facts.append(Fact("identity", "server", identity))


def _status_results(out: Out, r: Reader) -> None:
    out.fields["results"] = r.array(Reader.u32)


def _call_result(r: Reader) -> dict[str, Any]:
    status = r.u32()
    r.array(Reader.u32, keep=0)  # inputArgumentResults
    r.array(Reader.diagnostic_info, keep=0)
    return {"status": status, "output_arguments": r.array(Reader.variant, keep=8)}


def _call_response(out: Out, r: Reader) -> None:
    out.fields["results"] = r.array(_call_result)


def build_info_identity(info: dict[str, Any]) -> dict[str, Any]:
    """BuildInfo -> identity keys: vendor, product, firmware, plus build_number and product_uri."""
    value = {"vendor": info.get("manufacturer_name"), "product": info.get("product_name"),
             "firmware": info.get("software_version"), "build_number": info.get("build_number"),
             "product_uri": info.get("product_uri")}
    return {k: v for k, v in value.items() if v}


REQUESTS: dict[int, Callable[[Out, Reader], None]] = {
    446: _open_secure_channel_request, 428: _get_endpoints_request, 422: _find_servers_request,
    461: _create_session_request, 467: _activate_session_request, 631: _read_request, 673: _write_request,
    527: _browse_request, 712: _call_request, 664: _history_read_request,
}
RESPONSES: dict[int, Callable[[Out, Reader], None]] = {
    449: _open_secure_channel_response, 431: _get_endpoints_response, 425: _find_servers_response,
    464: _create_session_response, 634: _read_response, 676: _status_results, 715: _call_response,
}


def decode(type_id: int, is_response: bool, r: Reader, out: Out) -> None:
    """The body after the type id: header, then the service's own fields where this module knows them."""
    if is_response:
        handle, result = r.response_header()
        out.fields["request_handle"] = handle
        out.fields["service_result"] = result
        body = RESPONSES.get(type_id)
    else:
        out.fields["request_handle"] = r.request_header()
        body = REQUESTS.get(type_id)
    if body is not None:
        body(out, r)
