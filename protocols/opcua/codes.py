"""OPC UA numbers, their names, and the package's one action table.

Sources: OPC 10000-6 (Part 6, Mappings) §7.1 (UA Connection Protocol: HEL/ACK/ERR/RHE), §6.7 (UA Secure
Conversation: OPN/MSG/CLO, chunk types, security headers), §5.2 (binary encoding of the built-in types);
OPC 10000-4 (Part 4, Services) for the service parameters; the NodeIds.csv of the OPC Foundation
(UA-Nodeset, ``*_Encoding_DefaultBinary``) for the type ids a service body starts with, the same table
Wireshark's ``opcua.servicenodeid.numeric`` names. Name functions are total: unknown values degrade.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

# --- message types and chunk types (Part 6 §7.1.2.2, §6.7.2.2) -------------------------------------------

TRANSPORT_TYPES: Mapping[bytes, str] = MappingProxyType({
    b"HEL": "hello", b"ACK": "acknowledge", b"ERR": "error", b"RHE": "reverse_hello",
})
SECURE_TYPES: Mapping[bytes, str] = MappingProxyType({
    b"OPN": "open_secure_channel", b"MSG": "message", b"CLO": "close_secure_channel",
})
MESSAGE_TYPES = frozenset(TRANSPORT_TYPES) | frozenset(SECURE_TYPES)
CHUNK_TYPES = frozenset(b"FCA")  # Final, intermediate (Continue), Abort
FINAL, CONTINUE, ABORT = ord("F"), ord("C"), ord("A")


def message_type_code(message_type: bytes) -> int:
    """The three ASCII letters as one number: the function code of a message no service id names."""
    return int.from_bytes(message_type, "big")


# --- service type ids: the binary encoding NodeIds (ns=0) a MSG/OPN/CLO body starts with ------------------

SERVICES: Mapping[int, str] = MappingProxyType({
    397: "ServiceFault",
    410: "TestStackRequest", 413: "TestStackResponse",
    416: "TestStackExRequest", 419: "TestStackExResponse",
    422: "FindServersRequest", 425: "FindServersResponse",
    12208: "FindServersOnNetworkRequest", 12209: "FindServersOnNetworkResponse",
    428: "GetEndpointsRequest", 431: "GetEndpointsResponse",
    437: "RegisterServerRequest", 440: "RegisterServerResponse",
    12211: "RegisterServer2Request", 12212: "RegisterServer2Response",
    446: "OpenSecureChannelRequest", 449: "OpenSecureChannelResponse",
    452: "CloseSecureChannelRequest", 455: "CloseSecureChannelResponse",
    461: "CreateSessionRequest", 464: "CreateSessionResponse",
    467: "ActivateSessionRequest", 470: "ActivateSessionResponse",
    473: "CloseSessionRequest", 476: "CloseSessionResponse",
    479: "CancelRequest", 482: "CancelResponse",
    488: "AddNodesRequest", 491: "AddNodesResponse",
    494: "AddReferencesRequest", 497: "AddReferencesResponse",
    500: "DeleteNodesRequest", 503: "DeleteNodesResponse",
    506: "DeleteReferencesRequest", 509: "DeleteReferencesResponse",
    527: "BrowseRequest", 530: "BrowseResponse",
    533: "BrowseNextRequest", 536: "BrowseNextResponse",
    554: "TranslateBrowsePathsToNodeIdsRequest", 557: "TranslateBrowsePathsToNodeIdsResponse",
    560: "RegisterNodesRequest", 563: "RegisterNodesResponse",
    566: "UnregisterNodesRequest", 569: "UnregisterNodesResponse",
    615: "QueryFirstRequest", 618: "QueryFirstResponse",
    621: "QueryNextRequest", 624: "QueryNextResponse",
    631: "ReadRequest", 634: "ReadResponse",
    664: "HistoryReadRequest", 667: "HistoryReadResponse",
    673: "WriteRequest", 676: "WriteResponse",
    700: "HistoryUpdateRequest", 703: "HistoryUpdateResponse",
    712: "CallRequest", 715: "CallResponse",
    751: "CreateMonitoredItemsRequest", 754: "CreateMonitoredItemsResponse",
    763: "ModifyMonitoredItemsRequest", 766: "ModifyMonitoredItemsResponse",
    769: "SetMonitoringModeRequest", 772: "SetMonitoringModeResponse",
    775: "SetTriggeringRequest", 778: "SetTriggeringResponse",
    781: "DeleteMonitoredItemsRequest", 784: "DeleteMonitoredItemsResponse",
    787: "CreateSubscriptionRequest", 790: "CreateSubscriptionResponse",
    793: "ModifySubscriptionRequest", 796: "ModifySubscriptionResponse",
    799: "SetPublishingModeRequest", 802: "SetPublishingModeResponse",
    826: "PublishRequest", 829: "PublishResponse",
    832: "RepublishRequest", 835: "RepublishResponse",
    841: "TransferSubscriptionsRequest", 844: "TransferSubscriptionsResponse",
    847: "DeleteSubscriptionsRequest", 850: "DeleteSubscriptionsResponse",
})


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _function(service: str) -> str:
    """``ReadRequest`` -> ``read``: one function name for a request and its response (as Modbus does)."""
    for suffix in ("Request", "Response"):
        if service.endswith(suffix):
            return _snake(service[: -len(suffix)])
    return _snake(service)


FUNCTION_OF: Mapping[int, str] = MappingProxyType({tid: _function(name) for tid, name in SERVICES.items()})


def service_name(type_id: int) -> str:
    """The spec's name of a service type id (``ReadRequest``); unknown ids degrade to ``unknown_0x..``."""
    return SERVICES.get(type_id) or unknown_name(type_id)


def function_of(type_id: int) -> str:
    return FUNCTION_OF.get(type_id) or unknown_name(type_id)


def is_response(type_id: int) -> bool:
    return SERVICES.get(type_id, "").endswith(("Response", "Fault"))


# --- enumerations (Part 4 §7) -----------------------------------------------------------------------------

class MessageSecurityMode(IntEnum):
    """Part 4 §7.20; names as the spec spells them."""

    Invalid = 0
    None_ = 1
    Sign = 2
    SignAndEncrypt = 3


def security_mode_name(value: int) -> str:
    return {0: "Invalid", 1: "None", 2: "Sign", 3: "SignAndEncrypt"}.get(value) or unknown_name(value)


class RequestType(IntEnum):
    """SecurityTokenRequestType, Part 4 §5.5.2.2."""

    ISSUE = 0
    RENEW = 1


request_type_name = namer(RequestType, "a security token request type")


class ApplicationType(IntEnum):
    """Part 4 §7.2."""

    SERVER = 0
    CLIENT = 1
    CLIENT_AND_SERVER = 2
    DISCOVERY_SERVER = 3


application_type_name = namer(ApplicationType, "an application type")


class UserTokenType(IntEnum):
    """Part 4 §7.42."""

    ANONYMOUS = 0
    USERNAME = 1
    CERTIFICATE = 2
    ISSUED_TOKEN = 3


user_token_type_name = namer(UserTokenType, "a user token type")

IDENTITY_TOKENS: Mapping[int, str] = MappingProxyType({  # ExtensionObject type ids of UserIdentityToken bodies
    321: "anonymous", 324: "username", 327: "x509", 940: "issued",
})

SECURITY_POLICY_PREFIX = "http://opcfoundation.org/UA/SecurityPolicy#"
POLICY_NONE = SECURITY_POLICY_PREFIX + "None"

# --- what identifies a server: the Server object's BuildInfo (Part 5 §12.4), ns=0 ----------------------------

SERVER_STATUS, BUILD_INFO = 2256, 2260
BUILD_INFO_NODES: Mapping[int, str] = MappingProxyType({  # Server_ServerStatus_BuildInfo_* -> BuildInfo field
    2261: "product_name", 2262: "product_uri", 2263: "manufacturer_name", 2264: "software_version",
    2265: "build_number",
})
BUILD_INFO_TYPE, SERVER_STATUS_TYPE = 340, 864  # BuildInfo / ServerStatusDataType _Encoding_DefaultBinary
VALUE_ATTRIBUTE = 13  # Part 3 §5.9 / Part 6 Annex A: AttributeId Value

# --- the action table ---------------------------------------------------------------------------------------

ACTION_TABLE: Mapping[str, str] = MappingProxyType({
    # UA Connection Protocol and Secure Conversation, sessions: setting up and tearing down the conversation
    "hello": "session", "acknowledge": "session", "reverse_hello": "session", "error": "session",
    "open_secure_channel": "session", "close_secure_channel": "session", "abort": "session",
    "create_session": "session", "activate_session": "session", "close_session": "session", "cancel": "session",
    # every client asks for the endpoints to set up its channel (Part 4 §5.4.4): connection set-up, not a scan
    "get_endpoints": "session",
    # Discovery services (Part 4 §5.4)
    "find_servers": "discovery", "find_servers_on_network": "discovery",
    "register_server": "discovery", "register_server2": "discovery",
    # reading the address space and values; subscriptions and monitored items only report values
    "read": "read", "history_read": "read", "browse": "read", "browse_next": "read",
    "translate_browse_paths_to_node_ids": "read", "register_nodes": "read", "unregister_nodes": "read",
    "query_first": "read", "query_next": "read",
    "create_subscription": "read", "modify_subscription": "read", "set_publishing_mode": "read",
    "publish": "read", "republish": "read", "transfer_subscriptions": "read", "delete_subscriptions": "read",
    "create_monitored_items": "read", "modify_monitored_items": "read", "set_monitoring_mode": "read",
    "set_triggering": "read", "delete_monitored_items": "read",
    # changing values and history
    "write": "write", "history_update": "write",
    # Node Management (Part 4 §5.7) changes the information model the server exposes, i.e. its configuration,
    # not a process value: an engineering change, rare in operation, which is what program_download flags
    "add_nodes": "program_download", "delete_nodes": "program_download", "add_references": "program_download",
    "delete_references": "program_download",
    # Method Call (Part 4 §5.11): runs server-defined behaviour (start, stop, open valve...)
    "call": "operate",
    "test_stack": "diagnostics", "test_stack_ex": "diagnostics",
    "service_fault": "other", "message": "other",
})


def action_of(function_name: str) -> str:
    return ACTION_TABLE.get(function_name, "other")


# --- weird codes (README, `SPEC.weirds`) ----------------------------------------------------------------------

WEIRDS: Mapping[str, str] = MappingProxyType({
    # framing lost (Malformed): the bytes cannot be an OPC UA message header
    "opcua_unknown_message_type": "message type is not HEL/ACK/ERR/RHE/OPN/MSG/CLO (Part 6 §7.1.2.2): not OPC UA, or framing lost",
    "opcua_bad_chunk_type": "chunk type is not F, C or A (Part 6 §6.7.2.2)",
    "opcua_bad_message_size": "message size below the header it must hold, or above MAX_CHUNK_SIZE",
    "opcua_truncated": "a message ends before the fields its type requires",
    # readable, with an oddity (Message.weird)
    "opcua_bad_body": "a service body that does not decode as its type id says: fields up to there are kept",
    "opcua_list_truncated": "a list longer than the package keeps (MAX_LIST_ITEMS): the rest is not reported",
    "opcua_chunk_too_large": "a chunk above MAX_KEPT bytes: its header is reported, its body skipped",
    "opcua_reassembly_overflow": "intermediate chunks beyond MAX_REASSEMBLY bytes or MAX_PARTIAL_MESSAGES requests: dropped",
    "opcua_chunk_abort": "the sender aborted a chunked message (chunk type A)",
    "opcua_transport_error": "an ERR message: the peer closes the connection with an error",
    "opcua_request_table_full": "unanswered requests forgotten: the pairing table is full",
})
