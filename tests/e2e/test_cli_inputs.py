"""Inputs that cannot be analysed are named, with why; when none can be, nothing is created and the exit is 2."""
from __future__ import annotations

import shutil
from pathlib import Path

from helpers import REPO_ROOT, run_otsensor

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"


def test_a_missing_input_creates_no_database(tmp_path: Path) -> None:
    done = run_otsensor("analyze", tmp_path / "typo.pcap", "--db", tmp_path / "plant.db")
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path / 'typo.pcap'}: cannot open: No such file or directory\n"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_without_captures_names_what_it_skipped_and_fails(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "notes.txt").write_text("chain of custody\n")
    done = run_otsensor("analyze", folder, "--db", tmp_path / "plant.db")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"note: skipped 1 file(s) that are not pcap, pcapng, gzip or zip captures: {folder / 'notes.txt'} "
        "(magic 0x63686169)",
        f"error: no capture in {folder}: nothing analysed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


def test_skipped_files_beside_a_capture_are_named_and_the_capture_analysed(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    shutil.copyfile(SAMPLE, folder / "a.pcap")
    (folder / "labels.csv").write_text("frame;label\n")
    done = run_otsensor("analyze", folder, "--db", tmp_path / "plant.db")
    assert done.returncode == 0 and done.stdout.startswith("files       1 analysed")
    assert f"{folder / 'labels.csv'} (magic 0x6672616d)" in done.stderr
