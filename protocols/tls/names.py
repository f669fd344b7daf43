"""Which strings a sensor may take as a host's name: the DNS host name syntax (RFC 1123 §2.1, RFC 952), no
IP literal, no wildcard. Shared by the packages that learn names from the wire (TLS SNI and certificates,
the HTTP Host header)."""
from __future__ import annotations

import re

MAX_HOSTNAME = 253  # RFC 1035 §2.3.4, without the trailing dot
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")  # underscores: Windows and SRV-style names occur


def host_name(text: str | None) -> str | None:
    """``text`` as a host name (lower case, no trailing dot), or None when it is not one: empty, too long,
    an IPv4 or IPv6 literal, a wildcard (``*.example.com``), or a label outside letters, digits, '-', '_'."""
    if not text:
        return None
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > MAX_HOSTNAME:
        return None
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return None
    if all(label.isdigit() for label in labels):
        return None  # 10.1.2.3, or a bare number
    return name
