"""BACnet/IP bytes to frozen records: the BVLC header (Annex J), the NPDU (clause 6) and the APDU header (clause 20.1).

A BACnet/IP datagram, outermost first::

    BVLC   | type 0x81 | function | length (2, whole datagram) | [Forwarded-NPDU: original B/IP address, 6] |
    NPDU   | version 1 | control | [DNET 2, DLEN 1, DADR] | [SNET 2, SLEN 1, SADR] | [hop count 1, if DNET] |
           | [message type 1 | vendor id 2 if type >= 0x80 | network message data]   when control bit 7 is set
    APDU   | type << 4 | flags ... (clause 20.1.2-20.1.9)                            when control bit 7 is clear

Each parser returns ``(record, used)`` or raises ``Malformed``; a datagram is complete by construction, so a
short one is Malformed (``*_truncated``), never NeedMore. Service parameters are in ``services``.
"""
from __future__ import annotations

from dataclasses import dataclass

from protocols.bacnet.codes import (
    BVLL_TYPE_BACNET_IP,
    CARRIES_NPDU,
    NPDU_VERSION,
    BvlcFunction,
    PduType,
)
from protocols.base import Malformed, NeedMore, Verdict

BVLC_HEADER = 4
BDT_ENTRY = 10  # B/IP address (6) + broadcast distribution mask (4), Annex J.2.2.1
FDT_ENTRY = 10  # B/IP address (6) + time-to-live (2) + seconds remaining (2), Annex J.2.7.1


@dataclass(frozen=True, slots=True)
class Bvlc:
    """The BVLC header; ``npdu_offset`` is where the NPDU starts (None for functions without one)."""

    function: int
    length: int
    original_source: str | None  # Forwarded-NPDU: the B/IP address of the original sender, "ip:port"
    npdu_offset: int | None


@dataclass(frozen=True, slots=True)
class Npdu:
    """The network layer header (clause 6.2). ``dadr``/``sadr`` are the MAC layer addresses as octets."""

    version: int
    control: int
    dnet: int | None
    dadr: bytes | None
    snet: int | None
    sadr: bytes | None
    hop_count: int | None
    message_type: int | None  # a network-layer message (control bit 7), else None: an APDU follows
    vendor_id: int | None  # proprietary network-layer messages (type >= 0x80)
    payload_offset: int  # the APDU, or the network message's data

    @property
    def expecting_reply(self) -> bool:
        return bool(self.control & 0x04)

    @property
    def priority(self) -> int:
        return self.control & 0x03


@dataclass(frozen=True, slots=True)
class Apdu:
    """The fixed header of an APDU (clause 20.1); fields a type does not carry are None."""

    pdu_type: int
    segmented: bool = False
    more_follows: bool = False
    segmented_response_accepted: bool = False
    server: bool = False  # Segment-ACK and Abort: SRV, sent by the server of the transaction
    negative: bool = False  # Segment-ACK: NAK
    max_segments: int | None = None
    max_apdu: int | None = None
    invoke_id: int | None = None
    sequence_number: int | None = None
    window_size: int | None = None
    service_choice: int | None = None
    reason: int | None = None  # Reject and Abort
    parameters_offset: int = 0


def b_ip_address(data: bytes) -> str:
    """A 6-octet B/IP address (Annex J.1.2) as ``ip:port``."""
    return f"{data[0]}.{data[1]}.{data[2]}.{data[3]}:{int.from_bytes(data[4:6], 'big')}"


def probe(payload: bytes) -> Verdict:
    """BACnet/IP off its port: type 0x81, a function Annex J defines, a length equal to the datagram's."""
    if len(payload) < BVLC_HEADER:  # a datagram is whole: a shorter one is no BVLC
        return Verdict.REJECT
    if payload[0] != BVLL_TYPE_BACNET_IP or payload[1] > max(BvlcFunction):
        return Verdict.REJECT
    if int.from_bytes(payload[2:4], "big") != len(payload):
        return Verdict.REJECT
    if payload[1] in CARRIES_NPDU:
        at = BVLC_HEADER + (6 if payload[1] == BvlcFunction.FORWARDED_NPDU else 0)
        if len(payload) <= at + 1 or payload[at] != NPDU_VERSION:
            return Verdict.REJECT
    return Verdict.ACCEPT


def parse_bvlc(payload: bytes) -> tuple[Bvlc, int]:
    """The BVLC header of one UDP datagram (Annex J.2); ``used`` is the header's length.

    A length field that disagrees with the datagram is kept in the record (the message's weird): what follows
    is decoded from the datagram, as receivers and Wireshark do."""
    if len(payload) < BVLC_HEADER:
        raise Malformed("bacnet_bvlc_truncated", 0, f"{len(payload)} octets")
    if payload[0] != BVLL_TYPE_BACNET_IP:
        raise Malformed("bacnet_bvlc_bad_type", 0, f"type 0x{payload[0]:02x}")
    function, length = payload[1], int.from_bytes(payload[2:4], "big")
    used, source = BVLC_HEADER, None
    if function == BvlcFunction.FORWARDED_NPDU:
        if len(payload) < BVLC_HEADER + 6:
            raise Malformed("bacnet_bvlc_truncated", 4, "Forwarded-NPDU without its original source")
        source, used = b_ip_address(payload[4:10]), BVLC_HEADER + 6
    return Bvlc(function, length, source, used if function in CARRIES_NPDU else None), used


def parse_npdu(buf: bytes, offset: int) -> tuple[Npdu, int]:
    """The NPDU header at ``offset`` (clause 6.2); ``used`` counts up to the APDU or the network message data."""
    at = offset
    if len(buf) < at + 2:
        raise Malformed("bacnet_npdu_truncated", at, "no version and control octets")
    version, control = buf[at], buf[at + 1]
    if version != NPDU_VERSION:
        raise Malformed("bacnet_npdu_bad_version", at, f"version {version}")
    at += 2
    dnet = dadr = snet = sadr = hop = None
    if control & 0x20:  # DNET, DLEN, DADR present
        dnet, dadr, at = _network_address(buf, at, source=False)
    if control & 0x08:  # SNET, SLEN, SADR present
        snet, sadr, at = _network_address(buf, at, source=True)
    if control & 0x20:
        if len(buf) < at + 1:
            raise Malformed("bacnet_npdu_truncated", at, "no hop count")
        hop, at = buf[at], at + 1
    message_type = vendor = None
    if control & 0x80:
        if len(buf) < at + 1:
            raise Malformed("bacnet_npdu_truncated", at, "no network message type")
        message_type, at = buf[at], at + 1
        if message_type >= 0x80:
            if len(buf) < at + 2:
                raise Malformed("bacnet_npdu_truncated", at, "no vendor id of a proprietary message")
            vendor, at = int.from_bytes(buf[at:at + 2], "big"), at + 2
    return Npdu(version, control, dnet, dadr, snet, sadr, hop, message_type, vendor, at), at - offset


def _network_address(buf: bytes, at: int, source: bool) -> tuple[int, bytes, int]:
    if len(buf) < at + 3:
        raise Malformed("bacnet_npdu_truncated", at, "no network number and address length")
    net, length = int.from_bytes(buf[at:at + 2], "big"), buf[at + 2]
    if source and (length == 0 or net == 0xFFFF):
        raise Malformed("bacnet_npdu_bad_address", at, f"SNET {net} SLEN {length}")
    at += 3
    if len(buf) < at + length:
        raise Malformed("bacnet_npdu_truncated", at, f"address of {length} octets")
    return net, buf[at:at + length], at + length


def parse_apdu(buf: bytes, offset: int) -> tuple[Apdu, int]:
    """The APDU header at ``offset`` (clause 20.1.2-20.1.9); ``used`` counts up to the service parameters."""
    if len(buf) <= offset:
        raise Malformed("bacnet_apdu_truncated", offset, "no APDU")
    first = buf[offset]
    kind = first >> 4
    if kind > max(PduType):
        raise Malformed("bacnet_apdu_unknown_type", offset, f"type {kind}")
    head = _apdu_header(buf, offset, kind, first)
    if isinstance(head, NeedMore):
        raise Malformed("bacnet_apdu_truncated", len(buf), f"{PduType(kind).name.lower()} header")
    return head, head.parameters_offset - offset


def _apdu_header(buf: bytes, at: int, kind: int, first: int) -> Apdu | NeedMore:
    segmented, more = bool(first & 0x08), bool(first & 0x04)
    if kind == PduType.CONFIRMED_REQUEST:
        size = 6 if segmented else 4
        if len(buf) < at + size:
            return NeedMore(at + size - len(buf))
        return Apdu(kind, segmented, more, bool(first & 0x02), max_segments=(buf[at + 1] >> 4) & 0x07,
                    max_apdu=buf[at + 1] & 0x0F, invoke_id=buf[at + 2],
                    sequence_number=buf[at + 3] if segmented else None, window_size=buf[at + 4] if segmented else None,
                    service_choice=buf[at + size - 1], parameters_offset=at + size)
    if kind == PduType.UNCONFIRMED_REQUEST:
        if len(buf) < at + 2:
            return NeedMore(at + 2 - len(buf))
        return Apdu(kind, service_choice=buf[at + 1], parameters_offset=at + 2)
    if kind == PduType.SIMPLE_ACK:
        if len(buf) < at + 3:
            return NeedMore(at + 3 - len(buf))
        return Apdu(kind, invoke_id=buf[at + 1], service_choice=buf[at + 2], parameters_offset=at + 3)
    if kind == PduType.COMPLEX_ACK:
        size = 5 if segmented else 3
        if len(buf) < at + size:
            return NeedMore(at + size - len(buf))
        return Apdu(kind, segmented, more, invoke_id=buf[at + 1],
                    sequence_number=buf[at + 2] if segmented else None, window_size=buf[at + 3] if segmented else None,
                    service_choice=buf[at + size - 1], parameters_offset=at + size)
    if kind == PduType.SEGMENT_ACK:
        if len(buf) < at + 4:
            return NeedMore(at + 4 - len(buf))
        return Apdu(kind, server=bool(first & 0x01), negative=bool(first & 0x02), invoke_id=buf[at + 1],
                    sequence_number=buf[at + 2], window_size=buf[at + 3], parameters_offset=at + 4)
    if kind == PduType.ERROR:
        if len(buf) < at + 3:
            return NeedMore(at + 3 - len(buf))
        return Apdu(kind, invoke_id=buf[at + 1], service_choice=buf[at + 2], parameters_offset=at + 3)
    if len(buf) < at + 3:  # Reject and Abort
        return NeedMore(at + 3 - len(buf))
    return Apdu(kind, server=kind == PduType.ABORT and bool(first & 0x01), invoke_id=buf[at + 1],
                reason=buf[at + 2], parameters_offset=at + 3)
