"""What Annex A of IEEE 1815-2012 says about the size and meaning of each object group/variation.

A DNP3 fragment does not say how long its objects are: the parser must know each group/variation's
size to find the next object header. Three kinds exist:

- fixed-size objects, in octets (``FIXED``): most of Annex A;
- packed objects, in bits (``PACKED``): g1v1, g3v1 (2 bits), g10v1, g12v3, g80v1, padded to an octet
  per object header;
- variable objects: g110-g113 are as long as their variation says; g0 device attributes carry a
  type and a length octet; everything else (g70 files, g83-g88 data sets, g90, g91, g120) is only
  readable behind a size prefix (qualifier 0x5B and the other size prefixes).

Decoders for the few objects whose values matter to the inventory (commands, time, files) are here
too; other objects are skipped by size, not decoded.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from protocols.dnp3.codes import Group, control_code_name

_T = 6  # DNP3TIME: UINT48, milliseconds since 1970-01-01 UTC, little-endian

FIXED: Mapping[tuple[int, int], int] = MappingProxyType({
    # binary inputs and their events, §A.2-§A.5
    (1, 2): 1, (2, 1): 1, (2, 2): 1 + _T, (2, 3): 3, (3, 2): 1, (4, 1): 1, (4, 2): 1 + _T, (4, 3): 3,
    # binary outputs, commands and their events, §A.6-§A.9
    (10, 2): 1, (11, 1): 1, (11, 2): 1 + _T, (12, 1): 11, (12, 2): 11, (13, 1): 1, (13, 2): 1 + _T,
    # counters, §A.10-§A.13
    (20, 1): 5, (20, 2): 3, (20, 3): 5, (20, 4): 3, (20, 5): 4, (20, 6): 2, (20, 7): 4, (20, 8): 2,
    (21, 1): 5, (21, 2): 3, (21, 3): 5, (21, 4): 3, (21, 5): 5 + _T, (21, 6): 3 + _T, (21, 7): 5 + _T,
    (21, 8): 3 + _T, (21, 9): 4, (21, 10): 2, (21, 11): 4, (21, 12): 2,
    (22, 1): 5, (22, 2): 3, (22, 3): 5, (22, 4): 3, (22, 5): 5 + _T, (22, 6): 3 + _T, (22, 7): 5 + _T,
    (22, 8): 3 + _T,
    (23, 1): 5, (23, 2): 3, (23, 3): 5, (23, 4): 3, (23, 5): 5 + _T, (23, 6): 3 + _T, (23, 7): 5 + _T,
    (23, 8): 3 + _T,
    # analog inputs, §A.14-§A.18
    (30, 1): 5, (30, 2): 3, (30, 3): 4, (30, 4): 2, (30, 5): 5, (30, 6): 9,
    (31, 1): 5, (31, 2): 3, (31, 3): 5 + _T, (31, 4): 3 + _T, (31, 5): 4, (31, 6): 2, (31, 7): 5, (31, 8): 9,
    (32, 1): 5, (32, 2): 3, (32, 3): 5 + _T, (32, 4): 3 + _T, (32, 5): 5, (32, 6): 9, (32, 7): 5 + _T,
    (32, 8): 9 + _T,
    (33, 1): 5, (33, 2): 3, (33, 3): 5 + _T, (33, 4): 3 + _T, (33, 5): 5, (33, 6): 9, (33, 7): 5 + _T,
    (33, 8): 9 + _T,
    (34, 1): 2, (34, 2): 4, (34, 3): 4,
    # analog outputs, §A.19-§A.22
    (40, 1): 5, (40, 2): 3, (40, 3): 5, (40, 4): 9,
    (41, 1): 5, (41, 2): 3, (41, 3): 5, (41, 4): 9,
    (42, 1): 5, (42, 2): 3, (42, 3): 5 + _T, (42, 4): 3 + _T, (42, 5): 5, (42, 6): 9, (42, 7): 5 + _T,
    (42, 8): 9 + _T,
    (43, 1): 5, (43, 2): 3, (43, 3): 5 + _T, (43, 4): 3 + _T, (43, 5): 5, (43, 6): 9, (43, 7): 5 + _T,
    (43, 8): 9 + _T,
    # time, §A.23-§A.25
    (50, 1): _T, (50, 2): _T + 4, (50, 3): _T, (50, 4): _T + 5, (51, 1): _T, (51, 2): _T, (52, 1): 2, (52, 2): 2,
    # device storage (obsolete) and others with a fixed layout
    (81, 1): 3, (101, 1): 2, (101, 2): 4, (101, 3): 8, (102, 1): 1,
    (120, 3): 6, (120, 4): 2, (121, 1): 7, (122, 1): 7, (122, 2): 7 + _T,
})
"""(group, variation) -> object size in octets, Annex A."""

PACKED: Mapping[tuple[int, int], int] = MappingProxyType({
    (1, 1): 1, (3, 1): 2, (10, 1): 1, (12, 3): 1, (80, 1): 1,
})
"""(group, variation) -> bits per object, for objects packed LSB first (§A.2.1, §A.4.1, §A.6.1,
§A.8.3, §A.28.1)."""

SIZED_BY_VARIATION = frozenset({Group.OCTET_STRING, Group.OCTET_STRING_EVENT, Group.VIRTUAL_TERMINAL_OUTPUT_BLOCK,
                                Group.VIRTUAL_TERMINAL_EVENT_DATA})
"""Octet strings and VTO blocks: the variation is the length in octets (§A.41-§A.44)."""

NO_DATA = frozenset({Group.CLASS_OBJECTS})
"""Groups that only ever name data (group 60, class 0-3 polls, §A.26)."""


def object_size(group: int, variation: int) -> int | None:
    """Octets per object; None when only a size prefix can tell (variable-size or unknown objects)."""
    size = FIXED.get((group, variation))
    if size is not None:
        return size
    if group in SIZED_BY_VARIATION:
        return variation
    return None


# --- values of the objects the inventory cares about ---------------------------------------------------------

_CROB = struct.Struct("<BBIIB")  # control code, count, on-time ms, off-time ms, status (§A.8.1)
def json_safe(value: Any) -> Any:
    """Floats off the wire may be NaN or infinite, which JSON cannot carry: they become their repr."""
    return repr(value) if isinstance(value, float) and not math.isfinite(value) else value


_AO = {1: struct.Struct("<iB"), 2: struct.Struct("<hB"), 3: struct.Struct("<fB"), 4: struct.Struct("<dB")}
_G70_V3 = struct.Struct("<HH6sHIIHHH")  # §A.27.3 file command: name offset/size, created, perms, key, size,
#                                        operational mode, max block size, request id, then the name
_G70_V7 = struct.Struct("<HHHI6sHH")  # §A.27.7 file descriptor: name offset/size, type, size, created, perms, id


def dnp3_time(raw: Any, at: int) -> int:
    """A 48-bit DNP3 time at ``raw[at:at+6]``: milliseconds since 1970-01-01 UTC."""
    return int.from_bytes(bytes(raw[at:at + _T]), "little")


def _text(raw: bytes) -> str:
    """DNP3 strings are visible ASCII; accept UTF-8, else show the bytes as Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_value(group: int, variation: int, raw: Any, start: int, end: int) -> Any:
    """The value of one object in ``raw[start:end]`` where the inventory or a rule needs it, else None.

    - g12v1/v2 (CROB, pattern control block): the control code's name (``latch_on``, ``trip_pulse_on``);
    - g41 (analog output block): the value commanded;
    - g50v1/v3/v4 and g51 (time): ms since the epoch;
    - g70v3/v7/v8 (file command, descriptor, specification string): the file name; g70v4/v5/v6: the
      file handle, and block number for transport;
    - g110/g112 (octet strings, VTO): the octets as hex.
    """
    size = end - start
    if group == Group.BINARY_OUTPUT_COMMAND and variation in (1, 2) and size >= _CROB.size:
        return control_code_name(raw[start])
    if group == Group.ANALOG_OUTPUT and variation in _AO and size >= _AO[variation].size:
        return json_safe(_AO[variation].unpack_from(raw, start)[0])
    if group in (Group.TIME_AND_DATE, Group.TIME_AND_DATE_CTO) and size >= _T:
        return dnp3_time(raw, start)
    if group in (Group.OCTET_STRING, Group.VIRTUAL_TERMINAL_OUTPUT_BLOCK):
        return bytes(raw[start:end]).hex()
    if group == Group.FILE_CONTROL:
        return _file_value(variation, bytes(raw[start:end]))
    return None


def _file_value(variation: int, obj: bytes) -> dict[str, Any] | None:
    """The parts of a g70 object that say which file (§A.27)."""
    if variation == 3 and len(obj) >= _G70_V3.size:
        offset, length, *_rest = _G70_V3.unpack_from(obj, 0)
        return {"file_name": _text(obj[offset:offset + length]) if offset >= _G70_V3.size else None}
    if variation == 7 and len(obj) >= _G70_V7.size:
        offset, length, *_rest = _G70_V7.unpack_from(obj, 0)
        return {"file_name": _text(obj[offset:offset + length]) if offset >= _G70_V7.size else None}
    if variation == 8:
        return {"file_name": _text(obj)}
    if variation in (4, 5, 6) and len(obj) >= 4:
        out: dict[str, Any] = {"file_handle": int.from_bytes(obj[0:4], "little")}
        if variation in (5, 6) and len(obj) >= 8:
            block = int.from_bytes(obj[4:8], "little")
            out["block_number"] = block & 0x7FFFFFFF
            out["last_block"] = bool(block & 0x80000000)
        return out
    return None
