"""A DHCPv6 datagram as a protocol-neutral ``Message``: names, action, direction, event fields and facts.

The message is the datagram as sent: a Relay-forward carrying a SOLICIT is function ``relay_forw``; the event's
``msg_type``/``msg_type_name``, ``transaction_id`` and option fields are those of the innermost client/server
message, and ``relays`` lists what each relay added (outermost first).

Whom the facts are about. The client is known by the link-layer address in its DUID (DUID-LL or DUID-LLT on
Ethernet: the MAC of one of its interfaces, RFC 8415 §11.2), and by its address: the source of what it sends
itself, the destination of a server's direct answer, or the peer-address of the relay nearest to it (§9.1).
What a client says of itself (SOLICIT, REQUEST, RENEW, INFORMATION-REQUEST...) names it: client FQDN (39), and an
identity of vendor class (16), DUID and the Option Request option (6) as a fingerprint string ``23,24,39``.
A REPLY binds the IA addresses it gives to the client: a ``mac`` fact about each, and the names it carries.
"""
from __future__ import annotations

from typing import Any

from protocols.base import Fact, Message
from protocols.dhcp.names import text, valid_hostname, wire_name
from protocols.dhcpv6.codes import (
    CLIENT_SENT,
    ETHERNET,
    MAX_ADDRESSES,
    SERVER_SENT,
    DuidType,
    MessageType,
    Option,
    action_of,
    direction_of,
    duid_type_name,
    message_type_name,
)
from protocols.dhcpv6.wire import Dhcpv6Message, OptionReader, ip6

FQDN_FLAGS = (("s", 0x01), ("o", 0x02), ("n", 0x04))  # RFC 4704 §4.1


class BadLength(ValueError):
    """An option whose length does not fit its type."""


def hex_colons(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def is_station_mac(raw: bytes) -> bool:
    return len(raw) == 6 and not raw[0] & 0x01 and any(raw)


def dhcpv6_message(record: Dhcpv6Message, outer_type: int) -> Message:
    """The message of one datagram whose first octet was ``outer_type``."""
    reader = OptionReader()
    fields: dict[str, Any] = {"msg_type": record.msg_type, "msg_type_name": message_type_name(record.msg_type),
                              "transaction_id": record.transaction_id}
    if record.relays:
        fields["relays"] = [{"msg_type_name": message_type_name(r.msg_type), "hop_count": r.hop_count,
                             "link_address": r.link_address, "peer_address": r.peer_address}
                            for r in record.relays]
    fields["options"] = [code for code, _ in record.options]
    weird = record.weird
    for code, data in record.options:
        try:
            _decode(code, data, fields, reader)
        except BadLength:
            weird = weird or "dhcpv6_bad_option_length"
    weird = weird or reader.weird
    if "client_fqdn" in fields and not valid_hostname(fields["client_fqdn"]):
        weird = weird or "dhcpv6_bad_hostname"
    name = message_type_name(outer_type)
    return Message(function_code=outer_type, function_name=name, action=action_of(name),
                   direction=direction_of(outer_type), pair_key=record.transaction_id, fields=fields,
                   facts=facts(record, outer_type, fields), weird=weird)


def _need(data: bytes, size: int) -> None:
    if len(data) < size:
        raise BadLength(size)


def _duid(prefix: str, data: bytes, fields: dict[str, Any]) -> None:
    """DUID (RFC 8415 §11): type(2), then for LLT hardware type(2) time(4) address, for LL hardware type(2) address."""
    _need(data, 2)
    kind = int.from_bytes(data[:2], "big")
    fields[f"{prefix}_duid"] = hex_colons(data)
    fields[f"{prefix}_duid_type"] = duid_type_name(kind)
    at = 8 if kind == DuidType.LLT else 4 if kind == DuidType.LL else None
    if at is None:
        return
    _need(data, at)
    hardware, address = int.from_bytes(data[2:4], "big"), data[at:]
    fields[f"{prefix}_link_layer_address"] = hex_colons(address)
    if hardware == ETHERNET and is_station_mac(address):
        fields[f"{prefix}_mac"] = hex_colons(address)


def _ia(data: bytes, fields: dict[str, Any], reader: OptionReader, head: int) -> None:
    """IA_NA (§21.4: IAID, T1, T2, options) or IA_TA (§21.5: IAID, options); IA Address options (§21.6) inside."""
    _need(data, head)
    fields.setdefault("iaids", []).append(int.from_bytes(data[:4], "big"))
    addresses = fields.setdefault("ia_addresses", [])
    for code, value in reader.read(data[head:]):
        if code != Option.IAADDR:
            continue
        _need(value, 24)
        if len(addresses) >= MAX_ADDRESSES:
            reader.note("dhcpv6_too_many_addresses")
            return
        addresses.append(ip6(value[:16]))


def _decode(code: int, data: bytes, fields: dict[str, Any], reader: OptionReader) -> None:
    if code == Option.CLIENTID:
        _duid("client", data, fields)
    elif code == Option.SERVERID:
        _duid("server", data, fields)
    elif code == Option.IA_NA:
        _ia(data, fields, reader, 12)
    elif code == Option.IA_TA:
        _ia(data, fields, reader, 4)
    elif code == Option.ORO:
        if len(data) % 2:
            raise BadLength(len(data))
        fields["option_request"] = ",".join(str(int.from_bytes(data[i:i + 2], "big")) for i in range(0, len(data), 2))
    elif code == Option.ELAPSED_TIME:
        _need(data, 2)
        fields["elapsed_time"] = int.from_bytes(data[:2], "big")
    elif code == Option.STATUS_CODE:
        _need(data, 2)
        fields["status_code"] = int.from_bytes(data[:2], "big")
        fields["status_message"] = text(data[2:])
    elif code == Option.RAPID_COMMIT:
        fields["rapid_commit"] = True
    elif code == Option.VENDOR_CLASS:
        _need(data, 4)
        fields["vendor_class_enterprise"] = int.from_bytes(data[:4], "big")
        fields["vendor_class"] = ",".join(_opaque_list(data[4:]))
    elif code == Option.USER_CLASS:
        fields["user_class"] = ",".join(_opaque_list(data))
    elif code == Option.DNS_SERVERS:
        if len(data) % 16:
            raise BadLength(len(data))
        fields["dns_servers"] = [ip6(data[i:i + 16]) for i in range(0, len(data), 16)]
    elif code == Option.CLIENT_FQDN:
        _need(data, 1)
        name = wire_name(data[1:])
        if name is None:
            raise BadLength(len(data))
        fields["client_fqdn_flags"] = data[0]
        fields["client_fqdn_flag_names"] = [letter for letter, bit in FQDN_FLAGS if data[0] & bit]
        if name:
            fields["client_fqdn"] = name


def _opaque_list(data: bytes) -> list[str]:
    """vendor-class-data / user-class-data (§21.15, §21.16): items of length(2) then data, read as text."""
    out, pos = [], 0
    while pos + 2 <= len(data):
        size = int.from_bytes(data[pos:pos + 2], "big")
        if pos + 2 + size > len(data):
            raise BadLength(size)
        out.append(text(data[pos + 2:pos + 2 + size]))
        pos += 2 + size
    if pos != len(data):
        raise BadLength(len(data))
    return out


def facts(record: Dhcpv6Message, outer_type: int, fields: dict[str, Any]) -> tuple[Fact, ...]:
    """Names, identity, roles and the addresses a REPLY binds (see the module docstring for whom each is about)."""
    out: list[Fact] = []
    relayed = bool(record.relays)
    if outer_type == MessageType.RELAY_FORW:
        out.append(Fact("role", "src", "relay_agent"))  # whatever it relays, the sender of a Relay-forward is one
    elif (outer_type in SERVER_SENT and not relayed) or (outer_type == MessageType.RELAY_REPL
                                                         and len(record.relays) == 1):
        out.append(Fact("role", "src", "server"))  # with one relay, the server sends the Relay-reply itself
    mac = fields.get("client_mac")
    name = fields.get("client_fqdn")
    names = [name] if name and valid_hostname(name) else []
    targets: list[tuple[str, str | None]] = [("address", mac)] if mac else []
    if record.msg_type in CLIENT_SENT:
        targets.append(("address", record.relays[-1].peer_address) if relayed else ("src", None))
        identity = {key: fields[field] for key, field in (("dhcpv6_vendor_class", "vendor_class"),
                                                           ("dhcpv6_fingerprint", "option_request"),
                                                           ("dhcpv6_duid", "client_duid")) if fields.get(field)}
        for about, address in targets:
            out += [Fact("hostname", about, n, address=address) for n in names]
            if identity:
                out.append(Fact("identity", about, identity, address=address))
    elif record.msg_type in SERVER_SENT:
        targets.append(("address", record.relays[-1].peer_address) if relayed else ("dst", None))
        if record.msg_type == MessageType.REPLY:
            bound = fields.get("ia_addresses", [])
            targets += [("address", a) for a in bound]
            if mac:
                out += [Fact("mac", "address", mac, address=a) for a in bound]
        for about, address in targets:
            out += [Fact("hostname", about, n, address=address) for n in names]
    return tuple(out)
