"""Building OPC UA binary messages for tests (Part 6 §5.2 encodings, §7.1 and §6.7 headers), by hand.

Small encoders for the built-in types and the few service bodies the tests need, so expectations come
from the spec's layouts rather than from the package under test.
"""
from __future__ import annotations

import struct

NONE_POLICY = "http://opcfoundation.org/UA/SecurityPolicy#None"
BASIC256SHA256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"


def u8(v: int) -> bytes:
    return struct.pack("<B", v)


def u16(v: int) -> bytes:
    return struct.pack("<H", v)


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def i32(v: int) -> bytes:
    return struct.pack("<i", v)


def f64(v: float) -> bytes:
    return struct.pack("<d", v)


def string(text: str | None) -> bytes:
    if text is None:
        return i32(-1)
    raw = text.encode()
    return i32(len(raw)) + raw


def bytestring(raw: bytes | None) -> bytes:
    return i32(-1) if raw is None else i32(len(raw)) + raw


def array(items: list[bytes] | None) -> bytes:
    return i32(-1) if items is None else i32(len(items)) + b"".join(items)


def node(identifier: int | str, ns: int = 0) -> bytes:
    """NodeId in its most compact form (Part 6 §5.2.2.9)."""
    if isinstance(identifier, str):
        return u8(3) + u16(ns) + string(identifier)
    if ns == 0 and identifier < 256:
        return u8(0) + u8(identifier)
    if ns < 256 and identifier < 65536:
        return u8(1) + u8(ns) + u16(identifier)
    return u8(2) + u16(ns) + u32(identifier)


def localized(text: str | None) -> bytes:
    return u8(0x02) + string(text) if text is not None else u8(0)


def extension(type_id: int, body: bytes | None) -> bytes:
    return node(type_id) + (u8(0) if body is None else u8(1) + bytestring(body))


def variant_double(value: float) -> bytes:
    return u8(11) + f64(value)


def variant_string(value: str) -> bytes:
    return u8(12) + string(value)


def data_value(variant: bytes | None, status: int | None = None) -> bytes:
    mask = (0x01 if variant is not None else 0) | (0x02 if status is not None else 0)
    return u8(mask) + (variant or b"") + (u32(status) if status is not None else b"")


def request_header(handle: int) -> bytes:
    return node(0) + struct.pack("<q", 0) + u32(handle) + u32(0) + string(None) + u32(10000) + extension(0, None)


def response_header(handle: int, result: int = 0) -> bytes:
    return struct.pack("<q", 0) + u32(handle) + u32(result) + u8(0) + array(None) + extension(0, None)


def application(uri: str, product: str, name: str, kind: int = 0, urls: list[str] | None = None) -> bytes:
    return (string(uri) + string(product) + localized(name) + i32(kind) + string(None) + string(None)
            + array([string(u) for u in urls or []]))


def endpoint(url: str, server: bytes, mode: int = 1, policy: str = NONE_POLICY) -> bytes:
    token = string("anonymous") + i32(0) + string(None) + string(None) + string(None)
    return (string(url) + server + bytestring(None) + i32(mode) + string(policy) + array([token])
            + string("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary") + u8(0))


# -- messages ------------------------------------------------------------------------------------------------

def frame(message_type: bytes, body: bytes, chunk: bytes = b"F") -> bytes:
    return message_type + chunk + u32(8 + len(body)) + body


def hello(url: str | None = "opc.tcp://plc:4840") -> bytes:
    return frame(b"HEL", u32(0) + u32(65535) + u32(65535) + u32(0) + u32(0) + string(url))


def acknowledge() -> bytes:
    return frame(b"ACK", u32(0) + u32(65535) + u32(65535) + u32(0) + u32(0))


def error(code: int, reason: str | None) -> bytes:
    return frame(b"ERR", u32(code) + string(reason))


def service(type_id: int, header: bytes, body: bytes = b"") -> bytes:
    return node(type_id) + header + body


def opn(policy: str, payload: bytes, channel: int = 0, certificate: bytes | None = None,
        thumbprint: bytes | None = None) -> bytes:
    """OPN; ``payload`` follows the asymmetric header as is (sequence header + body, or ciphertext)."""
    head = u32(channel) + string(policy) + bytestring(certificate) + bytestring(thumbprint)
    return frame(b"OPN", head + payload)


def sequenced(sequence: int, request_id: int, body: bytes) -> bytes:
    return u32(sequence) + u32(request_id) + body


def open_request(mode: int = 1, handle: int = 0) -> bytes:
    return service(446, request_header(handle), u32(0) + i32(0) + i32(mode) + bytestring(b"") + u32(600000))


def open_response(channel: int = 7, token: int = 9) -> bytes:
    return service(449, response_header(0), u32(0) + u32(channel) + u32(token) + struct.pack("<q", 0) + u32(600000)
                   + bytestring(b""))


def msg(body: bytes, request_id: int, sequence: int | None = None, chunk: bytes = b"F", channel: int = 7,
        token: int = 9, message_type: bytes = b"MSG") -> bytes:
    seq = request_id + 1 if sequence is None else sequence
    return frame(message_type, u32(channel) + u32(token) + u32(seq) + u32(request_id) + body, chunk)


def read_value_id(identifier: int | str, ns: int = 0, attribute: int = 13) -> bytes:
    return node(identifier, ns) + u32(attribute) + string(None) + u16(0) + string(None)


def read_request(handle: int, nodes: list[bytes]) -> bytes:
    return service(631, request_header(handle), f64(0) + i32(0) + array(nodes))


def read_response(handle: int, values: list[bytes]) -> bytes:
    return service(634, response_header(handle), array(values) + array(None))


def write_request(handle: int, items: list[tuple[bytes, bytes]]) -> bytes:
    """``items``: (NodeId, DataValue) each, attribute Value."""
    return service(673, request_header(handle),
                   array([n + u32(13) + string(None) + dv for n, dv in items]))


def build_info(product_uri: str, manufacturer: str, product: str, version: str, build: str) -> bytes:
    return (string(product_uri) + string(manufacturer) + string(product) + string(version) + string(build)
            + struct.pack("<q", 0))


# -- a DER certificate, just enough of one for its subject ----------------------------------------------------

def der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def certificate(cn: str, org: str) -> bytes:
    def rdn(oid: bytes, value: str) -> bytes:
        return der(0x31, der(0x30, der(0x06, oid) + der(0x0C, value.encode())))

    name = der(0x30, rdn(b"\x55\x04\x06", "DE") + rdn(b"\x55\x04\x0a", org) + rdn(b"\x55\x04\x03", cn))
    algorithm = der(0x30, der(0x06, b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b") + b"\x05\x00")
    validity = der(0x30, der(0x17, b"260101000000Z") + der(0x17, b"270101000000Z"))
    tbs = der(0x30, der(0xA0, der(0x02, b"\x02")) + der(0x02, b"\x01") + algorithm + name + validity + name
              + der(0x30, b"\x00" * 140))
    return der(0x30, tbs + algorithm + der(0x03, b"\x00" + b"\x11" * 256))
