"""One OPC UA chunk -> a protocol-neutral ``Message`` (or nothing, for an intermediate chunk kept for later).

``function_code`` is the service's binary encoding type id (631 ReadRequest, as Wireshark's
``opcua.servicenodeid.numeric``) when the body is in the clear, else the message type's three letters
as a number (``HEL`` = 0x48454c); ``function_name`` is the service without Request/Response
(``read`` for both, as Modbus names a function), or the message type's name (``hello``,
``open_secure_channel``...; ``message`` for a MSG chunk that cannot be read).

Each direction of a connection has a ``Channel``: the security policy of the last OPN it sent (Part 6
§6.7.2.3; the policy URI is in the clear), whether its MSG chunks are readable, and the intermediate
chunks waiting for their final one (§6.7.2.2: chunks of one message share a request id). With a policy
other than None the OPN body is encrypted (§6.7.4: asymmetric encryption whatever the mode), so the
mode is inferred from the first MSG chunk: a body that starts with a known service type id after its
sequence header is only signed (``Sign``), anything else is ciphertext (``SignAndEncrypt``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocols.base import ANNOUNCE, REQUEST, RESPONSE, Fact, Malformed, Message
from protocols.opcua import certs
from protocols.opcua.binary import Reader
from protocols.opcua.codes import (
    ABORT,
    CONTINUE,
    POLICY_NONE,
    SECURE_TYPES,
    SECURITY_POLICY_PREFIX,
    SERVICES,
    TRANSPORT_TYPES,
    action_of,
    function_of,
    is_response,
    message_type_code,
    service_name,
)
from protocols.opcua.services import Out, decode, hostname_facts
from protocols.opcua.wire import (
    HEADER_SIZE,
    Header,
    parse_acknowledge,
    parse_asymmetric_header,
    parse_error,
    parse_hello,
    parse_reverse_hello,
)

MAX_REASSEMBLY = 1 << 22  # bytes of intermediate chunks kept per direction (4 MiB)
MAX_PARTIAL_MESSAGES = 8  # chunked messages under way per direction
SIGN, SIGN_AND_ENCRYPT = "Sign", "SignAndEncrypt"


@dataclass(slots=True)
class Channel:
    """What one direction of a connection has said about its secure channel."""

    policy_uri: str | None = None  # of the last OPN; None: no OPN seen
    mode: str | None = None  # "None", "Sign" or "SignAndEncrypt", once known
    partial: dict[int, list[bytes]] = field(default_factory=dict)  # request id -> bodies of its C chunks
    partial_bytes: int = 0

    @property
    def secured(self) -> bool:
        return self.policy_uri not in (None, POLICY_NONE, "")

    def security_fields(self) -> dict[str, Any]:
        if not self.secured:
            return {}
        out: dict[str, Any] = {"security_policy_uri": self.policy_uri, "security_policy": policy_name(self.policy_uri)}
        if self.mode:
            out["security_mode"] = self.mode
        return out

    def reset(self) -> None:
        self.partial.clear()
        self.partial_bytes = 0


def policy_name(uri: str | None) -> str | None:
    """``...SecurityPolicy#Basic256Sha256`` -> ``Basic256Sha256``."""
    if uri and uri.startswith(SECURITY_POLICY_PREFIX):
        return uri[len(SECURITY_POLICY_PREFIX):]
    return uri


def base_fields(header: Header) -> dict[str, Any]:
    return {"message_type": header.message_type.decode(), "chunk_type": chr(header.chunk_type),
            "message_size": header.size}


def transport_message(header: Header, chunk: bytes, is_request: bool) -> Message:
    """HEL, ACK, ERR, RHE (Part 6 §7.1.2): connection set-up, its limits, and errors."""
    name = TRANSPORT_TYPES[header.message_type]
    fields = base_fields(header)
    facts: list[Fact] = []
    r = Reader(chunk, HEADER_SIZE, header.size)
    direction = REQUEST if header.message_type == b"HEL" else RESPONSE
    pair_key: tuple[str] | None = ("hel",)  # ACK, or an ERR refusing the HEL, answers the HEL
    weird = None
    if header.message_type == b"HEL":
        hello = parse_hello(r)
        fields.update(protocol_version=hello.protocol_version, receive_buffer_size=hello.receive_buffer_size,
                      send_buffer_size=hello.send_buffer_size, max_message_size=hello.max_message_size,
                      max_chunk_count=hello.max_chunk_count, endpoint_url=hello.endpoint_url)
        facts.append(Fact("role", "client", "client"))
        out = Out(fields)
        hostname_facts(out, [hello.endpoint_url])
        facts += out.facts
    elif header.message_type == b"ACK":
        ack = parse_acknowledge(r)
        fields.update(protocol_version=ack.protocol_version, receive_buffer_size=ack.receive_buffer_size,
                      send_buffer_size=ack.send_buffer_size, max_message_size=ack.max_message_size,
                      max_chunk_count=ack.max_chunk_count)
        facts.append(Fact("role", "server", "server"))
    elif header.message_type == b"ERR":
        error = parse_error(r)
        fields.update(error=error.error, reason=error.reason)
        weird = "opcua_transport_error"
    else:
        hello_back = parse_reverse_hello(r)
        fields.update(server_uri=hello_back.server_uri, endpoint_url=hello_back.endpoint_url)
        direction, pair_key = ANNOUNCE, None
        facts.append(Fact("role", "src", "server"))
    return Message(message_type_code(header.message_type), name, action_of(name), direction, pair_key, fields,
                   tuple(facts), weird)


def secure_message(header: Header, chunk: bytes, is_request: bool, channel: Channel) -> Message | None:
    """OPN, MSG, CLO (Part 6 §6.7.2): None for an intermediate chunk kept until its final one."""
    fields = base_fields(header)
    r = Reader(chunk, HEADER_SIZE, header.size)
    fields["secure_channel_id"] = r.u32()
    if header.message_type == b"OPN":
        asym = parse_asymmetric_header(r)
        channel.policy_uri = asym.security_policy_uri
        channel.mode = None if channel.secured else "None"
        channel.reset()
        fields["security_policy_uri"] = asym.security_policy_uri
        fields["security_policy"] = policy_name(asym.security_policy_uri)
        fields["sender_certificate"] = asym.certificate_size > 0
        if asym.certificate_size > 0:
            fields["sender_certificate_size"] = asym.certificate_size
            subject = certs.subject(asym.certificate)
            if subject:
                fields["sender_certificate_subject"] = subject
        if asym.receiver_thumbprint:
            fields["receiver_certificate_thumbprint"] = asym.receiver_thumbprint.hex()
        if channel.secured:
            return _unreadable(header, fields, is_request, channel)
        return _plain(header, r, fields, is_request, channel)
    fields["token_id"] = r.u32()
    if channel.mode is None:  # after a secured OPN, or mid-connection with no OPN seen: the bytes decide
        readable = _readable(chunk, r.pos, channel)
        if channel.secured:
            channel.mode = SIGN if readable else SIGN_AND_ENCRYPT
    else:
        readable = channel.mode != SIGN_AND_ENCRYPT
    if not readable:
        return _unreadable(header, fields, is_request, channel)
    fields.update(channel.security_fields())
    return _plain(header, r, fields, is_request, channel)


def _readable(chunk: bytes, pos: int, channel: Channel) -> bool:
    """Does the body after the symmetric header look like clear text? A continuation of a message whose
    first chunk was read, or a body whose type id (after the sequence header) is a known service (any
    numeric id in namespace 0 when no OPN was seen: ciphertext rarely starts 0x01 0x00)."""
    if pos + 8 > len(chunk):
        return False
    request_id = int.from_bytes(chunk[pos + 4:pos + 8], "little")
    if request_id in channel.partial:
        return True
    at = pos + 8
    if at + 4 <= len(chunk) and chunk[at] == 0x01 and chunk[at + 1] == 0:
        type_id = int.from_bytes(chunk[at + 2:at + 4], "little")
    elif at + 7 <= len(chunk) and chunk[at] == 0x02 and chunk[at + 1:at + 3] == b"\0\0":
        type_id = int.from_bytes(chunk[at + 3:at + 7], "little")
    else:
        return False
    return type_id in SERVICES or channel.policy_uri is None  # no OPN seen: any ns=0 numeric type id will do


def _unreadable(header: Header, fields: dict[str, Any], is_request: bool, channel: Channel) -> Message:
    """A chunk whose sequence header and body are encrypted: what the clear headers say, and no more."""
    fields["encrypted"] = True
    security = channel.security_fields()
    fields.update(security)
    name = SECURE_TYPES[header.message_type]
    # what the server's encrypted channels are is part of what it is: the report names what it could not read
    facts = (Fact("identity", "server", {"opcua_encrypted_channel": security.get("security_mode") or "encrypted",
                                         "opcua_encrypted_policy": security.get("security_policy")}),)
    return Message(message_type_code(header.message_type), name, action_of(name), REQUEST if is_request else RESPONSE,
                   None, fields, facts)


def _plain(header: Header, r: Reader, fields: dict[str, Any], is_request: bool, channel: Channel) -> Message | None:
    """Sequence header, then the body: reassembled when chunked, decoded when the type id is known."""
    sequence_number, request_id = r.u32(), r.u32()
    fields["sequence_number"] = sequence_number
    fields["request_id"] = request_id
    pair_key = ("rq", request_id)
    direction = REQUEST if is_request else RESPONSE
    if header.chunk_type == CONTINUE:
        return _keep(header, r, fields, request_id, channel, direction, pair_key)
    if header.chunk_type == ABORT:
        dropped = channel.partial.pop(request_id, None)
        if dropped is not None:
            channel.partial_bytes -= sum(map(len, dropped))
        error = parse_error(r)
        fields.update(error=error.error, reason=error.reason)
        return Message(message_type_code(header.message_type), "abort", action_of("abort"), direction, pair_key,
                       fields, (), "opcua_chunk_abort")
    weird = None
    parts = channel.partial.pop(request_id, None)
    if parts is not None:
        channel.partial_bytes -= sum(map(len, parts))
        body = b"".join(parts) + bytes(r.buf[r.pos:r.end])
        fields["chunk_count"] = len(parts) + 1
        r = Reader(body)
    return _service(header, r, fields, direction, pair_key, weird)


def _keep(header: Header, r: Reader, fields: dict[str, Any], request_id: int, channel: Channel, direction: str,
          pair_key: Any) -> Message | None:
    body = bytes(r.buf[r.pos:r.end])
    if request_id not in channel.partial and len(channel.partial) >= MAX_PARTIAL_MESSAGES \
            or channel.partial_bytes + len(body) > MAX_REASSEMBLY:
        dropped = channel.partial.pop(request_id, None)
        channel.partial_bytes -= sum(map(len, dropped or ()))
        name = SECURE_TYPES[header.message_type]
        return Message(message_type_code(header.message_type), name, action_of(name), direction, None, fields, (),
                       "opcua_reassembly_overflow")
    channel.partial.setdefault(request_id, []).append(body)
    channel.partial_bytes += len(body)
    return None


def _service(header: Header, r: Reader, fields: dict[str, Any], direction: str, pair_key: Any,
             weird: str | None) -> Message:
    """The service body: its type id names the function; the rest is decoded where ``services`` knows it."""
    out = Out(fields)
    name = SECURE_TYPES[header.message_type]
    code = message_type_code(header.message_type)
    try:
        node = r.numeric_node_id()
        if node is None or node[0] != 0:
            raise Malformed("opcua_bad_body", r.pos, f"type id {node}")
        type_id = node[1]
        code, name = type_id, function_of(type_id)
        fields["type_id"] = type_id
        fields["service"] = service_name(type_id)
        if type_id in SERVICES:
            direction = RESPONSE if is_response(type_id) else REQUEST
            decode(type_id, direction == RESPONSE, r, out)
        if r.truncated:
            weird = "opcua_list_truncated"
    except Malformed as bad:
        weird = weird or ("opcua_list_truncated" if bad.code == "opcua_list_truncated" else "opcua_bad_body")
    if fields.get("type_id") in (446, 461):
        out.facts.append(Fact("role", "client", "client"))
    elif fields.get("type_id") in (449, 464):
        out.facts.append(Fact("role", "server", "server"))
    return Message(code, name, action_of(name), direction, pair_key, fields, tuple(out.facts), weird)


def chunk_message(header: Header, chunk: bytes, is_request: bool, channel: Channel) -> Message | None:
    """Any complete chunk; Malformed when its fixed fields do not fit its size."""
    if header.message_type in TRANSPORT_TYPES:
        return transport_message(header, chunk, is_request)
    return secure_message(header, chunk, is_request, channel)


def oversized_message(header: Header, is_request: bool) -> Message:
    """A chunk above MAX_KEPT: its header only (its body is skipped, not buffered)."""
    name = TRANSPORT_TYPES.get(header.message_type) or SECURE_TYPES[header.message_type]
    return Message(message_type_code(header.message_type), name, action_of(name), REQUEST if is_request else RESPONSE,
                   None, base_fields(header), (), "opcua_chunk_too_large")
