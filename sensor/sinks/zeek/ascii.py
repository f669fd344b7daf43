"""Zeek's two log formats: the ASCII writer (TSV with a header) and the JSON writer (one object per line).

TSV (Zeek's ``LogAscii`` defaults)::

    #separator \\x09
    #set_separator\t,
    #empty_field\t(empty)
    #unset_field\t-
    #path\tconn
    #open\t2024-01-02-03-04-05
    #fields\tts\tuid\tid.orig_h ...
    #types\ttime\tstring\taddr ...
    1700000000.123456\tC...\t10.0.0.1 ...
    #close\t2024-01-02-03-04-09

Values as Zeek writes them: ``time`` and ``interval`` with six decimals, ``count``/``port`` as integers,
``bool`` as T/F, an unset field as ``-``, an empty string or container as ``(empty)``, container elements
joined by ``,``. In strings a backslash, control bytes and non-ASCII bytes (UTF-8) are written ``\\xNN``
(Zeek's escaping with ``LogAscii::enable_utf_8`` off), inside containers so is ``,``, and a string that is
exactly ``-`` becomes ``\\x2d`` so it cannot read as unset.

JSON (``LogAscii::use_json``): the same fields, named as Zeek names them (``id.orig_h``), unset ones left
out, times as epoch seconds, containers as arrays; no header.

One deliberate difference: ``#open``/``#close`` carry the capture time of the first and last record
(UTC), not the wall clock, because the sensor's output must be the same for the same input.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import IO, Any, NamedTuple

TSV, JSON = "tsv", "json"
FORMATS = (TSV, JSON)
SEPARATOR, SET_SEPARATOR, EMPTY, UNSET = "\t", ",", "(empty)", "-"
CONTAINERS = ("set[", "vector[")
BUFFER = 1 << 20

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, ord("\\"))}
_IN_CONTAINER = {**_CONTROL, ord(SET_SEPARATOR): f"\\x{ord(SET_SEPARATOR):02x}"}
_json_string = json.JSONEncoder(ensure_ascii=False).encode


class Field(NamedTuple):
    name: str
    type: str  # Zeek's type name as #types shows it


def fields(spec: str) -> tuple[Field, ...]:
    """``"ts:time uid:string ..."`` as Fields (the schemas read like Zeek's #fields/#types lines)."""
    return tuple(Field(*item.split(":", 1)) for item in spec.split())


ID = "id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port"


def escape(text: str, in_container: bool = False) -> str:
    """A string value as the ASCII writer writes it (see the module docstring)."""
    if not text:
        return EMPTY
    if text == UNSET:
        return "\\x2d"
    out = text.translate(_IN_CONTAINER if in_container else _CONTROL)
    if out.isascii():
        return out
    return "".join(ch if ch.isascii() else "".join(f"\\x{b:02x}" for b in ch.encode()) for ch in out)


def time_text(seconds: float) -> str:
    """Epoch seconds with six decimals, rounded as the batch writers round (half to even on microseconds)."""
    us = round(seconds * 1_000_000)
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def tsv_value(value: Any, kind: str) -> str:
    if value is None:
        return UNSET
    if kind in ("time", "interval"):
        return time_text(value)
    if kind == "bool":
        return "T" if value else "F"
    if kind in ("count", "port", "int"):
        return str(int(value))
    if kind.startswith(CONTAINERS):
        if not value:
            return EMPTY
        inner = kind[kind.index("[") + 1:-1]
        return SET_SEPARATOR.join(escape(v, True) if inner == "string" else tsv_value(v, inner) for v in value)
    return escape(str(value))


def json_value(value: Any, kind: str) -> str:
    if kind in ("time", "interval"):
        return time_text(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("count", "port", "int"):
        return str(int(value))
    if kind.startswith(CONTAINERS):
        inner = kind[kind.index("[") + 1:-1]
        return "[" + ",".join(json_value(v, inner) for v in value) + "]"
    return _json_string(str(value))


def json_key(name: str) -> str:
    return _json_string(name) + ":"


def open_stamp(seconds: float) -> str:
    """#open/#close as Zeek formats them (``%Y-%m-%d-%H-%M-%S``), from capture time, in UTC."""
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(seconds))


class LogFile:
    """One log (``conn.log``, ``modbus.log``...): created on its first record, as Zeek does, closed by ``close``."""

    def __init__(self, folder: str, path: str, schema: Sequence[Field], fmt: str = TSV) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"Zeek log format {fmt!r}: use one of {', '.join(FORMATS)}")
        self.folder, self.path, self.schema, self.fmt = folder, path, tuple(schema), fmt
        self.lines = 0
        self.enabled = True  # a disabled log (Zeek's Log::disable_stream) writes nothing
        self._out: IO[bytes] | None = None
        self._last_ts = float("-inf")
        self._open_line = False  # the last line written still waits for its newline
        self._keys = [json_key(f.name) for f in self.schema]

    @property
    def filename(self) -> str:
        return os.path.join(self.folder, f"{self.path}.log")

    def header(self, first_ts: float) -> str:
        f = self.schema
        return (f"#separator \\x{ord(SEPARATOR):02x}\n#set_separator\t{SET_SEPARATOR}\n#empty_field\t{EMPTY}\n"
                f"#unset_field\t{UNSET}\n#path\t{self.path}\n#open\t{open_stamp(first_ts)}\n"
                f"#fields\t{SEPARATOR.join(x.name for x in f)}\n#types\t{SEPARATOR.join(x.type for x in f)}\n")

    def write_text(self, text: str | bytes | memoryview, lines: int, first_ts: float, last_ts: float,
                   leading_newline: bool = False) -> None:
        """Lines already formatted (text, or its UTF-8 bytes), their count and their first and last times. Each
        line ends with its newline, or with ``leading_newline`` begins with it (the file then ends the last line
        itself)."""
        if not lines or not self.enabled:
            return
        if self._out is None:
            self._out = open(self.filename, "wb", buffering=BUFFER)  # bytes: a text layer costs more than encode
            if self.fmt == TSV:
                self._out.write(self.header(first_ts).encode())
        data = text.encode() if isinstance(text, str) else text
        if leading_newline:
            self._out.write(data if self._open_line else memoryview(data)[1:])
            self._open_line = True
        else:
            if self._open_line:
                self._out.write(b"\n")
                self._open_line = False
            self._out.write(data)
        self.lines += lines
        if last_ts > self._last_ts:
            self._last_ts = last_ts

    def line(self, record: Sequence[Any]) -> str:
        """One record (values in schema order, None for unset) as a line with its newline."""
        if self.fmt == TSV:
            return SEPARATOR.join(tsv_value(v, f.type) for v, f in zip(record, self.schema)) + "\n"
        return "{" + ",".join(k + json_value(v, f.type) for v, f, k in zip(record, self.schema, self._keys)
                              if v is not None) + "}\n"

    def write(self, records: Iterable[Sequence[Any]]) -> None:
        """Records whose first value is their time (every Zeek log here starts with ``ts``)."""
        records = list(records)
        if records and self.enabled:
            times = [r[0] for r in records]
            self.write_text("".join(map(self.line, records)), len(records), min(times), max(times))

    def close(self) -> None:
        if self._out is None:
            return
        if self._open_line:
            self._out.write(b"\n")
            self._open_line = False
        if self.fmt == TSV:
            self._out.write(f"#close\t{open_stamp(self._last_ts)}\n".encode())
        self._out.close()
        self._out = None
