"""A capture inside a zip archive or a gzip file is recognised when analysed again, as a plain file is."""
from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor

from sensor.capture.members import member_fingerprint, split_member

SAMPLE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"


def packets_per_asset(db: Path) -> dict[str, int]:
    listed = json.loads(run_otsensor("assets", "--db", db, "--format", "json").stdout)
    return {a["ip"]: a["packets"] for a in listed}


def zipped(tmp_path: Path) -> Path:
    archive = tmp_path / "evidence.pcap.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SAMPLE, "capture/part2.pcap")
        zf.writestr("README.txt", "not a capture")
    return archive


def gzipped(tmp_path: Path) -> Path:
    target = tmp_path / "part2.pcap.gz"
    target.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    return target


@pytest.mark.parametrize("make", [zipped, gzipped], ids=["zip", "gzip"])
def test_analysing_an_archive_again_counts_nothing_twice(make, tmp_path: Path) -> None:
    capture, db = make(tmp_path), tmp_path / "plant.db"
    first = run_otsensor("analyze", capture, "--db", db)
    assert first.returncode == 0 and first.stdout.startswith("files       1 analysed"), first.stderr
    once = packets_per_asset(db)
    again = run_otsensor("analyze", capture, "--db", db)
    assert again.returncode == 0 and again.stdout.startswith("files       0 analysed, 1 already in the database")
    assert packets_per_asset(db) == once == {"166.161.16.230": 350, "192.168.66.235": 350}


def test_a_member_fingerprint_follows_its_content(tmp_path: Path) -> None:
    archive = zipped(tmp_path)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:  # stored, not deflated: the same capture
        zf.write(SAMPLE, "renamed.pcap")
    name = f"{archive}:capture/part2.pcap"
    assert split_member(name) == (str(archive), "capture/part2.pcap")
    assert member_fingerprint(name) == member_fingerprint(f"{tmp_path / 'other.zip'}:renamed.pcap") is not None
    assert member_fingerprint(f"{archive}:README.txt") != member_fingerprint(name)
    assert member_fingerprint(f"{archive}:missing.pcap") is None and member_fingerprint("-") is None
