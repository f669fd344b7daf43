"""RFC 5424 messages, PRI, BOM rule, octet-counting framing and the severity table."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.sinks.siem.syslog import (
    BOM,
    SEVERITY_TABLE,
    frame_5424,
    octet_frame,
    parse_octet_frames,
    syslog_severity,
)

HEADER = re.compile(rb"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) - ")


def test_message_layout_and_pri() -> None:
    msg = frame_5424("CEF:0|x", "otsensor", "sensor-1", 4, 16, "alert", 1767600300.4055)
    assert msg == b"<132>1 2026-01-05T08:05:00.405Z sensor-1 otsensor - alert - CEF:0|x"


@pytest.mark.parametrize("facility, severity, pri", [(0, 0, 0), (16, 2, 130), (23, 7, 191), (4, 6, 38)])
def test_pri(facility: int, severity: int, pri: int) -> None:
    assert frame_5424("m", "a", "h", severity, facility, "id", 0).startswith(b"<%d>1 " % pri)


def test_pri_out_of_range() -> None:
    with pytest.raises(ValueError):
        frame_5424("m", "a", "h", 8, 16, "id", 0)
    with pytest.raises(ValueError):
        frame_5424("m", "a", "h", 3, 24, "id", 0)


def test_header_fields_are_printable_ascii_and_bounded() -> None:
    msg = frame_5424("body", "app name ☃" * 10, "host\tname", 5, 16, "", None, procid="")
    fields = HEADER.match(msg)
    assert fields is not None
    assert fields.group(2) == b"-"  # no time: NILVALUE
    assert fields.group(3) == b"host_name"
    assert len(fields.group(4)) == 48 and b" " not in fields.group(4)
    assert fields.group(5) == b"-" and fields.group(6) == b"-"


def test_bom_only_for_non_ascii() -> None:
    ascii_msg = frame_5424("CEF:0|plain", "a", "h", 5, 16, "alert", 0)
    assert BOM not in ascii_msg and ascii_msg.endswith(b"- CEF:0|plain")
    utf8 = frame_5424("CEF:0|ünï ☃", "a", "h", 5, 16, "alert", 0)
    assert utf8.endswith(b"- " + BOM + "CEF:0|ünï ☃".encode())
    assert frame_5424("\ud800", "a", "h", 5, 16, "x", 0).endswith(BOM + b"?")  # never invalid UTF-8


def test_octet_framing() -> None:
    assert octet_frame(b"abc") == b"3 abc"
    assert octet_frame("é\n".encode()) == b"3 \xc3\xa9\n"  # octets, not characters; line breaks are data
    frames, rest = parse_octet_frames(b"3 abc5 hello2 x")
    assert frames == [b"abc", b"hello"] and rest == b"2 x"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(min_value=0, max_value=40))
def test_octet_framing_round_trip(messages: list[bytes], cut: int) -> None:
    stream = b"".join(octet_frame(m) for m in messages)
    frames, rest = parse_octet_frames(stream)
    assert frames == messages and rest == b""
    frames, rest = parse_octet_frames(stream[:max(0, len(stream) - cut)])
    assert frames == messages[:len(frames)]


def test_severity_table() -> None:
    expected = {0: 6, 1: 5, 2: 5, 3: 5, 4: 4, 5: 4, 6: 4, 7: 3, 8: 3, 9: 2, 10: 2}
    assert {s: syslog_severity(s) for s in range(11)} == expected
    assert syslog_severity(None) == 6 and syslog_severity(99) == 2 and syslog_severity(-3) == 6
    assert [row[1] for row in SEVERITY_TABLE] == sorted(row[1] for row in SEVERITY_TABLE)
