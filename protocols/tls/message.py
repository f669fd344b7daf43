"""TLS records into protocol-neutral ``Message``s with the facts they teach the inventory.

- ClientHello: the SNI is the name the client used for the server (``hostname`` about the server);
- Certificate (TLS 1.2 and older; in TLS 1.3 it travels encrypted, so it is never seen): the first certificate
  is the sender's own: its subject and issuer as ``identity`` (``tls_subject``, ``tls_issuer``), and its
  subject CN and SAN dNSNames that are host names (no wildcard) as ``hostname`` facts;
- ServerHello, alerts, ChangeCipherSpec: fields only.

``function_code`` is the handshake message type for handshake messages and the record's content type for
alerts (21) and ChangeCipherSpec (20); ``content_type`` is in every event.
"""
from __future__ import annotations

from protocols.base import REQUEST, RESPONSE, Fact, Malformed, Message
from protocols.tls.codes import (
    ACTIONS,
    ContentType,
    HandshakeType,
    alert_level_name,
    alert_name,
    cipher_suite_name,
    version_name,
)
from protocols.tls.names import host_name
from protocols.tls.wire import ClientHello, ServerHello, md5_hex, parse_certificate_list
from protocols.tls.x509 import distinguished, parse_certificate

HELLO = 0  # the pair key: one ClientHello and its ServerHello per connection (a retry replaces the first)
MAX_CERTIFICATES = 1  # certificates decoded per Certificate message: the first is the sender's own


def _message(code: int, name: str, is_request: bool, fields: dict, facts: tuple[Fact, ...] = (),
             pair_key: int | None = None, weird: str | None = None) -> Message:
    return Message(code, name, ACTIONS[name], REQUEST if is_request else RESPONSE, pair_key, fields, facts, weird)


def client_hello_message(hello: ClientHello, sslv2: bool = False) -> Message:
    fields: dict = {"content_type": int(ContentType.HANDSHAKE), "handshake_type": int(HandshakeType.CLIENT_HELLO),
                    "legacy_version": version_name(hello.legacy_version), "server_name": hello.server_name,
                    "alpn": list(hello.alpn), "supported_versions": [version_name(v) for v in hello.supported_versions],
                    "cipher_suite_count": hello.cipher_suite_count}
    if sslv2:
        fields["record_format"] = "sslv2"
    else:
        ja3 = hello.ja3_string
        fields["ja3"], fields["ja3_hash"] = ja3, md5_hex(ja3)
    name = host_name(hello.server_name)
    facts = (Fact("hostname", "server", name),) if name else ()
    return _message(HandshakeType.CLIENT_HELLO, "client_hello", True, fields, facts, HELLO, hello.weird)


def server_hello_message(hello: ServerHello) -> Message:
    name = "hello_retry_request" if hello.hello_retry else "server_hello"
    ja3s = hello.ja3s_string
    fields: dict = {"content_type": int(ContentType.HANDSHAKE), "handshake_type": int(HandshakeType.SERVER_HELLO),
                    "version": version_name(hello.version), "legacy_version": version_name(hello.legacy_version),
                    "cipher_suite": hello.cipher_suite, "cipher_suite_name": cipher_suite_name(hello.cipher_suite),
                    "alpn": hello.alpn, "ja3s": ja3s, "ja3s_hash": md5_hex(ja3s),
                    # RFC 8446 §4.3: from EncryptedExtensions on, a TLS 1.3 handshake (Certificate too) is encrypted
                    "certificate_encrypted": hello.version == 0x0304 or (hello.version & 0xFF00) == 0x7F00}
    return _message(HandshakeType.SERVER_HELLO, name, False, fields, (), None if hello.hello_retry else HELLO,
                    hello.weird)


def certificate_message(body: bytes, is_request: bool, truncated: bool) -> Message | Malformed:
    """A TLS 1.2 Certificate (RFC 5246 §7.4.2): the first certificate names the sender."""
    try:
        certs, count, short = parse_certificate_list(body, MAX_CERTIFICATES)
    except Malformed as bad:
        return bad
    fields: dict = {"content_type": int(ContentType.HANDSHAKE), "handshake_type": int(HandshakeType.CERTIFICATE),
                    "certificate_count": count}
    weird = "tls_handshake_truncated" if truncated else ("tls_bad_handshake" if short else None)
    facts: list[Fact] = []
    if certs:
        try:
            names = parse_certificate(certs[0])
        except Malformed:
            weird = weird or "tls_bad_certificate"
        else:
            weird = weird or names.weird
            fields.update(subject_cn=list(names.subject_cn), subject_o=list(names.subject_o),
                          issuer_cn=list(names.issuer_cn), issuer_o=list(names.issuer_o), san_dns=list(names.san_dns))
            about = "client" if is_request else "server"
            subject = distinguished(names.subject_cn, names.subject_o)
            if subject:
                facts.append(Fact("identity", about, {"tls_subject": subject,
                                                      "tls_issuer": distinguished(names.issuer_cn, names.issuer_o)}))
            seen: set[str] = set()
            for text in names.subject_cn + names.san_dns:
                name = host_name(text)
                if name and name not in seen:
                    seen.add(name)
                    facts.append(Fact("hostname", about, name))
    return _message(HandshakeType.CERTIFICATE, "certificate", is_request, fields, tuple(facts), None, weird)


def alert_message(body: bytes, is_request: bool) -> Message:
    """A cleartext alert (RFC 5246 §7.2): level and description."""
    level, description = (body[0], body[1]) if len(body) == 2 else (None, None)
    fields = {"content_type": int(ContentType.ALERT), "level": level, "description": description,
              "level_name": alert_level_name(level) if level is not None else None,
              "description_name": alert_name(description) if description is not None else None}
    return _message(ContentType.ALERT, "alert", is_request, fields, (), None,
                    None if len(body) == 2 else "tls_bad_alert")


def change_cipher_spec_message(is_request: bool) -> Message:
    return _message(ContentType.CHANGE_CIPHER_SPEC, "change_cipher_spec", is_request,
                    {"content_type": int(ContentType.CHANGE_CIPHER_SPEC)})
