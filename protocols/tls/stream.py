"""Framing one direction of a TLS connection (RFC 8446 §5.1, RFC 5246 §6.2) until its encrypted part begins.

    TLSPlaintext: type(1) legacy_record_version(2) length(2) fragment[length]
    Handshake:    msg_type(1) length(3) body[length]      (may span records; a record may hold several)

Bytes are walked as they arrive, never a whole record at a time: handshake fragments join one bounded buffer
(``MAX_HANDSHAKE``), alert and ChangeCipherSpec bodies are a few octets, anything else is skipped by count.
Once the direction has sent ChangeCipherSpec (TLS 1.2) or application data (TLS 1.3 sends its encrypted
handshake so, RFC 8446 §5), nothing it sends can be read any more: the framer is ``done`` and drops every later byte unseen; the flow layer then stops reassembling that direction
(``sensor/dissect/streams.py``). A TLS 1.3 middlebox-compatibility ChangeCipherSpec ends nothing when a
second hello may follow it in the clear (after a HelloRetryRequest): a direction that offered or chose TLS 1.3
reads on while the next handshake record is exactly one hello. A record header that is not TLS ends the framer the same way, after one
``tls_bad_record``. After a TCP gap record boundaries are unknown: the next bytes must start a plausible record
header, else the framer stops quietly; so it does when a direction's first bytes are no record header (the
capture joined the connection midway).

An SSL 2.0 CLIENT-HELLO (the compatible hello of old clients, RFC 5246 Appendix E.2) is read when it is the
first thing a client sends; any other SSL 2.0 record (a SERVER-HELLO, what follows in SSL 2.0) ends the framer
quietly.
"""
from __future__ import annotations

from typing import TypeVar

from protocols.base import Malformed, Message
from protocols.tls.codes import MAX_RECORD, ContentType, HandshakeType
from protocols.tls.message import (
    alert_message,
    certificate_message,
    change_cipher_spec_message,
    client_hello_message,
    server_hello_message,
)
from protocols.tls.wire import parse_client_hello, parse_server_hello, parse_sslv2_client_hello

MAX_HANDSHAKE = 65_536
"""Most octets of one handshake message kept. Hellos are a few hundred octets; certificate chains a few
kilobytes, rarely tens. A longer message is read from its first ``MAX_HANDSHAKE`` octets
(``tls_handshake_truncated``) and the rest skipped by count."""

HEADER = 5
_TYPES = frozenset(int(c) for c in ContentType)
Tag = TypeVar("Tag")


def plausible_header(head: bytes | bytearray) -> bool:
    """Five octets that can start a TLS record: a known content type, version 3.x, a length within bounds."""
    return (len(head) >= HEADER and head[0] in _TYPES and head[1] == 3 and head[2] <= 4
            and int.from_bytes(head[3:5], "big") <= MAX_RECORD)


class TlsStream:
    """Per-direction framing state: feed segments in order, get (tag, Message or Malformed) back."""

    __slots__ = ("_after_ccs", "_alert", "_fed", "_head", "_held", "_hello_again", "_hs", "_left", "_record_len",
                 "_resync", "_skip", "_started", "_type", "_v2", "_v2_hello", "done", "is_request", "max_handshake")

    def __init__(self, is_request: bool, max_handshake: int = MAX_HANDSHAKE) -> None:
        self.is_request = is_request
        self.max_handshake = max_handshake
        self.done = False  # nothing more can be read in this direction: later bytes are dropped unseen
        self._fed = 0  # octets fed so far: Malformed offsets are stream offsets
        self._head = bytearray()  # a record header cut by a segment boundary
        self._type = 0  # content type of the record being walked
        self._left = 0  # its octets not walked yet
        self._hs = bytearray()  # handshake octets of messages not complete yet
        self._held: list = []  # messages complete before their record: reported when the record ends, as tshark
        self._skip = 0  # octets of a truncated handshake message still to drop
        self._alert = bytearray()  # an alert cut by a record or segment boundary
        self._v2 = bytearray()  # an SSL 2.0 record being gathered
        self._v2_hello = False  # the client opened with an SSL 2.0 CLIENT-HELLO: it may go on in SSL 2.0
        self._started = False
        self._resync = False
        self._record_len = 0
        self._hello_again = False  # TLS 1.3 offered (client) or a HelloRetryRequest sent (server): see _ccs
        self._after_ccs = False  # a ChangeCipherSpec that may precede a second cleartext hello was seen

    @property
    def pending(self) -> int:
        """Octets held for a record or handshake message whose end has not arrived."""
        return len(self._head) + len(self._hs) + len(self._alert) + len(self._v2)

    def gap(self) -> None:
        """Bytes were lost: partial messages go, and the next bytes must start a record."""
        if self.done:
            return
        self._head, self._hs, self._alert, self._v2 = bytearray(), bytearray(), bytearray(), bytearray()
        self._left = self._skip = 0
        self._held = []
        self._resync = self._started = True

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        """Every message ``data`` completes; nothing (and no work) once the direction is ``done``."""
        if self.done:
            return []
        out: list[tuple[Tag, Message | Malformed]] = []
        base = self._fed
        self._fed += len(data)
        pos, size = 0, len(data)
        if self._v2 or (not self._started and data and data[0] & 0x80):
            self._started = True
            return self._sslv2(data, base, tag, out)
        if (self._resync or not self._started) and len(data) >= HEADER and not plausible_header(data):
            self._stop()  # joined mid-connection, or after a gap: record boundaries are unknown
            return out
        self._started = bool(data)
        self._resync = False
        while pos < size and not self.done:
            if self._left == 0:  # at a record header
                need = HEADER - len(self._head)
                if size - pos < need:
                    self._head += data[pos:]
                    break
                head = bytes(self._head) + data[pos:pos + need] if self._head else data[pos:pos + HEADER]
                self._head = bytearray()
                pos += need
                self._record_header(head, base + pos - HEADER, tag, out)
                continue
            take = min(self._left, size - pos)
            chunk = data[pos:pos + take]
            pos += take
            self._left -= take
            if self._type == ContentType.HANDSHAKE:
                self._handshake(chunk, base + pos, tag, self._held)
                if self._left == 0 and self._held:
                    out.extend((tag, message) for _, message in self._held)
                    self._held = []
            elif self._type == ContentType.ALERT:
                self._alert += chunk
                while len(self._alert) >= 2:
                    out.append((tag, alert_message(bytes(self._alert[:2]), self.is_request)))
                    del self._alert[:2]
                if self._left == 0 and self._alert:
                    out.append((tag, alert_message(bytes(self._alert), self.is_request)))
                    self._alert = bytearray()
        return out

    def _record_header(self, head: bytes, offset: int, tag: Tag, out: list) -> None:
        kind, length = head[0], int.from_bytes(head[3:5], "big")
        if kind not in _TYPES or head[1] != 3:
            if self._v2_hello and kind & 0x80:
                self._stop()  # the SSL 2.0 handshake goes on (CLIENT-MASTER-KEY): not read
                return
            out.append((tag, Malformed("tls_bad_record", offset, f"record header {head.hex()}")))
            self._stop()
            return
        if length > MAX_RECORD:
            out.append((tag, Malformed("tls_record_too_long", offset, f"{length} octets")))
            self._stop()
            return
        if kind == ContentType.CHANGE_CIPHER_SPEC:
            out.append((tag, change_cipher_spec_message(self.is_request)))
            if not self._hello_again:
                self._stop()
                return
            # RFC 8446 §4.1.4, Appendix D.4: after a HelloRetryRequest the client's second ClientHello (and the
            # server's ServerHello) may follow a middlebox-compatibility ChangeCipherSpec in the clear
            self._hello_again, self._after_ccs = False, True
            self._type, self._left = kind, length
        elif kind == ContentType.APPLICATION_DATA:
            self._stop()
        else:
            self._type, self._left, self._record_len = kind, length, length

    def _stop(self) -> None:
        """The rest of this direction is encrypted or not TLS: forget everything, read nothing more."""
        self.done = True
        self._head, self._hs, self._alert, self._v2 = bytearray(), bytearray(), bytearray(), bytearray()
        self._left = self._skip = 0
        self._held = []

    def _handshake(self, chunk: bytes, offset: int, tag: Tag, out: list) -> None:
        """Join handshake octets and cut whole messages out of them (RFC 8446 §4: messages may span records)."""
        if self._skip:
            dropped = min(self._skip, len(chunk))
            self._skip -= dropped
            chunk = chunk[dropped:]
        self._hs += chunk
        hs, limit = self._hs, self.max_handshake
        if self._after_ccs and len(hs) >= 4:
            hello = HandshakeType.CLIENT_HELLO if self.is_request else HandshakeType.SERVER_HELLO
            if hs[0] != hello or 4 + int.from_bytes(hs[1:4], "big") != self._record_len:
                self._stop()  # an encrypted Finished (TLS 1.2 chosen after all): nothing more to read
                return
            self._after_ccs = False
        while len(hs) >= 4:
            kind, length = hs[0], int.from_bytes(hs[1:4], "big")
            if length > limit:
                if len(hs) < 4 + limit:
                    break
                self._emit(kind, bytes(hs[4:4 + limit]), True, offset, tag, out)
                beyond = min(len(hs) - 4 - limit, length - limit)
                del hs[:4 + limit + beyond]
                self._skip = length - limit - beyond
                continue
            if len(hs) < 4 + length:
                break
            body = bytes(hs[4:4 + length])
            del hs[:4 + length]
            self._emit(kind, body, False, offset, tag, out)

    def _emit(self, kind: int, body: bytes, truncated: bool, offset: int, tag: Tag, out: list) -> None:
        if kind == HandshakeType.CERTIFICATE:
            out.append((tag, certificate_message(body, self.is_request, truncated)))
            return
        if kind not in (HandshakeType.CLIENT_HELLO, HandshakeType.SERVER_HELLO):
            return  # key exchange, ServerHelloDone, tickets...: nothing a name or an identity is in
        try:
            message = (client_hello_message(parse_client_hello(body)) if kind == HandshakeType.CLIENT_HELLO
                       else server_hello_message(parse_server_hello(body)))
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, offset, bad.detail)))
            return
        if truncated and not message.weird:
            message.weird = "tls_handshake_truncated"
        if message.function_name == "hello_retry_request" or "TLSv1.3" in message.fields.get("supported_versions", ()):
            self._hello_again = True
        out.append((tag, message))

    def _sslv2(self, data: bytes, base: int, tag: Tag, out: list) -> list:
        """An SSL 2.0 record (2-octet header, high bit set) as the client's first message: gather, then read."""
        self._v2 += data
        if len(self._v2) < 2:
            return out
        length = ((self._v2[0] & 0x7F) << 8) | self._v2[1]
        if len(self._v2) < 2 + length:
            return out
        record = bytes(self._v2[2:2 + length])
        rest = bytes(self._v2[2 + length:])
        self._v2 = bytearray()
        if not self.is_request or not record or record[0] != 1:
            self._stop()  # SSL 2.0 past the CLIENT-HELLO (SERVER-HELLO, CLIENT-MASTER-KEY...): not read
            return out
        self._v2_hello = True
        try:
            out.append((tag, client_hello_message(parse_sslv2_client_hello(record), sslv2=True)))
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, base, bad.detail)))
        if rest:
            self._fed -= len(rest)
            out.extend(self.feed(rest, tag))
        return out
