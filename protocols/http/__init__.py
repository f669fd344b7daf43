"""HTTP/1.x (RFC 9110, RFC 9112) on TCP 80, 8080 and 8000, and elsewhere by its first request or status line.

Only heads are read (request line, status line, Host, User-Agent, Server, Content-Type, the body framing
fields); bodies are skipped by count. ``wire`` parses heads, ``message`` makes ``Message``s and facts and pairs
responses with requests, ``stream`` frames a direction, ``codes`` holds the methods, the action table, the
limits and the weird codes. Registration is this ``SPEC``.
"""
from __future__ import annotations

import re

from protocols.base import ProtocolSpec, Verdict
from protocols.http.codes import ACTIONS, METHOD_CODES, WEIRDS
from protocols.http.message import complete
from protocols.http.stream import HttpStream

PORTS = (80, 8000, 8080)
_METHODS = tuple(f"{m} ".encode() for m in METHOD_CODES)
_REQUEST_LINE = re.compile(rb"^[A-Z]{3,9} \S+ HTTP/1\.[019]\r?$")


def probe(data: bytes) -> Verdict:
    """A request line of a known method ending in HTTP/1.x, or a status line ``HTTP/1.x NNN``."""
    if data.startswith(b"HTTP/1."):
        return Verdict.ACCEPT if len(data) >= 12 and data[8:9] == b" " and data[9:12].isdigit() else (
            Verdict.MORE if len(data) < 12 else Verdict.REJECT)
    if not data.startswith(_METHODS):
        prefix = any(m.startswith(data) for m in _METHODS) or b"HTTP/1."[:len(data)] == data
        return Verdict.MORE if prefix else Verdict.REJECT
    end = data.find(b"\n", 0, 8300)
    if end < 0:
        return Verdict.MORE if len(data) < 8300 else Verdict.REJECT
    return Verdict.ACCEPT if _REQUEST_LINE.match(data[:end]) else Verdict.REJECT


SPEC = ProtocolSpec(
    name="http",
    ports=frozenset(("tcp", port) for port in PORTS),
    probe=probe,
    framer=HttpStream,
    complete=complete,
    actions=ACTIONS,
    weirds=WEIRDS,
    industrial=False,
)

__all__ = ["PORTS", "SPEC", "HttpStream", "complete", "probe"]
