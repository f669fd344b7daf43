"""DNP3 bytes -> frozen records: link frames, transport headers, application fragments.

Link frame, IEEE 1815-2012 §9.2.4.1 (all multi-octet fields little-endian)::

    0      1      2        3         4-5          6-7       8-9
    +------+------+--------+---------+------------+---------+-------+
    | 0x05 | 0x64 | LENGTH | CONTROL | DESTINATION| SOURCE  | CRC   |   header: 10 octets
    +------+------+--------+---------+------------+---------+-------+
    | user data: up to 16 octets | CRC | up to 16 octets | CRC | ...    LENGTH - 5 octets in all
    +----------------------------+-----+-----------------+-----+

    CONTROL: DIR(7) PRM(6) FCB(5) FCV/DFC(4) FUNCTION(3-0)

LENGTH counts CONTROL, the addresses and the user data, not the CRCs: 5..255. DIR = 1 on every frame
a master sends, so DIR says who is master and who is outstation, whichever side opened the TCP
connection. The first user data octet of a user data frame (link function 3 or 4) is the transport
header, §8.2.1::

    FIN(7) FIR(6) SEQUENCE(5-0)

Application fragment, §4.2.2::

    +---------------------+----------+--------------------------+---------------------------+
    | application control | function | IIN1 IIN2 (responses only)| object headers and objects|
    | FIR FIN CON UNS SEQ |  code    |                          |                           |
    +---------------------+----------+--------------------------+---------------------------+

Object header, §4.2.2.7: group (1), variation (1), qualifier (1), then a range field whose form the
qualifier's range code says, then the objects, each behind an index or size prefix when the
qualifier's prefix code asks for one.

Two levels of trouble, as in the Modbus package: a link header that is not DNP3 raises ``Malformed``
(framing is lost); everything above it that is odd but readable is returned with ``weird`` naming the
first problem (see ``codes.WEIRDS``). Pure: no I/O, no state.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.dnp3.codes import (
    HEADERS_ONLY_REQUESTS,
    RESPONSE_FUNCTIONS,
    Attribute,
    AttributeType,
    FunctionCode,
    Group,
    PrimaryFunction,
    attribute_name,
    attribute_type_name,
    function_name,
)
from protocols.dnp3.crc import crc16
from protocols.dnp3.objects import NO_DATA, PACKED, decode_value, json_safe, object_size

START = b"\x05\x64"
HEADER_SIZE = 10
BLOCK = 16  # user data octets per CRC block
MIN_LENGTH = 5  # CONTROL + DESTINATION + SOURCE
MAX_FRAME = HEADER_SIZE + 250 + 2 * 16  # LENGTH 255: 250 user data octets in 16 blocks
MAX_INDEXES = 4096
"""Most point indexes kept per object header; a 2048-octet fragment holds at most ~2000 anyway."""


@dataclass(frozen=True, slots=True)
class LinkFrame:
    """One data link frame; ``data`` is the user data with the block CRCs removed."""

    length: int
    control: int
    dir: bool  # True: sent by a master
    prm: bool  # True: primary (initiating) frame
    fcb: bool
    fcv: bool  # FCV on primary frames, DFC on secondary ones
    function: int
    destination: int
    source: int
    data: bytes
    header_crc_ok: bool
    bad_blocks: int  # user data blocks whose CRC is wrong

    @property
    def carries_user_data(self) -> bool:
        """Primary CONFIRMED/UNCONFIRMED_USER_DATA: the only frames with a transport segment (§9.2.4.1.3)."""
        return self.prm and self.function in (PrimaryFunction.CONFIRMED_USER_DATA,
                                              PrimaryFunction.UNCONFIRMED_USER_DATA)


def frame_size(length: int) -> int:
    """Octets on the wire of a frame whose LENGTH octet is ``length`` (>= 5)."""
    user = length - MIN_LENGTH
    return HEADER_SIZE + user + 2 * ((user + BLOCK - 1) // BLOCK)


def parse_link_frame(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[LinkFrame, int] | NeedMore:
    """Decode the link frame at ``buf[offset:]``: (frame, bytes used), NeedMore, or raise Malformed.

    The start octets and LENGTH are checked as soon as they are there, so garbage is refused before
    waiting for a length it announces. CRC errors do not raise: the frame is framed by its LENGTH
    and counted, and the caller reports the CRC as a weird.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail >= 1 and buf[offset] != 0x05 or avail >= 2 and buf[offset + 1] != 0x64:
        raise Malformed("dnp3_bad_start", offset)
    if avail < 3:
        return NeedMore(HEADER_SIZE - avail)
    length = buf[offset + 2]
    if length < MIN_LENGTH:
        raise Malformed("dnp3_bad_length", offset, f"length {length}")
    used = frame_size(length)
    if avail < used:
        return NeedMore(used - avail)
    header_crc_ok = crc16(buf, offset, offset + 8) == buf[offset + 8] | (buf[offset + 9] << 8)
    control = buf[offset + 3]
    data = bytearray()
    bad = 0
    p = offset + HEADER_SIZE
    end = offset + used
    while p < end:
        stop = min(p + BLOCK, end - 2)
        data += buf[p:stop]
        if crc16(buf, p, stop) != buf[stop] | (buf[stop + 1] << 8):
            bad += 1
        p = stop + 2
    frame = LinkFrame(
        length=length, control=control, dir=bool(control & 0x80), prm=bool(control & 0x40),
        fcb=bool(control & 0x20), fcv=bool(control & 0x10), function=control & 0x0F,
        destination=buf[offset + 4] | (buf[offset + 5] << 8), source=buf[offset + 6] | (buf[offset + 7] << 8),
        data=bytes(data), header_crc_ok=header_crc_ok, bad_blocks=bad,
    )
    return frame, used


def probe(data: bytes) -> bool | None:
    """Does ``data`` start like a DNP3 link frame? None: too short to say (fewer than 10 octets).

    Start octets, a LENGTH of at least 5 and a correct header CRC: 1 chance in 2^32 by accident.
    """
    if len(data) >= 2 and data[:2] != START or len(data) >= 3 and data[2] < MIN_LENGTH:
        return False
    if len(data) < HEADER_SIZE:
        return None if data[: len(START)] == START[: len(data)] else False
    return crc16(data, 0, 8) == data[8] | (data[9] << 8)


@dataclass(frozen=True, slots=True)
class TransportHeader:
    """The transport octet, §8.2.1."""

    fin: bool
    fir: bool
    sequence: int


def parse_transport(octet: int) -> TransportHeader:
    """Every octet is a valid transport header: the three fields cover all 8 bits."""
    return TransportHeader(bool(octet & 0x80), bool(octet & 0x40), octet & 0x3F)


# --- application layer ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeviceAttribute:
    """One group 0 object: a device attribute with its data type (§A.1)."""

    variation: int
    name: str
    data_type: int
    value: Any  # str for VSTR, int for UINT/INT, float for FLT, hex for OSTR/BSTR, pairs for the lists


@dataclass(frozen=True, slots=True)
class ObjectHeader:
    """One object header and what the parser learnt from its objects.

    ``start``/``stop`` for range qualifiers (0x00-0x02; 0x03-0x05 give one virtual address as start and
    stop), ``count`` for count and free-format qualifiers (0x07-0x09, 0x0B); ``indexes`` for objects
    behind an index prefix; ``values`` for objects whose value is decoded (``objects.decode_value``).
    """

    group: int
    variation: int
    qualifier: int
    start: int | None = None
    stop: int | None = None
    count: int | None = None
    indexes: tuple[int, ...] | None = None
    values: tuple[Any, ...] | None = None

    @property
    def prefix_code(self) -> int:
        return (self.qualifier >> 4) & 0x07

    @property
    def range_code(self) -> int:
        return self.qualifier & 0x0F

    @property
    def quantity(self) -> int:
        """How many objects (or points named) the header covers; 0 for the all-objects qualifier (and for a
        range whose stop is below its start)."""
        if self.count is not None:
            return self.count
        if self.start is not None and self.stop is not None:
            return max(0, self.stop - self.start + 1)
        return 0


@dataclass(frozen=True, slots=True)
class Fragment:
    """One application fragment (§4.2.2), decoded as far as it is readable."""

    fir: bool
    fin: bool
    con: bool
    uns: bool
    sequence: int
    function_code: int
    function_name: str
    iin: int | None  # IIN1 << 8 | IIN2, responses only
    objects: tuple[ObjectHeader, ...]
    attributes: tuple[DeviceAttribute, ...]
    weird: str | None = None

    @property
    def is_response(self) -> bool:
        return self.function_code in RESPONSE_FUNCTIONS


_RANGE_OCTETS = {0: 1, 1: 2, 2: 4, 3: 1, 4: 2, 5: 4, 7: 1, 8: 2, 9: 4, 0xB: 1}
_PREFIX_OCTETS = {1: 1, 2: 2, 3: 4, 4: 1, 5: 2, 6: 4}
_KNOWN_FUNCTIONS = frozenset(int(f) for f in FunctionCode)


def _uint(buf: Any, at: int, n: int) -> int:
    return int.from_bytes(bytes(buf[at:at + n]), "little")


def parse_fragment(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[Fragment, int]:
    """Decode the application fragment ``buf[offset:]`` (transport reassembly delimits it).

    Returns (fragment, bytes used): the fragment always uses the whole buffer, so NeedMore never
    happens here. Raises ``Malformed("dnp3_fragment_too_short")`` when not even the function code is
    there; every other problem is the fragment's ``weird``, with the object headers read before it.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail < 2:
        raise Malformed("dnp3_fragment_too_short", offset, f"{avail} octets")
    control, fc = buf[offset], buf[offset + 1]
    weird: str | None = None if fc in _KNOWN_FUNCTIONS else "dnp3_unknown_function"
    p = offset + 2
    iin = None
    if fc in RESPONSE_FUNCTIONS:
        if avail < 4:
            weird = weird or "dnp3_fragment_too_short"
            p = len(buf)
        else:
            iin = (buf[p] << 8) | buf[p + 1]
            p += 2
            if iin & 0x00C0:
                weird = weird or "dnp3_iin_reserved"
    objects, attributes, object_weird = parse_objects(buf, p, len(buf), fc)
    fragment = Fragment(
        fir=bool(control & 0x80), fin=bool(control & 0x40), con=bool(control & 0x20), uns=bool(control & 0x10),
        sequence=control & 0x0F, function_code=fc, function_name=function_name(fc), iin=iin, objects=objects,
        attributes=attributes, weird=weird or object_weird,
    )
    return fragment, avail


def parse_objects(buf: Any, p: int, end: int, fc: int
                  ) -> tuple[tuple[ObjectHeader, ...], tuple[DeviceAttribute, ...], str | None]:
    """Every object header in ``buf[p:end]`` of a fragment with function ``fc``; stops at the first problem.

    Requests that only name points (READ, freeze, unsolicited, class assignment) carry no object
    data; the g50 time of a FREEZE_AT_TIME is the one exception (§4.4.10).
    """
    headers_only = fc in HEADERS_ONLY_REQUESTS
    objects: list[ObjectHeader] = []
    attributes: list[DeviceAttribute] = []
    while p < end:
        if end - p < 3:
            return tuple(objects), tuple(attributes), "dnp3_objects_truncated"
        group, variation, qualifier = buf[p], buf[p + 1], buf[p + 2]
        prefix, rcode = (qualifier >> 4) & 0x07, qualifier & 0x0F
        p += 3
        if prefix == 7 or (rcode != 6 and rcode not in _RANGE_OCTETS):
            objects.append(ObjectHeader(group, variation, qualifier))
            return tuple(objects), tuple(attributes), "dnp3_bad_qualifier"
        start = stop = count = None
        if rcode != 6:
            width = _RANGE_OCTETS[rcode]
            if rcode <= 2:
                if end - p < 2 * width:
                    objects.append(ObjectHeader(group, variation, qualifier))
                    return tuple(objects), tuple(attributes), "dnp3_objects_truncated"
                start, stop = _uint(buf, p, width), _uint(buf, p + width, width)
                p += 2 * width
                if stop < start:
                    objects.append(ObjectHeader(group, variation, qualifier, start, stop))
                    return tuple(objects), tuple(attributes), "dnp3_bad_range"
                n = stop - start + 1
            else:
                if end - p < width:
                    objects.append(ObjectHeader(group, variation, qualifier))
                    return tuple(objects), tuple(attributes), "dnp3_objects_truncated"
                value = _uint(buf, p, width)
                p += width
                if rcode <= 5:  # one virtual address (obsolete)
                    start = stop = value
                    n = 1
                else:
                    count = n = value
        else:
            n = 0
        has_data = (variation != 0 and group not in NO_DATA and n > 0
                    and (not headers_only or (group == Group.TIME_AND_DATE and fc in (0x0B, 0x0C))))
        header = ObjectHeader(group, variation, qualifier, start, stop, count)
        if n == 0:
            objects.append(header)
            continue
        if group == Group.DEVICE_ATTRIBUTES and has_data and prefix in (0, 1, 2, 3):
            p, header, weird = _attributes(buf, p, end, header, n, prefix, attributes)
        else:
            p, header, weird = _objects(buf, p, end, header, n, prefix, has_data)
        objects.append(header)
        if weird is not None:
            return tuple(objects), tuple(attributes), weird
    return tuple(objects), tuple(attributes), None


def _with(header: ObjectHeader, indexes: list[int] | None, values: list[Any] | None) -> ObjectHeader:
    return ObjectHeader(header.group, header.variation, header.qualifier, header.start, header.stop, header.count,
                        tuple(indexes) if indexes is not None else None,
                        tuple(values) if values is not None and any(v is not None for v in values) else None)


def _objects(buf: Any, p: int, end: int, header: ObjectHeader, n: int, prefix: int, has_data: bool
             ) -> tuple[int, ObjectHeader, str | None]:
    """Step over the ``n`` objects of one header, collecting indexes and decoded values."""
    group, variation = header.group, header.variation
    bits = PACKED.get((group, variation))
    size = object_size(group, variation)
    if prefix == 0:
        if not has_data:
            return p, header, None
        if bits is not None:  # packed, padded to a whole octet per header
            need = (n * bits + 7) // 8
            if end - p < need:
                return end, header, "dnp3_objects_truncated"
            return p + need, header, None
        if size is None:
            return end, header, "dnp3_unknown_object"
        if end - p < n * size:
            return end, header, "dnp3_objects_truncated"
        values = [decode_value(group, variation, buf, q, q + size) for q in range(p, p + n * size, size)] \
            if _decoded(group) else None
        return p + n * size, _with(header, None, values), None
    width = _PREFIX_OCTETS[prefix]
    is_index = prefix <= 3
    if is_index and bits is not None:
        size = 1  # a packed object behind an index takes a whole octet
    if is_index and has_data and size is None:
        return end, header, "dnp3_unknown_object"
    indexes: list[int] | None = [] if is_index else None
    values: list[Any] | None = [] if _decoded(group) and has_data else None
    for _ in range(n):
        if end - p < width:
            return end, _with(header, indexes, values), "dnp3_objects_truncated"
        prefix_value = _uint(buf, p, width)
        p += width
        if is_index:
            obj = size if has_data else 0
            if indexes is not None and len(indexes) < MAX_INDEXES:
                indexes.append(prefix_value)
        else:
            obj = prefix_value  # a size prefix: the object's own length in octets
        assert obj is not None
        if end - p < obj:
            return end, _with(header, indexes, values), "dnp3_objects_truncated"
        if values is not None and len(values) < MAX_INDEXES:
            values.append(decode_value(group, variation, buf, p, p + obj))
        p += obj
    return p, _with(header, indexes, values), None


def _decoded(group: int) -> bool:
    return group in (Group.BINARY_OUTPUT_COMMAND, Group.ANALOG_OUTPUT, Group.TIME_AND_DATE, Group.TIME_AND_DATE_CTO,
                     Group.FILE_CONTROL, Group.OCTET_STRING, Group.VIRTUAL_TERMINAL_OUTPUT_BLOCK)


_FLOATS = {4: "<f", 8: "<d"}


def _attributes(buf: Any, p: int, end: int, header: ObjectHeader, n: int, prefix: int,
                out: list[DeviceAttribute]) -> tuple[int, ObjectHeader, str | None]:
    """Group 0 objects (§A.1): [index prefix] data type (1), length (1), value (length octets) each."""
    width = _PREFIX_OCTETS.get(prefix, 0)
    indexes: list[int] | None = [] if prefix else None
    for _ in range(n):
        if end - p < width + 2:
            return end, _with(header, indexes, None), "dnp3_objects_truncated"
        if indexes is not None:
            indexes.append(_uint(buf, p, width))
            p += width
        data_type, length = buf[p], buf[p + 1]
        p += 2
        octets = length  # octets of the value, whatever its type (§A.1.1)
        if end - p < octets:
            return end, _with(header, indexes, None), "dnp3_bad_attribute"
        raw = bytes(buf[p:p + octets])
        p += octets
        value: Any
        weird = None
        if data_type == AttributeType.VSTR:
            value = raw.decode("utf-8", "replace") if raw.isascii() else raw.decode("latin-1")
        elif data_type == AttributeType.UINT and 1 <= len(raw) <= 8:
            value = int.from_bytes(raw, "little")
        elif data_type == AttributeType.INT and 1 <= len(raw) <= 8:
            value = int.from_bytes(raw, "little", signed=True)
        elif data_type == AttributeType.TIME and len(raw) == 6:
            value = int.from_bytes(raw, "little")
        elif data_type == AttributeType.UNCD:
            value = raw.decode("utf-8", "replace")
        elif data_type == AttributeType.FLT and len(raw) in _FLOATS:
            value = json_safe(struct.unpack(_FLOATS[len(raw)], raw)[0])
        elif data_type == AttributeType.U8BS8LIST:
            value = [[raw[i], raw[i + 1]] for i in range(0, len(raw) - 1, 2)]
        else:
            value = raw.hex()
            if data_type not in (AttributeType.OSTR, AttributeType.BSTR, AttributeType.U8BS8EXLIST,
                                 AttributeType.TIME, AttributeType.UNCD):
                weird = "dnp3_bad_attribute"
        if header.variation not in (Attribute.ALL_ATTRIBUTES,):
            out.append(DeviceAttribute(header.variation, attribute_name(header.variation), data_type, value))
        if weird is not None:
            return p, _with(header, indexes, None), weird
    return p, _with(header, indexes, None), None


__all__ = [
    "DeviceAttribute",
    "Fragment",
    "LinkFrame",
    "ObjectHeader",
    "TransportHeader",
    "attribute_type_name",
    "frame_size",
    "parse_fragment",
    "parse_link_frame",
    "parse_objects",
    "parse_transport",
    "probe",
]
