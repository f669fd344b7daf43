"""Host names as DHCP carries them: plain text (option 12) or DNS wire format (RFC 4702 §2.3, RFC 4704 §4.2),
and whether a name is fit to name an asset. DHCPv6 reads its client FQDN with the same functions."""
from __future__ import annotations

from protocols.dhcp.codes import MAX_NAME

MAX_LABELS = 128  # a 255-octet name has at most 127 one-octet labels


def text(raw: bytes) -> str:
    """A string option up to its first NUL (clients pad names with NULs; tshark reads them the same way)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def wire_name(raw: bytes) -> str | None:
    """Labels in DNS wire format (RFC 1035 §3.1) without compression, which both RFCs forbid; a partial name
    lacks the final empty label. None when a label runs past the data or is a compression pointer."""
    labels: list[str] = []
    pos = 0
    while pos < len(raw) and len(labels) < MAX_LABELS:
        size = raw[pos]
        if size == 0:
            break
        if size > 63 or pos + 1 + size > len(raw):
            return None
        labels.append(raw[pos + 1:pos + 1 + size].decode("utf-8", "replace"))
        pos += 1 + size
    return ".".join(labels)


def valid_hostname(name: str) -> bool:
    """Letters, digits, hyphens and underscores in dot-separated labels of 1-63 octets, at most 255 in all (a
    trailing dot allowed). Underscores and a leading digit are common in DHCP host names, so they pass; spaces,
    control characters and punctuation (format strings, injected markup) do not."""
    name = name[:-1] if name.endswith(".") else name
    if not 0 < len(name) <= MAX_NAME:
        return False
    for label in name.split("."):
        if not 0 < len(label) <= 63 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in label):
            return False
    return True
