"""HTTP/1.x methods (RFC 9110 §9, RFC 5789 PATCH, RFC 4918 WebDAV), the package's one action table, its limits
and its weird codes.

Actions: reading methods are defined safe (RFC 9110 §9.2.1: GET, HEAD, OPTIONS, TRACE, PROPFIND do not change
the server's state) and are ``read``; methods that create, replace, change or remove resources (POST, PUT,
PATCH, DELETE, and WebDAV's MKCOL, COPY, MOVE, PROPPATCH, LOCK, UNLOCK) are ``write``: on a PLC or gateway web
server they change configuration or upload files, which a read-only conduit must not admit. CONNECT opens a
tunnel: ``session``. Unknown methods are ``other``.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType


class Method(IntEnum):
    """A number per method, as ``function_code`` (HTTP has none of its own; 0 is a method not listed)."""

    GET = 1
    HEAD = 2
    POST = 3
    PUT = 4
    DELETE = 5
    CONNECT = 6
    OPTIONS = 7
    TRACE = 8
    PATCH = 9
    PROPFIND = 10
    PROPPATCH = 11
    MKCOL = 12
    COPY = 13
    MOVE = 14
    LOCK = 15
    UNLOCK = 16


METHOD_CODES: Mapping[str, int] = MappingProxyType({m.name: int(m) for m in Method})

ACTIONS: Mapping[str, str] = MappingProxyType({
    "get": "read", "head": "read", "options": "read", "trace": "diagnostics", "propfind": "read",
    "post": "write", "put": "write", "patch": "write", "delete": "write", "proppatch": "write", "mkcol": "write",
    "copy": "write", "move": "write", "lock": "write", "unlock": "write",
    "connect": "session",
})

MAX_HEAD = 16_384  # octets of one request or response head (start line and header fields), as servers limit it
MAX_HEADERS = 100  # header fields read per head; later ones are skipped
MAX_CHUNK_LINE = 1_024  # octets of a chunk-size line with its extensions
MAX_VALUE = 512  # characters of a header value kept in events and facts
MAX_BODY = 1 << 20  # octets of one body the framer counts through; past it the direction is done (bulk transfer)

WEIRDS: Mapping[str, str] = MappingProxyType({
    "http_bad_start_line": "a request or status line that is not HTTP/1.x: not HTTP, or framing is lost; the "
                           "direction is not read further",
    "http_head_too_long": "a head longer than MAX_HEAD octets without its empty line; the direction is not read "
                          "further",
    "http_too_many_headers": "more header fields than MAX_HEADERS: the later ones are not read",
    "http_bad_header": "a header line without a colon, or a Content-Length that is not a number",
    "http_bad_chunk": "a chunk-size line that is not hex or is longer than MAX_CHUNK_LINE; the direction is not "
                      "read further",
})
