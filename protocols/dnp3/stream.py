"""Framing DNP3 out of one direction of a reassembled TCP stream, and out of UDP datagrams.

TCP does not keep message boundaries: one segment may carry several link frames, and one frame may
span segments. The link header's start octets and LENGTH (IEEE 1815-2012 §9.2.4.1) are the only
delimiter, so once a header is wrong nothing after it can be trusted until the next segment starts,
where senders in practice begin a new frame. Above the link layer, transport segments are reassembled
into application fragments (``transport.Reassembler``), which become ``Message``s.

A message is reported with the tag of the segment that completes its last link frame, as tshark does.
Transport and application trouble (a lost segment, a fragment too short) is reported as ``Malformed``
too, but does not lose link framing.
"""
from __future__ import annotations

from protocols.base import Malformed, Message, NeedMore
from protocols.dnp3.message import app_message, link_message, link_weird
from protocols.dnp3.transport import MAX_FRAGMENT, MAX_REASSEMBLIES, Completed, Reassembler
from protocols.dnp3.wire import LinkFrame, parse_fragment, parse_link_frame, parse_transport
from protocols.framing import LengthFramer, Tag

MAX_BUFFER = 4096
"""Most octets kept waiting for the rest of a link frame. A checked header announces at most 292
octets (LENGTH 255), so this only trips if that invariant breaks; it exists so the bound is named."""

Outcome = Message | Malformed


class Dnp3Stream(LengthFramer):
    """Per-direction framing state: feed segments in order, get (tag, message or Malformed) back
    (``protocols.framing``).

    ``is_request`` says whether this direction runs from the flow's client to its server; DNP3's
    own direction (master or outstation) comes from each frame's DIR bit.
    """

    __slots__ = ("_reassembly",)
    overflow = "dnp3_buffer_overflow"
    unit_name = "octets"

    def __init__(self, is_request: bool, max_buffer: int = MAX_BUFFER, max_fragment: int = MAX_FRAGMENT,
                 max_reassemblies: int = MAX_REASSEMBLIES) -> None:
        super().__init__(is_request, max_buffer)
        self._reassembly = Reassembler(max_fragment, max_reassemblies)

    def frame(self, buf: bytes | bytearray, pos: int) -> tuple[LinkFrame, int] | NeedMore:
        return parse_link_frame(buf, pos)

    def emit(self, unit: LinkFrame, offset: int, tag: Tag, out: list) -> None:
        out.extend((tag, outcome) for outcome in self.on_frame(unit, offset))

    def on_frame(self, frame: LinkFrame, offset: int = 0) -> list[Outcome]:
        """What one link frame completes: a link message, an application message, or Malformed codes."""
        weird = link_weird(frame)
        if not frame.carries_user_data:
            return [link_message(frame, self.is_request, weird or ("dnp3_link_data_unexpected" if frame.data else None))]
        if not frame.data:
            return [link_message(frame, self.is_request, weird or "dnp3_link_no_user_data")]
        header = parse_transport(frame.data[0])
        out: list[Outcome] = []
        for done in self._reassembly.add((frame.source, frame.destination), header, frame.data[1:], weird):
            if not isinstance(done, Completed):
                out.append(Malformed(done, offset))
                continue
            try:
                fragment, _ = parse_fragment(done.fragment)
            except Malformed as bad:
                out.append(Malformed(bad.code, offset, bad.detail))
                continue
            out.append(app_message(frame, fragment, self.is_request, done.segments, done.weird))
        return out

    def gap(self) -> None:
        """Bytes were lost (TCP gap): a partial frame or fragment can never complete, so drop them."""
        super().gap()
        self._reassembly.clear()

    @property
    def pending(self) -> int:
        """Octets waiting for the rest of their link frame or application fragment."""
        return len(self._pending) + self._reassembly.pending


def parse_datagram(payload: bytes, is_request: bool) -> list[Outcome]:
    """Every message and Malformed in one UDP payload (IEEE 1815-2012 §C: link frames, back to back).

    Datagrams are parsed one at a time, so a fragment must end in the datagram that starts it; a frame
    or fragment cut at the datagram's end is ``dnp3_frame_truncated`` / ``dnp3_fragment_incomplete``.
    """
    stream = Dnp3Stream(is_request)
    out = [outcome for _, outcome in stream.feed(payload, None)]
    if stream._pending:
        out.append(Malformed("dnp3_frame_truncated", len(payload) - len(stream._pending)))
    elif stream._reassembly.partials:
        out.append(Malformed("dnp3_fragment_incomplete", len(payload)))
    return out


def datagram(payload: bytes, is_request: bool) -> list[Message]:
    """The ``ProtocolSpec.datagram`` seam: the messages of one UDP payload, or raise Malformed.

    With no message at all, the first Malformed is raised. When messages come with trouble (trailing
    garbage, a truncated last frame) the messages are kept and the first Malformed code becomes the
    weird of the last message that has none, so nothing is dropped silently.
    """
    outcomes = parse_datagram(payload, is_request)
    messages = [o for o in outcomes if isinstance(o, Message)]
    bad = next((o for o in outcomes if isinstance(o, Malformed)), None)
    if bad is None:
        return messages
    if not messages:
        raise bad
    for message in reversed(messages):
        if message.weird is None:
            message.weird = bad.code
            break
    return messages

