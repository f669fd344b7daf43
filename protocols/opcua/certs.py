"""The subject of an X.509 certificate (RFC 5280 §4.1), CN and O only, from its DER bytes.

OPC UA applications send their certificate in the clear in OPN (the asymmetric security header) and in
CreateSession; its subject names the application and its organisation. Only the fixed path
Certificate -> tbsCertificate -> subject is walked, each TLV checked against its parent's end, values
cut at MAX_VALUE characters. Anything unexpected gives {} (never an exception): this is a nicety, not
the message's framing.
"""
from __future__ import annotations

MAX_VALUE = 128
_SEQUENCE, _SET, _OID = 0x30, 0x31, 0x06
_ATTRIBUTES = {bytes([0x55, 0x04, 0x03]): "cn", bytes([0x55, 0x04, 0x0A]): "o"}  # 2.5.4.3, 2.5.4.10
_STRINGS = frozenset({0x0C, 0x13, 0x14, 0x16, 0x1E})  # UTF8String, PrintableString, T61, IA5, BMPString


def _tlv(der: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the TLV at ``pos``; ValueError when it does not fit in ``end``."""
    if pos + 2 > end:
        raise ValueError("short")
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise ValueError("length")
        size = int.from_bytes(der[pos:pos + count], "big")
        pos += count
    else:
        size = first
    if pos + size > end:
        raise ValueError("overrun")
    return tag, pos, pos + size


def subject(der: bytes) -> dict[str, str]:
    """{"cn": ..., "o": ...} as present; {} when the bytes are not a certificate this walk understands."""
    try:
        tag, start, end = _tlv(der, 0, len(der))  # Certificate
        if tag != _SEQUENCE:
            return {}
        tag, pos, tbs_end = _tlv(der, start, end)  # tbsCertificate
        if tag != _SEQUENCE:
            return {}
        fields = []
        while pos < tbs_end and len(fields) < 6:
            tag, value, after = _tlv(der, pos, tbs_end)
            fields.append((tag, value, after))
            pos = after
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        if len(fields) < 5 or fields[4][0] != _SEQUENCE:  # serial, signature, issuer, validity, subject
            return {}
        return _names(der, fields[4][1], fields[4][2])
    except ValueError:
        return {}


def _names(der: bytes, pos: int, end: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for _ in range(32):  # RelativeDistinguishedNames walked at most
        if pos >= end:
            break
        tag, rdn, pos = _tlv(der, pos, end)
        if tag != _SET:
            continue
        tag, attr, attr_end = _tlv(der, rdn, pos)
        if tag != _SEQUENCE:
            continue
        tag, oid, oid_end = _tlv(der, attr, attr_end)
        key = _ATTRIBUTES.get(der[oid:oid_end]) if tag == _OID else None
        if key is None or key in out:
            continue
        tag, value, value_end = _tlv(der, oid_end, attr_end)
        if tag in _STRINGS:
            raw = der[value:value_end]
            text = raw.decode("utf-16-be", "replace") if tag == 0x1E else raw.decode("utf-8", "replace")
            out[key] = text[:MAX_VALUE]
    return out
