"""DNS numbers and their names (RFC 1035 §4.1, RFC 3596, RFC 2782, RFC 6895 registry), the limits of the wire
parser, the one action table and the weird codes of the DNS wire format.

The wire format is shared: mDNS (RFC 6762) and LLMNR (RFC 4795) use it unchanged and NBNS (RFC 1002 §4.2) its
header and name compression, so the ``dns_*`` weird codes below are theirs too. Record types are named as
Wireshark names them (``A``, ``AAAA``, ``PTR``, ``SRV``...); unknown values degrade to ``unknown_0x..``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

PORT = 53

# -- limits (named so a message that hits one says which) --------------------------------------------------
MAX_NAME = 255  # octets of a name in wire form (RFC 1035 §2.3.4); more is dns_name_too_long
MAX_LABEL = 63  # octets of a label (RFC 1035 §2.3.4); the length octet's top bits 01/10 are not labels
MAX_POINTERS = 32  # compression pointers followed in one name: a longer chain is a loop (dns_pointer_loop)
MAX_RECORDS = 256  # records decoded from one message, questions included: more is dns_too_many_records
MAX_CNAME_CHAIN = 8  # CNAME hops followed inside one message to find the name an address answers


class Opcode(IntEnum):
    """OPCODE (RFC 1035 §4.1.1, RFC 1996 NOTIFY, RFC 2136 UPDATE, RFC 8490 DSO)."""

    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5
    DSO = 6


class Rcode(IntEnum):
    """RCODE (RFC 1035 §4.1.1, RFC 2136 §2.2), named as Wireshark shows them in snake_case."""

    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10


class RType(IntEnum):
    """The record types the parser decodes or that traffic often shows (RFC 1035 §3.2.2, 3596, 2782, 6891...)."""

    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    NULL = 10
    WKS = 11
    PTR = 12
    HINFO = 13
    MX = 15
    TXT = 16
    AAAA = 28
    NB = 32  # NetBIOS general name service (RFC 1002 §4.2.1.3); NIMLOC in DNS
    SRV = 33  # NBSTAT in NBNS (RFC 1002 §4.2.1.3): the two share the number
    NAPTR = 35
    OPT = 41
    DS = 43
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    SVCB = 64
    HTTPS = 65
    AXFR = 252
    ANY = 255


WIRESHARK_TYPE_NAMES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL", 11: "WKS",
    12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY",
    28: "AAAA", 29: "LOC", 32: "NIMLOC", 33: "SRV", 35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT",
    42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID",
    50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY",
    61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
    251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
}
"""Record type names as Wireshark's dns dissector prints them (``dns.qry.type`` shows the number)."""


def type_name(value: int) -> str:
    """``A``, ``AAAA``, ``SRV``...; ``unknown_0x..`` for a type Wireshark does not name either."""
    return WIRESHARK_TYPE_NAMES.get(value) or unknown_name(value)


CLASS_NAMES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}


def class_name(value: int) -> str:
    return CLASS_NAMES.get(value) or unknown_name(value)


opcode_name = namer(Opcode, "a DNS opcode")
rcode_name = namer(Rcode, "a DNS rcode")

# -- header flags (RFC 1035 §4.1.1): the 16 bits after the ID --
QR, AA, TC, RD, RA, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010
CLASS_MASK = 0x7FFF  # mDNS (RFC 6762 §5.4, §10.2): the top bit of a class is unicast-response / cache-flush
TOP_BIT = 0x8000

ACTIONS: Mapping[str, str] = MappingProxyType({
    # A query asks the name system where a host is (or what a service's hosts are): finding devices by name,
    # the vocabulary's ``discovery``. It changes nothing; a conduit with ``access: read`` admits it.
    "query": "discovery",
    "iquery": "discovery",  # inverse query (obsolete, RFC 3425): a name from an address, still a look-up
    # STATUS asks a server how it is: a diagnostic exchange, not a look-up.
    "status": "diagnostics",
    # NOTIFY (RFC 1996) tells a secondary that a zone changed so that it transfers it: neither reads nor writes
    # by itself.
    "notify": "other",
    # UPDATE (RFC 2136) adds and deletes records of a zone: it writes the server's data.
    "update": "write",
    # DSO (RFC 8490) opens a stateful session on a TCP connection.
    "dso": "session",
})


def action_of(function_name: str) -> str:
    return ACTIONS.get(function_name, "other")


WIRE_WEIRDS: Mapping[str, str] = MappingProxyType({
    "dns_short_header": "a message shorter than the 12-octet header (RFC 1035 §4.1.1): nothing decoded",
    "dns_truncated": "the message ends inside a question or record its header counts: the records before it are "
                     "kept (a snap length that cut the datagram, or forged counts)",
    "dns_bad_label_type": "a label length octet with top bits 01 or 10 (extended or reserved label types, RFC "
                          "6891 §5): the name cannot be read, nor anything after it",
    "dns_bad_pointer": "a compression pointer past the end of the message (RFC 1035 §4.1.4)",
    "dns_pointer_loop": f"more than {MAX_POINTERS} compression pointers in one name: a loop",
    "dns_name_too_long": f"a name longer than {MAX_NAME} octets in wire form (RFC 1035 §2.3.4)",
    "dns_too_many_records": f"more than {MAX_RECORDS} questions and records in one message: the rest are not "
                            "decoded",
    "dns_bad_rdata": "a record's data too short or too long for its type (an A record that is not 4 octets, an "
                     "SRV without its target...): the record is kept without its data",
})

STREAM_WEIRDS: Mapping[str, str] = MappingProxyType({
    "dns_buffer_overflow": "more octets waiting for one TCP message than its 2-octet length can announce",
    "dns_bad_tcp_length": "a TCP message whose 2-octet length (RFC 1035 §4.2.2) is below the 12-octet header: "
                       "framing is lost until the next segment",
})

WEIRDS: Mapping[str, str] = MappingProxyType({
    **WIRE_WEIRDS, **STREAM_WEIRDS,
    "dns_request_table_full": "unanswered queries forgotten: the pairing table is full",
})
