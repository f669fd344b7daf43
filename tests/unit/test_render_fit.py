"""Tables a person reads on a terminal: they fit its width, name severities, and agree with CSV on times."""
from __future__ import annotations

import csv
import io

import pytest

from sensor.render import render, severity_name

ALERTS = [
    {"ts": 1153491892.78, "severity": 7, "rule": "modbus.points_scan", "src": "192.168.66.235",
     "dst": "166.161.16.230", "summary": "166.161.16.230 rejected 8 different addresses from 192.168.66.235 as "
                                         "illegal within 60 s: a points scan; find out who runs it. (113 frames)"},
    {"ts": 1153491900.0, "severity": 10, "rule": "policy.level_skip", "src": "10.0.0.5", "dst": "10.0.1.7",
     "summary": "short"},
]
COLUMNS = ["ts", "severity", "rule", "src", "dst", "summary"]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_table_fits_the_width_it_is_given(width: int) -> None:
    lines = render(ALERTS, "table", COLUMNS, width).splitlines()
    assert max(map(len, lines)) <= width


def test_the_summary_wraps_and_addresses_stay_whole() -> None:
    lines = render(ALERTS, "table", COLUMNS, 80).splitlines()
    assert lines[2].startswith("7 high") and "  192.168.66.235  166.161.16.230  " in lines[2]
    column = lines[0].index("summary")
    wrapped = [line[column:] for line in lines[2:] if not line[:column].strip()]
    assert " ".join([lines[2][column:], *wrapped]) == ALERTS[0]["summary"]
    assert lines[-1] == "(not shown at this width: ts; --wide shows every column)"


def test_columns_the_rest_implies_are_left_out_first() -> None:
    header = render(ALERTS, "table", COLUMNS, 60).splitlines()[0]
    assert header.split() == ["severity", "rule", "src", "dst"]


def test_without_a_width_every_cell_is_whole() -> None:
    text = render(ALERTS, "table", COLUMNS)
    assert ALERTS[0]["summary"] in text and "…" not in text and "not shown" not in text


@pytest.mark.parametrize(("severity", "name"), [(0, "low"), (3, "low"), (4, "medium"), (6, "medium"), (7, "high"),
                                                (8, "high"), (9, "critical"), (10, "critical")])
def test_severity_is_named_by_cef_band(severity: int, name: str) -> None:
    assert severity_name(severity) == name
    table = render([{"severity": severity}], "table", ["severity"])
    assert table.splitlines()[2] == f"{severity} {name}"


def test_csv_writes_times_as_iso_utc_and_json_keeps_epoch_seconds() -> None:
    rows = list(csv.DictReader(io.StringIO(render(ALERTS, "csv", ["ts", "severity"]))))
    assert rows[0] == {"ts": "2006-07-21T14:24:52Z", "severity": "7"}
    assert '"ts": 1153491892.78' in render(ALERTS, "json")


def test_an_asset_service_only_its_port_names_says_so() -> None:
    services = [{"protocol": "modbus", "transport": "tcp", "port": 502},
                {"protocol": "tcp", "transport": "tcp", "port": 3389},
                {"protocol": "tcp", "transport": "tcp", "port": 40000}]
    (line,) = render([{"services": services}], "table", ["services"]).splitlines()[2:]
    assert line == "modbus/tcp/502, tcp/3389 (rdp), tcp/40000"
