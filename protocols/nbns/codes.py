"""NetBIOS Name Service numbers and their names (RFC 1002 §4.2), the one action table and the weird codes.

NBNS messages have DNS's layout (RFC 1002 §4.2.1) and are read by ``protocols.dns.wire``; its own are the opcodes,
the NM_FLAGS' broadcast bit, the record types NB (0x20) and NBSTAT (0x21) and the rcodes of §4.2.6-4.2.15.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer
from protocols.dns.codes import WIRE_WEIRDS

PORT = 137
BROADCAST = 0x0010  # NM_FLAGS B (RFC 1002 §4.2.1.1), where DNS has CD
NB, NBSTAT = 0x20, 0x21  # RR_TYPE / QUESTION_TYPE (§4.2.1.2)
GROUP = 0x8000  # NB_FLAGS / NAME_FLAGS G: a group name, not a host's own (§4.2.1.3, §4.2.18)
MAX_NB_ENTRIES = 64  # (NB_FLAGS, NB_ADDRESS) entries kept from one NB record (a multi-homed host has a few)


class Opcode(IntEnum):
    """OPCODE (RFC 1002 §4.2.1.1); 9 is the refresh opcode some implementations send (Wireshark names it so)."""

    QUERY = 0
    REGISTRATION = 5
    RELEASE = 6
    WACK = 7
    REFRESH = 8
    REFRESH_ALT = 9
    MULTIHOMED_REGISTRATION = 15


class Rcode(IntEnum):
    """RCODE of responses (RFC 1002 §4.2.6-4.2.15)."""

    NOERROR = 0
    FMT_ERR = 1
    SRV_ERR = 2
    NAM_ERR = 3
    IMP_ERR = 4
    RFS_ERR = 5
    ACT_ERR = 6
    CFT_ERR = 7


opcode_name = namer(Opcode, "an NBNS opcode")
rcode_name = namer(Rcode, "an NBNS rcode")
TYPE_NAMES = {NB: "NB", NBSTAT: "NBSTAT", 0x01: "A", 0x02: "NS", 0x0A: "NULL"}
ONT = ("b", "p", "m", "h")  # owner node type (§4.2.1.3): broadcast, point-to-point, mixed, hybrid

SUFFIXES = {
    0x00: "workstation", 0x01: "messenger_browse", 0x03: "messenger", 0x06: "ras_server", 0x1B: "domain_master_browser",
    0x1C: "domain_controllers", 0x1D: "master_browser", 0x1E: "browser_election", 0x1F: "netdde", 0x20: "server",
    0x21: "ras_client", 0xBE: "network_monitor_agent", 0xBF: "network_monitor_application",
}
"""The sixteenth octet of a NetBIOS name: the service the name stands for (Microsoft's well-known suffixes)."""
HOST_SUFFIXES = (0x00, 0x20)  # a unique name with these is the computer's own name
WORKGROUP_SUFFIXES = (0x00, 0x1E)  # a group name with these is the workgroup or domain
DOMAIN_CONTROLLERS = 0x1C  # a group name every domain controller of the domain registers

ACTIONS: Mapping[str, str] = MappingProxyType({
    # A name query and a node status request find a host or list a host's names: discovery, changing nothing.
    "query": "discovery",
    "node_status": "discovery",
    # Registration, refresh, release and multi-homed registration claim or give up a name: they change the name
    # server's table (a WINS server) or, broadcast, every listener's view of the name: ``write``. A conduit with
    # ``access: read`` refuses them, as it should refuse any change of a name service.
    "registration": "write",
    "refresh": "write",
    "refresh_alt": "write",
    "release": "write",
    "multihomed_registration": "write",
    # WACK (wait for acknowledgement) is a server telling a registrant to wait: neither a look-up nor a change.
    "wack": "other",
})


def action_of(function_name: str) -> str:
    return ACTIONS.get(function_name, "other")


WEIRDS: Mapping[str, str] = MappingProxyType({
    **WIRE_WEIRDS,
    "nbns_bad_name": "a NetBIOS name whose first label is not 32 letters A-P (the first-level encoding of "
                     "RFC 1001 §14.1): shown as sent",
    "nbns_request_table_full": "unanswered NBNS requests forgotten: the pairing table is full",
})
