"""BACnet/IP messages as CISA ICSNPP-BACnet's logs: bacnet.log, bacnet_discovery.log, bacnet_property.log.

Records and types are those of ICSNPP-BACnet's scripts/icsnpp/bacnet/main.zeek (the 2023 version with
``source_h``.. and the routing columns ``snet slen sadr dnet dlen dadr fwd_ip fwd_port``); names are ICSNPP's
where its tables are small and fixed (BVLC functions ``Original_Unicast_NPDU``, BVLC results, APDU types
``CONFIRMED_REQUEST``), else the sensor's, which already follow the same conventions (services
``read_property``, object types and properties ``analog-input`` ``present-value``, error codes and reasons
``unknown-object``). A name ICSNPP's tables lack is the sensor's (``secure_bvll``, ``who_am_i``,
``unknown_0x..``), never ICSNPP's ``Unknown ... Code-0x..`` text; service 20 is ``reinitialize_device`` (ICSNPP's
table spells it ``reinitialized_device``), and vendors are the sensor's ASHRAE vendor names.

- ``bacnet.log``: one line per message, as ICSNPP's APDU and NPDU header events: ``pdu_type`` is ``NPDU`` and
  ``pdu_service`` the network message (the sensor's name, ``who_is_router_to_network``) for a network-layer
  message; a BVLC function without an NPDU (BVLC-Result, Register-Foreign-Device...) has both unset.
  ``result_code`` is the BVLC result, or the error code, reject or abort reason. An Error-PDU's
  ``pdu_service`` is its service, a Reject or Abort's ``reject``/``abort``, as ICSNPP writes them.
- ``bacnet_discovery.log``: Who-Is, I-Am, Who-Has, I-Have (``who-is``...); ``range`` is ``All`` or
  ``low-high``; a Who-Has by identifier has ``object_name`` ``N/A``, as ICSNPP writes it. Who-Am-I and
  You-Are (2020 services ICSNPP does not parse) are in bacnet.log only.
- ``bacnet_property.log``: ReadProperty request and ACK, WriteProperty, ReadRange request, and an Error-PDU
  answering one of them (``pdu_service`` ``ERROR: read_property``, the error code in ``object_type``: ICSNPP's
  layout). ``value`` is the property's value as ICSNPP formats it (reals with six decimals, ``true``/
  ``false``, texts as they are; several values joined by ``,``); of ICSNPP's enumeration names only
  object-type (79) and segmentation-supported (107) are written as names, the others (units, event-state,
  reliability...) as their numbers, since the sensor does not carry those tables. A ReadRange ACK is not
  decoded by the sensor and has no line; ReadPropertyMultiple and WritePropertyMultiple, which ICSNPP does
  not log here either, are in bacnet.log.
- bacnet_device_control.log (ReinitializeDevice, DeviceCommunicationControl) is not written.

``fwd_ip``/``fwd_port`` are a Forwarded-NPDU's original source; ``sadr``/``dadr`` are set only when their
length is not zero, as ICSNPP does.
"""
from __future__ import annotations

from typing import Any

from protocols.bacnet.codes import object_type_name, segmentation_name
from protocols.base import Message
from sensor.dissect.generic import MessageBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import ID, LogFile, fields
from sensor.sinks.zeek.rows import SIDES, Head, Rows, endpoints

ROUTING = "snet:count slen:count sadr:string dnet:count dlen:count dadr:string fwd_ip:addr fwd_port:port"
BACNET = fields(f"ts:time uid:string {ID} {SIDES} bvlc_function:string pdu_type:string pdu_service:string "
                f"invoke_id:count result_code:string {ROUTING}")
BACNET_DISCOVERY = fields(f"ts:time uid:string {ID} {SIDES} pdu_service:string device_id_type:string "
                          "device_id_number:count object_type:string instance_number:count vendor:string "
                          f"range:string object_name:string {ROUTING}")
BACNET_PROPERTY = fields(f"ts:time uid:string {ID} {SIDES} invoke_id:count pdu_service:string object_type:string "
                         "instance_number:count property:string array_index:count value:string "
                         f"{ROUTING} priority:count")

BVLC_FUNCTIONS = {  # ICSNPP's bvlc_functions
    0: "BVLC_Result", 1: "Write_Broadcast_Table", 2: "Read_Broadcast_Table", 3: "Read_Broadcast_Table_ACK",
    4: "Forwarded_NPDU", 5: "Register_Foreign_Device", 6: "Read_Foreign_Device_Table",
    7: "Read_Foreign_Device_Table_ACK", 8: "Delete_Foreign_Device_Table_Entry", 9: "Distribute_Broadcast_to_Network",
    10: "Original_Unicast_NPDU", 11: "Original_Broadcast_NPDU",
}
BVLC_RESULTS = {  # ICSNPP's bvlc_results
    0x00: "Successful_completion", 0x10: "Write-Broadcast-Distribution-Table_NAK",
    0x20: "Read-Broadcast-Distribution-Table_NAK", 0x30: "Register-Foreign-Device_NAK",
    0x40: "Read-Foreign-Device-Table_NAK", 0x50: "Delete-Foreign-Device-Table-Entry_NAK",
    0x60: "Distribute-Broadcast-To-Network_NAK",
}
APDU_TYPES = ("CONFIRMED_REQUEST", "UNCONFIRMED_REQUEST", "SIMPLE_ACK", "COMPLEX_ACK", "SEGMENT_ACK", "ERROR_PDU",
              "REJECT_PDU", "ABORT_PDU")  # ICSNPP's apdu_types
CONFIRMED, UNCONFIRMED, SIMPLE_ACK, COMPLEX_ACK, SEGMENT_ACK, ERROR, REJECT, ABORT = range(8)
DISCOVERY = {"who_is": "who-is", "i_am": "i-am", "who_has": "who-has", "i_have": "i-have"}
PROPERTY_SERVICES = {  # (APDU type, service) -> ICSNPP's pdu_service in bacnet_property.log
    (CONFIRMED, "read_property"): "read-property-request", (COMPLEX_ACK, "read_property"): "read-property-ack",
    (CONFIRMED, "write_property"): "write-property", (CONFIRMED, "read_range"): "read-range-request",
}
PROPERTY_ERRORS = frozenset({"read_property", "write_property", "read_range"})
NAMED_VALUES = {79: object_type_name, 107: segmentation_name}  # property -> name of its enumerated value


class BacnetLogs:
    """Writes BACnet batches to bacnet.log, bacnet_discovery.log and bacnet_property.log."""

    protocol = "bacnet"

    def __init__(self, folder: str, fmt: str, rows: Rows) -> None:
        self.rows = rows
        self.bacnet = LogFile(folder, "bacnet", BACNET, fmt)
        self.discovery = LogFile(folder, "bacnet_discovery", BACNET_DISCOVERY, fmt)
        self.property = LogFile(folder, "bacnet_property", BACNET_PROPERTY, fmt)

    def logs(self) -> list[LogFile]:
        return [self.bacnet, self.discovery, self.property]

    def write(self, batch: MessageBatch) -> None:
        headers, discovery, properties = [], [], []
        for _, head, is_orig, m in self.rows(batch):
            start, routing = (*head, *endpoints(head, is_orig)), _routing(m.fields)
            headers.append((*start, *_header(m), *routing))
            kind = m.fields.get("pdu_type")
            if kind == UNCONFIRMED and m.function_name in DISCOVERY:
                discovery.append((*start, *_discovery(m), *routing))
            elif (kind, m.function_name) in PROPERTY_SERVICES or kind == ERROR and m.function_name in PROPERTY_ERRORS:
                properties.append(_property(start, m, routing))
        self.bacnet.write(headers)
        self.discovery.write(discovery)
        self.property.write(properties)

    def flow_ended(self, flow: Flow) -> None:
        """Nothing waits: every message is written as it comes."""

    def close(self) -> None:
        """Nothing waits: every message is written as it comes."""


def _header(m: Message) -> tuple:
    """bvlc_function .. result_code."""
    f = m.fields
    bvlc = f["bvlc_function"]
    kind = f.get("pdu_type")
    pdu_type = service = invoke_id = result = None
    if bvlc == 0 and "result_code" in f:
        result = BVLC_RESULTS.get(f["result_code"], f.get("result_name"))
    if kind is not None:
        pdu_type = APDU_TYPES[kind] if kind < len(APDU_TYPES) else f.get("pdu_type_name")
        invoke_id = f.get("invoke_id") if kind != UNCONFIRMED else None
        if kind in (CONFIRMED, UNCONFIRMED, SIMPLE_ACK, COMPLEX_ACK, ERROR):
            service = m.function_name
        elif kind in (REJECT, ABORT):
            service = "reject" if kind == REJECT else "abort"
        if kind == ERROR:
            result = f.get("error_code_name")
        elif kind == REJECT:
            result = f.get("reject_reason_name")
        elif kind == ABORT:
            result = f.get("abort_reason_name")
    elif "network_message_type" in f:
        pdu_type, service = "NPDU", m.function_name
    return BVLC_FUNCTIONS.get(bvlc, f["bvlc_function_name"]), pdu_type, service, invoke_id, result


def _routing(f: dict[str, Any]) -> tuple:
    """snet slen sadr dnet dlen dadr fwd_ip fwd_port."""
    sadr, dadr = f.get("sadr"), f.get("dadr")
    fwd_ip = fwd_port = None
    if f.get("original_source"):
        fwd_ip, _, port = f["original_source"].rpartition(":")
        fwd_port = int(port)
    return (f.get("snet"), None if sadr is None else len(sadr) // 2, sadr or None,
            f.get("dnet"), None if dadr is None else len(dadr) // 2, dadr or None, fwd_ip, fwd_port)


def _object(text: str | None) -> tuple[str | None, int | None]:
    """``analog-input,3`` as (object type, instance)."""
    if not text or "," not in text:
        return None, None
    kind, _, instance = text.rpartition(",")
    return kind, int(instance)


def _discovery(m: Message) -> tuple:
    """pdu_service .. object_name."""
    f = m.fields
    name = m.function_name
    device_type = device_number = vendor = limits = object_name = None
    object_type, instance = _object(f.get("object"))
    if name in ("who_is", "who_has"):
        limits = "All" if f.get("low_limit") is None else f"{f['low_limit']}-{f['high_limit']}"
    if name == "i_am":
        vendor = f.get("vendor")
    elif name == "who_has":
        object_name = f.get("object_name") or "N/A"
    elif name == "i_have":
        device_type, device_number = _object(f.get("device"))
        object_name = f.get("object_name")
    return DISCOVERY[name], device_type, device_number, object_type, instance, vendor, limits, object_name


def _property(start: Head, m: Message, routing: tuple) -> tuple:
    f = m.fields
    kind = f["pdu_type"]
    if kind == ERROR:
        return (*start, f.get("invoke_id"), f"ERROR: {m.function_name}", f.get("error_code_name"), None, None,
                None, None, *routing, None)
    ref = (f.get("references") or [{}])[0]  # these services name one property
    object_type, instance = _object(ref.get("object"))
    values = ref.get("values")
    value = _value(ref.get("property_id"), values) if values else None
    return (*start, f.get("invoke_id"), PROPERTY_SERVICES[(kind, m.function_name)], object_type, instance,
            ref.get("property"), ref.get("array_index"), value, *routing, ref.get("priority"))


def _value(prop: int | None, values: list[Any]) -> str:
    """A property's values as ICSNPP writes a value (see the module docstring)."""
    name = NAMED_VALUES.get(prop or -1)
    return ",".join(name(v) if name and isinstance(v, int) and not isinstance(v, bool) else _text(v) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:f}"
    return str(value)
