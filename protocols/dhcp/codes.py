"""DHCPv4 and BOOTP numbers and their names (RFC 951, RFC 2131, RFC 2132, RFC 4388, RFC 6926, RFC 7724), the
package's one action table and its weird codes.

Names are the RFCs' in snake_case (``discover``, ``leaseactive``); unknown values degrade to ``unknown_0x..``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, UNSOLICITED, namer

SERVER_PORT, CLIENT_PORT = 67, 68  # RFC 2131 §4.1: servers listen on 67, clients on 68 (relays send from 67)
MAGIC_COOKIE = b"\x63\x82\x53\x63"  # RFC 2132 §2: 99.130.83.99 opens the options field
FIXED = 236  # op .. file: the BOOTP header (RFC 2131 §2, Figure 1)
OPTIONS_AT = FIXED + len(MAGIC_COOKIE)
MAX_OPTIONS = 255  # options read per message (pads not counted): more is a crafted message, not a client
MAX_NAME = 255  # RFC 2132 §3.14 / RFC 4702 §2: a host name or FQDN fits one option


class Op(IntEnum):
    """BOOTP op (RFC 951, RFC 2131 §2)."""

    BOOTREQUEST = 1
    BOOTREPLY = 2


class MessageType(IntEnum):
    """DHCP message type, option 53 (RFC 2132 §9.6, RFC 3203, RFC 4388 §6.1, RFC 6926 §6.2.2, RFC 7724 §5.2)."""

    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8
    FORCERENEW = 9
    LEASEQUERY = 10
    LEASEUNASSIGNED = 11
    LEASEUNKNOWN = 12
    LEASEACTIVE = 13
    BULKLEASEQUERY = 14
    LEASEQUERYDONE = 15
    ACTIVELEASEQUERY = 16
    LEASEQUERYSTATUS = 17
    TLS = 18


class Option(IntEnum):
    """The options this package reads (RFC 2132 unless noted)."""

    PAD = 0
    SUBNET_MASK = 1
    ROUTER = 3
    DOMAIN_NAME_SERVER = 6
    HOST_NAME = 12
    DOMAIN_NAME = 15
    REQUESTED_IP_ADDRESS = 50
    IP_ADDRESS_LEASE_TIME = 51
    OPTION_OVERLOAD = 52
    DHCP_MESSAGE_TYPE = 53
    SERVER_IDENTIFIER = 54
    PARAMETER_REQUEST_LIST = 55
    MESSAGE = 56
    MAXIMUM_DHCP_MESSAGE_SIZE = 57
    VENDOR_CLASS_IDENTIFIER = 60
    CLIENT_IDENTIFIER = 61
    CLIENT_FQDN = 81  # RFC 4702
    RELAY_AGENT_INFORMATION = 82  # RFC 3046
    END = 255


OVERLOAD = {1: ("file",), 2: ("sname",), 3: ("file", "sname")}
"""Option overload (RFC 2132 §9.3): which header fields carry more options, in the order they are read."""

FQDN_FLAGS = (("s", 0x01), ("o", 0x02), ("e", 0x04), ("n", 0x08))
"""Client FQDN flags (RFC 4702 §2.1): S server updates the A RR, O server overrode, E canonical wire encoding,
N no server update."""

message_type_name = namer(MessageType, "a DHCP message type")

CLIENT_SENT = frozenset({MessageType.DISCOVER, MessageType.REQUEST, MessageType.DECLINE, MessageType.RELEASE,
                         MessageType.INFORM})
"""Messages a client sends about itself: its chaddr and options describe the sender. A lease query is not one:
a relay or an operator sends it about another client."""


def direction_of(op: int, message_type: int | None) -> str:
    """BOOTREQUEST is a request, BOOTREPLY a response (RFC 2131 §2); FORCERENEW is the server's own initiative."""
    if message_type == MessageType.FORCERENEW:
        return UNSOLICITED
    if op == Op.BOOTREQUEST:
        return REQUEST
    return RESPONSE if op == Op.BOOTREPLY else ANNOUNCE


def function_name(op: int, message_type: int | None) -> str:
    """The option 53 name, or ``bootrequest``/``bootreply`` for plain BOOTP (RFC 951) without option 53."""
    if message_type is not None:
        return message_type_name(message_type)
    return "bootrequest" if op == Op.BOOTREQUEST else "bootreply"


# --- the one action table ---------------------------------------------------------------------------------
ACTIONS: Mapping[str, str] = MappingProxyType({
    # Address configuration: a host finds a server, is offered an address, takes it, gives it back or asks only
    # for its parameters. It configures the sender itself and changes nothing on another device: like ARP or an
    # Identify, it is how a device finds its place on the network, so ``discovery`` (admitted by ``access: read``).
    "discover": "discovery",
    "offer": "discovery",
    "request": "discovery",
    "decline": "discovery",
    "ack": "discovery",
    "nak": "discovery",
    "release": "discovery",
    "inform": "discovery",
    "bootrequest": "discovery",
    "bootreply": "discovery",
    # Lease queries (RFC 4388, RFC 6926, RFC 7724): a relay or an operator reads what the server knows of leases.
    "leasequery": "read",
    "leaseunassigned": "read",
    "leaseunknown": "read",
    "leaseactive": "read",
    "bulkleasequery": "read",
    "leasequerydone": "read",
    "activeleasequery": "read",
    "leasequerystatus": "read",
    # FORCERENEW (RFC 3203): the server makes a client reconfigure now, a change pushed onto another device.
    "forcerenew": "write",
    # RFC 7724's TLS message only opens the secured channel of an active lease query.
    "tls": "session",
})


def action_of(name: str) -> str:
    return ACTIONS.get(name, "other")


WEIRDS: Mapping[str, str] = MappingProxyType({
    "dhcp_truncated": "a UDP payload on ports 67/68 shorter than the 236-octet BOOTP header (RFC 2131 §2)",
    "dhcp_bad_op": "a BOOTP op other than 1 (BOOTREQUEST) or 2 (BOOTREPLY): not BOOTP/DHCP",
    "dhcp_bad_hlen": "a hardware address length above the 16 octets chaddr holds",
    "dhcp_option_truncated": "an option whose length runs past the end of the field that holds it; the options "
                             "before it are kept",
    "dhcp_bad_option_length": "an option whose length does not fit its type (a message type that is not one "
                              "octet, an address that is not four...): that option is ignored",
    "dhcp_bad_overload": "an option overload (52) value other than 1, 2 or 3 (RFC 2132 §9.3): file and sname are "
                         "not read for options",
    "dhcp_too_many_options": "more than 255 options in one message (MAX_OPTIONS): the rest are not read",
    "dhcp_bad_hostname": "a host name (12) or client FQDN (81) that is not labels of letters, digits, hyphens and "
                         "underscores (at most 255 octets): crafted input such as format strings; kept in the "
                         "event, never made a name of the asset",
})
