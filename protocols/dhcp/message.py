"""A BOOTP/DHCP message as a protocol-neutral ``Message``: names, action, direction, event fields and facts.

Whom the facts are about. A DHCP client often has no address yet (it sends from 0.0.0.0 to the broadcast), so
the device is its hardware address: facts are ``about="address"`` with the chaddr MAC. What a client says of
itself (DISCOVER, REQUEST, INFORM, DECLINE, RELEASE, plain BOOTREQUEST) names it: host name (12), client FQDN
(81), and an identity of vendor class (60), client identifier (61) and the parameter request list (55) as a
fingerprint string ``1,3,6,15`` (as fingerbank and p0f write them). A client that already has its address says
so in ciaddr, and when no relay forwarded the message (giaddr 0.0.0.0) its source address is the client too.

A server's ACK binds a lease: chaddr has yiaddr. The names the ACK carries are about yiaddr (and the MAC), and a
``mac`` fact about yiaddr tells the inventory the binding. The server is named by its server identifier (54),
or, when no relay stands between, by the source of its reply; a relay agent by giaddr.
"""
from __future__ import annotations

from typing import Any

from protocols.base import Fact, Message
from protocols.dhcp.codes import (
    CLIENT_SENT,
    FQDN_FLAGS,
    MessageType,
    Op,
    Option,
    action_of,
    direction_of,
    function_name,
    message_type_name,
)
from protocols.dhcp.names import text, valid_hostname, wire_name
from protocols.dhcp.wire import BootpMessage, ip4

ZERO = "0.0.0.0"
ADDRESS_LISTS = {Option.ROUTER: "router", Option.DOMAIN_NAME_SERVER: "domain_name_server"}
ADDRESSES = {Option.SUBNET_MASK: "subnet_mask", Option.REQUESTED_IP_ADDRESS: "requested_ip_address",
             Option.SERVER_IDENTIFIER: "server_identifier"}
STRINGS = {Option.HOST_NAME: "hostname", Option.DOMAIN_NAME: "domain_name", Option.MESSAGE: "message",
           Option.VENDOR_CLASS_IDENTIFIER: "vendor_class_id"}


def is_unicast(ip: str) -> bool:
    """An address a device can hold: not in 0.0.0.0/8 ("this network"), multicast, reserved or broadcast."""
    return 0 < int(ip.partition(".")[0]) < 224


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def is_station_mac(raw: bytes) -> bool:
    """A 6-octet unicast MAC that is not all zeros: something a device can be known by."""
    return len(raw) == 6 and not raw[0] & 0x01 and any(raw)


def bootp_message(record: BootpMessage) -> Message:
    """The message of one BOOTP/DHCP record; an option whose length does not fit its type costs that option."""
    fields: dict[str, Any] = {
        "op": record.op, "htype": record.htype, "hlen": record.hlen, "hops": record.hops,
        "transaction_id": record.xid, "secs": record.secs, "flags": record.flags,
        "broadcast": bool(record.flags & 0x8000), "ciaddr": record.ciaddr, "yiaddr": record.yiaddr,
        "siaddr": record.siaddr, "giaddr": record.giaddr, "chaddr": mac_text(record.chaddr),
    }
    if record.sname:
        fields["sname"] = record.sname
    if record.file:
        fields["file"] = record.file
    weird = record.weird
    decoded, bad = option_fields(record)
    weird = weird or bad
    message_type = decoded.pop("msg_type", None)
    fields["msg_type"] = message_type
    fields["msg_type_name"] = message_type_name(message_type) if message_type is not None else None
    fields["options"] = [code for code, _ in record.options]
    if record.overload is not None:
        fields["option_overload"] = record.overload
    fields.update(decoded)
    for key in ("hostname", "client_fqdn"):
        if key in fields and not valid_hostname(fields[key]):
            weird = weird or "dhcp_bad_hostname"
    name = function_name(record.op, message_type)
    return Message(function_code=message_type or 0, function_name=name, action=action_of(name),
                   direction=direction_of(record.op, message_type), pair_key=record.xid, fields=fields,
                   facts=facts(record, message_type, fields), weird=weird)


def option_fields(record: BootpMessage) -> tuple[dict[str, Any], str | None]:
    """The event fields of the options this package reads, and ``dhcp_bad_option_length`` when one does not fit."""
    out: dict[str, Any] = {}
    weird = None
    for code, data in record.options:
        try:
            out.update(_decode(code, data))
        except ValueError:
            weird = weird or "dhcp_bad_option_length"
    return out, weird


def _fixed(data: bytes, size: int) -> bytes:
    if len(data) != size:
        raise ValueError(size)
    return data


def _decode(code: int, data: bytes) -> dict[str, Any]:
    if code == Option.DHCP_MESSAGE_TYPE:
        return {"msg_type": _fixed(data, 1)[0]}
    if code in ADDRESSES:
        return {ADDRESSES[code]: ip4(_fixed(data, 4))}
    if code in ADDRESS_LISTS:
        if not data or len(data) % 4:
            raise ValueError(len(data))
        return {ADDRESS_LISTS[code]: [ip4(data[i:i + 4]) for i in range(0, len(data), 4)]}
    if code in STRINGS:
        return {STRINGS[code]: text(data)}
    if code == Option.IP_ADDRESS_LEASE_TIME:
        return {"lease_time": int.from_bytes(_fixed(data, 4), "big")}
    if code == Option.MAXIMUM_DHCP_MESSAGE_SIZE:
        return {"max_message_size": int.from_bytes(_fixed(data, 2), "big")}
    if code == Option.PARAMETER_REQUEST_LIST:
        return {"parameter_request_list": ",".join(str(b) for b in data)}
    if code == Option.CLIENT_IDENTIFIER:
        if not data:
            raise ValueError(0)
        return {"client_id": mac_text(data)}
    if code == Option.CLIENT_FQDN:
        return _fqdn(data)
    return {}


def _fqdn(data: bytes) -> dict[str, Any]:
    """Client FQDN (RFC 4702 §2): Flags(1) RCODE1(1) RCODE2(1) Domain Name, in wire format when E is set."""
    if len(data) < 3:
        raise ValueError(len(data))
    flags, name = data[0], data[3:]
    decoded = wire_name(name) if flags & 0x04 else text(name)
    out: dict[str, Any] = {"client_fqdn_flags": flags,
                           "client_fqdn_flag_names": [letter for letter, bit in FQDN_FLAGS if flags & bit]}
    if decoded is None:
        raise ValueError("labels")
    if decoded:
        out["client_fqdn"] = decoded.rstrip(".")
    return out


def facts(record: BootpMessage, message_type: int | None, fields: dict[str, Any]) -> tuple[Fact, ...]:
    """Names, identity, roles and the lease binding (see the module docstring for whom each is about)."""
    mac = mac_text(record.chaddr) if record.htype == 1 and is_station_mac(record.chaddr) else None
    names = [fields[k] for k in ("hostname", "client_fqdn") if k in fields and valid_hostname(fields[k])]
    out: list[Fact] = []
    relayed = record.giaddr != ZERO
    if is_unicast(record.giaddr):
        out.append(Fact("role", "address", "relay_agent", address=record.giaddr))
    if record.op == Op.BOOTREQUEST and (message_type in CLIENT_SENT or message_type is None):
        out += _client(record, mac, names, fields, relayed)
    elif record.op == Op.BOOTREPLY:
        server = fields.get("server_identifier")
        if server is not None and is_unicast(server):
            out.append(Fact("role", "address", "server", address=server))
        elif not relayed:
            out.append(Fact("role", "src", "server"))
        bound = record.yiaddr if message_type in (MessageType.ACK, None) else \
            record.ciaddr if message_type == MessageType.LEASEACTIVE else ZERO  # RFC 4388 §6.4.1: ciaddr
        if is_unicast(bound):
            out += [Fact("hostname", "address", name, address=bound) for name in names]
            if mac is not None:
                out.append(Fact("mac", "address", mac, address=bound))  # the lease binds the MAC to the address
                out += [Fact("hostname", "address", name, address=mac) for name in names]
    return tuple(out)


def _client(record: BootpMessage, mac: str | None, names: list[str], fields: dict[str, Any],
            relayed: bool) -> list[Fact]:
    """What a client says of itself, about each address it is known by."""
    identity = {key: fields[field] for key, field in (("dhcp_vendor_class", "vendor_class_id"),
                                                       ("dhcp_fingerprint", "parameter_request_list"),
                                                       ("dhcp_client_id", "client_id")) if fields.get(field)}
    targets: list[tuple[str, str | None]] = []
    if mac is not None:
        targets.append(("address", mac))
    if is_unicast(record.ciaddr):
        targets.append(("address", record.ciaddr))
    if not relayed:
        targets.append(("src", None))  # the inventory drops it when the source is 0.0.0.0
    out = []
    for about, address in targets:
        out += [Fact("hostname", about, name, address=address) for name in names]
        if identity:
            out.append(Fact("identity", about, identity, address=address))
    return out
