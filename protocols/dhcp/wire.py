"""BOOTP/DHCPv4 messages as records: pure functions from bytes (RFC 2131 §2, RFC 2132).

::

    op(1) htype(1) hlen(1) hops(1) xid(4) secs(2) flags(2) ciaddr(4) yiaddr(4) siaddr(4) giaddr(4)
    chaddr(16) sname(64) file(128) | magic cookie 99.130.83.99 (4) | options: code(1) len(1) data ... end(255)

Pad (0) and end (255) have no length octet. Option overload (52) continues the options in ``file`` then
``sname`` (RFC 2132 §9.3). An option that appears more than once is one option whose data is the concatenation
(RFC 3396 §5). Without the cookie the message is plain BOOTP (RFC 951) and has no options. Multi-octet fields
are big-endian. ``parse_bootp`` returns ``(record, used)`` or raises ``Malformed``: a datagram is whole, so it
never needs more.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from protocols.base import Malformed
from protocols.dhcp.codes import FIXED, MAGIC_COOKIE, MAX_OPTIONS, OPTIONS_AT, OVERLOAD, Op, Option

_FIELDS = {"sname": (44, 108), "file": (108, FIXED)}  # where sname and file sit in the header


@dataclass(frozen=True, slots=True)
class BootpMessage:
    """One BOOTP/DHCP message. ``options`` are (code, data) in first-appearance order, repeats concatenated;
    ``weird`` is the first oddity met while reading them (the message is still whole)."""

    op: int
    htype: int
    hlen: int
    hops: int
    xid: int
    secs: int
    flags: int
    ciaddr: str
    yiaddr: str
    siaddr: str
    giaddr: str
    chaddr: bytes  # the hlen octets that are the client's hardware address
    sname: str
    file: str
    has_cookie: bool
    options: tuple[tuple[int, bytes], ...]
    overload: int | None
    weird: str | None

    def option(self, code: int) -> bytes | None:
        for have, data in self.options:
            if have == code:
                return data
        return None


def ip4(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def _cstring(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1")


def parse_bootp(buf: bytes, offset: int = 0) -> tuple[BootpMessage, int]:
    """The message at ``offset``; ``used`` is the rest of the datagram (options run to its end)."""
    data = bytes(buf[offset:])
    if len(data) < FIXED:
        raise Malformed("dhcp_truncated", offset + len(data), f"{len(data)} octets, the header needs {FIXED}")
    op, htype, hlen, hops = data[0], data[1], data[2], data[3]
    if op not in (Op.BOOTREQUEST, Op.BOOTREPLY):
        raise Malformed("dhcp_bad_op", offset, f"op {op}")
    weird = "dhcp_bad_hlen" if hlen > 16 else None
    chaddr = data[28:28 + min(hlen, 16)]
    has_cookie = data[FIXED:OPTIONS_AT] == MAGIC_COOKIE
    options: dict[int, bytes] = {}
    overload = None
    overloaded: tuple[str, ...] = ()
    if has_cookie:
        reader = _Options(options)
        reader.read(data, OPTIONS_AT, len(data))
        raw = options.get(Option.OPTION_OVERLOAD)
        if raw is not None:
            if len(raw) == 1 and raw[0] in OVERLOAD:
                overload = raw[0]
                overloaded = OVERLOAD[overload]
                for name in overloaded:
                    start, stop = _FIELDS[name]
                    reader.read(data, start, stop)
            else:
                reader.weird = reader.weird or "dhcp_bad_overload"
        weird = weird or reader.weird
    sname = "" if "sname" in overloaded else _cstring(data[slice(*_FIELDS["sname"])])
    file = "" if "file" in overloaded else _cstring(data[slice(*_FIELDS["file"])])
    record = BootpMessage(
        op=op, htype=htype, hlen=hlen, hops=hops, xid=int.from_bytes(data[4:8], "big"),
        secs=int.from_bytes(data[8:10], "big"), flags=int.from_bytes(data[10:12], "big"),
        ciaddr=ip4(data[12:16]), yiaddr=ip4(data[16:20]), siaddr=ip4(data[20:24]), giaddr=ip4(data[24:28]),
        chaddr=chaddr, sname=sname, file=file, has_cookie=has_cookie, options=tuple(options.items()),
        overload=overload, weird=weird)
    return record, len(data)


class _Options:
    """Reads options from one field into a shared table; bounded by MAX_OPTIONS over all fields."""

    def __init__(self, table: dict[int, bytes]) -> None:
        self.table = table
        self.count = 0
        self.weird: str | None = None

    def read(self, data: bytes, pos: int, stop: int) -> None:
        while pos < stop:
            code = data[pos]
            if code == Option.PAD:
                pos += 1
                continue
            if code == Option.END:
                return
            if self.count >= MAX_OPTIONS:
                self.weird = self.weird or "dhcp_too_many_options"
                return
            if pos + 2 > stop or pos + 2 + data[pos + 1] > stop:
                self.weird = self.weird or "dhcp_option_truncated"
                return
            size = data[pos + 1]
            self.table[code] = self.table.get(code, b"") + data[pos + 2:pos + 2 + size]  # RFC 3396 §5
            self.count += 1
            pos += 2 + size
