"""Framing OPC UA chunks out of one direction of a reassembled TCP stream (Part 6 §7.1.2.2).

The header's message size is the only delimiter. A header that cannot be one (unknown type, bad chunk
type, impossible size) means framing is lost: the rest of that segment is dropped and framing resumes at
the next segment, where senders in practice begin a chunk; after a TCP gap, segments are skipped until one
starts with a valid header. A chunk above ``MAX_KEPT`` is reported from its header and its body skipped
as it streams past, so a bulk transfer costs no buffer.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore, Verdict
from protocols.framing import Buffered, Tag
from protocols.opcua.messages import Channel, chunk_message, oversized_message
from protocols.opcua.wire import HEADER_SIZE, parse_header, probe

MAX_KEPT = 1 << 20
"""Largest chunk buffered and decoded (1 MiB); above, the header is reported and the body skipped."""



class OpcuaStream(Buffered):
    """Per-direction framing and secure-channel state: feed segments in order, get (tag, outcome) back.

    A message is reported with the tag of the segment that completes it, as tshark does.
    """

    __slots__ = ("_resync", "_skip", "channel", "is_request")

    def __init__(self, is_request: bool) -> None:
        super().__init__()
        self.is_request = is_request
        self.channel = Channel()
        self._skip = 0  # bytes of an oversized chunk still to pass over
        self._resync = False  # after a gap: wait for a segment that starts with a header

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        """Frame every complete chunk now available; keep an incomplete tail for the next segment."""
        if self._skip:
            passed = min(self._skip, len(data))
            self._skip -= passed
            self._fed += passed
            data = data[passed:]
            if not data:
                return []
        if self._resync:
            if probe(data[:HEADER_SIZE]) is not Verdict.ACCEPT:
                self._fed += len(data)
                return []
            self._resync = False
        buf, base = self._join(data)
        out: list[tuple[Tag, Message | Malformed]] = []
        pos, size = 0, len(buf)
        while pos < size:
            try:
                header = parse_header(buf, pos)
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, base + bad.offset, bad.detail)))
                self._pending = bytearray()
                return out
            if isinstance(header, NeedMore):
                break
            if header.size > MAX_KEPT:
                out.append((tag, oversized_message(header, self.is_request)))
                self._skip = max(0, header.size - (size - pos))
                pos = min(size, pos + header.size)
                continue
            if size - pos < header.size:
                break
            chunk = bytes(buf[pos:pos + header.size])
            try:
                message = chunk_message(header, chunk, self.is_request, self.channel)
            except Malformed as bad:
                out.append((tag, Malformed(bad.code, base + pos + bad.offset, bad.detail)))
                message = None
            if message is not None:
                out.append((tag, message))
            pos += header.size
        self._keep(buf, pos)
        return out

    def gap(self) -> None:
        """Bytes were lost: a partial chunk can never complete, nor can chunked messages under way."""
        super().gap()
        self._skip = 0
        self._resync = True
        self.channel.reset()
