"""A plain reader of Zeek logs for the tests, written from Zeek's format, not from the writer under test.

TSV: the header lines, then one line per record split on the separator; ``-`` is unset, ``(empty)`` an empty
string or container, ``\\xNN`` an escaped byte (UTF-8 underneath), containers split on the set separator.
JSON: one object per line, unset fields absent.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ESCAPE = re.compile(rb"\\x([0-9a-f]{2})")
HEADER_KEYS = ("separator", "set_separator", "empty_field", "unset_field", "path", "open", "fields", "types")


def unescape(text: str) -> str:
    return ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode()).decode()


def convert(raw: str, kind: str) -> Any:
    if raw == "-":
        return None
    if kind.startswith(("set[", "vector[")):
        if raw == "(empty)":
            return []
        inner = kind[kind.index("[") + 1:-1]
        return [convert(item, inner) for item in raw.split(",")]
    if kind in ("time", "interval", "double"):
        assert re.fullmatch(r"-?\d+\.\d{6}", raw), f"{kind} {raw!r} is not written with six decimals"
        return float(raw)
    if kind in ("count", "port", "int"):
        assert re.fullmatch(r"-?\d+", raw), f"{kind} {raw!r}"
        return int(raw)
    if kind == "bool":
        assert raw in ("T", "F"), raw
        return raw == "T"
    if raw == "(empty)":
        return ""
    assert "\t" not in raw and "\n" not in raw
    return unescape(raw)


def read_tsv(path: str | Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The header (``#`` lines, by name) and the records of a TSV log, values converted by the #types line."""
    text = Path(path).read_text(encoding="ascii")  # the writer escapes every non-ASCII byte
    assert text.endswith("\n"), "a log ends with a newline"
    lines = text[:-1].split("\n")
    assert lines[0] == "#separator \\x09", lines[0]
    meta: dict[str, str] = {"separator": "\\x09"}
    rows: list[dict[str, Any]] = []
    for line in lines[1:]:
        if line.startswith("#"):
            key, _, value = line[1:].partition("\t")
            meta[key] = value
            continue
        fields, types = meta["fields"].split("\t"), meta["types"].split("\t")
        values = line.split("\t")
        assert len(values) == len(fields), f"{len(values)} values for {len(fields)} fields: {line!r}"
        rows.append({f: convert(v, t) for f, v, t in zip(fields, values, types)})
    assert list(meta)[:len(HEADER_KEYS)] == list(HEADER_KEYS), list(meta)
    assert lines[-1].startswith("#close\t"), "a TSV log ends with #close"
    return meta, rows


def read_json(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
