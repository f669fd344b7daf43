"""TLS (RFC 8446, RFC 5246, RFC 6066) on the well-known TLS ports, and elsewhere by its first handshake record.

Only the cleartext start of a connection is read: ClientHello (SNI, ALPN, supported versions, cipher suite count,
JA3), ServerHello (chosen version and cipher suite, JA3S), the TLS 1.2 Certificate (subject, issuer, SAN DNS
names), alerts and ChangeCipherSpec. Then each direction's framer is ``done`` and the bulk of the connection
costs nothing. ``wire`` decodes hellos, ``x509`` the names in a DER certificate, ``names`` what counts as a
host name, ``message`` makes ``Message``s and facts, ``stream`` frames a direction, ``codes`` names the
numbers and holds the action table and the weird codes. Registration is this ``SPEC``.
"""
from __future__ import annotations

from protocols.base import ProtocolSpec, Verdict
from protocols.tls.codes import ACTIONS, MAX_RECORD, WEIRDS, ContentType, HandshakeType
from protocols.tls.stream import MAX_HANDSHAKE, TlsStream

# HTTPS, SMTPS, LDAPS, DNS over TLS, FTPS, IMAPS, POP3S, LDAPS global catalog, OPC UA over HTTPS, SIP over TLS,
# AMQPS, syslog over TLS, HTTPS alternate, MQTT over TLS
PORTS = (443, 465, 636, 853, 990, 993, 995, 3269, 4843, 5061, 5671, 6514, 8443, 8883)
_HELLOS = (HandshakeType.CLIENT_HELLO, HandshakeType.SERVER_HELLO)
_OTHERS = (ContentType.CHANGE_CIPHER_SPEC, ContentType.ALERT, ContentType.APPLICATION_DATA)


def probe(data: bytes) -> Verdict:
    """A TLS record header: a handshake record (type 22, version 3.x, a sane length) must start with a ClientHello or
    ServerHello; ChangeCipherSpec, alert and application data records pass on their header alone.

    The dispatcher wants two payloads to agree: the second is the server's answer (a ServerHello, or an alert such
    as unrecognized_name before it) or the client's next record (early data)."""
    if len(data) < 6:
        return Verdict.MORE if data[:1] in (b"", b"\x16") else Verdict.REJECT
    if data[1] != 3 or data[2] > 4:
        return Verdict.REJECT
    length = int.from_bytes(data[3:5], "big")
    if data[0] == ContentType.HANDSHAKE and 4 <= length <= MAX_RECORD and data[5] in _HELLOS:
        return Verdict.ACCEPT
    if data[0] in _OTHERS and 0 < length <= MAX_RECORD:  # an alert before a ServerHello, early data...
        return Verdict.ACCEPT
    return Verdict.REJECT


SPEC = ProtocolSpec(
    name="tls",
    ports=frozenset(("tcp", port) for port in PORTS),
    probe=probe,
    framer=TlsStream,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["MAX_HANDSHAKE", "PORTS", "SPEC", "TlsStream", "probe"]
