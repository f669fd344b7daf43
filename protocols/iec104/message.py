"""IEC 60870-5-104 records -> protocol-neutral ``Message``s: direction, action, pairing, roles, points, fields.

Who is the controlling station and who the controlled one comes from what a message is, never from the port:
STARTDT/STOPDT act come from the controlling station and their con from the controlled one (§5.3);
monitor-direction ASDUs (types 1..44, 70) come from the controlled station; control-direction ASDUs (45..69,
100..119) come from the controlling station when they activate or deactivate (cause 6, 8) and from the
controlled station when they confirm, terminate or refuse (7, 9, 10, 44..47). TESTFR, S-format and file
transfer say nothing about roles.

Direction follows the cause of transmission: activation and deactivation are requests; confirmations,
terminations, requested and interrogated data (5, 20..41) and the negative 'unknown ...' replies are
responses; cyclic, background, spontaneous, initialised and return information (1..4, 11, 12) are
``unsolicited``. File transfer (cause 13) calls and acknowledgements are requests, the files, sections,
segments and directories answering them responses. A command's confirmation pairs with its activation by
(type, common address, first IOA); STARTDT/STOPDT/TESTFR con pair with their act.

Points (``Fact("point", ...)``) are about the controlling station, as Modbus points are about the client:
every object of a monitor-direction ASDU is a point read; every object of an executed command (S/E = 0, or a
bitstring command, which has no S/E) or parameter activation is a point written, with its value. A select
writes nothing yet, and a confirmation echoes its command: neither counts again.
"""
from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Fact, Malformed, Message, Point
from protocols.iec104.codes import (
    COMMAND_TYPES,
    CONFIRMATION_CAUSES,
    CONTROL_TYPES,
    CONTROLLED,
    CONTROLLING,
    FAMILY,
    FILE_REQUESTS,
    I_FORMAT_CODE,
    MONITOR_TYPES,
    PARAMETER_TYPES,
    REQUEST_CAUSES,
    RESPONSE_CAUSES,
    S_FORMAT,
    U_FORMAT,
    UNSOLICITED_CAUSES,
    Cause,
    UFunction,
    action_of,
    cause_name,
    frame_name,
    type_name,
)
from protocols.iec104.wire import MAX_OBJECTS, Apdu, Asdu, parse_asdu

UNDEFINED_CAUSES = frozenset({0, *range(14, 20), 42, 43})
_U_SENDERS = {UFunction.STARTDT_act: CONTROLLING, UFunction.STOPDT_act: CONTROLLING,
              UFunction.STARTDT_con: CONTROLLED, UFunction.STOPDT_con: CONTROLLED}
_U_PAIRS = {u: u.name.split("_")[0] for u in UFunction}  # STARTDT act and con share "STARTDT"


def apdu_message(apdu: Apdu, is_request: bool, max_objects: int = MAX_OBJECTS) -> Message:
    """The message of one APDU; ``is_request`` says whether it went from the flow's client to its server."""
    if apdu.format == S_FORMAT:
        return Message(apdu.frame_code, frame_name(apdu.frame_code), "session", RESPONSE, None,
                       {"apci_type": "S", "receive_sequence": apdu.receive_sequence}, (), apdu.weird)
    if apdu.format == U_FORMAT:
        return _u_message(apdu, is_request)
    return _i_message(apdu, is_request, max_objects)


def _sides(is_request: bool) -> tuple[str, str]:
    return ("client", "server") if is_request else ("server", "client")


def _roles(sender_role: str | None, is_request: bool) -> tuple[Fact, ...]:
    if sender_role is None:
        return ()
    sender, receiver = _sides(is_request)
    other = CONTROLLED if sender_role == CONTROLLING else CONTROLLING
    return Fact("role", sender, sender_role), Fact("role", receiver, other)


def _u_message(apdu: Apdu, is_request: bool) -> Message:
    code = apdu.frame_code
    name = frame_name(code)
    control = apdu.control[0]
    fields: dict[str, Any] = {"apci_type": "U", "u_function": control >> 2}
    if control in _U_PAIRS:
        function = UFunction(control)
        direction = REQUEST if function.name.endswith("_act") else RESPONSE
        pair: Hashable | None = ("U", _U_PAIRS[function])
        facts = _roles(_U_SENDERS.get(function), is_request)
    else:
        direction, pair, facts = (REQUEST if is_request else RESPONSE), None, ()
    return Message(code, name, action_of(name), direction, pair, fields, facts, apdu.weird)


def _i_message(apdu: Apdu, is_request: bool, max_objects: int) -> Message:
    fields: dict[str, Any] = {"apci_type": "I", "send_sequence": apdu.send_sequence,
                              "receive_sequence": apdu.receive_sequence}
    try:
        asdu = parse_asdu(apdu.asdu, max_objects)
    except Malformed:
        return _short_message(apdu, is_request, fields)
    name = type_name(asdu.type_id)
    fields.update(_asdu_fields(asdu))
    sender_role = _sender_role(asdu)
    direction = _direction(asdu, is_request)
    weird = apdu.weird or asdu.weird or ("iec104_undefined_cause" if asdu.cause in UNDEFINED_CAUSES else None)
    facts = list(_roles(sender_role, is_request))
    facts += _points(asdu, sender_role, is_request)
    return Message(asdu.type_id, name, action_of(name), direction, _pair_key(asdu, direction), fields,
                   tuple(facts), weird)


def _short_message(apdu: Apdu, is_request: bool, fields: dict[str, Any]) -> Message:
    """An I-format APDU whose ASDU identifier is cut short: what of it is there, and ``iec104_short_asdu``."""
    data = apdu.asdu
    code = data[0] if data else I_FORMAT_CODE
    if data:
        fields["type_id"] = data[0]
    if len(data) > 1:
        fields["sq"], fields["number_of_objects"] = bool(data[1] & 0x80), data[1] & 0x7F
    if len(data) > 2:
        fields.update(_cot_fields(data[2]))
    if len(data) > 3:
        fields["originator_address"] = data[3]
    name = type_name(code) if data else frame_name(code)
    return Message(code, name, action_of(name), REQUEST if is_request else RESPONSE, None, fields, (),
                   apdu.weird or "iec104_short_asdu")


def _cot_fields(octet: int) -> dict[str, Any]:
    cause = octet & 0x3F
    return {"cause": cause, "cause_name": cause_name(cause), "negative": bool(octet & 0x40),
            "test": bool(octet & 0x80)}


def _asdu_fields(asdu: Asdu) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type_id": asdu.type_id, "sq": asdu.sq, "number_of_objects": asdu.number, "cause": asdu.cause,
        "cause_name": cause_name(asdu.cause), "negative": asdu.negative, "test": asdu.test,
        "originator_address": asdu.originator, "common_address": asdu.common_address,
        "objects": [{"ioa": o.ioa, **o.elements} for o in asdu.objects],
    }
    if asdu.data:
        fields["data"] = asdu.data.hex()
    return fields


def _sender_role(asdu: Asdu) -> str | None:
    if asdu.type_id in MONITOR_TYPES:
        return CONTROLLED
    if asdu.type_id in CONTROL_TYPES:
        if asdu.cause in REQUEST_CAUSES:
            return CONTROLLING
        if asdu.cause in CONFIRMATION_CAUSES:
            return CONTROLLED
    return None


def _direction(asdu: Asdu, is_request: bool) -> str:
    cause = asdu.cause
    if cause in REQUEST_CAUSES:
        return REQUEST
    if cause in RESPONSE_CAUSES:
        return RESPONSE
    if cause in UNSOLICITED_CAUSES:
        return UNSOLICITED
    if cause == Cause.FILE:
        return REQUEST if asdu.type_id in FILE_REQUESTS else RESPONSE
    return REQUEST if is_request else RESPONSE


def _pair_key(asdu: Asdu, direction: str) -> Hashable | None:
    """Activation and its confirmation/termination: (type, common address, first IOA) (§7.4 of 101)."""
    if asdu.type_id not in CONTROL_TYPES:
        return None
    if (direction == REQUEST and asdu.cause in REQUEST_CAUSES) or asdu.cause in CONFIRMATION_CAUSES:
        first = asdu.objects[0].ioa if asdu.objects else None
        return ("ASDU", asdu.type_id, asdu.common_address, first)
    return None


def _points(asdu: Asdu, sender_role: str | None, is_request: bool) -> list[Fact]:
    family = FAMILY.get(asdu.type_id)
    if family is None or sender_role is None or not asdu.objects:
        return []
    sender, receiver = _sides(is_request)
    controlling = sender if sender_role == CONTROLLING else receiver
    if asdu.type_id in MONITOR_TYPES:
        if asdu.cause not in UNSOLICITED_CAUSES and asdu.cause not in RESPONSE_CAUSES:
            return []
        return [Fact("point", controlling, Point(family, o.ioa, 1, "read")) for o in asdu.objects]
    written = asdu.type_id in COMMAND_TYPES or asdu.type_id in PARAMETER_TYPES
    if not written or asdu.cause != Cause.ACT or sender_role != CONTROLLING:
        return []
    return [Fact("point", controlling, Point(family, o.ioa, 1, "write", values=(o.elements.get("value"),)))
            for o in asdu.objects if not o.elements.get("select", False)]


__all__ = ["apdu_message"]
