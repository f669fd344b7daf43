"""The workers' Zeek logs merged into one set (sensor.sinks.zeek.parts): lines by time, one header, the earliest
#open and the latest #close, JSON as well as TSV, and no part folder left, even when a merge fails."""
from __future__ import annotations

from pathlib import Path

import pytest

from sensor.sinks.zeek.ascii import JSON, TSV, LogFile, fields
from sensor.sinks.zeek.parts import merge_parts, part_folder

SCHEMA = fields("ts:time uid:string n:count")


def write_part(folder: Path, k: int, records: list[tuple], fmt: str) -> str:
    part = part_folder(str(folder), k)
    Path(part).mkdir(exist_ok=True)
    log = LogFile(part, "demo", SCHEMA, fmt)
    log.write(records)
    log.close()
    return part


@pytest.mark.parametrize("fmt", [TSV, JSON])
def test_parts_merge_by_time_into_one_log(tmp_path: Path, fmt: str) -> None:
    a = [(1.0, "Ca", 1), (3.0, "Cc", 3), (5.5, "Ce", 5)]
    b = [(2.0, "Cb", 2), (4.0, "Cd", 4), (86400.0 * 365, "Cz", 9)]
    parts = [write_part(tmp_path, 0, a, fmt), write_part(tmp_path, 1, b, fmt)]
    one = LogFile(str(tmp_path / "one"), "demo", SCHEMA, fmt)
    (tmp_path / "one").mkdir()
    one.write(sorted(a + b))
    one.close()

    merge_parts(str(tmp_path), parts, fmt)

    assert (tmp_path / "demo.log").read_text() == (tmp_path / "one" / "demo.log").read_text()
    assert not any(p.name.startswith(".part") for p in tmp_path.iterdir())


def test_a_log_only_one_worker_wrote_is_that_workers_and_parts_go_even_on_failure(tmp_path: Path) -> None:
    only = write_part(tmp_path, 0, [(7.0, "Cq", 1)], TSV)
    empty = part_folder(str(tmp_path), 1)
    Path(empty).mkdir()
    merge_parts(str(tmp_path), [only, empty], TSV)
    lines = (tmp_path / "demo.log").read_text().splitlines()
    assert [line for line in lines if not line.startswith("#")] == ["7.000000\tCq\t1"]

    broken = write_part(tmp_path, 2, [(1.0, "Cx", 1)], TSV)
    (Path(broken) / "demo.log").write_text("not a time\tCx\t1\n")
    with pytest.raises(ValueError):
        merge_parts(str(tmp_path), [broken], TSV)
    assert not Path(broken).exists()
