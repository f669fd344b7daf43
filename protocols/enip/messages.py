"""Encapsulation records -> protocol-neutral ``Message``s: function, action, direction, pair key, fields, facts.

One encapsulation message gives one ``Message``, except where CIP nests services: a Multiple Service
Packet (Vol 1 §A-4.10) and an Unconnected Send (Vol 1 §3-5.5.2) are unpacked, so each embedded
service is a message of its own with its own action (a write hidden in a Multiple Service Packet is a
write). The wrapper stays visible in the fields (``multiple_service_packet: {index, count}``,
``unconnected_send`` and ``route_path``); the wrapper itself is a message only when it carries nothing.

``function_code`` is the CIP service (without the reply bit) for messages that carry CIP, else the
encapsulation command; ``function_name`` tells them apart. Pair keys, within one flow:

- SendRRData: ``("rr", sender context, index)``: Vol 2 §2-3.1 has the target echo the sender context;
- SendUnitData: ``("unit", CIP sequence count, index)``: a class 3 reply repeats the request's count;
- other commands: ``(command, sender context)``.

``index`` is the position inside a Multiple Service Packet (0 otherwise), the same on both sides.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Fact, Malformed, Message, Point
from protocols.enip.cip import (
    MAX_DATA_FIELD,
    CipReply,
    CipRequest,
    parse_attribute_list,
    parse_forward_close,
    parse_forward_close_reply,
    parse_forward_open,
    parse_forward_open_reply,
    parse_message,
    parse_pccc_reply,
    parse_pccc_request,
    parse_tag_reply,
    parse_tag_request,
    split_multiple,
    split_unconnected_send,
)
from protocols.enip.codes import (
    IO_DATA,
    Command,
    ItemType,
    ObjectClass,
    action_of,
    class_name,
    command_name,
    device_type_name,
    encap_status_name,
    general_status_name,
    identity_state_name,
    service_name,
)
from protocols.enip.epath import EPath
from protocols.enip.vendors import vendor_name
from protocols.enip.wire import (
    Cpf,
    Encapsulation,
    IoPacket,
    parse_cpf,
    parse_identity_item,
    parse_send_data,
    sockaddr,
)

TCP, UDP = "tcp", "udp"
TAG_SPACE = "logix_tag"  # Point.space of Logix tags (named, not numbered)
MAX_NESTING = 4  # Unconnected Send / Multiple Service Packet levels unpacked; deeper is left packed
BACKPLANE_PORT = 1  # port 1 of a Logix chassis communication module is the backplane: link = slot
_CATALOG = re.compile(r"^(\d{4}-[A-Z0-9]+(?:/[A-Z])?)\b")  # Rockwell catalog numbers: 1756-L61/B, 1756-ENBT/A
_LIST_SERVICE = struct.Struct("<HH16s")


@dataclass(slots=True)
class _Context:
    """What every message of one encapsulation message shares."""

    encap: Encapsulation
    is_request: bool
    transport: str
    base: dict[str, Any]
    weird: str | None
    extra: dict[str, Any] = field(default_factory=dict)  # connection id, sequence count, socket addresses


def encapsulation_messages(encap: Encapsulation, is_request: bool, transport: str = TCP) -> list[Message]:
    """Every message one encapsulation message carries (at least one)."""
    base: dict[str, Any] = {
        "command": encap.command,
        "command_name": command_name(encap.command),
        "session_handle": encap.session_handle,
        "status": encap.status,
        "sender_context": encap.sender_context.hex(),
    }
    if encap.status:
        base["status_name"] = encap_status_name(encap.status)
    if encap.options:
        base["options"] = encap.options
    ctx = _Context(encap, is_request, transport, base, "enip_nonzero_options" if encap.options else None)
    command = encap.command
    if command in (Command.SEND_RR_DATA, Command.SEND_UNIT_DATA):
        return _send_data(ctx)
    if command in (Command.LIST_IDENTITY, Command.LIST_SERVICES, Command.LIST_INTERFACES, Command.LIST_TARGETS):
        return [_list_command(ctx)]
    if command == Command.REGISTER_SESSION:
        return [_register_session(ctx)]
    weird = ctx.weird or ("enip_trailing_bytes" if encap.data and command != Command.NOP else None)
    return [_encap_message(ctx, {}, (), weird, REQUEST if is_request else RESPONSE)]


def io_message(packet: IoPacket) -> Message:
    """A class 0/1 I/O datagram: cyclic data, neither request nor response (both ends produce)."""
    return Message(
        function_code=ItemType.CONNECTED_DATA, function_name=IO_DATA, action=action_of(IO_DATA),
        direction=UNSOLICITED, pair_key=None,
        fields={"connection_id": packet.connection_id, "sequence_number": packet.sequence_number,
                "data_length": packet.data_length},
        weird=packet.weird,
    )


# --- encapsulation commands ------------------------------------------------------------------------------

def _side(ctx: _Context, request_side: bool) -> str:
    """Who a fact is about: the flow's client/server, or src for an announcement over UDP."""
    if ctx.transport == UDP and not ctx.is_request:
        return "src"
    return "client" if request_side else "server"


def _encap_message(ctx: _Context, fields: dict[str, Any], facts: tuple[Fact, ...], weird: str | None,
                   direction: str) -> Message:
    name = command_name(ctx.encap.command)
    return Message(
        function_code=ctx.encap.command, function_name=name, action=action_of(name), direction=direction,
        pair_key=(ctx.encap.command, ctx.base["sender_context"]), fields={**ctx.base, **fields},
        facts=facts, weird=weird,
    )


def _list_command(ctx: _Context) -> Message:
    """ListIdentity / ListServices / ListInterfaces (Vol 2 §2-4.2-2-4.4): an empty request, a CPF reply.

    Over UDP the request is usually a broadcast, so a reply is an announcement; over UDP the side is
    told by the data (requests have none), since both ends of a datagram may use port 44818.
    """
    encap = ctx.encap
    is_request = ctx.is_request if ctx.transport == TCP else not encap.data
    if ctx.transport == UDP:
        ctx.is_request = is_request
    if is_request:
        weird = ctx.weird
        if encap.data and weird is None:
            weird = "enip_trailing_bytes"
        facts = (Fact("role", _side(ctx, True), "originator"),)
        return _encap_message(ctx, {}, facts, weird, REQUEST)
    direction = ANNOUNCE if ctx.transport == UDP else RESPONSE
    about = _side(ctx, False)
    if encap.status and not encap.data:
        return _encap_message(ctx, {}, (Fact("role", about, "target"),), ctx.weird, direction)
    cpf = parse_cpf(encap.data)
    weird = ctx.weird or cpf.weird
    fields = {"item_count": len(cpf.items)}
    facts: list[Fact] = [Fact("role", about, "target")]
    if encap.command == Command.LIST_IDENTITY:
        identities = []
        for item in cpf.items:
            if item.type_id != ItemType.LIST_IDENTITY_RESPONSE:
                continue
            raw, bad = parse_identity_item(item.data)
            weird = weird or bad
            if raw:
                identities.append(identity_fields(raw))
                fact = identity_fact(raw)
                if fact:
                    facts.append(Fact("identity", about, fact))
        if identities:
            fields["identity"] = identities[0]
            if len(identities) > 1:
                fields["identities"] = identities[1:]
    elif encap.command == Command.LIST_SERVICES:
        services = []
        for item in cpf.items:
            if item.type_id == ItemType.LIST_SERVICES_RESPONSE and len(item.data) >= _LIST_SERVICE.size:
                version, flags, name = _LIST_SERVICE.unpack_from(item.data, 0)
                services.append({"version": version, "capability_flags": flags,
                                 "name": name.split(b"\0", 1)[0].decode("latin-1")})
            elif item.type_id == ItemType.LIST_SERVICES_RESPONSE:
                weird = weird or "enip_bad_cpf"
        fields["services"] = services
    return _encap_message(ctx, fields, tuple(facts), weird, direction)


def _register_session(ctx: _Context) -> Message:
    """RegisterSession (Vol 2 §2-4.4): protocol version u16 (1), options flags u16 (0), both ways."""
    data = ctx.encap.data
    fields: dict[str, Any] = {}
    weird = ctx.weird
    if len(data) >= 4:
        fields = {"protocol_version": data[0] | data[1] << 8, "options_flags": data[2] | data[3] << 8}
        if len(data) > 4:
            weird = weird or "enip_trailing_bytes"
    elif data or ctx.is_request:
        weird = weird or "enip_bad_cpf"
    return _encap_message(ctx, fields, (), weird, REQUEST if ctx.is_request else RESPONSE)


def _send_data(ctx: _Context) -> list[Message]:
    """SendRRData / SendUnitData (Vol 2 §2-4.7, §2-4.8): a CPF whose data item carries one CIP message."""
    encap = ctx.encap
    direction = REQUEST if ctx.is_request else RESPONSE
    if encap.status and not encap.data:
        return [_encap_message(ctx, {}, (), ctx.weird, direction)]
    _, timeout, cpf = parse_send_data(encap.data)
    ctx.weird = ctx.weird or cpf.weird
    ctx.extra["timeout"] = timeout
    _socket_items(ctx, cpf)
    if encap.command == Command.SEND_UNIT_DATA:
        address = cpf.find(ItemType.CONNECTED_ADDRESS)
        item = cpf.find(ItemType.CONNECTED_DATA)
        if address is not None and len(address.data) >= 4:
            ctx.extra["connection_id"] = int.from_bytes(address.data[:4], "little")
        if item is None or len(item.data) < 2:
            return [_encap_message(ctx, dict(ctx.extra), (), ctx.weird or "enip_missing_item", direction)]
        sequence = item.data[0] | item.data[1] << 8
        ctx.extra["sequence_count"] = sequence
        return _cip(ctx, item.data[2:], ("unit", sequence))
    item = cpf.find(ItemType.UNCONNECTED_DATA)
    if item is None:
        return [_encap_message(ctx, dict(ctx.extra), (), ctx.weird or "enip_missing_item", direction)]
    return _cip(ctx, item.data, ("rr", ctx.base["sender_context"]))


def _socket_items(ctx: _Context, cpf: Cpf) -> None:
    """Sockaddr info items (Vol 2 §2-6.3.3) name where class 0/1 I/O of a Forward Open will flow."""
    for item in cpf.items:
        if item.type_id in (ItemType.SOCKADDR_INFO_O_T, ItemType.SOCKADDR_INFO_T_O) and len(item.data) >= 16:
            key = "sockaddr_o_t" if item.type_id == ItemType.SOCKADDR_INFO_O_T else "sockaddr_t_o"
            ctx.extra[key] = sockaddr(item.data)


# --- CIP ------------------------------------------------------------------------------------------------------

def _cip(ctx: _Context, data: bytes, key: tuple) -> list[Message]:
    try:
        message = parse_message(data)
    except Malformed as bad:
        return [_encap_message(ctx, dict(ctx.extra), (), ctx.weird or bad.code,
                               REQUEST if ctx.is_request else RESPONSE)]
    if isinstance(message, CipRequest):
        return _requests(ctx, message, key, {}, 0)
    return _replies(ctx, message, key)


def _embedded_failure(ctx: _Context, service: int, code: str, key: tuple, via: dict[str, Any],
                      reply: bool) -> Message:
    """A wrapper (Multiple Service Packet, Unconnected Send) whose content does not parse: the wrapper is the message."""
    name = service_name(service, ObjectClass.CONNECTION_MANAGER if service == 0x52 else None)
    fields = {**ctx.base, **ctx.extra, "service": service, "service_name": name, **via}
    return Message(service, name, action_of(name), RESPONSE if reply else REQUEST, key, fields, (),
                   ctx.weird or code)


def _requests(ctx: _Context, req: CipRequest, key: tuple, via: dict[str, Any], depth: int) -> list[Message]:
    """A request, with Multiple Service Packets and Unconnected Sends unpacked."""
    class_id = req.path.class_id
    if depth < MAX_NESTING and not req.path.symbolic:
        if req.service == 0x0A:
            try:
                parts = split_multiple(req.data)
            except Malformed as bad:
                return [_embedded_failure(ctx, 0x0A, bad.code, key + (0,), via, False)]
            if parts:
                out: list[Message] = []
                for k, part in enumerate(parts):
                    inner = {**via, "multiple_service_packet": {"index": k, "count": len(parts)}}
                    try:
                        sub = parse_message(part)
                    except Malformed as bad:
                        out.append(_embedded_failure(ctx, 0x0A, bad.code, key + (k,), inner, False))
                        continue
                    if isinstance(sub, CipReply):
                        out.append(_embedded_failure(ctx, 0x0A, "cip_bad_service_data", key + (k,), inner, False))
                        continue
                    out.extend(_requests(ctx, sub, key, inner, depth + 1))
                return out
        if req.service == 0x52 and class_id == ObjectClass.CONNECTION_MANAGER:
            try:
                params, embedded, route = split_unconnected_send(req.data)
                sub = parse_message(embedded)
            except Malformed as bad:
                return [_embedded_failure(ctx, 0x52, bad.code, key + (0,), via, False)]
            if isinstance(sub, CipRequest):
                inner = {**via, "unconnected_send": params}
                if route.route:
                    inner["route_path"] = [{"port": port, "link": link} for port, link in route.route]
                return _requests(ctx, sub, key, inner, depth + 1)
            return [_embedded_failure(ctx, 0x52, "cip_bad_service_data", key + (0,), via, False)]
    return [_request(ctx, req, key + (via.get("multiple_service_packet", {}).get("index", 0),), via)]


def _point_space(class_id: int, instance_id: int | None) -> str:
    return f"class 0x{class_id:02x}" + (f" instance {instance_id}" if instance_id is not None else "")


def _request(ctx: _Context, req: CipRequest, key: tuple, via: dict[str, Any]) -> Message:
    """One CIP request, its service data decoded where that teaches something."""
    path = req.path
    class_id = path.class_id
    symbolic = path.symbolic or class_id == ObjectClass.SYMBOL
    service = req.service
    name = service_name(service, class_id, symbolic)
    fields: dict[str, Any] = {**ctx.base, **ctx.extra, "service": service, "service_name": name}
    if class_id is not None:
        fields["class_name"] = class_name(class_id)
    fields.update(path.fields())
    fields.update(via)
    about_client = _side(ctx, True)
    facts: list[Fact] = [Fact("role", about_client, "originator")]
    weird = ctx.weird or req.weird
    sub_function = None
    try:
        if symbolic and service in (0x4C, 0x4D, 0x4E, 0x52, 0x53):
            fields.update(parse_tag_request(service, req.data))
            facts.append(_tag_point(path, fields, service))
        elif class_id == ObjectClass.CONNECTION_MANAGER and service in (0x54, 0x5B):
            params, connection_path = parse_forward_open(req.data, service == 0x5B)
            fields.update(params)
            fields["connection_path"] = connection_path.fields()
            if connection_path.bad:
                weird = weird or "cip_bad_path"
            facts.extend(_route_modules(connection_path.route))
            if params["transport_class"] in (0, 1):
                facts.extend((Fact("role", "client", "scanner"), Fact("role", "server", "adapter")))
        elif class_id == ObjectClass.CONNECTION_MANAGER and service == 0x4E:
            params, connection_path = parse_forward_close(req.data)
            fields.update(params)
            fields["connection_path"] = connection_path.fields()
        elif class_id == ObjectClass.PCCC and service == 0x4B:
            fields.update(parse_pccc_request(req.data))
            sub_function = fields["pccc_function_name"]
        elif service in (0x03, 0x0E, 0x10) and class_id is not None:
            facts.extend(_attribute_points(path, service, req.data, fields))
        elif service == 0x05 and req.data:
            fields["reset_type"] = req.data[0]  # Identity: 0 power cycle, 1 factory defaults, 2 keep comms
    except Malformed as bad:
        weird = weird or bad.code
    if ctx.transport == TCP and not ctx.is_request:
        weird = weird or "cip_unexpected_direction"
    route = via.get("route_path")
    if route:
        facts.extend(_route_modules(tuple((hop["port"], hop["link"]) for hop in route)))
    return Message(service, name, action_of(name, sub_function), REQUEST, key, fields, tuple(facts), weird)


def _tag_point(path: EPath, fields: dict[str, Any], service: int) -> Fact:
    """A Logix tag read or written: named by its symbolic path, or numbered by its Symbol instance."""
    write = service in (0x4D, 0x4E, 0x53)
    values = fields.get("values")
    point = Point(space=TAG_SPACE, address=None if path.tag is not None else path.instance_id,
                  quantity=fields.get("elements", 1), access="write" if write else "read", name=path.tag,
                  values=tuple(values) if write and values is not None else None)
    return Fact("point", "server", point)


def _attribute_points(path: EPath, service: int, data: bytes, fields: dict[str, Any]) -> list[Fact]:
    """Attributes read or written by Get_Attribute_Single/List and Set_Attribute_Single (Vol 1 §A-4)."""
    class_id = path.class_id
    assert class_id is not None
    space = _point_space(class_id, path.instance_id)
    if service == 0x03:
        attributes = parse_attribute_list(data)
        fields["attributes"] = attributes
        return [Fact("point", "server", Point(space, a, 1, "read")) for a in attributes]
    attribute = path.attribute_id
    if attribute is None:
        return []
    if service == 0x0E:
        return [Fact("point", "server", Point(space, attribute, 1, "read"))]
    fields["data"] = data[:MAX_DATA_FIELD].hex()
    return [Fact("point", "server", Point(space, attribute, 1, "write", values=(data[:MAX_DATA_FIELD].hex(),)))]


def _route_modules(route: tuple[tuple[int, int | str], ...]) -> list[Fact]:
    """The first hop of a route through the backplane (port 1) names the slot of a module in the server's chassis."""
    if route and route[0][0] == BACKPLANE_PORT and isinstance(route[0][1], int):
        return [Fact("module", "server", {"slot": route[0][1]})]
    return []


def _replies(ctx: _Context, rep: CipReply, key: tuple) -> list[Message]:
    """A reply, with a Multiple Service Packet reply unpacked into its replies."""
    if rep.service == 0x0A and rep.data:
        via: dict[str, Any] = {}
        try:
            parts = split_multiple(rep.data)
        except Malformed as bad:
            return [_reply(ctx, rep, key + (0,), via, bad.code)]
        out: list[Message] = []
        for k, part in enumerate(parts):
            inner = {"multiple_service_packet": {"index": k, "count": len(parts)}}
            try:
                sub = parse_message(part)
            except Malformed as bad:
                out.append(_embedded_failure(ctx, 0x0A, bad.code, key + (k,), inner, True))
                continue
            if isinstance(sub, CipRequest):
                out.append(_embedded_failure(ctx, 0x0A, "cip_bad_service_data", key + (k,), inner, True))
                continue
            out.append(_reply(ctx, sub, key + (k,), inner, None))
        if out:
            return out
    return [_reply(ctx, rep, key + (0,), {}, None)]


def _reply(ctx: _Context, rep: CipReply, key: tuple, via: dict[str, Any], weird: str | None) -> Message:
    """One CIP reply. Its name is guessed without the request (see codes.service_name); pairing corrects it."""
    service, status = rep.service, rep.general_status
    name = service_name(service, None)
    if service == 0x52 and status in (0x00, 0x06) and len(rep.data) >= 2:
        name = "read_tag_fragmented"  # an Unconnected Send answers with the embedded reply, never 0xD2 on success
    fields: dict[str, Any] = {**ctx.base, **ctx.extra, "service": service, "service_name": name,
                              "general_status": status, "general_status_name": general_status_name(status)}
    if rep.additional_status:
        fields["additional_status"] = list(rep.additional_status)
    fields.update(via)
    weird = ctx.weird or weird or rep.weird
    try:
        if name in ("read_tag", "read_tag_fragmented") and status in (0x00, 0x06) and rep.data:
            fields.update(parse_tag_reply(rep.data))
        elif name in ("forward_open", "large_forward_open"):
            fields.update(parse_forward_open_reply(rep.data, status == 0))
        elif name == "forward_close" and status == 0:
            fields.update(parse_forward_close_reply(rep.data))
        elif name == "execute_pccc" and rep.data:
            fields.update(parse_pccc_reply(rep.data))
        elif rep.data:
            fields["data"] = rep.data[:MAX_DATA_FIELD].hex()
            if len(rep.data) > MAX_DATA_FIELD:
                fields["data_length"] = len(rep.data)
    except Malformed:
        # The name was guessed without the request (codes.service_name): data that does not fit the
        # guess is not an oddity of the message, so it is kept raw for pairing, not flagged.
        fields["data"] = rep.data[:MAX_DATA_FIELD].hex()
    if ctx.transport == TCP and ctx.is_request:
        weird = weird or "cip_unexpected_direction"
    facts = (Fact("role", _side(ctx, False), "target"),)
    return Message(service, name, action_of(name), RESPONSE, key, fields, facts, weird)


# --- identity --------------------------------------------------------------------------------------------------

def identity_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Identity attributes as event fields: the numbers and their names."""
    out = dict(raw)
    if "vendor_id" in raw:
        out["vendor_name"] = vendor_name(raw["vendor_id"])
    if "device_type" in raw:
        out["device_type_name"] = device_type_name(raw["device_type"])
    if "state" in raw:
        out["state_name"] = identity_state_name(raw["state"])
    return out


def identity_fact(raw: dict[str, Any]) -> dict[str, Any]:
    """Identity attributes as an inventory identity (DESIGN.md keys, plus the CIP numbers)."""
    out: dict[str, Any] = {}
    if "vendor_id" in raw:
        out["vendor"] = vendor_name(raw["vendor_id"])
        out["vendor_id"] = raw["vendor_id"]
    if "device_type" in raw:
        out["device_type"] = raw["device_type"]
        out["device_type_name"] = device_type_name(raw["device_type"])
    if "product_code" in raw:
        out["product_code"] = raw["product_code"]
    if "revision_major" in raw:
        revision = f"{raw['revision_major']}.{raw['revision_minor']}"
        out["revision"] = revision
        out["firmware"] = revision  # the Identity revision is the device's firmware revision
    if "serial_number" in raw:
        out["serial"] = f"0x{raw['serial_number']:08x}"
    name = raw.get("product_name")
    if name:
        out["product"] = name
        match = _CATALOG.match(name)
        if match and raw.get("vendor_id") in (1, 5):
            out["order_code"] = match.group(1)
    if "state" in raw:
        out["state"] = identity_state_name(raw["state"])
    return out
