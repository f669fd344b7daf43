"""Framing IEC 60870-5-104 APDUs out of one direction of a reassembled TCP stream.

The start octet 0x68 and the length octet (§5.1) are the only delimiters. Where the start octet is missing,
the octets up to the next 0x68 are skipped and reported once (``iec104_bad_start``), and framing resumes
there, as Wireshark's dissector does; a length below 4 is reported and its octets skipped. A message is
reported with the tag of the segment that completes it.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore
from protocols.framing import Buffered, Tag
from protocols.iec104.codes import START
from protocols.iec104.message import apdu_message
from protocols.iec104.wire import MAX_OBJECTS, parse_apdu

MAX_BUFFER = 512
"""Most octets kept waiting for the rest of an APDU. An APDU is at most 257 octets (length 255), so this
only trips if that invariant breaks; it exists so the bound is named and reported."""

Outcome = Message | Malformed


class Iec104Stream(Buffered):
    """Per-direction framing state: feed segments in order, get (tag, Message or Malformed) back.

    Malformed offsets count the octets fed to this stream, so they stay meaningful across segments.
    """

    __slots__ = ("_lost", "is_request", "max_buffer", "max_objects")

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER, max_objects: int = MAX_OBJECTS) -> None:
        super().__init__()
        self.is_request = is_request
        self.max_buffer = max_buffer
        self.max_objects = max_objects
        self._lost = False  # skipping octets that are not an APDU: reported once until an APDU is found

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Outcome]]:
        """Frame every complete APDU now available; keep an incomplete tail for the next segment."""
        buf, base = self._join(data)
        out: list[tuple[Tag, Outcome]] = []
        pos, size = 0, len(buf)
        while pos < size:
            if buf[pos] != START:
                pos = self._skip(buf, pos, base, tag, out)
                continue
            try:
                result = parse_apdu(buf, pos)
            except Malformed as bad:  # a length below 4: skip what it spans
                out.append((tag, Malformed(bad.code, base + pos, bad.detail)))
                pos += 2 + buf[pos + 1]
                continue
            if isinstance(result, NeedMore):
                break
            apdu, used = result
            self._lost = False
            out.append((tag, apdu_message(apdu, self.is_request, self.max_objects)))
            pos += used
        pos = min(pos, size)
        if size - pos > self.max_buffer:
            out.append((tag, Malformed("iec104_buffer_overflow", base + pos, f"{size - pos} octets pending")))
            self._pending = bytearray()
        else:
            self._keep(buf, pos)
        return out

    def _skip(self, buf: bytes | bytearray, pos: int, base: int, tag: Tag, out: list) -> int:
        """Octets that are not an APDU: report the first run, resume at the next 0x68 (or the end)."""
        found = buf.find(START, pos)
        end = len(buf) if found < 0 else found
        if not self._lost:
            self._lost = True
            out.append((tag, Malformed("iec104_bad_start", base + pos,
                                       f"0x{buf[pos]:02x}: {end - pos} octets before a start octet")))
        return end
