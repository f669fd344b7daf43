"""DNS messages as records: pure functions from bytes (RFC 1035 §4.1), shared by mDNS, LLMNR and NBNS.

    Header (12 octets):  ID(2) FLAGS(2) QDCOUNT(2) ANCOUNT(2) NSCOUNT(2) ARCOUNT(2)
    Question:            QNAME QTYPE(2) QCLASS(2)
    Resource record:     NAME TYPE(2) CLASS(2) TTL(4) RDLENGTH(2) RDATA

A name is a sequence of labels (a length octet 1..63 and that many octets) ending with a zero octet, or with a
compression pointer (two octets ``11`` + a 14-bit offset from the start of the message, §4.1.4) to the rest of
the name. Pointers are followed at most ``MAX_POINTERS`` times (a loop otherwise never ends) and a name is at most
``MAX_NAME`` octets. A message is read whole (a UDP datagram, or one TCP message without its length prefix); when
it ends early or a name cannot be read, the questions and records before the fault are kept and ``problem`` names
the fault, because what came before (the ID, the question) is still worth an event. What a record's data means
depends on the protocol (type 33 is SRV in DNS, NBSTAT in NBNS), so the caller passes the ``RdataDecoder``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed
from protocols.dns.codes import MAX_LABEL, MAX_NAME, MAX_POINTERS, MAX_RECORDS, QR

HEADER = 12
FIXED = 10  # TYPE, CLASS, TTL, RDLENGTH after a record's name
ROOT = "<Root>"  # the empty name, as Wireshark prints it

RdataDecoder = Callable[[bytes, int, int, int], Any]
"""(message, rdata offset, rdata length, type) -> the decoded data, None for a type it does not decode; raises
``Malformed`` when the data does not fit the type."""


@dataclass(frozen=True, slots=True)
class Question:
    """QNAME, QTYPE and the raw QCLASS (in mDNS its top bit asks for a unicast response, RFC 6762 §5.4)."""

    name: str
    qtype: int
    qclass: int
    labels: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Record:
    """A resource record; ``data`` is what the decoder made of RDATA (None when it does not decode the type, or
    when ``bad`` says the data did not fit the type). ``rclass`` is raw: in mDNS its top bit is cache-flush."""

    name: str
    rtype: int
    rclass: int
    ttl: int
    rdlength: int
    data: Any
    labels: tuple[bytes, ...]
    bad: bool = False


@dataclass(frozen=True, slots=True)
class DnsWire:
    """One message: header fields, the counts it announces, what could be decoded, and the first fault."""

    id: int
    flags: int
    qdcount: int
    ancount: int
    nscount: int
    arcount: int
    questions: tuple[Question, ...]
    answers: tuple[Record, ...]
    authorities: tuple[Record, ...]
    additionals: tuple[Record, ...]
    problem: str | None = None  # a WIRE_WEIRDS code
    problem_offset: int = 0

    @property
    def is_response(self) -> bool:
        return bool(self.flags & QR)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0x0F

    @property
    def rcode(self) -> int:
        return self.flags & 0x0F

    @property
    def records(self) -> tuple[Record, ...]:
        return self.answers + self.authorities + self.additionals


ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
CONTROL = {c: ESCAPES.get(c, f"\\{c:03o}") for c in (*range(0x20), 0x7F)}


def label_text(label: bytes) -> str:
    """A label as Wireshark shows it: UTF-8, octets that are not as U+FFFD, control characters escaped (``\\000``)."""
    return label.decode("utf-8", "replace").translate(CONTROL)


def name_text(labels: tuple[bytes, ...]) -> str:
    return ".".join(label_text(label) for label in labels) if labels else ROOT


def read_labels(msg: bytes, pos: int) -> tuple[tuple[bytes, ...], int]:
    """The labels of the name at ``pos`` and the offset after it in the message (after its first pointer)."""
    size = len(msg)
    labels: list[bytes] = []
    octets = 1  # the root's zero octet
    hops = 0
    after = -1
    while True:
        if pos >= size:
            raise Malformed("dns_truncated", pos, "the message ends inside a name")
        length = msg[pos]
        if length >= 0xC0:
            if pos + 1 >= size:
                raise Malformed("dns_truncated", pos, "the message ends inside a pointer")
            target = ((length & 0x3F) << 8) | msg[pos + 1]
            if after < 0:
                after = pos + 2
            hops += 1
            if hops > MAX_POINTERS:
                raise Malformed("dns_pointer_loop", pos, f"{hops} pointers")
            if target >= size:
                raise Malformed("dns_bad_pointer", pos, f"pointer to {target} in {size} octets")
            pos = target
            continue
        if length > MAX_LABEL:
            raise Malformed("dns_bad_label_type", pos, f"label octet 0x{length:02x}")
        if length == 0:
            return tuple(labels), after if after >= 0 else pos + 1
        if pos + 1 + length > size:
            raise Malformed("dns_truncated", pos, "the message ends inside a label")
        octets += length + 1
        if octets > MAX_NAME:
            raise Malformed("dns_name_too_long", pos, f"more than {MAX_NAME} octets")
        labels.append(bytes(msg[pos + 1:pos + 1 + length]))
        pos += 1 + length


def read_name(msg: bytes, pos: int) -> tuple[str, int]:
    """The name at ``pos`` as text (labels joined by dots, ``<Root>`` for the root) and the offset after it."""
    labels, after = read_labels(msg, pos)
    return name_text(labels), after


def parse_message(buf: bytes, decode: RdataDecoder, offset: int = 0) -> tuple[DnsWire, int]:
    """The message from ``offset`` to the end of ``buf``; ``used`` is where decoding stopped.

    Raises ``Malformed("dns_short_header")`` when fewer than 12 octets remain; any later fault ends decoding
    and is named in ``problem``.
    """
    msg = bytes(buf[offset:]) if offset else bytes(buf)
    if len(msg) < HEADER:
        raise Malformed("dns_short_header", offset, f"{len(msg)} octets")
    ident, flags, qd, an, ns, ar = (int.from_bytes(msg[i:i + 2], "big") for i in range(0, HEADER, 2))
    sections: list[list[Any]] = [[], [], [], []]
    counts = (qd, an, ns, ar)
    pos = HEADER
    problem: str | None = None
    at = 0
    budget = MAX_RECORDS
    try:
        for section, count in enumerate(counts):
            for _ in range(count):
                if budget == 0:
                    raise Malformed("dns_too_many_records", pos, f"{sum(counts)} counted")
                budget -= 1
                if section == 0:
                    item, pos = _question(msg, pos)
                else:
                    item, pos, bad = _record(msg, pos, decode)
                    if bad is not None and problem is None:
                        problem, at = bad.code, offset + bad.offset
                sections[section].append(item)
    except Malformed as fault:
        if problem is None:
            problem, at = fault.code, offset + fault.offset
    wire = DnsWire(ident, flags, qd, an, ns, ar, tuple(sections[0]), tuple(sections[1]), tuple(sections[2]),
                   tuple(sections[3]), problem, at)
    return wire, pos


def _question(msg: bytes, pos: int) -> tuple[Question, int]:
    labels, pos = read_labels(msg, pos)
    if pos + 4 > len(msg):
        raise Malformed("dns_truncated", pos, "the message ends inside a question")
    qtype, qclass = int.from_bytes(msg[pos:pos + 2], "big"), int.from_bytes(msg[pos + 2:pos + 4], "big")
    return Question(name_text(labels), qtype, qclass, labels), pos + 4


def _record(msg: bytes, pos: int, decode: RdataDecoder) -> tuple[Record, int, Malformed | None]:
    """A record and the offset after it; a fault inside its data costs the data, not the message."""
    labels, pos = read_labels(msg, pos)
    if pos + FIXED > len(msg):
        raise Malformed("dns_truncated", pos, "the message ends inside a record header")
    rtype, rclass = int.from_bytes(msg[pos:pos + 2], "big"), int.from_bytes(msg[pos + 2:pos + 4], "big")
    ttl, rdlength = int.from_bytes(msg[pos + 4:pos + 8], "big"), int.from_bytes(msg[pos + 8:pos + 10], "big")
    start = pos + FIXED
    if start + rdlength > len(msg):
        raise Malformed("dns_truncated", start, f"RDATA of {rdlength} octets, {len(msg) - start} left")
    try:
        data, bad = decode(msg, start, rdlength, rtype), None
    except Malformed as fault:
        data, bad = None, fault
    record = Record(name_text(labels), rtype, rclass, ttl, rdlength, data, labels, bad is not None)
    return record, start + rdlength, bad
