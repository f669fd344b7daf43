"""Framing one direction of an HTTP/1.x connection: heads are read, bodies skipped by count (RFC 9112 §6).

Body length (§6.3), in order: a response to HEAD, and 1xx, 204 and 304 responses, have none; chunked
Transfer-Encoding is skipped chunk by chunk (sizes read from bounded chunk lines, trailers read as a head);
Content-Length is skipped by count; a request with neither has none; a response with neither (or another
transfer coding) runs to the close, so the direction is ``done``. So is a 101 response (the connection
switches protocols) and any bad start line. Body octets are counted down, never buffered; a body (or chunk)
longer than ``MAX_BODY`` ends the direction too, so a bulk download costs no reassembly (the heads after it on
the same connection are not read).

Each direction is framed on its own, so the response side does not know a request was HEAD: a body announced
by Content-Length that begins with ``HTTP/1.`` is taken as the next response (a HEAD response has the length of
the body it does not send). After CONNECT or a request with Upgrade the client side may turn into a tunnel: the
next bytes must start like a request, else that direction is ``done``. After a gap, or when a direction's first
octets cannot start a message (the capture joined the connection midway), the framer looks for a segment that
starts one (``MAX_HUNT``); the messages after it are not paired by count any more (``pair_key`` None).
"""
from __future__ import annotations

from typing import TypeVar

from protocols.base import Malformed, Message, NeedMore
from protocols.http.codes import MAX_BODY, MAX_CHUNK_LINE, MAX_HEAD
from protocols.http.message import request_message, response_message
from protocols.http.wire import Head, looks_like_request, parse_head

Tag = TypeVar("Tag")
HEAD, BODY, CHUNK_LINE, CHUNK_DATA, TRAILERS, PEEK = range(6)
MAX_HUNT = 64
"""Segments looked at, after a gap or when the capture starts midway, for one that starts a message (as tshark
resynchronises at the next segment starting with a request or status line); then the direction is ``done``."""
_NO_BODY = (204, 304)


class HttpStream:
    """Per-direction framing state: feed segments in order, get (tag, Message or Malformed) back."""

    __slots__ = ("_body", "_buf", "_count", "_fed", "_hunting", "_left", "_paired", "_state", "_tunnel", "_started", "done",
                 "is_request", "max_head")

    def __init__(self, is_request: bool, max_head: int = MAX_HEAD) -> None:
        self.is_request = is_request
        self.max_head = max_head
        self.done = False
        self._buf = bytearray()  # a head or chunk line not complete yet
        self._state = HEAD
        self._left = 0  # body or chunk octets still to skip
        self._count = 0  # requests (or final responses) so far: the pair key
        self._body = 0  # chunk octets of the current body so far
        self._fed = 0
        self._tunnel = False  # the last request may have turned the connection into a tunnel
        self._started = False
        self._hunting = 0  # segments still looked at for a start line after a gap or a midway start
        self._paired = True  # no message lost so far: the count pairs responses with requests

    @property
    def pending(self) -> int:
        return len(self._buf)

    def gap(self) -> None:
        """Bytes were lost: the next message starts where a segment starts like one (within ``MAX_HUNT``)."""
        if not self.done:
            self._hunt()

    def _hunt(self) -> None:
        self._buf, self._left, self._state = bytearray(), 0, HEAD
        self._hunting, self._paired, self._started = MAX_HUNT, False, True

    def _starts(self, data: bytes | bytearray) -> bool:
        """Do these octets start like a message of this direction?"""
        return looks_like_request(data) if self.is_request else data[:7] == b"HTTP/1."

    def _stop(self) -> None:
        self.done = True
        self._buf = bytearray()
        self._left = 0

    def feed(self, data: bytes, tag: Tag) -> list[tuple[Tag, Message | Malformed]]:
        if self.done:
            return []
        out: list[tuple[Tag, Message | Malformed]] = []
        if not self._started and len(data) >= 8 and not self._starts(data):
            self._hunt()  # the capture joined the connection midway
        if self._hunting:
            self._fed += len(data)
            if not self._starts(data):
                self._hunting -= 1
                if not self._hunting:
                    self._stop()
                return out
            self._hunting = 0
            self._fed -= len(data)
        base = self._fed - len(self._buf)
        self._fed += len(data)
        pos = 0
        if self._left and self._state != PEEK:  # the common case in a body: count down, no copy
            skip = min(self._left, len(data))
            self._left -= skip
            pos = skip
            if self._left == 0:
                self._state = CHUNK_LINE if self._state == CHUNK_DATA else HEAD
        if pos >= len(data):
            return out
        buf = self._buf + data[pos:] if self._buf else data[pos:]
        base += pos if not self._buf else 0
        self._buf = bytearray()
        at = 0
        while at < len(buf) and not self.done:
            if self._left and self._state != PEEK:
                skip = min(self._left, len(buf) - at)
                self._left -= skip
                at += skip
                if self._left == 0:
                    self._state = CHUNK_LINE if self._state == CHUNK_DATA else HEAD
                continue
            used = self._step(buf, at, base, tag, out)
            if used is None:  # needs more octets
                self._buf = bytearray(buf[at:])
                break
            at += used
        return out

    def _step(self, buf: bytes, at: int, base: int, tag: Tag, out: list) -> int | None:
        if self._state == PEEK:  # a response body of Content-Length octets, unless a HEAD response's next one
            start = bytes(buf[at:at + 7])
            if len(start) < 7 and start == b"HTTP/1."[:len(start)]:
                return None
            self._state = HEAD if start == b"HTTP/1." else BODY
            self._left = 0 if start == b"HTTP/1." else self._left
            return 0
        if self._state == CHUNK_LINE:
            return self._chunk_line(buf, at, base, tag, out)
        if self._state == TRAILERS:
            end = buf.find(b"\n", at, at + MAX_CHUNK_LINE)
            if end < 0:
                return self._need(buf, at, base, tag, out)
            if not buf[at:end].rstrip(b"\r"):
                self._state = HEAD
            return end + 1 - at
        if self._tunnel and len(buf) - at >= 8 and not self._starts(buf[at:at + 40]):
            self._stop()  # the connection became a tunnel
            return 0
        self._started = True
        self._tunnel = False
        try:
            result = parse_head(buf, at, self.is_request, self.max_head)
        except Malformed as bad:
            out.append((tag, Malformed(bad.code, base + at, bad.detail)))
            self._stop()
            return 0
        if isinstance(result, NeedMore):
            return None
        head, used = result
        self._message(head, tag, out)
        return used

    def _need(self, buf: bytes, at: int, base: int, tag: Tag, out: list) -> int | None:
        if len(buf) - at >= MAX_CHUNK_LINE:
            out.append((tag, Malformed("http_bad_chunk", base + at, f"no line end in {MAX_CHUNK_LINE} octets")))
            self._stop()
            return 0
        return None

    def _chunk_line(self, buf: bytes, at: int, base: int, tag: Tag, out: list) -> int | None:
        """chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk is size 0 (RFC 9112 §7.1)."""
        end = buf.find(b"\n", at, at + MAX_CHUNK_LINE)
        if end < 0:
            return self._need(buf, at, base, tag, out)
        line = bytes(buf[at:end]).split(b";", 1)[0].strip()
        if not line:  # the CRLF after a chunk's data
            return end + 1 - at
        try:
            size = int(line, 16)
        except ValueError:
            out.append((tag, Malformed("http_bad_chunk", base + at, repr(line[:40]))))
            self._stop()
            return 0
        if size == 0:
            self._state = TRAILERS
        elif self._body + size > MAX_BODY:
            self._stop()  # a bulk transfer: its octets are not worth reassembling to find the next head
        else:
            self._state, self._left = CHUNK_DATA, size
            self._body += size
        return end + 1 - at

    def _message(self, head: Head, tag: Tag, out: list) -> None:
        """Emit the head's message and set up skipping its body."""
        chunked = "chunked" in (head.header("transfer-encoding") or "").lower()
        length = head.header("content-length")
        if self.is_request:
            self._count += 1
            out.append((tag, request_message(head, self._count if self._paired else None)))
            self._tunnel = head.method == "CONNECT" or head.header("upgrade") is not None
            if head.header("transfer-encoding") is not None and not chunked:
                self._stop()  # §6.3: a request with another final coding has no determinable length
                return
        else:
            status = head.status_code or 0
            interim = 100 <= status < 200
            if not interim:
                self._count += 1
            out.append((tag, response_message(head, None if interim or not self._paired else self._count)))
            if status == 101:
                self._stop()  # the connection now speaks another protocol
                return
            if interim or status in _NO_BODY:
                return
            if not chunked and length is None:
                self._stop()  # the body runs to the close (§6.3 item 8)
                return
        if chunked:
            self._state, self._body = CHUNK_LINE, 0
            return
        if length is not None:
            try:
                size = int(length.split(",")[0].strip())
            except ValueError:
                size = -1
            if size < 0:
                out[-1][1].weird = out[-1][1].weird or "http_bad_header"
                self._stop()
                return
            if size > MAX_BODY:
                self._stop()  # a bulk transfer: its octets are not worth reassembling to find the next head
                return
            self._left = size
            self._state = BODY if self.is_request or not size else PEEK
