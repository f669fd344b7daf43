"""Small, strict CEF and LEEF parsers, written from the specs, to read our records back in the tests.

Strict on purpose: an escape the spec does not define, or a bare ``|`` in a header field, is an error,
so a formatter bug cannot hide behind a lenient parser.
"""
from __future__ import annotations

_CEF_VALUE_ESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}
_LEEF_VALUE_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class ParseError(ValueError):
    pass


def _header(text: str, fields: int) -> tuple[list[str], str]:
    """Split ``fields`` pipe-terminated header fields (``\\|`` and ``\\\\`` escaped); return them and the rest."""
    out, current, i = [], [], 0
    while len(out) < fields:
        if i >= len(text):
            raise ParseError(f"header ends after {len(out)} fields")
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\|":
                raise ParseError(f"bad header escape at {i}: {text[i:i + 2]!r}")
            current.append(text[i + 1])
            i += 2
            continue
        if c == "|":
            out.append("".join(current))
            current = []
        elif c in "\r\n":
            raise ParseError("line break in the header")
        else:
            current.append(c)
        i += 1
    return out, text[i:]


def _unescape(raw: str, table: dict[str, str]) -> str:
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            if i + 1 >= len(raw) or raw[i + 1] not in table:
                raise ParseError(f"bad value escape {raw[i:i + 2]!r}")
            out.append(table[raw[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """``CEF:0|...`` -> ([version, vendor, product, device version, class id, name, severity], extension)."""
    if not line.startswith("CEF:"):
        raise ParseError("not CEF")
    header, rest = _header(line[4:], 7)
    if any(c in rest for c in "\r\n"):
        raise ParseError("raw line break in the extension")
    # Every unescaped "=" ends a key; the key is the word right before it.
    equals, i = [], 0
    while i < len(rest):
        if rest[i] == "\\":
            i += 2
            continue
        if rest[i] == "=":
            equals.append(i)
        i += 1
    keys = []
    for eq in equals:
        start = rest.rfind(" ", 0, eq) + 1
        key = rest[start:eq]
        if not key or not key.replace("_", "").replace(".", "").isalnum():
            raise ParseError(f"bad key {key!r}")
        keys.append((start, eq, key))
    ext: dict[str, str] = {}
    for n, (start, eq, key) in enumerate(keys):
        if n == 0 and start != 0:
            raise ParseError("text before the first key")
        end = keys[n + 1][0] - 1 if n + 1 < len(keys) else len(rest)
        if n + 1 < len(keys) and rest[end] != " ":
            raise ParseError("keys not separated by a space")
        if key in ext:
            raise ParseError(f"duplicate key {key}")
        ext[key] = _unescape(rest[eq + 1:end], _CEF_VALUE_ESCAPES)
    return header, ext


def parse_leef(line: str) -> tuple[list[str], dict[str, str]]:
    """``LEEF:2.0|...`` -> ([version, vendor, product, version, event id, delimiter], attributes)."""
    if not line.startswith("LEEF:"):
        raise ParseError("not LEEF")
    header, rest = _header(line[5:], 6)
    declared = header[5]
    if declared.lower().startswith(("0x", "x")):
        delimiter = chr(int(declared.lower().split("x", 1)[1], 16))
    elif len(declared) == 1:
        delimiter = declared
    else:
        raise ParseError(f"bad delimiter {declared!r}")
    if any(c in rest for c in "\r\n"):
        raise ParseError("raw line break in the attributes")
    attributes: dict[str, str] = {}
    for pair in rest.split(delimiter) if rest else []:
        key, sep, value = pair.partition("=")
        if not sep or not key.isalnum():
            raise ParseError(f"bad attribute {pair[:40]!r}")
        if key in attributes:
            raise ParseError(f"duplicate key {key}")
        attributes[key] = _unescape(value, _LEEF_VALUE_ESCAPES)
    return header, attributes
