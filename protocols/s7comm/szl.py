"""SZL (System Status List, German "Systemzustandsliste") partial lists, and the identity they reveal.

A read SZL response (userdata, CPU functions, subfunction 1) carries one partial list (an id of
0x0Fxx asks for its header alone: LENTHDR and N_DR, no records)::

    +--------+-----------+------------------+-------------------+--------------------------+
    | SZL id | SZL index | LENTHDR u16:     | N_DR u16: records | N_DR records of LENTHDR  |
    |  u16   |    u16    | octets per record|                   | octets each              |
    +--------+-----------+------------------+-------------------+--------------------------+

Layouts from Siemens' "System Software for S7-300/400 System and Standard Functions" (SSL-ID
W#16#xy11 and W#16#xy1C) as decoded by Wireshark's ``packet-s7comm_szl_ids.c``:

- xy11, module identification, 28 octets: index u16, MLFB (order number) 20 ASCII, BGTyp u16,
  Ausbg u16, Ausbe u16. Index 1 is the module (its order number); index 6 the basic hardware;
  index 7 the basic firmware, whose version is Ausbg = 'V' + major and Ausbe = minor, patch.
- xy1C, component identification, 34 octets: index u16 and 32 octets of text: 1 automation system
  name, 2 module name, 3 plant designation, 4 copyright, 5 serial number, 7 module type name,
  8 memory card serial, 11 location designation (9 and 10 are binary manufacturer/OEM ids).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from protocols.base import NeedMore
from protocols.s7comm.codes import (
    SZL_001C_INDEX,
    SZL_001C_ORDER,
    SZL_COMPONENT_IDENTIFICATION,
    SZL_MODULE_IDENTIFICATION,
    SZL_RECORD_LENGTH,
)

SZL_HEADER = 8  # id, index, LENTHDR, N_DR
SNAP7_0011_RECORD = 26
"""python-snap7's server writes xy11 records of 26 octets: index, MLFB (20), a reserved octet, then
the version as three octets (snap7/server: _get_szl_data; its client reads them in szl.py)."""


@dataclass(frozen=True, slots=True)
class SzlList:
    """One SZL partial list as a response carries it."""

    szl_id: int
    index: int
    record_length: int  # LENTHDR as announced
    record_count: int  # N_DR as announced
    records: tuple[bytes, ...]
    weird: str | None = None

    @property
    def list_number(self) -> int:
        """The partial list (low octet of the id): 0x11 for 0x0011, 0x0111 and 0x0F11 alike."""
        return self.szl_id & 0xFF


def parse_szl(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[SzlList, int] | NeedMore:
    """The partial list at ``buf[offset:]``: (record, bytes used) or NeedMore for a cut header.

    Records are read as far as the octets go. A header of zeros (LENTHDR or N_DR 0 while records
    follow; python-snap7's server sends one for 0x001C) is read at the list's standard record
    length with ``weird`` set, so what the device announces is not lost.
    """
    avail = len(buf) - offset
    if offset < 0 or avail < 0:
        raise ValueError(f"offset {offset} outside a buffer of {len(buf)} bytes")
    if avail < SZL_HEADER:
        return NeedMore(SZL_HEADER - avail)
    szl_id, index, lenthdr, n_dr = struct.unpack_from(">HHHH", buf, offset)
    body = bytes(buf[offset + SZL_HEADER:])
    weird = None
    size, count = lenthdr, n_dr
    standard = SZL_RECORD_LENGTH.get(szl_id & 0xFF)
    if (size == 0 or count == 0) and body:
        if standard is None or size not in (0, standard):
            return SzlList(szl_id, index, lenthdr, n_dr, (), "s7comm_bad_szl_header"), avail
        size, count = standard, len(body) // standard
        weird = "s7comm_bad_szl_header"
    if size == 0 or szl_id >> 8 & 0x0F == 0x0F:  # 0x0Fxx: the partial list header alone, no records
        return SzlList(szl_id, index, lenthdr, n_dr, (), weird), SZL_HEADER
    have = min(count, len(body) // size)
    records = tuple(body[i * size:(i + 1) * size] for i in range(have))
    if have < count:
        weird = weird or "s7comm_szl_truncated"
    if standard is not None and size < standard:
        weird = weird or "s7comm_szl_short_record"
    return SzlList(szl_id, index, lenthdr, n_dr, records, weird), SZL_HEADER + have * size


def _text(raw: bytes) -> str:
    """Fixed-width text fields: up to the first NUL, trailing blanks dropped; never fails."""
    raw = raw.split(b"\x00", 1)[0]
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip()


def _version(word_hi: int, word_lo: int) -> str | None:
    """Ausbg/Ausbe as a version: 'V' 3 / 2 6 -> V3.2.6 (any letter kept: boot loaders use 'A')."""
    letter = word_hi >> 8
    if not 0x41 <= letter <= 0x5A:
        return None
    return f"{chr(letter)}{word_hi & 0xFF}.{word_lo >> 8}.{word_lo & 0xFF}"


def module_identification(szl: SzlList) -> dict[str, Any]:
    """Identity from an xy11 list: order_code, hardware_version, firmware, boot_loader (where present)."""
    out: dict[str, Any] = {}
    for rec in szl.records:
        if len(rec) < 2:
            continue
        index = struct.unpack_from(">H", rec)[0]
        mlfb = _text(rec[2:22]) if len(rec) >= 22 else ""
        ausbg = struct.unpack_from(">H", rec, 24)[0] if len(rec) >= 26 else None
        ausbe = struct.unpack_from(">H", rec, 26)[0] if len(rec) >= 28 else None
        if index == 0x0001:
            if mlfb:
                out["order_code"] = mlfb
            if ausbg is not None and ausbg < 0x100 and ausbe is not None:
                out.setdefault("hardware_version", str(ausbg))
            elif len(rec) == SNAP7_0011_RECORD and any(rec[23:26]):
                out.setdefault("firmware", "V{}.{}.{}".format(*rec[23:26]))
        elif index == 0x0006 and ausbg is not None and ausbg < 0x100 and ausbe is not None:
            out["hardware_version"] = str(ausbg)
        elif index == 0x0007 and ausbg is not None and ausbe is not None:
            version = _version(ausbg, ausbe)
            if version:
                out["firmware"] = version
        elif index == 0x0081 and ausbg is not None and ausbe is not None:
            version = _version(ausbg, ausbe)
            if version:
                out["boot_loader"] = version
    return out


def component_identification(szl: SzlList) -> dict[str, Any]:
    """Identity from an xy1C list, keyed by SZL_001C_INDEX names; an index of 0 is taken by position."""
    out: dict[str, Any] = {}
    for i, rec in enumerate(szl.records):
        if len(rec) < 3:
            continue
        index = struct.unpack_from(">H", rec)[0]
        if index == 0 and szl.weird == "s7comm_bad_szl_header" and i < len(SZL_001C_ORDER):
            index = SZL_001C_ORDER[i]
        key = SZL_001C_INDEX.get(index)
        if key is None:
            continue
        if index == 0x0009:
            if len(rec) >= 8:
                out["manufacturer_id"], out["profile_id"], out["profile_specific_type"] = (
                    f"0x{v:04x}" for v in struct.unpack_from(">HHH", rec, 2))
            continue
        if index == 0x000A:
            text = _text(rec[2:28])
            if text:
                out["oem_copyright"] = text
            continue
        text = _text(rec[2:])
        if text:
            out[key] = text
    return out


def identity(szl: SzlList) -> dict[str, Any]:
    """The identity facts of a partial list, with the generic keys the inventory merges on.

    Generic keys: ``order_code``, ``firmware``, ``serial``, ``name`` (the automation system name),
    ``model`` (the module type name), ``vendor`` (Siemens, when the device says so in its copyright
    or its order number is in Siemens' 6ES7/6ED1/6AV/6GK ranges). The rest keep their SZL names.
    """
    if szl.list_number == SZL_MODULE_IDENTIFICATION:
        out = module_identification(szl)
    elif szl.list_number == SZL_COMPONENT_IDENTIFICATION:
        raw = component_identification(szl)
        out = {("name" if k == "as_name" else "model" if k == "module_type_name" else k): v for k, v in raw.items()}
    else:
        return {}
    if "Siemens" in out.get("copyright", "") or out.get("order_code", "").startswith(("6ES7", "6ED1", "6AV", "6GK")):
        out["vendor"] = "Siemens"
    return out
