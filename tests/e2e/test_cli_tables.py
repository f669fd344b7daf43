"""Listing commands on a terminal fit its width (``--wide`` shows every cell whole); piped, nothing is cut."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from helpers import REPO_ROOT, otsensor_argv, run_otsensor
from test_cli_progress import run_in_terminal

from sensor.render import ASSET_CSV_COLUMNS

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"
SCAN_SUMMARY = "rejected 8 different addresses from 192.168.66.235 as illegal within 60 s"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("tables") / "plant.db"
    assert run_otsensor("analyze", SAMPLE, "--db", db).returncode == 0
    return db


def lines(out: str) -> list[str]:
    return out.replace("\r\n", "\n").splitlines()


@pytest.mark.parametrize("command", ["assets", "alerts"])
def test_a_table_fits_an_80_column_terminal(command: str, analysed: Path) -> None:
    drawn = lines(run_in_terminal([*otsensor_argv(), command, "--db", str(analysed)], 80))
    assert len(drawn) >= 3 and max(map(len, drawn)) <= 80, drawn


def test_alerts_name_their_severity_and_wide_shows_every_cell(analysed: Path) -> None:
    wide = run_in_terminal([*otsensor_argv(), "alerts", "--db", str(analysed), "--wide"], 80)
    assert SCAN_SUMMARY in wide and "7 high" in wide
    assert max(map(len, lines(wide))) > 80


def test_piped_tables_keep_every_cell(analysed: Path) -> None:
    done = run_otsensor("alerts", "--db", analysed)
    assert SCAN_SUMMARY in done.stdout and "…" not in done.stdout


def test_asset_csv_has_flat_columns_and_iso_times(analysed: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run_otsensor("assets", "--db", analysed, "--format", "csv").stdout)))
    assert list(rows[0]) == ASSET_CSV_COLUMNS
    assert not any(cell.startswith(("{", "[")) for row in rows for cell in row.values())  # no JSON blobs
    plc = next(row for row in rows if row["ip"] == "166.161.16.230")
    assert plc["services"] == "modbus/tcp/502" and plc["first_seen"] == "2006-07-21T14:24:39Z"
    client = next(row for row in rows if row["ip"] == "192.168.66.235")
    assert int(client["points"]) > 0
