"""Zeek's ASCII (TSV) and JSON log formats: header, types, escaping, unset and empty values."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zeek_reader import read_json, read_tsv  # noqa: E402

from sensor.sinks.zeek.ascii import LogFile, escape, fields, time_text, tsv_value  # noqa: E402

SCHEMA = fields("ts:time uid:string n:count p:port h:addr ok:bool d:interval s:string "
                "tags:set[string] regs:vector[count]")


def test_header_is_zeeks_ascii_header(tmp_path):
    log = LogFile(str(tmp_path), "demo", SCHEMA)
    log.write([(1700000000.5, "Cabc", 1, 502, "10.0.0.1", True, 0.25, "x", ["a"], [1, 2])])
    log.close()
    lines = (tmp_path / "demo.log").read_text().splitlines()
    assert lines[:5] == ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
                         "#path\tdemo"]
    assert lines[5] == "#open\t2023-11-14-22-13-20"  # the first record's capture time, UTC
    assert lines[6] == "#fields\tts\tuid\tn\tp\th\tok\td\ts\ttags\tregs"
    assert lines[7] == "#types\ttime\tstring\tcount\tport\taddr\tbool\tinterval\tstring\tset[string]\tvector[count]"
    assert lines[8] == "1700000000.500000\tCabc\t1\t502\t10.0.0.1\tT\t0.250000\tx\ta\t1,2"
    assert lines[9] == "#close\t2023-11-14-22-13-20"
    assert len(lines) == 10


def test_no_record_no_file(tmp_path):
    log = LogFile(str(tmp_path), "quiet", SCHEMA)
    log.write([])
    log.close()
    assert not (tmp_path / "quiet.log").exists()  # Zeek creates a log with its first line


def test_unset_and_empty(tmp_path):
    log = LogFile(str(tmp_path), "demo", SCHEMA)
    log.write([(1.0, "C1", None, None, None, False, None, "", [], []),
               (2.0, "C2", 0, 0, "::1", None, 0.0, "-", None, None)])
    log.close()
    body = [line for line in (tmp_path / "demo.log").read_text().splitlines() if not line.startswith("#")]
    assert body[0] == "1.000000\tC1\t-\t-\t-\tF\t-\t(empty)\t(empty)\t(empty)"
    assert body[1] == "2.000000\tC2\t0\t0\t::1\t-\t0.000000\t\\x2d\t-\t-"  # a "-" string cannot read as unset
    _, rows = read_tsv(tmp_path / "demo.log")
    assert rows[0]["s"] == "" and rows[0]["tags"] == [] and rows[0]["n"] is None
    assert rows[1]["s"] == "-" and rows[1]["tags"] is None and rows[1]["h"] == "::1"


@pytest.mark.parametrize("text, written", [
    ("tab\there", "tab\\x09here"),
    ("new\nline", "new\\x0aline"),
    ("back\\slash", "back\\x5cslash"),
    ("nul\0", "nul\\x00"),
    ("del\x7f", "del\\x7f"),
    ("caf\u00e9", "caf\\xc3\\xa9"),  # non-ASCII: its UTF-8 bytes
    ("spaces and, commas", "spaces and, commas"),  # printable, and no container: as is
    ("", "(empty)"),
    ("-", "\\x2d"),
])
def test_string_escaping(text, written):
    assert escape(text) == written


def test_container_elements_escape_the_set_separator(tmp_path):
    assert tsv_value(["a,b", "c"], "set[string]") == "a\\x2cb,c"
    log = LogFile(str(tmp_path), "demo", SCHEMA)
    log.write([(1.0, "C\tx", 1, 2, "10.0.0.1", True, 1.0, "caf\u00e9\n", ["a,b", "-", "\t"], [65535, 0])])
    log.close()
    _, rows = read_tsv(tmp_path / "demo.log")
    assert rows == [{"ts": 1.0, "uid": "C\tx", "n": 1, "p": 2, "h": "10.0.0.1", "ok": True, "d": 1.0,
                     "s": "caf\u00e9\n", "tags": ["a,b", "-", "\t"], "regs": [65535, 0]}]


def test_times_have_six_decimals_rounded_half_to_even():
    assert time_text(1595660608.2379284) == "1595660608.237928"
    assert time_text(0.0000005) == "0.000000"  # 0.5 us: half to even, as numpy rounds the batches
    assert time_text(0.0000015) == "0.000002"
    assert time_text(12.0) == "12.000000"


def test_json_lines(tmp_path):
    log = LogFile(str(tmp_path), "demo", SCHEMA, "json")
    log.write([(1700000000.5, "C\"1", 1, 502, "10.0.0.1", False, 0.25, "caf\u00e9\t", ["a", "b,c"], [1]),
               (2.0, "C2", None, None, None, None, None, "", [], None)])
    log.close()
    text = (tmp_path / "demo.log").read_text()
    assert not text.startswith("#")  # Zeek's JSON writer has no header
    first, second = read_json(tmp_path / "demo.log")
    assert first == {"ts": 1700000000.5, "uid": "C\"1", "n": 1, "p": 502, "h": "10.0.0.1", "ok": False, "d": 0.25,
                     "s": "caf\u00e9\t", "tags": ["a", "b,c"], "regs": [1]}
    assert second == {"ts": 2.0, "uid": "C2", "s": "", "tags": []}  # unset fields are left out
    assert list(json.loads(text.splitlines()[0])) == [f.name for f in SCHEMA]  # Zeek's field order


def test_lines_that_begin_with_their_newline(tmp_path):
    """The batch writers put each line's newline first; the file drops the first and ends the last."""
    log = LogFile(str(tmp_path), "demo", fields("ts:time n:count"))
    log.write_text("\n1.000000\t1\n2.000000\t2", 2, 1.0, 2.0, leading_newline=True)
    log.write_text("\n3.000000\t3", 1, 3.0, 3.0, leading_newline=True)
    log.write([(4.0, 4)])  # a whole line after them
    log.write_text("\n5.000000\t5", 1, 5.0, 5.0, leading_newline=True)
    log.close()
    _, rows = read_tsv(tmp_path / "demo.log")
    assert [r["n"] for r in rows] == [1, 2, 3, 4, 5]
    assert log.lines == 5


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="tsv, json"):
        LogFile(str(tmp_path), "demo", SCHEMA, "csv")
