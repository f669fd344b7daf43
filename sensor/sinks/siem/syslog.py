"""RFC 5424 syslog messages and RFC 6587/5425 octet-counting framing.

Message (RFC 5424 §6)::

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
    PRI = facility * 8 + severity; TIMESTAMP = 2026-01-05T08:05:00.000Z (UTC, milliseconds);
    no STRUCTURED-DATA ("-"): everything is in MSG (CEF, LEEF or ECS JSON).

Header fields are PRINTUSASCII (33..126) with RFC lengths (HOSTNAME 255, APP-NAME 48, PROCID 128,
MSGID 32): other characters become ``_``, an empty field becomes the NILVALUE ``-``.

BOM (§6.4): MSG is UTF-8. An ASCII-only MSG is sent without a BOM: it is then also a valid MSG-ANY and
CEF/LEEF parsers that expect ``CEF:``/``LEEF:`` first see exactly that. A MSG with any non-ASCII character
is MSG-UTF8 and starts with the BOM (EF BB BF), which RFC 5424 requires for UTF-8 text.

Framing on a stream (TCP, TLS; RFC 6587 §3.4.1, RFC 5425 §4.3): ``MSG-LEN SP SYSLOG-MSG``, the length in
octets, so line breaks inside a message can never split it. UDP (RFC 5426) sends one message per datagram
with no framing.

Severity: the alert's 0-10 (CEF scale) maps to syslog severity by SEVERITY_TABLE.
"""
from __future__ import annotations

from typing import Any

from sensor.sinks.siem.common import iso_ms, severity_of

BOM = b"\xef\xbb\xbf"
NIL = "-"

FACILITY_LOCAL0 = 16
DEFAULT_FACILITY = FACILITY_LOCAL0

# (lowest alert severity, syslog severity, syslog name): first row whose bound the severity reaches.
SEVERITY_TABLE: tuple[tuple[int, int, str], ...] = (
    (9, 2, "critical"),   # CEF 9-10 "Very-High"
    (7, 3, "error"),      # CEF 7-8 "High"
    (4, 4, "warning"),    # CEF 4-6 "Medium"
    (1, 5, "notice"),     # CEF 1-3 "Low"
    (0, 6, "informational"),  # 0: unknown / informational, and inventory (asset) records
)
ASSET_SEVERITY = 6


def syslog_severity(alert_severity: Any) -> int:
    """Syslog severity (0 emergency .. 7 debug) for an alert severity 0-10; never 0 or 1, which mean the
    sending system itself is unusable."""
    level = severity_of(alert_severity)
    return next(code for bound, code, _ in SEVERITY_TABLE if level >= bound)


def _field(value: Any, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most ``limit`` characters, ``-`` when empty."""
    text = "".join(c if 33 <= ord(c) <= 126 else "_" for c in str(value or ""))[:limit]
    return text or NIL


def frame_5424(msg: str, app_name: str, hostname: str, severity: int, facility: int, msgid: str, ts: Any,
               procid: str = NIL) -> bytes:
    """One RFC 5424 message as bytes (no transport framing)."""
    if not 0 <= severity <= 7:
        raise ValueError(f"syslog severity {severity} is outside 0..7")
    if not 0 <= facility <= 23:
        raise ValueError(f"syslog facility {facility} is outside 0..23")
    stamp = iso_ms(ts) or NIL
    header = (f"<{facility * 8 + severity}>1 {stamp} {_field(hostname, 255)} {_field(app_name, 48)} "
              f"{_field(procid, 128)} {_field(msgid, 32)} - ")
    body = msg.encode("utf-8", "replace")  # a lone surrogate (never valid UTF-8) becomes "?"
    if not msg.isascii():
        body = BOM + body
    return header.encode("ascii") + body


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 §3.4.1 / RFC 5425 §4.3 octet counting: ``LEN SP MSG``."""
    return b"%d " % len(message) + message


def parse_octet_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """The complete frames in ``data`` and the unconsumed rest (for tests and receivers)."""
    out, pos = [], 0
    while True:
        space = data.find(b" ", pos)
        if space < 0 or space - pos > 10:
            break
        digits = data[pos:space]
        if not digits.isdigit():
            raise ValueError(f"bad octet count {digits[:16]!r} at {pos}")
        end = space + 1 + int(digits)
        if end > len(data):
            break
        out.append(data[space + 1:end])
        pos = end
    return out, data[pos:]
