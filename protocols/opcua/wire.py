"""OPC UA binary transport (Part 6 §7.1 UA Connection Protocol, §6.7 UA Secure Conversation): bytes -> records.

Every message starts with the same header (§7.1.2.2), little-endian::

    0      3      4            8
    +------+------+------------+-------------------------------------------------------+
    | type | chunk| size (u32) | HEL/ACK/ERR/RHE fields, or SecureChannelId (u32) then  |
    | HEL..| F/C/A| whole msg  | OPN: asymmetric security header | MSG/CLO: TokenId     |
    +------+------+------------+-------------------------------------------------------+

then, for OPN/MSG/CLO, the sequence header (SequenceNumber, RequestId: u32 each) and the service body
(a NodeId naming its type, then its fields), unless the channel encrypts them. ``size`` is the only
delimiter; it counts the header.
"""
from __future__ import annotations

from dataclasses import dataclass

from protocols.base import Malformed, NeedMore, Verdict
from protocols.opcua.binary import Reader
from protocols.opcua.codes import CHUNK_TYPES, MESSAGE_TYPES

HEADER_SIZE = 8
MIN_SIZE = {b"HEL": 32, b"ACK": 28, b"ERR": 16, b"RHE": 16, b"OPN": 24, b"MSG": 24, b"CLO": 24}
"""Smallest ``size`` each type can have: its fixed fields and empty strings (Part 6 §7.1.2, §6.7.2)."""
MAX_CHUNK_SIZE = 1 << 24
"""Largest chunk accepted at all (16 MiB). Part 6 leaves buffer sizes to HEL/ACK (at least 8192); servers
use 64 KiB to a few MiB. Larger is taken for lost framing."""


@dataclass(frozen=True, slots=True)
class Header:
    """The common header: message type (3 ASCII letters), chunk type ('F', 'C', 'A'), message size."""

    message_type: bytes
    chunk_type: int
    size: int


@dataclass(frozen=True, slots=True)
class Hello:
    """HEL (§7.1.2.3): the client's limits and the endpoint it wants."""

    protocol_version: int
    receive_buffer_size: int
    send_buffer_size: int
    max_message_size: int
    max_chunk_count: int
    endpoint_url: str | None


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """ACK (§7.1.2.4): the server's limits."""

    protocol_version: int
    receive_buffer_size: int
    send_buffer_size: int
    max_message_size: int
    max_chunk_count: int


@dataclass(frozen=True, slots=True)
class TransportError:
    """ERR (§7.1.2.5), also the body of an abort chunk (§6.7.3): a status code and why."""

    error: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class ReverseHello:
    """RHE (§7.1.2.6): a server behind a firewall connecting out to its client."""

    server_uri: str | None
    endpoint_url: str | None


@dataclass(frozen=True, slots=True)
class AsymmetricHeader:
    """OPN's security header (§6.7.2.3): the policy in the clear, the sender's certificate, the receiver's
    certificate thumbprint (``certificate`` is the DER bytes, cut at MAX_CERTIFICATE)."""

    security_policy_uri: str | None
    certificate_size: int  # -1: none
    certificate: bytes
    receiver_thumbprint: bytes | None


MAX_CERTIFICATE = 8192  # bytes of a sender certificate kept to read its subject


def probe(data: bytes) -> Verdict:
    """A known message type, a chunk type and a size a chunk can have: cheap, and rare by chance."""
    if len(data) < HEADER_SIZE:
        prefix = data[:3]
        if len(data) < 3:
            return Verdict.MORE if any(t.startswith(prefix) for t in MESSAGE_TYPES) else Verdict.REJECT
        return Verdict.MORE if prefix in MESSAGE_TYPES and (len(data) == 3 or data[3] in CHUNK_TYPES) \
            else Verdict.REJECT
    message_type = bytes(data[:3])
    if message_type not in MESSAGE_TYPES or data[3] not in CHUNK_TYPES:
        return Verdict.REJECT
    size = int.from_bytes(data[4:8], "little")
    return Verdict.ACCEPT if MIN_SIZE[message_type] <= size <= MAX_CHUNK_SIZE else Verdict.REJECT


def parse_header(buf: bytes | bytearray, pos: int = 0) -> Header | NeedMore:
    """The 8-byte header at ``pos``; Malformed when it cannot be one (framing is lost)."""
    if len(buf) - pos < HEADER_SIZE:
        return NeedMore(HEADER_SIZE - (len(buf) - pos))
    message_type = bytes(buf[pos:pos + 3])
    if message_type not in MESSAGE_TYPES:
        raise Malformed("opcua_unknown_message_type", pos, repr(message_type))
    chunk = buf[pos + 3]
    if chunk not in CHUNK_TYPES:
        raise Malformed("opcua_bad_chunk_type", pos + 3, f"0x{chunk:02x}")
    size = int.from_bytes(buf[pos + 4:pos + 8], "little")
    if not MIN_SIZE[message_type] <= size <= MAX_CHUNK_SIZE:
        raise Malformed("opcua_bad_message_size", pos + 4, f"{message_type.decode()} of {size} bytes")
    return Header(message_type, chunk, size)


def parse_hello(r: Reader) -> Hello:
    return Hello(r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.string())


def parse_acknowledge(r: Reader) -> Acknowledge:
    return Acknowledge(r.u32(), r.u32(), r.u32(), r.u32(), r.u32())


def parse_error(r: Reader) -> TransportError:
    return TransportError(r.u32(), r.string())


def parse_reverse_hello(r: Reader) -> ReverseHello:
    return ReverseHello(r.string(), r.string())


def parse_asymmetric_header(r: Reader) -> AsymmetricHeader:
    policy = r.string()
    start, size = r.bytestring_span()
    certificate = bytes(r.buf[start:start + min(size, MAX_CERTIFICATE)]) if size > 0 else b""
    return AsymmetricHeader(policy, size, certificate, r.bytestring())
