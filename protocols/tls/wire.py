"""TLS handshake messages, bytes to frozen records (RFC 8446 §4.1.2-§4.1.3, §4.2; RFC 5246 §7.4; RFC 6066 §3).

Each parser takes one whole handshake message body (the framer has cut it out of its records) and returns the
record, or raises ``Malformed("tls_bad_handshake", offset)`` when the fixed fields overrun the body. Extensions
are read one by one; one that overruns ends the list and marks the record's ``weird``, so what came before it
(the SNI, most often first) is kept.

    ClientHello: legacy_version(2) random(32) session_id<0..32> cipher_suites<2..2^16-2>
                 compression_methods<1..2^8-1> extensions<0..2^16-1>
    ServerHello: legacy_version(2) random(32) session_id<0..32> cipher_suite(2) compression_method(1)
                 extensions<0..2^16-1>
    Extension:   type(2) length(2) data
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from protocols.base import Malformed
from protocols.tls.codes import Extension, is_grease

HELLO_RETRY_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")  # §4.1.3
MAX_LIST = 256  # items kept per list (cipher suites, extensions, groups, ALPN names): more are counted, not kept
MAX_NAME = 255  # octets of an SNI host name (RFC 6066 §3: a DNS host name) or an ALPN protocol name kept


@dataclass(frozen=True, slots=True)
class ClientHello:
    legacy_version: int
    cipher_suites: tuple[int, ...]
    cipher_suite_count: int
    extensions: tuple[int, ...]
    server_name: str | None
    alpn: tuple[str, ...]
    supported_versions: tuple[int, ...]
    supported_groups: tuple[int, ...]
    ec_point_formats: tuple[int, ...]
    weird: str | None = None

    @property
    def ja3_string(self) -> str:
        """JA3 (Salesforce): version,ciphers,extensions,groups,point formats in decimal; GREASE values left out."""
        def join(values: tuple[int, ...]) -> str:
            return "-".join(str(v) for v in values if not is_grease(v))

        return ",".join((str(self.legacy_version), join(self.cipher_suites), join(self.extensions),
                         join(self.supported_groups), join(self.ec_point_formats)))


@dataclass(frozen=True, slots=True)
class ServerHello:
    legacy_version: int
    cipher_suite: int
    extensions: tuple[int, ...]
    selected_version: int | None  # the supported_versions extension (TLS 1.3, §4.2.1)
    alpn: str | None
    hello_retry: bool
    weird: str | None = None

    @property
    def version(self) -> int:
        """The version the server chose: supported_versions when present, else legacy_version."""
        return self.selected_version if self.selected_version is not None else self.legacy_version

    @property
    def ja3s_string(self) -> str:
        """JA3S: version,cipher,extensions in decimal (GREASE left out, as for JA3)."""
        return ",".join((str(self.legacy_version), str(self.cipher_suite),
                         "-".join(str(v) for v in self.extensions if not is_grease(v))))


def md5_hex(text: str) -> str:
    """The JA3 digest: MD5 of the string, as the JA3 definition says (a fingerprint, not a security use)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _need(body: bytes, pos: int, size: int) -> None:
    if pos + size > len(body):
        raise Malformed("tls_bad_handshake", pos, f"field of {size} octets overruns the {len(body)}-octet message")


def _vector(body: bytes, pos: int, width: int) -> tuple[bytes, int]:
    """A length-prefixed vector (``width`` octets of length): its bytes and the position after it."""
    _need(body, pos, width)
    size = int.from_bytes(body[pos:pos + width], "big")
    _need(body, pos + width, size)
    return body[pos + width:pos + width + size], pos + width + size


def _u16s(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, min(len(data) & ~1, 2 * MAX_LIST), 2))


def parse_client_hello(body: bytes) -> ClientHello:
    """A ClientHello body (§4.1.2)."""
    _need(body, 0, 34)
    legacy_version = int.from_bytes(body[0:2], "big")
    _, pos = _vector(body, 34, 1)  # legacy_session_id
    suites, pos = _vector(body, pos, 2)
    _, pos = _vector(body, pos, 1)  # legacy_compression_methods
    fields: dict = {"server_name": None, "alpn": (), "supported_versions": (), "supported_groups": (),
                    "ec_point_formats": ()}
    types, weird = _extensions(body, pos, lambda kind, data: _client_extension(kind, data, fields))
    return ClientHello(legacy_version, _u16s(suites), len(suites) // 2, types, weird=weird, **fields)


def parse_server_hello(body: bytes) -> ServerHello:
    """A ServerHello body (§4.1.3), HelloRetryRequest included (its random is the fixed value)."""
    _need(body, 0, 34)
    legacy_version = int.from_bytes(body[0:2], "big")
    hello_retry = body[2:34] == HELLO_RETRY_RANDOM
    draft = 0x7F00 <= legacy_version < 0x7F00 + 22  # TLS 1.3 drafts before 22: no session id, no compression
    pos = 34 if draft else _vector(body, 34, 1)[1]
    _need(body, pos, 2 if draft else 3)
    suite = int.from_bytes(body[pos:pos + 2], "big")
    fields: dict = {"selected_version": None, "alpn": None}
    types, weird = _extensions(body, pos + (2 if draft else 3),
                               lambda kind, data: _server_extension(kind, data, fields))
    return ServerHello(legacy_version, suite, types, hello_retry=hello_retry, weird=weird, **fields)


def parse_sslv2_client_hello(record: bytes) -> ClientHello:
    """An SSL 2.0 CLIENT-HELLO (draft-hickman §B, RFC 5246 Appendix E.2): the body after the 2-octet header.

    msg_type(1)=1 version(2) cipher_spec_length(2) session_id_length(2) challenge_length(2) cipher_specs..."""
    _need(record, 0, 9)
    version = int.from_bytes(record[1:3], "big")
    spec_len = int.from_bytes(record[3:5], "big")
    _need(record, 9, spec_len)
    specs = record[9:9 + spec_len]
    count = spec_len // 3
    suites = tuple(int.from_bytes(specs[i:i + 3], "big") for i in range(0, 3 * min(count, MAX_LIST), 3))
    return ClientHello(version, suites, count, (), None, (), (), (), ())


def _extensions(body: bytes, pos: int, take) -> tuple[tuple[int, ...], str | None]:
    """Walk the extensions block (absent in pre-TLS 1.3 hellos that end before it): (types in order, weird)."""
    if pos >= len(body):
        return (), None
    if pos + 2 > len(body):
        return (), "tls_bad_handshake"
    end = min(len(body), pos + 2 + int.from_bytes(body[pos:pos + 2], "big"))
    weird = None if pos + 2 + int.from_bytes(body[pos:pos + 2], "big") <= len(body) else "tls_bad_handshake"
    pos += 2
    types: list[int] = []
    while pos < end:
        if pos + 4 > end:
            return tuple(types), "tls_bad_handshake"
        kind = int.from_bytes(body[pos:pos + 2], "big")
        size = int.from_bytes(body[pos + 2:pos + 4], "big")
        if pos + 4 + size > end:
            return tuple(types), "tls_bad_handshake"
        if len(types) < MAX_LIST:
            types.append(kind)
        try:
            take(kind, body[pos + 4:pos + 4 + size])
        except Malformed:
            weird = weird or "tls_bad_handshake"
        pos += 4 + size
    return tuple(types), weird


def _text(data: bytes) -> str:
    return data[:MAX_NAME].decode("ascii", "replace")


def _client_extension(kind: int, data: bytes, fields: dict) -> None:
    if kind == Extension.SERVER_NAME:
        names, _ = _vector(data, 0, 2)
        pos = 0
        while pos + 3 <= len(names):
            name, after = _vector(names, pos + 1, 2)
            if names[pos] == 0 and fields["server_name"] is None:  # host_name (RFC 6066 §3)
                fields["server_name"] = _text(name)
            pos = after
    elif kind == Extension.APPLICATION_LAYER_PROTOCOL_NEGOTIATION:
        fields["alpn"] = _alpn(data)
    elif kind == Extension.SUPPORTED_VERSIONS:
        versions, _ = _vector(data, 0, 1)
        fields["supported_versions"] = _u16s(versions)
    elif kind == Extension.SUPPORTED_GROUPS:
        groups, _ = _vector(data, 0, 2)
        fields["supported_groups"] = _u16s(groups)
    elif kind == Extension.EC_POINT_FORMATS:
        formats, _ = _vector(data, 0, 1)
        fields["ec_point_formats"] = tuple(formats[:MAX_LIST])


def _server_extension(kind: int, data: bytes, fields: dict) -> None:
    if kind == Extension.SUPPORTED_VERSIONS:
        _need(data, 0, 2)
        fields["selected_version"] = int.from_bytes(data[0:2], "big")
    elif kind == Extension.APPLICATION_LAYER_PROTOCOL_NEGOTIATION:
        names = _alpn(data)
        fields["alpn"] = names[0] if names else None


def _alpn(data: bytes) -> tuple[str, ...]:
    """ProtocolNameList (RFC 7301 §3.1): one-octet-length names inside a two-octet-length list."""
    names, _ = _vector(data, 0, 2)
    out: list[str] = []
    pos = 0
    while pos < len(names) and len(out) < MAX_LIST:
        name, pos = _vector(names, pos, 1)
        out.append(_text(name))
    return tuple(out)


def parse_certificate_list(body: bytes, max_certificates: int) -> tuple[list[bytes], int, bool]:
    """A TLS 1.2 Certificate body (RFC 5246 §7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>.

    Returns (the first ``max_certificates`` DER certificates, how many the list holds that fit in ``body``,
    whether the list is cut short). A body cut by the framer's bound keeps its whole certificates."""
    _need(body, 0, 3)
    end = 3 + int.from_bytes(body[0:3], "big")
    short = end > len(body)
    end = min(end, len(body))
    pos, count, certs = 3, 0, []
    while pos < end:
        if pos + 3 > end:
            return certs, count, True
        size = int.from_bytes(body[pos:pos + 3], "big")
        if pos + 3 + size > end:
            return certs, count, True
        if len(certs) < max_certificates:
            certs.append(body[pos + 3:pos + 3 + size])
        count += 1
        pos += 3 + size
    return certs, count, short
