"""BACnet's tagged encoding (ASHRAE 135 clause 20.2): tags, and the primitive values of application tags.

A tag octet::

    | tag number (4) | class (1: context) | length/value/type (3) |

tag number 15 says an extended number follows (one octet); LVT 5 says an extended length follows (one octet,
254: two more, 255: four more); LVT 6 and 7 of a context tag open and close a constructed value; an application
boolean keeps its value in the LVT. ``TagReader`` walks a buffer; every read past the end raises ``Malformed``
with ``bacnet_bad_service_data``.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from protocols.bacnet.codes import object_type_name
from protocols.base import Malformed

BAD = "bacnet_bad_service_data"
OPEN, CLOSE, VALUE = "open", "close", "value"
MAX_VALUE_TEXT = 1024  # octets of a character or octet string kept in an event


class AppTag:
    """Application tag numbers (clause 20.2.1.4)."""

    NULL, BOOLEAN, UNSIGNED, SIGNED, REAL, DOUBLE, OCTET_STRING, CHARACTER_STRING = range(8)
    BIT_STRING, ENUMERATED, DATE, TIME, OBJECT_IDENTIFIER = range(8, 13)


CHARSETS = {0: "utf-8", 3: "utf-32-be", 4: "utf-16-be", 5: "latin-1"}  # clause 20.2.9; 1 (DBCS), 2 (JIS): latin-1


@dataclass(frozen=True, slots=True)
class Tag:
    number: int
    context: bool
    kind: str  # VALUE, OPEN or CLOSE
    length: int  # of the value octets (an application boolean: 0, its value in ``lvt``)
    lvt: int
    offset: int  # where the value octets start


class TagReader:
    """Reads tags and values from ``buf[start:end]`` in order."""

    def __init__(self, buf: bytes, start: int, end: int | None = None) -> None:
        self.buf, self.at, self.end = buf, start, len(buf) if end is None else end

    @property
    def done(self) -> bool:
        return self.at >= self.end

    def peek(self) -> Tag | None:
        """The next tag without consuming it; None at the end."""
        return None if self.done else self._tag(self.at)[0]

    def next(self) -> Tag:
        """The next tag, with its value consumed."""
        if self.done:
            raise Malformed(BAD, self.at, "ends before a tag")
        tag, after = self._tag(self.at)
        self.at = after + (tag.length if tag.kind == VALUE else 0)
        return tag

    def _tag(self, at: int) -> tuple[Tag, int]:
        buf, end = self.buf, self.end
        first = buf[at]
        number, context, lvt = first >> 4, bool(first & 0x08), first & 0x07
        at += 1
        if number == 15:
            if at >= end:
                raise Malformed(BAD, at, "extended tag number missing")
            number, at = buf[at], at + 1
        if context and lvt in (6, 7):
            return Tag(number, True, OPEN if lvt == 6 else CLOSE, 0, lvt, at), at
        length = lvt
        if not context and number == AppTag.BOOLEAN:
            length = 0
        elif lvt == 5:
            if at >= end:
                raise Malformed(BAD, at, "extended length missing")
            length, at = buf[at], at + 1
            if length == 254:
                length, at = int.from_bytes(buf[at:at + 2], "big"), at + 2
            elif length == 255:
                length, at = int.from_bytes(buf[at:at + 4], "big"), at + 4
            if at > end:
                raise Malformed(BAD, at, "extended length cut short")
        elif lvt in (6, 7):
            raise Malformed(BAD, at - 1, f"application tag {number} with LVT {lvt}")
        if at + length > end:
            raise Malformed(BAD, at, f"value of {length} octets past the end")
        return Tag(number, context, VALUE, length, lvt, at), at

    def data(self, tag: Tag) -> bytes:
        return self.buf[tag.offset:tag.offset + tag.length]

    # -- context-tagged fields of a service's SEQUENCE --
    def context(self, number: int) -> Tag | None:
        """The next tag if it is the primitive context tag ``number`` (consumed), else None (optional fields)."""
        tag = self.peek()
        if tag is None or not tag.context or tag.number != number or tag.kind != VALUE:
            return None
        return self.next()

    def context_unsigned(self, number: int, required: bool = False) -> int | None:
        tag = self.context(number)
        if tag is None:
            if required:
                raise Malformed(BAD, self.at, f"context tag {number} missing")
            return None
        return unsigned(self.data(tag))

    def context_object(self, number: int) -> tuple[int, int] | None:
        """An object identifier in context tag ``number``: (type, instance), or None if absent."""
        tag = self.context(number)
        if tag is None:
            return None
        if tag.length != 4:
            raise Malformed(BAD, tag.offset, "object identifier of 4 octets expected")
        return object_id(self.data(tag))

    def opening(self, number: int) -> bool:
        """Consume the opening tag ``number`` if it is next."""
        tag = self.peek()
        if tag is not None and tag.kind == OPEN and tag.number == number:
            self.next()
            return True
        return False

    def closing(self, number: int) -> None:
        tag = self.next()
        if tag.kind != CLOSE or tag.number != number:
            raise Malformed(BAD, self.at, f"closing tag {number} expected")

    def values_until_close(self, number: int, limit: int) -> tuple[list[Any], bool]:
        """The application values inside an open constructed value, up to its closing tag ``number`` (consumed).

        Nested constructed values are walked (their primitive values kept in order). Returns (values, cut): at
        most ``limit`` values are kept, ``cut`` when more were there."""
        values: list[Any] = []
        cut, depth = False, 0
        while True:
            tag = self.next()
            if tag.kind == OPEN:
                depth += 1
            elif tag.kind == CLOSE:
                if depth == 0:
                    if tag.number != number:
                        raise Malformed(BAD, self.at, f"closing tag {number} expected")
                    return values, cut
                depth -= 1
            elif len(values) < limit:
                values.append(application_value(tag, self.data(tag)) if not tag.context else self.data(tag).hex())
            else:
                cut = True

    def app(self, expected: int) -> Any:
        """The next tag, which must be the application tag ``expected``, as a value."""
        tag = self.next()
        if tag.context or tag.number != expected or tag.kind != VALUE:
            raise Malformed(BAD, self.at, f"application tag {expected} expected")
        return application_value(tag, self.data(tag))


def unsigned(data: bytes) -> int:
    return int.from_bytes(data, "big")


def signed(data: bytes) -> int:
    return int.from_bytes(data, "big", signed=True) if data else 0


def object_id(data: bytes) -> tuple[int, int]:
    value = int.from_bytes(data[:4], "big")
    return value >> 22, value & 0x3FFFFF


def object_text(kind: int, instance: int) -> str:
    """An object identifier as Wireshark and the standard's examples write it: ``analog-value,3``."""
    return f"{object_type_name(kind)},{instance}"


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)  # JSON has no NaN or infinity


def application_value(tag: Tag, data: bytes) -> Any:
    """A primitive application value as plain JSON-ready Python (clause 20.2.2-20.2.14)."""
    n = tag.number
    if n == AppTag.NULL:
        return None
    if n == AppTag.BOOLEAN:
        return bool(tag.lvt)
    if n in (AppTag.UNSIGNED, AppTag.ENUMERATED):
        return unsigned(data)
    if n == AppTag.SIGNED:
        return signed(data)
    if n == AppTag.REAL and len(data) == 4:
        return _finite(struct.unpack(">f", data)[0])
    if n == AppTag.DOUBLE and len(data) == 8:
        return _finite(struct.unpack(">d", data)[0])
    if n == AppTag.CHARACTER_STRING:
        return character_string(data)
    if n == AppTag.BIT_STRING:
        return bit_string(data)
    if n == AppTag.DATE and len(data) == 4:
        year = "*" if data[0] == 255 else str(1900 + data[0])
        return f"{year}-{_wild(data[1])}-{_wild(data[2])}"
    if n == AppTag.TIME and len(data) == 4:
        return f"{_wild(data[0])}:{_wild(data[1])}:{_wild(data[2])}.{_wild(data[3])}"
    if n == AppTag.OBJECT_IDENTIFIER and len(data) == 4:
        return object_text(*object_id(data))
    return data[:MAX_VALUE_TEXT].hex()  # octet strings, and primitives of a length their type does not have


def _wild(octet: int) -> str:
    return "*" if octet == 255 else f"{octet:02d}"


def character_string(data: bytes) -> str:
    """A CharacterString: its first octet names the character set (clause 20.2.9)."""
    if not data:
        return ""
    text = data[1:1 + MAX_VALUE_TEXT]
    return text.decode(CHARSETS.get(data[0], "latin-1"), errors="replace").rstrip("\x00")


def bit_string(data: bytes) -> str:
    """A BitString as '0'/'1' characters, the first octet being the count of unused trailing bits."""
    if not data:
        return ""
    bits = "".join(f"{b:08b}" for b in data[1:65])
    unused = data[0] & 0x07
    return bits[:len(bits) - unused] if unused else bits
