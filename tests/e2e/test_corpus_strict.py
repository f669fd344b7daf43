"""Every capture in the corpus, all protocols, is analysed with --strict without an unexpected exception,
and the sensor counts exactly the packets capinfos counts.

Files run in batches (one otsensor start-up per batch); when a batch fails, each of its files runs alone so
the failure names the file. The zipped QUT captures (~50 MB each unpacked) are marked slow:
`pytest -m "not slow"` leaves them out.
"""
from __future__ import annotations

import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import captures_dir

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
BATCH = 25
CORPUS = captures_dir()


def corpus_files() -> tuple[list[Path], list[Path]]:
    if not CORPUS.is_dir():
        return [], []
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    return [p for p in files if p.suffix in CAPTURE_SUFFIXES], [p for p in files if p.suffix == ".zip"]


PLAIN, ZIPPED = corpus_files()
BATCHES = [PLAIN[i:i + BATCH] for i in range(0, len(PLAIN), BATCH)]


def batch_id(batch: list[Path]) -> str:
    return f"{batch[0].relative_to(CORPUS)}..{batch[-1].relative_to(CORPUS)}({len(batch)})"


def capinfos_counts(paths: list[Path]) -> dict[Path, int]:
    """Packet count per file, from capinfos (independent of the sensor's readers)."""
    out = subprocess.run(["capinfos", "-T", "-M", "-r", "-c", *map(str, paths)], capture_output=True, text=True)
    counts = {}
    for line in out.stdout.splitlines():
        name, _, count = line.rpartition("\t")
        counts[Path(name)] = int(count)
    missing = [p for p in paths if p not in counts]
    assert not missing, f"capinfos could not count {missing}: {out.stderr[-1000:]}"
    return counts


def summary_packets(stdout: str) -> int | None:
    m = re.search(r"^packets\s+([\d,]+)\s*$", stdout, re.MULTILINE)
    return int(m.group(1).replace(",", "")) if m else None


def analyse(otsensor: Callable, paths: list[Path], db: Path) -> str | None:
    """None when the run is clean and counts match capinfos; otherwise what went wrong."""
    proc = otsensor("analyze", *paths, "--strict", "--no-progress", "--db", db)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"
    expected = sum(capinfos_counts(paths).values())
    got = summary_packets(proc.stdout)
    if got != expected:
        return f"summary packets {got}, capinfos {expected}"
    return None


def check(otsensor: Callable, paths: list[Path], tmp: Path) -> None:
    if analyse(otsensor, paths, tmp / "batch.db") is None:
        return
    failures = {}
    for i, p in enumerate(paths):
        problem = analyse(otsensor, [p], tmp / f"one{i}.db")
        if problem:
            failures[str(p.relative_to(CORPUS))] = problem
    assert failures, "the batch failed but every file passes alone: look for cross-file state"
    pytest.fail(f"{len(failures)} of {len(paths)} files fail:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items()),
                pytrace=False)


@pytest.mark.parametrize("batch", BATCHES or [pytest.param([], marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))],
                         ids=batch_id if BATCHES else None)
def test_corpus_batch_strict(batch: list[Path], corpus: Path, otsensor: Callable, tmp_path: Path) -> None:
    check(otsensor, batch, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("archive", ZIPPED or [pytest.param(None, marks=pytest.mark.skip(reason="no zipped captures"))],
                         ids=lambda p: p.name if isinstance(p, Path) else "none")
def test_zipped_capture_strict(archive: Path, corpus: Path, otsensor: Callable, tmp_path: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.endswith(CAPTURE_SUFFIXES)]
        assert members, f"{archive.name} holds no capture"
        zf.extractall(tmp_path / "unzipped", members)
    check(otsensor, [tmp_path / "unzipped" / m for m in members], tmp_path)


def test_a_file_that_is_not_a_capture_exits_2_and_the_rest_is_analysed(corpus: Path, otsensor: Callable,
                                                                       tmp_path: Path) -> None:
    good = sorted((corpus / "modbus").glob("*.pcap"))[0]
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("this is not a capture\n")
    proc = otsensor("analyze", bogus, good, "--strict", "--no-progress", "--db", tmp_path / "x.db")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-1500:])
    assert summary_packets(proc.stdout) == capinfos_counts([good])[good]
