"""DHCPv6 numbers and their names (RFC 8415 §7.3 message types, §21 options, §11 DUIDs; RFC 4704 client FQDN;
RFC 5007 lease query), the package's one action table and its weird codes.

Names are the RFCs' in snake_case (``information_request``, ``relay_forw``); unknown values degrade to
``unknown_0x..``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import REQUEST, RESPONSE, UNSOLICITED, namer

CLIENT_PORT, SERVER_PORT = 546, 547  # RFC 8415 §7.2: clients listen on 546, servers and relay agents on 547
MAX_OPTIONS = 255  # options read per datagram, at every depth together: more is crafted, not a client
HOP_COUNT_LIMIT = 8  # RFC 8415 §7.6: relays nested deeper than this are not read
MAX_ADDRESSES = 64  # IA addresses kept per message


class MessageType(IntEnum):
    """msg-type (RFC 8415 §7.3; RFC 5007 §4.2, RFC 5460 §5.2 for the lease query family)."""

    SOLICIT = 1
    ADVERTISE = 2
    REQUEST = 3
    CONFIRM = 4
    RENEW = 5
    REBIND = 6
    REPLY = 7
    RELEASE = 8
    DECLINE = 9
    RECONFIGURE = 10
    INFORMATION_REQUEST = 11
    RELAY_FORW = 12
    RELAY_REPL = 13
    LEASEQUERY = 14
    LEASEQUERY_REPLY = 15
    LEASEQUERY_DONE = 16
    LEASEQUERY_DATA = 17


class Option(IntEnum):
    """The options this package reads (RFC 8415 §21 unless noted)."""

    CLIENTID = 1
    SERVERID = 2
    IA_NA = 3
    IA_TA = 4
    IAADDR = 5
    ORO = 6
    ELAPSED_TIME = 8
    RELAY_MSG = 9
    STATUS_CODE = 13
    RAPID_COMMIT = 14
    USER_CLASS = 15
    VENDOR_CLASS = 16
    INTERFACE_ID = 18
    DNS_SERVERS = 23  # RFC 3646
    DOMAIN_LIST = 24  # RFC 3646
    CLIENT_FQDN = 39  # RFC 4704


class DuidType(IntEnum):
    """DUID types (RFC 8415 §11.1, RFC 6355)."""

    LLT = 1
    EN = 2
    LL = 3
    UUID = 4


ETHERNET = 1  # hardware type of a DUID-LL/LLT whose link-layer address is a MAC (RFC 826 hardware types)

message_type_name = namer(MessageType, "a DHCPv6 message type")
duid_type_name = namer(DuidType, "a DUID type")

CLIENT_SENT = frozenset({MessageType.SOLICIT, MessageType.REQUEST, MessageType.CONFIRM, MessageType.RENEW,
                         MessageType.REBIND, MessageType.RELEASE, MessageType.DECLINE,
                         MessageType.INFORMATION_REQUEST})
"""Messages a client sends about itself (RFC 8415 §7.3): the client DUID and options describe the sender."""
SERVER_SENT = frozenset({MessageType.ADVERTISE, MessageType.REPLY})
RESPONSES = SERVER_SENT | {MessageType.RELAY_REPL, MessageType.LEASEQUERY_REPLY, MessageType.LEASEQUERY_DONE,
                           MessageType.LEASEQUERY_DATA}


def direction_of(message_type: int) -> str:
    """Clients and relays forwarding them ask; servers answer; RECONFIGURE is the server's own initiative."""
    if message_type == MessageType.RECONFIGURE:
        return UNSOLICITED
    return RESPONSE if message_type in RESPONSES else REQUEST


# --- the one action table ---------------------------------------------------------------------------------
ACTIONS: Mapping[str, str] = MappingProxyType({
    # Address configuration (RFC 8415 §18): the client configures itself and changes nothing on another device,
    # as DHCPv4 does; relays only carry these messages. ``discovery``, admitted by ``access: read``.
    "solicit": "discovery",
    "advertise": "discovery",
    "request": "discovery",
    "confirm": "discovery",
    "renew": "discovery",
    "rebind": "discovery",
    "reply": "discovery",
    "release": "discovery",
    "decline": "discovery",
    "information_request": "discovery",
    "relay_forw": "discovery",
    "relay_repl": "discovery",
    # RECONFIGURE (RFC 8415 §18.3.11): the server makes the client renew or re-read its configuration now.
    "reconfigure": "write",
    # Lease queries (RFC 5007, RFC 5460): a relay or an operator reads what the server knows of bindings.
    "leasequery": "read",
    "leasequery_reply": "read",
    "leasequery_done": "read",
    "leasequery_data": "read",
})


def action_of(name: str) -> str:
    return ACTIONS.get(name, "other")


WEIRDS: Mapping[str, str] = MappingProxyType({
    "dhcpv6_truncated": "a UDP payload on ports 546/547 shorter than its message header (4 octets, 34 for a "
                        "relay message; RFC 8415 §8, §9)",
    "dhcpv6_option_truncated": "an option whose length runs past the end of its message or enclosing option; "
                               "the options before it are kept",
    "dhcpv6_bad_option_length": "an option whose length does not fit its type (a DUID shorter than its type, an "
                                "IA_NA under 12 octets, an odd-length ORO...): that option is ignored",
    "dhcpv6_too_many_options": "more than 255 options in one datagram, all depths together (MAX_OPTIONS): the "
                               "rest are not read",
    "dhcpv6_relay_too_deep": "relay messages nested deeper than HOP_COUNT_LIMIT (8, RFC 8415 §7.6): the inner "
                             "ones are not read",
    "dhcpv6_no_relay_message": "a Relay-forward or Relay-reply without its Relay Message option (RFC 8415 §9)",
    "dhcpv6_bad_hostname": "a client FQDN (39) that is not labels of letters, digits, hyphens and underscores "
                           "in DNS wire format: crafted input; kept in the event, never made a name of the asset",
    "dhcpv6_too_many_addresses": "more than 64 IA addresses in one message (MAX_ADDRESSES): the rest are not listed",
})
