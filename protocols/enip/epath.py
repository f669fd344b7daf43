"""CIP EPATHs (padded, as message router requests and route paths carry them): bytes -> ``EPath``.

Segment byte, Vol 1 Appendix C-1.4::

    7   5 4         0
    +----+----------+
    |type|  format  |     type: 0 port, 1 logical, 2 network, 3 symbolic, 4 data,
    +----+----------+           5/6 data type (not in paths), 7 reserved

- port segment (C-1.4.1): ``0000 pppp`` + link address byte, or ``0001 pppp`` + link address
  size + link address (an IP address string for EtherNet/IP); port 15 means a 16-bit port follows.
  Padded to an even length. A backplane route "port 1, link N" reaches slot N of a chassis.
- logical segment (C-1.4.2): ``001t ttff`` with t = class, instance, member, connection point,
  attribute, special (electronic key), service id; f = 8-bit, 16-bit or 32-bit value (a pad
  byte precedes 16/32-bit values).
- network segment (C-1.4.3): ``010x xxxx``; 0x40-0x4F carry one byte, 0x50-0x5F a length in words.
- symbolic segment (C-1.4.4): ``011s ssss``, s ASCII characters (s = 0: an extended string).
- data segment (C-1.4.5): 0x80 simple data (length in words), 0x91 ANSI extended symbol (length in
  bytes, padded): the Logix tag name segment (1756-PM020).

Parsing is total: a segment that does not parse stops the walk and sets ``bad`` (the weird
``cip_bad_path``); what was read before it is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOGICAL_TYPES = ("class_id", "instance_id", "member_id", "connection_point", "attribute_id", "special",
                 "service_id", "extended")
MAX_SEGMENTS = 64  # a path this long is garbage; stops the walk on crafted input


@dataclass(frozen=True, slots=True)
class EPath:
    """What a path names. ``logical`` keeps every logical segment in order as (type name, value)."""

    logical: tuple[tuple[str, int], ...] = ()
    route: tuple[tuple[int, int | str], ...] = ()  # (port, link address) of each port segment
    tag: str | None = None  # Logix tag name from symbolic segments, with [element] indices
    electronic_key: dict[str, int] | None = None
    bad: bool = False

    def first(self, kind: str) -> int | None:
        """The first logical value of ``kind`` (``class_id``, ``instance_id``, ``attribute_id``...)."""
        for name, value in self.logical:
            if name == kind:
                return value
        return None

    @property
    def class_id(self) -> int | None:
        return self.first("class_id")

    @property
    def instance_id(self) -> int | None:
        return self.first("instance_id")

    @property
    def attribute_id(self) -> int | None:
        return self.first("attribute_id")

    @property
    def symbolic(self) -> bool:
        return self.tag is not None

    def fields(self) -> dict[str, Any]:
        """Event fields in the spec's words; absent parts are left out."""
        out: dict[str, Any] = {}
        for kind in ("class_id", "instance_id", "attribute_id", "member_id", "connection_point"):
            value = self.first(kind)
            if value is not None:
                out[kind] = value
        if len([1 for name, _ in self.logical if name == "class_id"]) > 1:
            out["logical_path"] = [[name, value] for name, value in self.logical]
        if self.tag is not None:
            out["tag"] = self.tag
        if self.route:
            out["route_path"] = [{"port": port, "link": link} for port, link in self.route]
        if self.electronic_key is not None:
            out["electronic_key"] = dict(self.electronic_key)
        return out


def _link_text(raw: bytes) -> int | str:
    """An extended link address: EtherNet/IP puts the IP address there as ASCII text."""
    if raw and all(0x20 < b < 0x7F for b in raw):
        return raw.decode("ascii")
    return int.from_bytes(raw, "little")


def parse_epath(buf: Any, start: int, end: int) -> EPath:
    """Walk the padded EPATH in ``buf[start:end]``; never raises."""
    logical: list[tuple[str, int]] = []
    route: list[tuple[int, int | str]] = []
    names: list[str] = []  # tag name parts: symbols and [indices]
    key: dict[str, int] | None = None
    i = start
    bad = False
    count = 0
    while i < end:
        count += 1
        if count > MAX_SEGMENTS:
            bad = True
            break
        seg = buf[i]
        kind = seg >> 5
        if kind == 0:  # port segment
            j = i + 1
            port = seg & 0x0F
            size = 1
            if seg & 0x10:
                if j >= end:
                    bad = True
                    break
                size = buf[j]
                j += 1
            if port == 15:
                if j + 2 > end:
                    bad = True
                    break
                port = buf[j] | buf[j + 1] << 8
                j += 2
            if j + size > end:
                bad = True
                break
            link: int | str = _link_text(bytes(buf[j:j + size])) if seg & 0x10 else buf[j]
            j += size
            route.append((port, link))
            i = j + ((j - i) & 1)
        elif kind == 1:  # logical segment
            ltype = (seg >> 2) & 7
            fmt = seg & 3
            if ltype == 5:  # special: electronic key, format 4 (C-1.4.2.2)
                if fmt != 0 or i + 10 > end or buf[i + 1] != 4:
                    bad = True
                    break
                b = buf
                key = {"vendor_id": b[i + 2] | b[i + 3] << 8, "device_type": b[i + 4] | b[i + 5] << 8,
                       "product_code": b[i + 6] | b[i + 7] << 8, "major_revision": b[i + 8] & 0x7F,
                       "minor_revision": b[i + 9], "compatibility": b[i + 8] >> 7}
                i += 10
                continue
            if ltype == 7 or fmt == 3 or (ltype == 6 and fmt != 0):
                bad = True  # extended logical and reserved formats: not met on EtherNet/IP
                break
            size = (1, 2, 4)[fmt]
            vstart = i + (1 if fmt == 0 else 2)  # a pad byte precedes 16- and 32-bit values
            if vstart + size > end:
                bad = True
                break
            value = int.from_bytes(bytes(buf[vstart:vstart + size]), "little")
            logical.append((LOGICAL_TYPES[ltype], value))
            if ltype == 2 and names:  # member id after a symbol: an array element of a Logix tag
                names.append(f"[{value}]")
            i = vstart + size
        elif kind == 2:  # network segment
            if seg & 0x10:
                if i + 2 > end:
                    bad = True
                    break
                i += 2 + 2 * buf[i + 1]
            else:
                i += 2
            if i > end:
                bad = True
                break
        elif kind == 3:  # symbolic segment
            size = seg & 0x1F
            if size == 0:
                bad = True  # extended string formats (double-byte, numeric): not used by Logix
                break
            if i + 1 + size > end:
                bad = True
                break
            names.append(bytes(buf[i + 1:i + 1 + size]).decode("latin-1"))
            i += 1 + size + ((1 + size) & 1)
        elif seg == 0x91:  # ANSI extended symbol segment
            if i + 2 > end or i + 2 + buf[i + 1] > end:
                bad = True
                break
            size = buf[i + 1]
            names.append(bytes(buf[i + 2:i + 2 + size]).decode("latin-1"))
            i += 2 + size + (size & 1)
        elif seg == 0x80:  # simple data segment
            if i + 2 > end:
                bad = True
                break
            i += 2 + 2 * buf[i + 1]
            if i > end:
                bad = True
                break
        else:
            bad = True
            break
    return EPath(tuple(logical), tuple(route), _tag_name(names), key, bad)


def _tag_name(parts: list[str]) -> str | None:
    """Symbols joined by dots, element indices attached: ``Program:Main.Tank[3,2].Level``."""
    if not parts:
        return None
    out: list[str] = []
    for part in parts:
        if part.startswith("["):
            if out and out[-1].endswith("]"):
                out[-1] = out[-1][:-1] + "," + part[1:]
            else:
                out.append(part)
        else:
            out.append(("." if out else "") + part)
    return "".join(out)
