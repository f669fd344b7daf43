"""Service parameters (ASHRAE 135 clauses 13-17, 21): the fields a service's request or ACK carries.

Each decoder reads one service's tagged SEQUENCE into ``Decoded``: event fields in the standard's words, the
points it reads or writes, and what a device says of its own objects (property values of ReadProperty and
ReadPropertyMultiple ACKs, the I-Am and I-Have parameters). Lists are bounded by ``MAX_ITEMS`` object/property
references and ``MAX_VALUES`` values per property (``bacnet_too_many_items``). A segment after the first carries
the middle of a SEQUENCE and is not decoded; the first is decoded as far as it goes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocols.bacnet.codes import (
    enable_disable_name,
    error_class_name,
    error_code_name,
    object_type_name,
    property_name,
    reinitialized_state_name,
    segmentation_name,
)
from protocols.bacnet.tags import BAD, CLOSE, OPEN, AppTag, TagReader, character_string, object_text, unsigned
from protocols.bacnet.vendors import vendor_name
from protocols.base import Malformed, Point

MAX_ITEMS = 64  # object/property references listed per message
MAX_VALUES = 16  # values kept per property value

ObjectId = tuple[int, int]


@dataclass(slots=True)
class Decoded:
    """What the parameters of one service say."""

    fields: dict[str, Any] = field(default_factory=dict)
    points: list[Point] = field(default_factory=list)
    described: list[tuple[ObjectId, int, Any]] = field(default_factory=list)  # (object, property, value) of a device
    cut: bool = False  # a bound was hit

    def reference(self, obj: ObjectId, prop: int | None, index: int | None, access: str | None,
                  values: list[Any] | None = None) -> dict[str, Any]:
        """One (object, property) a service names: listed in ``fields`` and, with ``access``, a point."""
        ref: dict[str, Any] = {"object": object_text(*obj), "object_type": obj[0], "instance": obj[1]}
        if prop is not None:
            ref.update(property_id=prop, property=property_name(prop))
        if index is not None:
            ref["array_index"] = index
        refs = self.fields.setdefault("references", [])
        if len(refs) >= MAX_ITEMS:
            self.cut = True
            return ref
        refs.append(ref)
        if access is not None:
            simple = values is not None and len(values) == 1 and not isinstance(values[0], (list, dict))
            self.points.append(Point(object_type_name(obj[0]), obj[1], 1, access,
                                     property_name(prop) if prop is not None else None,
                                     tuple(values) if simple and values is not None else None))
        return ref


def _values(r: TagReader, number: int, out: Decoded) -> list[Any]:
    values, cut = r.values_until_close(number, MAX_VALUES)
    out.cut |= cut
    return values


# -- read and write (clause 15) --

def read_property(r: TagReader, out: Decoded) -> None:
    obj = _required_object(r, 0)
    prop = r.context_unsigned(1, required=True)
    out.reference(obj, prop, r.context_unsigned(2), "read")


def read_property_ack(r: TagReader, out: Decoded) -> None:
    obj = _required_object(r, 0)
    prop = r.context_unsigned(1, required=True)
    index = r.context_unsigned(2)
    ref = out.reference(obj, prop, index, None)
    if r.opening(3):
        values = _values(r, 3, out)
        ref["values"] = values
        if values:
            out.described.append((obj, prop or 0, values[0] if len(values) == 1 else values))


def read_property_multiple(r: TagReader, out: Decoded) -> None:
    while not r.done:
        obj = _required_object(r, 0)
        _open(r, 1)
        while not _closing_next(r, 1):
            prop = r.context_unsigned(0, required=True)
            out.reference(obj, prop, r.context_unsigned(1), "read")


def read_property_multiple_ack(r: TagReader, out: Decoded) -> None:
    while not r.done:
        obj = _required_object(r, 0)
        _open(r, 1)
        while not _closing_next(r, 1):
            prop = r.context_unsigned(2, required=True)
            index = r.context_unsigned(3)
            ref = out.reference(obj, prop, index, None)
            if r.opening(4):
                values = _values(r, 4, out)
                ref["values"] = values
                if values:
                    out.described.append((obj, prop or 0, values[0] if len(values) == 1 else values))
            elif r.opening(5):
                error_class, error_code = r.app(AppTag.ENUMERATED), r.app(AppTag.ENUMERATED)
                ref.update(error_class=error_class_name(error_class), error_code=error_code_name(error_code))
                r.closing(5)
            else:
                raise Malformed(BAD, r.at, "property value or access error expected")


def write_property(r: TagReader, out: Decoded) -> None:
    _write(r, out, _required_object(r, 0), first_tag=1)


def write_property_multiple(r: TagReader, out: Decoded) -> None:
    while not r.done:
        obj = _required_object(r, 0)
        _open(r, 1)
        while not _closing_next(r, 1):
            _write(r, out, obj, first_tag=0)


def _write(r: TagReader, out: Decoded, obj: ObjectId, first_tag: int) -> None:
    """One property written: identifier, optional array index, the values, optional priority, in context tags
    ``first_tag`` to ``first_tag + 3`` (WriteProperty numbers them from 1, WritePropertyMultiple's list from 0)."""
    prop = r.context_unsigned(first_tag, required=True)
    index = r.context_unsigned(first_tag + 1)
    _open(r, first_tag + 2)
    values = _values(r, first_tag + 2, out)
    ref = out.reference(obj, prop, index, "write", values)
    ref["values"] = values
    priority = r.context_unsigned(first_tag + 3)
    if priority is not None:
        ref["priority"] = priority


def read_range(r: TagReader, out: Decoded) -> None:
    obj = _required_object(r, 0)
    prop = r.context_unsigned(1, required=True)
    out.reference(obj, prop, r.context_unsigned(2), "read")


def object_only(r: TagReader, out: Decoded) -> None:
    """Services whose first parameter is the object they act on (create/delete-object, list elements...)."""
    tag = r.peek()
    if tag is not None and tag.kind == "value" and tag.length == 4 and (tag.context and tag.number == 0
                                                                          or tag.number == AppTag.OBJECT_IDENTIFIER):
        r.next()
        obj = _object(r.data(tag))
        out.reference(obj, r.context_unsigned(1), None, None)


def create_object(r: TagReader, out: Decoded) -> None:
    """CreateObject-Request (clause 15.3.1.1): the object specifier is a type, or an object identifier."""
    _open(r, 0)
    kind = r.context_unsigned(0)
    if kind is not None:
        out.fields.update(object_type=kind, object_type_name=object_type_name(kind))
    else:
        out.reference(_required_object(r, 1), None, None, None)


def acknowledge_alarm(r: TagReader, out: Decoded) -> None:
    out.fields["acknowledging_process_id"] = r.context_unsigned(0, required=True)
    out.reference(_required_object(r, 1), None, None, None)


def life_safety_operation(r: TagReader, out: Decoded) -> None:
    out.fields["requesting_process_id"] = r.context_unsigned(0, required=True)
    source = r.context(1)
    if source is not None:
        out.fields["requesting_source"] = character_string(r.data(source))
    request = r.context_unsigned(2)
    if request is not None:
        out.fields["request"] = request
    obj = r.context_object(3)
    if obj is not None:
        out.reference(obj, None, None, None)


# -- discovery (clause 16.9-16.10) --

def who_is(r: TagReader, out: Decoded) -> None:
    low, high = r.context_unsigned(0), r.context_unsigned(1)
    if low is not None:
        out.fields.update(low_limit=low, high_limit=high)


def i_am(r: TagReader, out: Decoded) -> None:
    kind, instance = _object(_app_raw(r, AppTag.OBJECT_IDENTIFIER))
    max_apdu = r.app(AppTag.UNSIGNED)
    segmentation = r.app(AppTag.ENUMERATED)
    vendor_id = r.app(AppTag.UNSIGNED)
    out.fields.update(object=object_text(kind, instance), device_instance=instance, max_apdu=max_apdu,
                      segmentation=segmentation, segmentation_name=segmentation_name(segmentation),
                      vendor_id=vendor_id, vendor=vendor_name(vendor_id))


def who_has(r: TagReader, out: Decoded) -> None:
    low, high = r.context_unsigned(0), r.context_unsigned(1)
    if low is not None:
        out.fields.update(low_limit=low, high_limit=high)
    obj = r.context_object(2)
    if obj is not None:
        out.fields["object"] = object_text(*obj)
        return
    tag = r.context(3)
    if tag is None:
        raise Malformed(BAD, r.at, "who-has names neither an object identifier nor an object name")
    out.fields["object_name"] = character_string(r.data(tag))


def i_have(r: TagReader, out: Decoded) -> None:
    device = _object(_app_raw(r, AppTag.OBJECT_IDENTIFIER))
    obj = _object(_app_raw(r, AppTag.OBJECT_IDENTIFIER))
    name = r.app(AppTag.CHARACTER_STRING)
    out.fields.update(device=object_text(*device), device_instance=device[1], object=object_text(*obj),
                      object_name=name)


# -- change of value and events (clauses 13.1, 13.8-13.9, 13.14) --

def subscribe_cov(r: TagReader, out: Decoded) -> None:
    out.fields["subscriber_process_id"] = r.context_unsigned(0, required=True)
    out.reference(_required_object(r, 1), None, None, "read")
    confirmed = r.context(2)
    if confirmed is not None:
        out.fields["issue_confirmed_notifications"] = bool(unsigned(r.data(confirmed)))
    lifetime = r.context_unsigned(3)
    if lifetime is not None:
        out.fields["lifetime"] = lifetime


def subscribe_cov_property(r: TagReader, out: Decoded) -> None:
    out.fields["subscriber_process_id"] = r.context_unsigned(0, required=True)
    obj = _required_object(r, 1)
    r.context(2)
    r.context(3)
    prop = index = None
    if r.opening(4):
        prop, index = r.context_unsigned(0, required=True), r.context_unsigned(1)
    out.reference(obj, prop, index, "read")


def subscribe_cov_property_multiple(r: TagReader, out: Decoded) -> None:
    """Only the first monitored object is listed (clause 13.16.1): the specifications nest three levels deep."""
    out.fields["subscriber_process_id"] = r.context_unsigned(0, required=True)
    for number in (1, 2, 3):
        r.context(number)
    _open(r, 4)
    out.reference(_required_object(r, 0), None, None, "read")


def cov_notification_multiple(r: TagReader, out: Decoded) -> None:
    out.fields["subscriber_process_id"] = r.context_unsigned(0, required=True)
    out.fields["initiating_device"] = object_text(*_required_object(r, 1))


def text_message(r: TagReader, out: Decoded) -> None:
    out.fields["source_device"] = object_text(*_required_object(r, 0))


def who_am_i(r: TagReader, out: Decoded) -> None:
    """Who-Am-I and You-Are (clause 16.11-16.12): vendor id, model name, serial number; You-Are adds the device."""
    out.fields["vendor_id"] = vendor_id = r.app(AppTag.UNSIGNED)
    out.fields.update(vendor=vendor_name(vendor_id), model_name=r.app(AppTag.CHARACTER_STRING),
                      serial_number=r.app(AppTag.CHARACTER_STRING))
    tag = r.peek()
    if tag is not None and not tag.context and tag.number == AppTag.OBJECT_IDENTIFIER and tag.length == 4:
        r.next()
        out.fields["device"] = object_text(*_object(r.data(tag)))


def cov_notification(r: TagReader, out: Decoded) -> None:
    out.fields["subscriber_process_id"] = r.context_unsigned(0, required=True)
    device = _required_object(r, 1)
    obj = _required_object(r, 2)
    out.fields.update(initiating_device=object_text(*device), time_remaining=r.context_unsigned(3))
    _open(r, 4)
    while not _closing_next(r, 4):
        prop = r.context_unsigned(0, required=True)
        index = r.context_unsigned(1)
        ref = out.reference(obj, prop, index, None)
        _open(r, 2)
        ref["values"] = _values(r, 2, out)
        r.context_unsigned(3)  # priority


def event_notification(r: TagReader, out: Decoded) -> None:
    out.fields["process_id"] = r.context_unsigned(0, required=True)
    out.fields["initiating_device"] = object_text(*_required_object(r, 1))
    out.fields["event_object"] = object_text(*_required_object(r, 2))


# -- device management (clause 16) --

def reinitialize_device(r: TagReader, out: Decoded) -> None:
    state = r.context_unsigned(0, required=True) or 0
    out.fields.update(reinitialized_state=state, reinitialized_state_name=reinitialized_state_name(state))
    out.fields["password_present"] = r.context(1) is not None


def device_communication_control(r: TagReader, out: Decoded) -> None:
    duration = r.context_unsigned(0)
    state = r.context_unsigned(1, required=True) or 0
    out.fields.update(enable_disable=state, enable_disable_name=enable_disable_name(state))
    if duration is not None:
        out.fields["time_duration"] = duration
    out.fields["password_present"] = r.context(2) is not None


# -- files (clause 14) --

def atomic_read_file(r: TagReader, out: Decoded) -> None:
    _file_and_access(r, out, "read")


def atomic_write_file(r: TagReader, out: Decoded) -> None:
    _file_and_access(r, out, "write")


def _file_and_access(r: TagReader, out: Decoded, access: str) -> None:
    obj = _object(_app_raw(r, AppTag.OBJECT_IDENTIFIER))
    out.fields["file_object"] = object_text(*obj)
    out.reference(obj, None, None, None)
    if r.opening(0):
        out.fields["access"] = "stream"
        out.fields["file_start_position"] = r.app(AppTag.SIGNED)
        tag = r.next()
        if tag.number == AppTag.UNSIGNED and not tag.context:
            out.fields["requested_octet_count"] = unsigned(r.data(tag))
        elif tag.number == AppTag.OCTET_STRING and not tag.context:
            out.fields["octet_count"] = tag.length
        r.closing(0)
    elif r.opening(1):
        out.fields["access"] = "record"
        out.fields["file_start_record"] = r.app(AppTag.SIGNED)
        out.fields["record_count"] = r.app(AppTag.UNSIGNED)
        while r.peek() is not None and r.peek().kind != CLOSE:  # type: ignore[union-attr]
            r.next()
        r.closing(1)


def atomic_read_file_ack(r: TagReader, out: Decoded) -> None:
    out.fields["end_of_file"] = r.app(AppTag.BOOLEAN)
    if r.opening(0):
        out.fields.update(access="stream", file_start_position=r.app(AppTag.SIGNED))
        tag = r.next()
        out.fields["octet_count"] = tag.length
        r.closing(0)
    elif r.opening(1):
        out.fields.update(access="record", file_start_record=r.app(AppTag.SIGNED),
                          record_count=r.app(AppTag.UNSIGNED))


def atomic_write_file_ack(r: TagReader, out: Decoded) -> None:
    stream = r.context(0)
    if stream is not None:
        out.fields.update(access="stream", file_start_position=int.from_bytes(r.data(stream), "big", signed=True))
        return
    record = r.context(1)
    if record is not None:
        out.fields.update(access="record", file_start_record=int.from_bytes(r.data(record), "big", signed=True))


# -- time (clause 16.7-16.8) --

def time_synchronization(r: TagReader, out: Decoded) -> None:
    out.fields["time"] = f"{r.app(AppTag.DATE)} {r.app(AppTag.TIME)}"


# -- errors (clause 18, 21 Error) --

def error(r: TagReader, out: Decoded) -> None:
    """An Error-PDU's parameters: error class and code, inside an opening tag 0 for the services that wrap them."""
    tag = r.peek()
    if tag is not None and tag.kind == OPEN:
        r.next()
    out.fields["error_class"] = error_class = r.app(AppTag.ENUMERATED)
    out.fields["error_code"] = error_code = r.app(AppTag.ENUMERATED)
    out.fields.update(error_class_name=error_class_name(error_class), error_code_name=error_code_name(error_code))


# -- helpers --

def _object(data: bytes) -> ObjectId:
    value = int.from_bytes(data, "big")
    return value >> 22, value & 0x3FFFFF


def _required_object(r: TagReader, number: int) -> ObjectId:
    obj = r.context_object(number)
    if obj is None:
        raise Malformed(BAD, r.at, f"object identifier in context tag {number} expected")
    return obj


def _app_raw(r: TagReader, expected: int) -> bytes:
    tag = r.next()
    if tag.context or tag.number != expected or tag.length != 4:
        raise Malformed(BAD, r.at, f"application tag {expected} expected")
    return r.data(tag)


def _open(r: TagReader, number: int) -> None:
    if not r.opening(number):
        raise Malformed(BAD, r.at, f"opening tag {number} expected")


def _closing_next(r: TagReader, number: int) -> bool:
    """Consume the closing tag ``number`` if it is next."""
    tag = r.peek()
    if tag is None:
        raise Malformed(BAD, r.at, f"closing tag {number} missing")
    if tag.kind == CLOSE and tag.number == number:
        r.next()
        return True
    return False


Decoder = Callable[[TagReader, Decoded], None]
CONFIRMED_REQUESTS: dict[int, Decoder] = {
    0: acknowledge_alarm, 10: create_object, 19: text_message, 27: life_safety_operation, 28: subscribe_cov_property,
    30: subscribe_cov_property_multiple, 31: cov_notification_multiple, 1: cov_notification, 2: event_notification, 5: subscribe_cov, 6: atomic_read_file, 7: atomic_write_file,
    8: object_only, 9: object_only, 11: object_only, 12: read_property, 14: read_property_multiple,
    15: write_property, 16: write_property_multiple, 17: device_communication_control, 20: reinitialize_device,
    26: read_range,
}
COMPLEX_ACKS: dict[int, Decoder] = {
    6: atomic_read_file_ack, 7: atomic_write_file_ack, 10: object_only, 12: read_property_ack,
    14: read_property_multiple_ack,
}
UNCONFIRMED_REQUESTS: dict[int, Decoder] = {
    0: i_am, 1: i_have, 2: cov_notification, 3: event_notification, 6: time_synchronization, 7: who_has,
    8: who_is, 9: time_synchronization, 5: text_message, 11: cov_notification_multiple, 13: who_am_i, 14: who_am_i,
}
