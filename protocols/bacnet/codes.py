"""BACnet/IP numbers and their names (ASHRAE 135-2020), the package's one action table and its weird codes.

Three layers, each with its own code space: the BACnet Virtual Link Control of Annex J (BVLC function), the
network layer of clause 6 (NPDU control, network-layer message types) and the application layer of clauses
20-21 (APDU types, service choices). Function names are the standard's identifiers in snake_case
(``read_property``, ``who_is``, ``who_is_router_to_network``, ``register_foreign_device``); object types and
property identifiers keep the standard's hyphenated words (``analog-value``, ``present-value``) as Wireshark
prints them. Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.bacnet.tables import (
    ABORT_REASONS,
    CONFIRMED_SERVICES,
    ERROR_CLASSES,
    ERROR_CODES,
    OBJECT_TYPES,
    PROPERTY_IDENTIFIERS,
    REJECT_REASONS,
    UNCONFIRMED_SERVICES,
)
from protocols.base import namer, unknown_name

PORT = 47808  # 0xBAC0, Annex J.1
BVLL_TYPE_BACNET_IP = 0x81  # Annex J.2: BVLC type of BACnet/IP (0x82 is BACnet/IPv6, Annex U: not decoded)
NPDU_VERSION = 0x01  # clause 6.2.1


class BvlcFunction(IntEnum):
    """BVLC function (Annex J.2, Table J-1)."""

    BVLC_RESULT = 0x00
    WRITE_BROADCAST_DISTRIBUTION_TABLE = 0x01
    READ_BROADCAST_DISTRIBUTION_TABLE = 0x02
    READ_BROADCAST_DISTRIBUTION_TABLE_ACK = 0x03
    FORWARDED_NPDU = 0x04
    REGISTER_FOREIGN_DEVICE = 0x05
    READ_FOREIGN_DEVICE_TABLE = 0x06
    READ_FOREIGN_DEVICE_TABLE_ACK = 0x07
    DELETE_FOREIGN_DEVICE_TABLE_ENTRY = 0x08
    DISTRIBUTE_BROADCAST_TO_NETWORK = 0x09
    ORIGINAL_UNICAST_NPDU = 0x0A
    ORIGINAL_BROADCAST_NPDU = 0x0B
    SECURE_BVLL = 0x0C


CARRIES_NPDU = frozenset({BvlcFunction.FORWARDED_NPDU, BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK,
                          BvlcFunction.ORIGINAL_UNICAST_NPDU, BvlcFunction.ORIGINAL_BROADCAST_NPDU})


class BvlcResult(IntEnum):
    """BVLC-Result codes (Annex J.2.1.1)."""

    SUCCESSFUL_COMPLETION = 0x0000
    WRITE_BROADCAST_DISTRIBUTION_TABLE_NAK = 0x0010
    READ_BROADCAST_DISTRIBUTION_TABLE_NAK = 0x0020
    REGISTER_FOREIGN_DEVICE_NAK = 0x0030
    READ_FOREIGN_DEVICE_TABLE_NAK = 0x0040
    DELETE_FOREIGN_DEVICE_TABLE_ENTRY_NAK = 0x0050
    DISTRIBUTE_BROADCAST_TO_NETWORK_NAK = 0x0060


class NetworkMessage(IntEnum):
    """Network-layer message types (clause 6.2.4); 0x80..0xFF are proprietary and carry a vendor id."""

    WHO_IS_ROUTER_TO_NETWORK = 0x00
    I_AM_ROUTER_TO_NETWORK = 0x01
    I_COULD_BE_ROUTER_TO_NETWORK = 0x02
    REJECT_MESSAGE_TO_NETWORK = 0x03
    ROUTER_BUSY_TO_NETWORK = 0x04
    ROUTER_AVAILABLE_TO_NETWORK = 0x05
    INITIALIZE_ROUTING_TABLE = 0x06
    INITIALIZE_ROUTING_TABLE_ACK = 0x07
    ESTABLISH_CONNECTION_TO_NETWORK = 0x08
    DISCONNECT_CONNECTION_TO_NETWORK = 0x09
    CHALLENGE_REQUEST = 0x0A
    SECURITY_PAYLOAD = 0x0B
    SECURITY_RESPONSE = 0x0C
    REQUEST_KEY_UPDATE = 0x0D
    UPDATE_KEY_SET = 0x0E
    UPDATE_DISTRIBUTION_KEY = 0x0F
    REQUEST_MASTER_KEY = 0x10
    SET_MASTER_KEY = 0x11
    WHAT_IS_NETWORK_NUMBER = 0x12
    NETWORK_NUMBER_IS = 0x13


class PduType(IntEnum):
    """APDU type, the high nibble of the first APDU octet (clause 20.1.1)."""

    CONFIRMED_REQUEST = 0
    UNCONFIRMED_REQUEST = 1
    SIMPLE_ACK = 2
    COMPLEX_ACK = 3
    SEGMENT_ACK = 4
    ERROR = 5
    REJECT = 6
    ABORT = 7


class Segmentation(IntEnum):
    """BACnetSegmentation (clause 21), as I-Am announces it."""

    SEGMENTED_BOTH = 0
    SEGMENTED_TRANSMIT = 1
    SEGMENTED_RECEIVE = 2
    NO_SEGMENTATION = 3


REINITIALIZED_STATES: dict[int, str] = {  # ReinitializeDevice-Request reinitializedStateOfDevice (clause 16.4.1.1.1)
    0: "coldstart", 1: "warmstart", 2: "start-backup", 3: "end-backup", 4: "start-restore", 5: "end-restore",
    6: "abort-restore", 7: "activate-changes",
}
ENABLE_DISABLE: dict[int, str] = {0: "enable", 1: "disable", 2: "disable-initiation"}  # clause 16.1.1.1.2
MAX_APDU_LENGTHS = (50, 128, 206, 480, 1024, 1476)  # max-APDU-length-accepted codes 0..5 (clause 20.1.2.5)
MAX_SEGMENTS = (None, 2, 4, 8, 16, 32, 64, None)  # max-segments-accepted codes (clause 20.1.2.4); 0 and 7: unspecified/>64
PROPRIETARY_OBJECT_TYPES = 128  # object types 128..1023 are the vendors' (clause 23.4.1)
PROPRIETARY_PROPERTIES = 512  # property identifiers 512..4194303 are the vendors'

bvlc_function_name = namer(BvlcFunction, "a BVLC function")
bvlc_result_name = namer(BvlcResult, "a BVLC-Result code")
pdu_type_name = namer(PduType, "an APDU type")


def segmentation_name(value: int) -> str:
    """The standard's name of a BACnetSegmentation value (``no-segmentation``)."""
    return Segmentation(value).name.lower().replace("_", "-") if value in tuple(Segmentation) else unknown_name(value)


def _snake(table: Mapping[int, str], value: int) -> str:
    name = table.get(value)
    return name.replace("-", "_") if name is not None else unknown_name(value)


def network_message_name(value: int) -> str:
    """snake_case name of a network-layer message type; 0x80..0xFF are ``proprietary_0x..``."""
    if value >= 0x80:
        return f"proprietary_0x{value:02x}"
    return _snake({int(m): m.name.lower() for m in NetworkMessage}, value)


def confirmed_service_name(value: int) -> str:
    return _snake(CONFIRMED_SERVICES, value)


def unconfirmed_service_name(value: int) -> str:
    return _snake(UNCONFIRMED_SERVICES, value)


def object_type_name(value: int) -> str:
    """The standard's name of an object type (``analog-value``); ``proprietary-130`` past the standard's range."""
    known = OBJECT_TYPES.get(value)
    if known is not None:
        return known
    return f"proprietary-{value}" if value >= PROPRIETARY_OBJECT_TYPES else f"reserved-{value}"


def property_name(value: int) -> str:
    """The standard's name of a property identifier (``present-value``); ``proprietary-1000`` for the vendors'."""
    known = PROPERTY_IDENTIFIERS.get(value)
    if known is not None:
        return known
    return f"proprietary-{value}" if value >= PROPRIETARY_PROPERTIES else f"reserved-{value}"


def _hyphenated(table: Mapping[int, str], value: int) -> str:
    known = table.get(value)
    return known if known is not None else unknown_name(value)


def error_class_name(value: int) -> str:
    return _hyphenated(ERROR_CLASSES, value)


def error_code_name(value: int) -> str:
    return _hyphenated(ERROR_CODES, value)


def reject_reason_name(value: int) -> str:
    return _hyphenated(REJECT_REASONS, value)


def abort_reason_name(value: int) -> str:
    return _hyphenated(ABORT_REASONS, value)


def reinitialized_state_name(value: int) -> str:
    return _hyphenated(REINITIALIZED_STATES, value)


def enable_disable_name(value: int) -> str:
    return _hyphenated(ENABLE_DISABLE, value)


# -- the one action table (DESIGN.md "Control actions") --
_READ, _WRITE, _DISCOVERY, _SESSION = "read", "write", "discovery", "session"
ACTIONS: Mapping[str, str] = MappingProxyType({
    # confirmed services (clauses 13-17, 24)
    "acknowledge_alarm": "operate",
    "confirmed_cov_notification": _READ, "confirmed_event_notification": _READ,
    "confirmed_cov_notification_multiple": _READ, "confirmed_audit_notification": _READ,
    "get_alarm_summary": _READ, "get_enrollment_summary": _READ, "get_event_information": _READ,
    "subscribe_cov": _READ, "subscribe_cov_property": _READ, "subscribe_cov_property_multiple": _READ,
    "atomic_read_file": "file_transfer", "atomic_write_file": "file_transfer",
    "add_list_element": _WRITE, "remove_list_element": _WRITE, "create_object": _WRITE, "delete_object": _WRITE,
    "read_property": _READ, "read_property_conditional": _READ, "read_property_multiple": _READ,
    "read_range": _READ, "audit_log_query": _READ,
    "write_property": _WRITE, "write_property_multiple": _WRITE,
    # DCC "disable" leaves a device deaf to everything but DCC and ReinitializeDevice (§16.1): it changes the
    # device's mode of operation on the network, as Modbus force-listen-only does, so it is mode_change
    "device_communication_control": "mode_change",
    "confirmed_private_transfer": "other", "confirmed_text_message": "other",
    # ReinitializeDevice: a restart, unless the state says backup (the configuration read out) or restore (written in)
    "reinitialize_device": "restart",
    "reinitialize_device/coldstart": "restart", "reinitialize_device/warmstart": "restart",
    "reinitialize_device/activate-changes": "restart",
    "reinitialize_device/start-backup": "program_upload", "reinitialize_device/end-backup": "program_upload",
    "reinitialize_device/start-restore": "program_download", "reinitialize_device/end-restore": "program_download",
    "reinitialize_device/abort-restore": "program_download",
    "vt_open": _SESSION, "vt_close": _SESSION, "vt_data": _SESSION, "authenticate": _SESSION,
    "request_key": _SESSION,
    "life_safety_operation": "operate",
    # unconfirmed services
    "i_am": _DISCOVERY, "i_have": _DISCOVERY, "who_is": _DISCOVERY, "who_has": _DISCOVERY,
    "who_am_i": _DISCOVERY, "you_are": _WRITE,
    "unconfirmed_cov_notification": _READ, "unconfirmed_event_notification": _READ,
    "unconfirmed_cov_notification_multiple": _READ, "unconfirmed_audit_notification": _READ,
    "unconfirmed_private_transfer": "other", "unconfirmed_text_message": "other",
    "time_synchronization": "time_sync", "utc_time_synchronization": "time_sync",
    "write_group": _WRITE,
    # APDUs that name no service: transaction control, as a read-only conduit must admit for segmented reads
    "segment_ack": _SESSION, "reject": _SESSION, "abort": _SESSION,
    # network-layer messages (clause 6.4)
    "who_is_router_to_network": _DISCOVERY, "i_am_router_to_network": _DISCOVERY,
    "i_could_be_router_to_network": _DISCOVERY, "what_is_network_number": _DISCOVERY,
    "network_number_is": _DISCOVERY,
    "reject_message_to_network": "other", "router_busy_to_network": "other", "router_available_to_network": "other",
    "initialize_routing_table": _WRITE, "initialize_routing_table_ack": _READ,
    "establish_connection_to_network": _SESSION, "disconnect_connection_to_network": _SESSION,
    "challenge_request": _SESSION, "security_payload": _SESSION, "security_response": _SESSION,
    "request_key_update": _SESSION, "update_key_set": _SESSION, "update_distribution_key": _SESSION,
    "request_master_key": _SESSION, "set_master_key": _SESSION,
    # BVLC functions that carry no NPDU (Annex J.2): a BBMD's tables and foreign-device registration
    "bvlc_result": _SESSION,
    "write_broadcast_distribution_table": _WRITE, "delete_foreign_device_table_entry": _WRITE,
    "read_broadcast_distribution_table": _READ, "read_broadcast_distribution_table_ack": _READ,
    "read_foreign_device_table": _READ, "read_foreign_device_table_ack": _READ,
    "register_foreign_device": _SESSION, "secure_bvll": "other",
})


def action_of(name: str) -> str:
    """The action of a function name (``reinitialize_device/start-backup`` first, then its base name)."""
    action = ACTIONS.get(name)
    if action is None and "/" in name:
        action = ACTIONS.get(name.split("/", 1)[0])
    return action or "other"


WEIRDS: Mapping[str, str] = MappingProxyType({
    "bacnet_bvlc_bad_type": "a UDP payload on a BACnet port whose BVLC type is not 0x81 (BACnet/IP, Annex J.2)",
    "bacnet_bvlc_bad_length": "the BVLC length disagrees with the UDP datagram (Annex J.2); the datagram is decoded as it is, as Wireshark does",
    "bacnet_bvlc_truncated": "a datagram shorter than the 4-octet BVLC header, or a Forwarded-NPDU without its 6-octet original source",
    "bacnet_bvlc_unknown_function": "a BVLC function Annex J does not define",
    "bacnet_bvlc_bad_table": "a BDT or FDT whose length is not a whole number of 10-octet entries (Annex J.2.2, J.2.7)",
    "bacnet_npdu_bad_version": "an NPDU whose protocol version is not 1 (clause 6.2.1)",
    "bacnet_npdu_truncated": "an NPDU shorter than its control octet says (DNET/DADR, SNET/SADR, hop count, message type)",
    "bacnet_npdu_bad_address": "a DADR/SADR length that clause 6.2.2 forbids (SLEN 0, or a broadcast DNET as a source)",
    "bacnet_apdu_truncated": "an APDU shorter than the fixed header of its type (clause 20.1)",
    "bacnet_apdu_unknown_type": "an APDU type 8..15, which clause 20.1 does not define",
    "bacnet_bad_service_data": "service parameters that do not parse as the service's tagged ASN.1 (clause 20.2)",
    "bacnet_too_many_items": "more objects, properties or values in one message than the package lists (MAX_ITEMS)",
})
