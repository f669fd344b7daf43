"""DNP3 records -> protocol-neutral ``Message``s: direction, action, pairing, fields and facts.

Who is master and who is outstation comes from the DIR bit of the link frame (§9.2.4.1.3.1), never
from the port or from which side opened the connection: an outstation may dial out. The sensor tells
which side of the flow sent the message (``is_request``: from the client), so facts are about
``client`` or ``server`` accordingly.

Points (``Fact("point", ...)``) are always about the master, as Modbus points are about the client:

- written: the objects of WRITE, SELECT, OPERATE, DIRECT_OPERATE(_NR) requests in point groups, with
  the values commanded (CROB operation, analog output value);
- read: the data objects of responses and unsolicited responses, which name the points actually
  returned (an integrity poll's request names none). Command objects in a response echo the request
  and are not counted again.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import replace
from typing import Any

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, Fact, Message, Point
from protocols.dnp3.codes import (
    COMMAND_GROUPS,
    IDENTITY_ATTRIBUTES,
    NOT_POINT_GROUPS,
    FunctionCode,
    PrimaryFunction,
    action_of,
    iin_names,
    link_function_name,
)
from protocols.dnp3.wire import Fragment, LinkFrame, ObjectHeader

MASTER, OUTSTATION = "master", "outstation"

WRITE_FUNCTIONS = frozenset({FunctionCode.WRITE, FunctionCode.SELECT, FunctionCode.OPERATE,
                             FunctionCode.DIRECT_OPERATE, FunctionCode.DIRECT_OPERATE_NR})
NO_RESPONSE = frozenset({FunctionCode.CONFIRM, FunctionCode.DIRECT_OPERATE_NR, FunctionCode.IMMED_FREEZE_NR,
                         FunctionCode.FREEZE_CLEAR_NR, FunctionCode.FREEZE_AT_TIME_NR, FunctionCode.AUTH_REQ_NO_ACK})
"""Requests no response answers (§4.4: the _NR functions; a CONFIRM answers a response itself)."""
REQUEST_FUNCTIONS = frozenset(int(f) for f in FunctionCode if f < 0x80)
LINK_REQUESTS_ANSWERED = frozenset({PrimaryFunction.RESET_LINK_STATES, PrimaryFunction.TEST_LINK_STATES,
                                    PrimaryFunction.CONFIRMED_USER_DATA, PrimaryFunction.REQUEST_LINK_STATUS})


def _sides(frame: LinkFrame, is_request: bool) -> tuple[str, str, str]:
    """(sender side, receiver side, master side) as ``client``/``server``."""
    sender, receiver = ("client", "server") if is_request else ("server", "client")
    return sender, receiver, sender if frame.dir else receiver


def _roles(frame: LinkFrame, sender: str, receiver: str) -> tuple[Fact, Fact]:
    sent, got = (MASTER, OUTSTATION) if frame.dir else (OUTSTATION, MASTER)
    return Fact("role", sender, sent), Fact("role", receiver, got)


def link_weird(frame: LinkFrame) -> str | None:
    """The first oddity of a link frame itself (header CRC, then data CRCs)."""
    if not frame.header_crc_ok:
        return "dnp3_bad_header_crc"
    if frame.bad_blocks:
        return "dnp3_bad_data_crc"
    return None


def link_message(frame: LinkFrame, is_request: bool, weird: str | None = None) -> Message:
    """A link frame that carries no application data: link management (§9.2.4.1.3)."""
    sender, receiver, _ = _sides(frame, is_request)
    name = link_function_name(frame.prm, frame.function)
    pair: Hashable | None = None
    if frame.prm and frame.function in LINK_REQUESTS_ANSWERED:
        pair = ("link", frame.source, frame.destination)
    elif not frame.prm:
        pair = ("link", frame.destination, frame.source)
    fields: dict[str, Any] = {
        "source": frame.source, "destination": frame.destination, "dir": frame.dir, "prm": frame.prm,
        "fcb" if frame.prm else "reserved": frame.fcb, "fcv" if frame.prm else "dfc": frame.fcv,
    }
    return Message(
        function_code=frame.function, function_name=name, action=action_of(name),
        direction=REQUEST if frame.prm else RESPONSE, pair_key=pair, fields=fields,
        facts=_roles(frame, sender, receiver), weird=weird,
    )


def app_message(frame: LinkFrame, fragment: Fragment, is_request: bool, segments: int = 1,
                weird: str | None = None) -> Message:
    """An application fragment, with the link frame that completed it (its addresses and DIR bit)."""
    sender, receiver, master = _sides(frame, is_request)
    fc = fragment.function_code
    name = fragment.function_name
    if fc == FunctionCode.UNSOLICITED_RESPONSE:
        direction = UNSOLICITED
    elif fc in (FunctionCode.RESPONSE, FunctionCode.AUTHENTICATE_RESP):
        direction = RESPONSE
    elif fc in REQUEST_FUNCTIONS:
        direction = REQUEST
    else:  # an unassigned code: only the DIR bit can say
        direction = REQUEST if frame.dir else RESPONSE
    known = fc in REQUEST_FUNCTIONS or fc in (FunctionCode.RESPONSE, FunctionCode.UNSOLICITED_RESPONSE,
                                              FunctionCode.AUTHENTICATE_RESP)
    if known and (direction == REQUEST) != frame.dir:
        weird = weird or fragment.weird or "dnp3_bad_direction"
    else:
        weird = weird or fragment.weird
    master_address, outstation_address = (frame.source, frame.destination) if frame.dir else \
        (frame.destination, frame.source)
    pair: Hashable | None = None
    if direction == REQUEST and fc in REQUEST_FUNCTIONS and fc not in NO_RESPONSE:
        pair = ("app", master_address, outstation_address, fragment.sequence)
    elif direction == RESPONSE and fragment.fir and known:
        pair = ("app", master_address, outstation_address, fragment.sequence)
    groups = tuple(dict.fromkeys(o.group for o in fragment.objects))
    facts: list[Fact] = list(_roles(frame, sender, receiver))
    if fragment.is_response and fragment.attributes:
        identity = _identity(fragment)
        if identity:
            facts.append(Fact("identity", sender, identity))
    if direction == REQUEST and fc in WRITE_FUNCTIONS:
        facts += (Fact("point", master, p) for o in fragment.objects if _is_point(o) for p in _points(o, "write"))
    elif direction in (RESPONSE, UNSOLICITED) and fc != FunctionCode.AUTHENTICATE_RESP:
        facts += (Fact("point", master, p) for o in fragment.objects
                  if _is_point(o) and o.group not in COMMAND_GROUPS for p in _points(o, "read"))
    return Message(
        function_code=fc, function_name=name, action=action_of(name, groups), direction=direction,
        pair_key=pair, fields=_fields(frame, fragment, segments), facts=tuple(facts), weird=weird,
    )


def _fields(frame: LinkFrame, fragment: Fragment, segments: int) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "source": frame.source, "destination": frame.destination,
        "fir": fragment.fir, "fin": fragment.fin, "con": fragment.con, "uns": fragment.uns,
        "sequence": fragment.sequence, "transport_segments": segments,
        "objects": [_object_fields(o) for o in fragment.objects],
    }
    if fragment.iin is not None:
        fields["iin"] = fragment.iin
        fields["iin_flags"] = iin_names(fragment.iin)
    if fragment.attributes:
        fields["attributes"] = [
            {"variation": a.variation, "name": a.name, "data_type": a.data_type, "value": a.value}
            for a in fragment.attributes
        ]
    return fields


def _object_fields(o: ObjectHeader) -> dict[str, Any]:
    out: dict[str, Any] = {"group": o.group, "variation": o.variation, "qualifier": o.qualifier}
    if o.start is not None:
        out["start"], out["stop"] = o.start, o.stop
    if o.count is not None:
        out["count"] = o.count
    if o.indexes is not None:
        out["indexes"] = list(o.indexes)
    if o.values is not None:
        out["values"] = list(o.values)
    return out


def _identity(fragment: Fragment) -> dict[str, Any]:
    identity: dict[str, Any] = {}
    for attribute in fragment.attributes:
        keys = IDENTITY_ATTRIBUTES.get(attribute.variation)
        if keys and attribute.value not in (None, ""):
            for key in keys:
                identity[key] = attribute.value
    return identity


def _is_point(o: ObjectHeader) -> bool:
    """An object header in a point group that names its indexes (a range or an index prefix)."""
    return o.group not in NOT_POINT_GROUPS and (o.indexes is not None or o.start is not None and o.quantity > 0)


def _points(o: ObjectHeader, access: str) -> Iterator[Point]:
    """One ``Point`` per run of consecutive indexes; one per object when it carries a value."""
    space = f"g{o.group}"
    if o.indexes is not None:
        if o.values is not None:
            for index, value in zip(o.indexes, o.values):
                yield Point(space, index, 1, access, values=(value,) if access == "write" else None)
            return
        yield from (Point(space, start, n, access) for start, n in _runs(o.indexes))
    elif o.start is not None and o.stop is not None:
        values = o.values if access == "write" else None
        yield Point(space, o.start, o.quantity, access, values=values)


def _runs(indexes: tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """(first index, length) of each run of consecutive indexes, in sorted order, duplicates merged."""
    ordered = sorted(set(indexes))
    if not ordered:
        return
    start = prev = ordered[0]
    for index in ordered[1:]:
        if index != prev + 1:
            yield start, prev - start + 1
            start = index
        prev = index
    yield start, prev - start + 1


def complete(request: Message, response: Message) -> Message:
    """The response with what only its request tells: which function it answers, and so its action.

    A DNP3 response (function 0x81) never repeats the function it answers, so on its own its action is
    ``read`` (it carries the outstation's data). Paired by ``pair_key`` with, say, a COLD_RESTART, it is
    part of a ``restart``. For the ``ProtocolSpec.complete`` seam; link messages pass through unchanged.
    """
    if response.function_name.startswith("link_") or request.function_name.startswith("link_"):
        return response
    fields = {**response.fields, "request_function_code": request.function_code,
              "request_function_name": request.function_name}
    return replace(response, action=request.action, fields=fields)
