"""The names in an X.509 certificate, from its DER (RFC 5280 §4.1, §4.2.1.6; X.690 DER), bounded.

Only what an inventory needs: the subject's and issuer's commonName (2.5.4.3) and organizationName (2.5.4.10),
and the subjectAltName dNSName entries. A minimal TLV walker, no crypto, no validation:

    Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer Name, validity,
                                  subject Name, subjectPublicKeyInfo, [1] [2] OPTIONAL, [3] extensions OPTIONAL }
    Name ::= SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value DirectoryString }
    GeneralName dNSName ::= [2] IMPLICIT IA5String
"""
from __future__ import annotations

from dataclasses import dataclass

from protocols.base import Malformed

OID_CN = bytes.fromhex("550403")  # 2.5.4.3 commonName
OID_O = bytes.fromhex("55040a")  # 2.5.4.10 organizationName
OID_SAN = bytes.fromhex("551d11")  # 2.5.29.17 subjectAltName
MAX_NAMES = 100  # dNSName entries kept per certificate (a CDN's certificate may list hundreds)
MAX_TEXT = 256  # characters kept of one name
SEQUENCE, SET, OID, OCTET_STRING, BOOLEAN = 0x30, 0x31, 0x06, 0x04, 0x01
_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be", 0x1C: "utf-32-be",
            0x1A: "ascii"}  # UTF8String, PrintableString, IA5String, TeletexString, BMPString, UniversalString,
# VisibleString


@dataclass(frozen=True, slots=True)
class CertificateNames:
    subject_cn: tuple[str, ...]
    subject_o: tuple[str, ...]
    issuer_cn: tuple[str, ...]
    issuer_o: tuple[str, ...]
    san_dns: tuple[str, ...]
    weird: str | None = None  # tls_too_many_names


def _tlv(der: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``; definite lengths only (DER)."""
    if pos + 2 > end:
        raise Malformed("tls_bad_certificate", pos, "element header overruns")
    tag, first = der[pos], der[pos + 1]
    if tag & 0x1F == 0x1F:
        raise Malformed("tls_bad_certificate", pos, "high tag numbers are not used in certificates")
    pos += 2
    if first < 0x80:
        size = first
    else:
        width = first & 0x7F
        if width == 0 or width > 4 or pos + width > end:
            raise Malformed("tls_bad_certificate", pos, "bad length")
        size = int.from_bytes(der[pos:pos + width], "big")
        pos += width
    if pos + size > end:
        raise Malformed("tls_bad_certificate", pos, f"{size}-octet element overruns")
    return tag, pos, pos + size


def _children(der: bytes, start: int, end: int):
    pos = start
    while pos < end:
        tag, body, after = _tlv(der, pos, end)
        yield tag, body, after
        pos = after


def _string(tag: int, data: bytes) -> str:
    text = data.decode(_STRINGS.get(tag, "latin-1"), "replace")
    return text[:MAX_TEXT]


def _name(der: bytes, start: int, end: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(commonNames, organizationNames) of a Name, in the order they appear."""
    cn: list[str] = []
    org: list[str] = []
    for tag, body, after in _children(der, start, end):
        if tag != SET:
            continue
        for atag, abody, aend in _children(der, body, after):
            if atag != SEQUENCE:
                continue
            parts = list(_children(der, abody, aend))
            if len(parts) < 2 or parts[0][0] != OID:
                continue
            oid = der[parts[0][1]:parts[0][2]]
            vtag, vbody, vend = parts[1]
            if oid == OID_CN and len(cn) < MAX_NAMES:
                cn.append(_string(vtag, der[vbody:vend]))
            elif oid == OID_O and len(org) < MAX_NAMES:
                org.append(_string(vtag, der[vbody:vend]))
    return tuple(cn), tuple(org)


def parse_certificate(der: bytes) -> CertificateNames:
    """The names of one DER certificate; Malformed("tls_bad_certificate") when it does not reach its subject."""
    end = len(der)
    tag, body, _ = _tlv(der, 0, end)
    if tag != SEQUENCE:
        raise Malformed("tls_bad_certificate", 0, "not a SEQUENCE")
    tag, tbs, tbs_end = _tlv(der, body, end)
    if tag != SEQUENCE:
        raise Malformed("tls_bad_certificate", body, "tbsCertificate is not a SEQUENCE")
    fields = list(_children(der, tbs, tbs_end))
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3]
    if len(fields) < 6 or fields[2][0] != SEQUENCE or fields[4][0] != SEQUENCE:
        raise Malformed("tls_bad_certificate", tbs, "tbsCertificate lacks issuer or subject")
    issuer_cn, issuer_o = _name(der, fields[2][1], fields[2][2])
    subject_cn, subject_o = _name(der, fields[4][1], fields[4][2])
    san: list[str] = []
    weird = None
    for tag, start, stop in fields[6:]:
        if tag == 0xA3:  # [3] EXPLICIT Extensions
            weird = _san(der, start, stop, san)
    return CertificateNames(subject_cn, subject_o, issuer_cn, issuer_o, tuple(san), weird)


def _san(der: bytes, start: int, end: int, out: list[str]) -> str | None:
    """Collect the dNSName entries of the subjectAltName extension; ``tls_too_many_names`` past MAX_NAMES."""
    tag, body, stop = _tlv(der, start, end)
    if tag != SEQUENCE:
        return None
    for etag, ebody, eend in _children(der, body, stop):
        if etag != SEQUENCE:
            continue
        parts = list(_children(der, ebody, eend))
        if not parts or parts[0][0] != OID or der[parts[0][1]:parts[0][2]] != OID_SAN:
            continue
        value = parts[-1]
        if value[0] != OCTET_STRING:
            continue
        gtag, gbody, gend = _tlv(der, value[1], value[2])
        if gtag != SEQUENCE:
            continue
        for ntag, nbody, nend in _children(der, gbody, gend):
            if ntag == 0x82:  # [2] IMPLICIT IA5String dNSName
                if len(out) >= MAX_NAMES:
                    return "tls_too_many_names"
                out.append(_string(0x16, der[nbody:nend]))
    return None


def distinguished(cn: tuple[str, ...], org: tuple[str, ...]) -> str | None:
    """A short readable form of a Name's CN and O (``CN=plc.example, O=Example``), or None without either."""
    parts = [f"CN={v}" for v in cn] + [f"O={v}" for v in org]
    return ", ".join(parts) if parts else None
