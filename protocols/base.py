"""The contract every protocol parser keeps: three outcomes, never None.

A parser is a pure function ``parse(buf, offset) -> (record, used)``. It either
returns a record with the number of bytes it consumed, returns ``NeedMore`` when
the buffer ends before the message does, or raises ``Malformed(code, offset)``
when the bytes cannot be this protocol. Codes are stable snake_case names
(``modbus_bad_length``) because users grep logs and SIEM rules for them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class Malformed(Exception):
    """The bytes at ``offset`` are not a valid message; ``code`` names why."""

    def __init__(self, code: str, offset: int = 0, detail: str = "") -> None:
        super().__init__(f"{code} at offset {offset}" + (f": {detail}" if detail else ""))
        self.code = code
        self.offset = offset
        self.detail = detail


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The message is incomplete; at least ``needed`` more bytes are required."""

    needed: int


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    """How the flow layer finds a protocol: by well-known port, or by probing payload."""

    name: str
    transport: str  # "tcp" or "udp"
    ports: frozenset[int]
    probe: Callable[[bytes], bool]
