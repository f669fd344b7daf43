"""HTTP/1.x message heads, bytes to frozen records (RFC 9112 §2-§5).

    request-line = method SP request-target SP HTTP-version CRLF        (§3)
    status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF  (§4)
    field-line   = field-name ":" OWS field-value OWS CRLF              (§5), then an empty line

A bare LF ends a line too (§2.2 lets a recipient accept it). ``parse_head`` returns (record, octets used),
``NeedMore`` while the empty line has not come, or raises ``Malformed``: ``http_bad_start_line``, or
``http_head_too_long`` past ``max_head`` octets. A field line without a colon is skipped (``http_bad_header``);
fields past ``MAX_HEADERS`` are not read (``http_too_many_headers``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from protocols.base import Malformed, NeedMore
from protocols.http.codes import MAX_HEAD, MAX_HEADERS, MAX_VALUE

_REQUEST = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S{1,8192}) (HTTP/1\.[0-9])$")
_STATUS = re.compile(rb"^(HTTP/1\.[0-9]) ([0-9]{3})(?: (.*))?$")


@dataclass(frozen=True, slots=True)
class Head:
    """One request or response head. ``headers``: (lower-case name, value) in order, at most MAX_HEADERS."""

    is_request: bool
    method: str | None  # requests
    target: str | None
    version: str
    status_code: int | None  # responses
    reason: str | None
    headers: tuple[tuple[str, str], ...]
    weird: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a field (``name`` in lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def _text(data: bytes) -> str:
    return data[:MAX_VALUE].decode("latin-1")  # RFC 9110 §5.5: field values are octets; latin-1 keeps each one


def parse_head(buf: bytes | bytearray, pos: int, is_request: bool, max_head: int = MAX_HEAD) -> tuple[Head, int] | NeedMore:
    """The head starting at ``pos``: up to and including its empty line."""
    lines: list[bytes] = []
    at = pos
    limit = min(len(buf), pos + max_head)
    while True:
        end = buf.find(b"\n", at, limit)
        if end < 0:
            if len(buf) - pos >= max_head:
                raise Malformed("http_head_too_long", pos, f"no empty line in {max_head} octets")
            if not lines and len(buf) > at and not _may_start(bytes(buf[pos:]), is_request):
                raise Malformed("http_bad_start_line", pos, repr(bytes(buf[pos:pos + 40])))
            return NeedMore(1)
        line = bytes(buf[at:end]).rstrip(b"\r")
        at = end + 1
        if not lines:
            lines.append(line)
            _start_line(line, pos, is_request)  # fail fast: not HTTP
            continue
        if not line:
            break
        lines.append(line)
    return _head(lines, is_request), at - pos


def _may_start(data: bytes, is_request: bool) -> bool:
    """Could these octets (no line end yet) begin a start line?"""
    if is_request:
        return re.match(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}( |$)", data) is not None
    return b"HTTP/1."[:len(data)] == data[:7]


def _start_line(line: bytes, pos: int, is_request: bool) -> re.Match:
    match = (_REQUEST if is_request else _STATUS).match(line)
    if match is None:
        raise Malformed("http_bad_start_line", pos, repr(line[:80]))
    return match


def _head(lines: list[bytes], is_request: bool) -> Head:
    match = _start_line(lines[0], 0, is_request)
    headers: list[tuple[str, str]] = []
    weird = None
    for line in lines[1:]:
        if len(headers) >= MAX_HEADERS:
            weird = weird or "http_too_many_headers"
            break
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            weird = weird or "http_bad_header"
            continue
        headers.append((name.decode("latin-1").lower(), _text(value.strip(b" \t"))))
    if is_request:
        return Head(True, match[1].decode("ascii"), _text(match[2]), match[3].decode("ascii"), None, None,
                    tuple(headers), weird)
    reason = match[3]
    return Head(False, None, None, match[1].decode("ascii"), int(match[2]), _text(reason) if reason else None,
                tuple(headers), weird)


def looks_like_request(data: bytes | bytearray) -> bool:
    """Octets that start with a method token and a space: the next request on a connection that might have
    become a tunnel (after CONNECT or an Upgrade)."""
    return re.match(rb"^[A-Z][A-Z_-]{1,31} ", bytes(data[:34])) is not None
