"""A BACnet/IP datagram as one protocol-neutral ``Message``: names, action, direction, pairing, fields and facts.

The message is named after the innermost layer the datagram carries: the APDU's service (``read_property``,
``i_am``; ``segment_ack``, ``reject``, ``abort`` for APDUs without one), else the network-layer message
(``who_is_router_to_network``), else the BVLC function (``register_foreign_device``, ``bvlc_result``).

Direction (DESIGN.md "Events"): confirmed requests, Who-Is/Who-Has and the other unconfirmed requests are
``request``; ACKs, errors and rejects ``response``; I-Am, I-Have, I-Am-Router-To-Network and Network-Number-Is
``announce``; unconfirmed COV, event and audit notifications ``unsolicited``. Abort and Segment-ACK go either way
(their SRV bit says which).

Pairing (clause 5.4): a confirmed request and its answer share the invoke id, which the requesting device chose
(an Abort from the client ends its own transaction and pairs with nothing).
Within one UDP flow both ends may request, and behind a router several devices share the flow, so the key is
the invoke id, the flow side of the requester (``is_request`` of the request, the opposite of the answer's) and
the BACnet addresses of both devices (SNET/SADR of one, DNET/DADR of the other).

Facts: a device that sends I-Am or answers is a ``device``, one that sends confirmed requests a ``client``; I-Am
and the device object's properties in ReadProperty(Multiple) ACKs give its identity. A device is named by the
datagram's source, unless the NPDU carries SNET/SADR (a device behind a router: ``about="address"``, its B/IP
address when SADR has 6 octets, else ``bacnet:<snet>:<sadr hex>``) or a BBMD forwarded it (the original source).
"""
from __future__ import annotations

from typing import Any

from protocols.bacnet.codes import (
    MAX_APDU_LENGTHS,
    MAX_SEGMENTS,
    BvlcFunction,
    NetworkMessage,
    PduType,
    abort_reason_name,
    action_of,
    bvlc_function_name,
    bvlc_result_name,
    confirmed_service_name,
    network_message_name,
    pdu_type_name,
    reject_reason_name,
    unconfirmed_service_name,
)
from protocols.bacnet.services import COMPLEX_ACKS, CONFIRMED_REQUESTS, MAX_ITEMS, UNCONFIRMED_REQUESTS, Decoded, error
from protocols.bacnet.tags import TagReader
from protocols.bacnet.wire import (
    BDT_ENTRY,
    FDT_ENTRY,
    Apdu,
    Bvlc,
    Npdu,
    b_ip_address,
    parse_apdu,
    parse_bvlc,
    parse_npdu,
)
from protocols.base import ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, Fact, Malformed, Message

DEVICE_OBJECT = 8
IDENTITY_PROPERTIES = {  # device object property -> identity key (clause 12.11)
    121: "vendor", 70: "model", 44: "firmware", 12: "application_software_version", 77: "name",
    58: "location", 28: "description", 120: "vendor_id",
}
ANNOUNCING = {0: ANNOUNCE, 1: ANNOUNCE, 2: UNSOLICITED, 3: UNSOLICITED, 11: UNSOLICITED, 12: UNSOLICITED}
"""Unconfirmed services that are not requests: I-Am, I-Have, and the COV, event and audit notifications."""
NETWORK_DIRECTIONS = {
    NetworkMessage.I_AM_ROUTER_TO_NETWORK: ANNOUNCE, NetworkMessage.NETWORK_NUMBER_IS: ANNOUNCE,
    NetworkMessage.I_COULD_BE_ROUTER_TO_NETWORK: ANNOUNCE, NetworkMessage.ROUTER_BUSY_TO_NETWORK: ANNOUNCE,
    NetworkMessage.ROUTER_AVAILABLE_TO_NETWORK: ANNOUNCE, NetworkMessage.REJECT_MESSAGE_TO_NETWORK: RESPONSE,
    NetworkMessage.INITIALIZE_ROUTING_TABLE_ACK: RESPONSE, NetworkMessage.SECURITY_RESPONSE: RESPONSE,
}
DECODERS = {PduType.CONFIRMED_REQUEST: CONFIRMED_REQUESTS, PduType.COMPLEX_ACK: COMPLEX_ACKS,
            PduType.UNCONFIRMED_REQUEST: UNCONFIRMED_REQUESTS}
BVLC_RESPONSES = frozenset({BvlcFunction.BVLC_RESULT, BvlcFunction.READ_BROADCAST_DISTRIBUTION_TABLE_ACK,
                            BvlcFunction.READ_FOREIGN_DEVICE_TABLE_ACK})


def datagram_message(payload: bytes, is_request: bool) -> Message:
    """The message of one BACnet/IP datagram; raises Malformed when its headers cannot be read."""
    bvlc, _ = parse_bvlc(payload)
    fields: dict[str, Any] = {"bvlc_function": bvlc.function, "bvlc_function_name": bvlc_function_name(bvlc.function)}
    if bvlc.original_source is not None:
        fields["original_source"] = bvlc.original_source
    message = _message(payload, bvlc, fields, is_request)
    if bvlc.length != len(payload):
        message.fields["bvlc_length"] = bvlc.length
        message.weird = message.weird or "bacnet_bvlc_bad_length"
    return message


def _message(payload: bytes, bvlc: Bvlc, fields: dict[str, Any], is_request: bool) -> Message:
    if bvlc.npdu_offset is None:
        return _bvlc_message(payload, bvlc, fields)
    npdu, _ = parse_npdu(payload, bvlc.npdu_offset)
    fields.update(_npdu_fields(npdu))
    if npdu.message_type is not None:
        return _network_message(payload, npdu, fields)
    apdu, _ = parse_apdu(payload, npdu.payload_offset)
    return _application_message(payload, bvlc, npdu, apdu, fields, is_request)


# -- BVLC functions without an NPDU (Annex J.2) --

def _bvlc_message(payload: bytes, bvlc: Bvlc, fields: dict[str, Any]) -> Message:
    function, body, weird = bvlc.function, payload[4:], None
    if function > max(BvlcFunction):
        weird = "bacnet_bvlc_unknown_function"
    elif function == BvlcFunction.BVLC_RESULT and len(body) >= 2:
        code = int.from_bytes(body[:2], "big")
        fields.update(result_code=code, result_name=bvlc_result_name(code))
    elif function == BvlcFunction.REGISTER_FOREIGN_DEVICE and len(body) >= 2:
        fields["time_to_live"] = int.from_bytes(body[:2], "big")
    elif function == BvlcFunction.DELETE_FOREIGN_DEVICE_TABLE_ENTRY and len(body) >= 6:
        fields["entry"] = b_ip_address(body[:6])
    elif function in (BvlcFunction.WRITE_BROADCAST_DISTRIBUTION_TABLE,
                      BvlcFunction.READ_BROADCAST_DISTRIBUTION_TABLE_ACK, BvlcFunction.READ_FOREIGN_DEVICE_TABLE_ACK):
        size = FDT_ENTRY if function == BvlcFunction.READ_FOREIGN_DEVICE_TABLE_ACK else BDT_ENTRY
        if len(body) % size:
            weird = "bacnet_bvlc_bad_table"
        entries = [b_ip_address(body[k:k + 6]) for k in range(0, len(body) - size + 1, size)]
        fields["entries"] = entries[:MAX_ITEMS]
        if len(entries) > MAX_ITEMS:
            weird = weird or "bacnet_too_many_items"
    name = bvlc_function_name(function)
    direction = RESPONSE if function in BVLC_RESPONSES else REQUEST
    return Message(function_code=function, function_name=name, action=action_of(name), direction=direction,
                   pair_key=("bvlc",), fields=fields, weird=weird)


# -- the network layer (clause 6) --

def _npdu_fields(npdu: Npdu) -> dict[str, Any]:
    fields: dict[str, Any] = {"npdu_control": npdu.control, "expecting_reply": npdu.expecting_reply,
                              "priority": npdu.priority}
    if npdu.dnet is not None:
        fields.update(dnet=npdu.dnet, dadr=(npdu.dadr or b"").hex(), hop_count=npdu.hop_count)
    if npdu.snet is not None:
        fields.update(snet=npdu.snet, sadr=(npdu.sadr or b"").hex())
    return fields


def _network_message(payload: bytes, npdu: Npdu, fields: dict[str, Any]) -> Message:
    kind = npdu.message_type
    assert kind is not None
    fields["network_message_type"] = kind
    if npdu.vendor_id is not None:
        fields["vendor_id"] = npdu.vendor_id
    data, weird = payload[npdu.payload_offset:], None
    if kind in (NetworkMessage.WHO_IS_ROUTER_TO_NETWORK, NetworkMessage.I_AM_ROUTER_TO_NETWORK,
                NetworkMessage.ROUTER_BUSY_TO_NETWORK, NetworkMessage.ROUTER_AVAILABLE_TO_NETWORK):
        networks = [int.from_bytes(data[k:k + 2], "big") for k in range(0, len(data) - 1, 2)]
        fields["networks"] = networks[:MAX_ITEMS]
        weird = "bacnet_too_many_items" if len(networks) > MAX_ITEMS else None
    elif kind in (NetworkMessage.REJECT_MESSAGE_TO_NETWORK, NetworkMessage.I_COULD_BE_ROUTER_TO_NETWORK) \
            and len(data) >= 3:
        fields["network"] = int.from_bytes(data[1:3] if kind == NetworkMessage.REJECT_MESSAGE_TO_NETWORK
                                           else data[:2], "big")
    elif kind == NetworkMessage.NETWORK_NUMBER_IS and len(data) >= 2:
        fields["network"] = int.from_bytes(data[:2], "big")
    name = network_message_name(kind)
    facts: tuple[Fact, ...] = ()
    if kind == NetworkMessage.I_AM_ROUTER_TO_NETWORK:
        facts = (Fact("role", "src", "router"),)
    return Message(function_code=kind, function_name=name, action=action_of(name),
                   direction=NETWORK_DIRECTIONS.get(kind, REQUEST), fields=fields, facts=facts, weird=weird)


# -- the application layer (clauses 20, 13-17) --

def _application_message(payload: bytes, bvlc: Bvlc, npdu: Npdu, apdu: Apdu, fields: dict[str, Any],
                         is_request: bool) -> Message:
    kind = apdu.pdu_type
    fields.update(_apdu_fields(apdu))
    name, code = _service(apdu)
    decoded, weird = _decode(payload, apdu)
    fields.update(decoded.fields)
    if decoded.cut:
        weird = weird or "bacnet_too_many_items"
    if kind == PduType.UNCONFIRMED_REQUEST:
        direction = ANNOUNCING.get(code, REQUEST)
    elif kind == PduType.CONFIRMED_REQUEST or (kind in (PduType.SEGMENT_ACK, PduType.ABORT) and not apdu.server):
        direction = REQUEST
    else:
        direction = RESPONSE
    if name == "reinitialize_device" and "reinitialized_state_name" in fields:
        action = action_of(f"{name}/{fields['reinitialized_state_name']}")
    else:
        action = action_of(name)
    pair_key = None
    if kind not in (PduType.UNCONFIRMED_REQUEST, PduType.SEGMENT_ACK) and not (kind == PduType.ABORT
                                                                              and direction == REQUEST):
        requester_side = is_request if direction == REQUEST else not is_request
        here, there = _remote(npdu.snet, npdu.sadr), _remote(npdu.dnet, npdu.dadr)
        ends = (here, there) if direction == REQUEST else (there, here)
        pair_key = (apdu.invoke_id, requester_side, *ends)
    facts = _facts(bvlc, npdu, apdu, code, direction, decoded)
    return Message(function_code=code, function_name=name, action=action, direction=direction, pair_key=pair_key,
                   fields=fields, facts=facts, weird=weird)


def _remote(net: int | None, address: bytes | None) -> tuple[int, bytes] | None:
    return None if net is None else (net, address or b"")


def _apdu_fields(apdu: Apdu) -> dict[str, Any]:
    fields: dict[str, Any] = {"pdu_type": apdu.pdu_type, "pdu_type_name": pdu_type_name(apdu.pdu_type)}
    if apdu.service_choice is not None:
        fields["service_choice"] = apdu.service_choice
    if apdu.invoke_id is not None:
        fields["invoke_id"] = apdu.invoke_id
    if apdu.pdu_type in (PduType.CONFIRMED_REQUEST, PduType.COMPLEX_ACK):
        fields.update(segmented=apdu.segmented, more_follows=apdu.more_follows)
    if apdu.sequence_number is not None:
        fields.update(sequence_number=apdu.sequence_number, window_size=apdu.window_size)
    if apdu.pdu_type == PduType.CONFIRMED_REQUEST:
        code = apdu.max_apdu or 0
        fields.update(segmented_response_accepted=apdu.segmented_response_accepted,
                      max_segments=MAX_SEGMENTS[apdu.max_segments or 0],
                      max_apdu=MAX_APDU_LENGTHS[code] if code < len(MAX_APDU_LENGTHS) else None)
    if apdu.pdu_type in (PduType.SEGMENT_ACK, PduType.ABORT):
        fields["server"] = apdu.server
    if apdu.pdu_type == PduType.SEGMENT_ACK:
        fields["negative_ack"] = apdu.negative
    if apdu.pdu_type == PduType.REJECT and apdu.reason is not None:
        fields.update(reject_reason=apdu.reason, reject_reason_name=reject_reason_name(apdu.reason))
    if apdu.pdu_type == PduType.ABORT and apdu.reason is not None:
        fields.update(abort_reason=apdu.reason, abort_reason_name=abort_reason_name(apdu.reason))
    return fields


def _service(apdu: Apdu) -> tuple[str, int]:
    """(function name, function code): the service, or the APDU type for APDUs that carry none."""
    if apdu.service_choice is None:
        return pdu_type_name(apdu.pdu_type), apdu.pdu_type
    if apdu.pdu_type == PduType.UNCONFIRMED_REQUEST:
        return unconfirmed_service_name(apdu.service_choice), apdu.service_choice
    return confirmed_service_name(apdu.service_choice), apdu.service_choice


def _decode(payload: bytes, apdu: Apdu) -> tuple[Decoded, str | None]:
    """The service parameters, as far as they go; a later segment is not decoded (it starts mid-SEQUENCE)."""
    out = Decoded()
    kind, choice = apdu.pdu_type, apdu.service_choice
    if choice is None or (apdu.segmented and apdu.sequence_number):
        return out, None
    decoder = error if kind == PduType.ERROR else DECODERS.get(kind, {}).get(choice)
    if decoder is None:
        return out, None
    try:
        decoder(TagReader(payload, apdu.parameters_offset), out)
    except Malformed as bad:
        if apdu.segmented and apdu.more_follows:
            return out, None  # the first segment ends where the next one goes on
        return out, bad.code
    return out, None


def _facts(bvlc: Bvlc, npdu: Npdu, apdu: Apdu, code: int, direction: str, decoded: Decoded) -> tuple[Fact, ...]:
    """Roles, identity and points; about the datagram's source, or the routed or forwarded device it speaks for."""
    about, address, extra = _sender(bvlc, npdu)
    kind, facts = apdu.pdu_type, []
    if kind == PduType.CONFIRMED_REQUEST:
        facts.append(Fact("role", about, "client", address))
        facts += [Fact("point", "src", point) for point in decoded.points]
    elif direction == RESPONSE:
        facts.append(Fact("role", about, "device", address))
    if kind == PduType.UNCONFIRMED_REQUEST and code in (0, 1):  # I-Am, I-Have
        facts.append(Fact("role", about, "device", address))
        if code == 0:
            f = decoded.fields
            identity = {k: f.get(k) for k in ("device_instance", "vendor_id", "vendor", "max_apdu")}
            if "segmentation_name" in f:
                identity["segmentation_supported"] = f["segmentation_name"]
            facts.append(Fact("identity", about, {**identity, **extra}, address))
    if kind == PduType.UNCONFIRMED_REQUEST and code == 13 and "vendor_id" in decoded.fields:  # Who-Am-I: itself
        f = decoded.fields
        facts.append(Fact("identity", about, {"vendor_id": f["vendor_id"], "vendor": f.get("vendor"),
                                              "model": f.get("model_name"), "serial": f.get("serial_number"),
                                              **extra}, address))
    if kind == PduType.COMPLEX_ACK:
        facts += _device_properties(decoded, about, address, extra)
    return tuple(facts)


def _device_properties(decoded: Decoded, about: str, address: str | None, extra: dict) -> list[Fact]:
    identity: dict[str, Any] = {}
    for (kind, instance), prop, value in decoded.described:
        key = IDENTITY_PROPERTIES.get(prop)
        if kind != DEVICE_OBJECT or key is None:
            continue
        if key == "vendor_id" and isinstance(value, int) or key != "vendor_id" and isinstance(value, str) and value:
            identity.setdefault("device_instance", instance)
            identity.setdefault(key, value)
    if not identity:
        return []
    facts = [Fact("identity", about, {**identity, **extra}, address)]
    if identity.get("name"):
        facts.append(Fact("hostname", about, identity["name"], address))
    return facts


def _sender(bvlc: Bvlc, npdu: Npdu) -> tuple[str, str | None, dict[str, Any]]:
    """(about, address, identity extras) of the device that sent the APDU."""
    if npdu.snet is not None and npdu.sadr:
        if len(npdu.sadr) == 6:
            return "address", b_ip_address(npdu.sadr).rsplit(":", 1)[0], {"bacnet_network": npdu.snet}
        return "address", f"bacnet:{npdu.snet}:{npdu.sadr.hex()}", {"bacnet_network": npdu.snet}
    if bvlc.original_source is not None:
        return "address", bvlc.original_source.rsplit(":", 1)[0], {}
    return "src", None, {}

