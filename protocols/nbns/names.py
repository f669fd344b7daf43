"""NetBIOS names (RFC 1001 §14.1): 16 octets (15 of name padded with spaces, then the suffix octet) spread over 32
letters, each the letter 'A' plus a half octet ("first-level encoding"), as the first label of a DNS-style name
whose further labels are the NetBIOS scope. Names are shown as Wireshark shows them: printable characters as they
are, others as ``<xx>``, trailing spaces removed, then the suffix as ``<xx>`` (``WORKGROUP<1e>``).
"""
from __future__ import annotations

from dataclasses import dataclass

from protocols.dns.wire import label_text

ENCODED = 32


@dataclass(frozen=True, slots=True)
class NetbiosName:
    """``name`` without the suffix as Wireshark shows it, ``bare`` without the padding (spaces, or the NULs some
    stacks pad with), ``suffix`` the sixteenth octet, ``scope`` the scope id or ''."""

    name: str
    bare: str
    suffix: int
    scope: str = ""

    @property
    def text(self) -> str:
        """``NAME<xx>`` with ``.scope`` when there is one, as Wireshark's nbns.name."""
        return f"{self.name}<{self.suffix:02x}>" + (f".{self.scope}" if self.scope else "")


def show(raw: bytes) -> str:
    """The first 15 octets of a NetBIOS name as text: printable as is, others ``<xx>``, trailing spaces dropped."""
    return "".join(chr(c) if 0x20 <= c <= 0x7E else f"<{c:02x}>" for c in raw).rstrip(" ")


def decode_label(label: bytes) -> bytes | None:
    """The 16 octets a first-level encoded label spells, None when it is not 32 letters A-P."""
    if len(label) != ENCODED or any(not 0x41 <= c <= 0x50 for c in label):
        return None
    return bytes(((label[i] - 0x41) << 4) | (label[i + 1] - 0x41) for i in range(0, ENCODED, 2))


def netbios_name(labels: tuple[bytes, ...]) -> NetbiosName | None:
    """The NetBIOS name of an encoded DNS-style name, None when its first label is not first-level encoded."""
    raw = decode_label(labels[0]) if labels else None
    if raw is None:
        return None
    return NetbiosName(show(raw[:15]), show(raw[:15].rstrip(b" \0")), raw[15], ".".join(label_text(x) for x in labels[1:]))


def plain_name(raw: bytes) -> NetbiosName:
    """A 16-octet name as a node status response lists it (not encoded)."""
    return NetbiosName(show(raw[:15]), show(raw[:15].rstrip(b" \0")), raw[15])
