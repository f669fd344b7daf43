"""A DCP frame as a protocol-neutral ``Message``: names, action, direction, event fields and inventory facts.

Direction (DESIGN.md "Events"): a Hello is a station announcing itself, and an Identify response is the
station's unprompted identification to whoever asked the link (the request is mostly multicast; a single
frame cannot tell, so every Identify response is an ``announce``). Get and Set responses answer a request.

Facts come only from what a station says of itself (Identify and Get responses, Hello), never from requests:
an Identify filter or a Set names what the *sender* wants the target to be.
"""
from __future__ import annotations

from typing import Any

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, Fact, Malformed, Message
from protocols.profinet.codes import (
    SERVICE_OF_FRAME,
    TRANSACTION_BLOCKS,
    FrameId,
    ServiceId,
    ServiceType,
    action_of,
    block_name,
    frame_id_name,
    service_name,
    service_type_name,
    set_name,
)
from protocols.profinet.vendors import vendor_name
from protocols.profinet.wire import DcpFrame, block_fields, valid_station_name

IDENTITY_KEYS = ("name_of_station", "device_vendor_value", "vendor_id", "device_id", "alias_name",
                 "ip_address", "subnet_mask", "gateway", "mac_address", "oem_vendor_id", "oem_device_id")
NAMES = ("name_of_station", "alias_name")
SELF_DESCRIBING = frozenset({ServiceId.IDENTIFY, ServiceId.GET})  # services whose responses describe the sender


def dcp_message(frame: DcpFrame) -> Message:
    """The message of one DCP frame; a block too short for its content costs that block, not the message."""
    service = frame.service_id
    weird = _frame_weird(frame)
    kind = "info" if frame.is_response or service == ServiceId.HELLO else \
        "qualifier" if service == ServiceId.SET else "filter"
    fields: dict[str, Any] = {
        "frame_id": frame.frame_id, "frame_name": frame_id_name(frame.frame_id), "service_id": service,
        "service_type": frame.service_type, "service_type_name": service_type_name(frame.service_type),
        "xid": frame.xid,
    }
    if frame.frame_id == FrameId.IDENTIFY_REQUEST:
        fields["response_delay"] = frame.delay
    fields["blocks"] = [block_name(b.option, b.suboption) for b in frame.blocks]
    results = []
    for block in frame.blocks:
        if frame.is_get_request or (block.option, block.suboption) in TRANSACTION_BLOCKS:
            continue  # bare pairs naming what to read; transaction brackets around a Set
        try:
            decoded = block_fields(block, kind)
        except Malformed as bad:
            weird = weird or bad.code
            continue
        result = decoded.pop("result", None)
        if result is not None:
            results.append(result)
        for key, value in decoded.items():
            fields.setdefault(key, value)  # the first block of a kind speaks
    if results:
        fields["results"] = results
    for key in NAMES:
        if key in fields and not valid_station_name(fields[key]):
            weird = weird or "profinet_dcp_bad_name_of_station"
    name = _function_name(frame)
    return Message(
        function_code=service, function_name=name, action=action_of(name), direction=_direction(frame),
        pair_key=frame.xid, fields=fields, facts=_facts(frame, fields), weird=weird,
    )


def _function_name(frame: DcpFrame) -> str:
    if frame.service_id != ServiceId.SET:
        return service_name(frame.service_id)
    if frame.is_response:  # a Set response names the blocks it answers in its control/response blocks
        return set_name([_answered(b.data) for b in frame.blocks if len(b.data) >= 2])
    return set_name([(b.option, b.suboption) for b in frame.blocks])


def _answered(data: bytes) -> tuple[int, int]:
    return data[0], data[1]


def _direction(frame: DcpFrame) -> str:
    if frame.service_id == ServiceId.HELLO or (frame.is_response and frame.service_id == ServiceId.IDENTIFY):
        return ANNOUNCE
    return RESPONSE if frame.is_response else REQUEST


def _frame_weird(frame: DcpFrame) -> str | None:
    services = SERVICE_OF_FRAME.get(frame.frame_id)
    if services is not None and frame.service_id not in services:
        return "profinet_dcp_service_mismatch"
    if frame.service_type not in tuple(ServiceType):
        return "profinet_dcp_unknown_service_type"
    return None


def _facts(frame: DcpFrame, fields: dict[str, Any]) -> tuple[Fact, ...]:
    """Identity, roles and the station name, from a station describing itself."""
    describes = frame.service_id == ServiceId.HELLO or (frame.is_response and frame.service_id in SELF_DESCRIBING)
    if not describes:
        return ()
    identity = {key: fields[key] for key in IDENTITY_KEYS if key in fields}
    if not identity and "device_role" not in fields:
        return ()
    facts = []
    if identity:
        vendor_id = identity.get("vendor_id")
        facts.append(Fact("identity", "src", {
            "vendor": vendor_name(vendor_id) if vendor_id is not None else None,
            "product": identity.get("device_vendor_value"), "name": identity.get("name_of_station"),
            **{k: v for k, v in identity.items() if k not in ("device_vendor_value", "name_of_station")},
            **({"device_role": ",".join(fields["device_role"])} if fields.get("device_role") else {}),
        }))
    facts += [Fact("role", "src", role) for role in fields.get("device_role", ())]
    name = fields.get("name_of_station")
    if name and valid_station_name(name):
        facts.append(Fact("hostname", "src", name))
    return tuple(facts)
