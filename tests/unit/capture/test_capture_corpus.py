"""The readers against Wireshark's own tools on every capture of the shared public corpus.

capinfos (one call for the whole corpus) checks which files are captures, frame counts and
link types of all of them; tshark checks every frame's timestamp and lengths on a sample (the
smallest and largest file of each format and link type); the zipped QUT captures are read
from the archive and compared with the unpacked file, capinfos, and tshark's first and last frame.
"""
from __future__ import annotations

import os
import subprocess
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sensor.capture import CaptureError
from sensor.capture.source import CaptureInput, open_inputs, sniff

# capinfos -E names (Wireshark encapsulations) of the link types the corpus holds.
ENCAP_LINKTYPE = {"null": 0, "ether": 1, "arcnet": 7, "rawip4": 228, "linux-sll": 113, "bacnet-ms-tp": 165}


@dataclass
class Read:
    ok: bool  # False: CaptureError (not a capture)
    frames: int
    ts: np.ndarray
    caplen: np.ndarray
    wirelen: np.ndarray
    linktypes: set[int]
    warnings: list[str]


def read_all(inp: CaptureInput) -> Read:
    """Every frame of one input, as columns."""
    cols: dict[str, list[np.ndarray]] = {"ts": [], "caplen": [], "wirelen": [], "linktype": []}
    ok = True
    try:
        for b in inp.batches():
            assert (b.offset + b.caplen <= len(b.data)).all()
            for col, parts in cols.items():
                parts.append(getattr(b, col))
    except CaptureError:
        ok = False
    cat = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in cols.items()}
    return Read(ok, len(cat["ts"]), cat["ts"], cat["caplen"], cat["wirelen"], set(cat["linktype"].tolist()),
                list(inp.warnings))


def read_path(name: str) -> Read:
    (inp,) = open_inputs([name])
    return read_all(inp)


def tool(*argv: str) -> str:
    """Run one of Wireshark's command-line tools; its stdout."""
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300).stdout


def all_files(corpus: Path) -> list[str]:
    return sorted(str(p) for p in corpus.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def ours(corpus: Path) -> dict[str, Read]:
    return {name: read_path(name) for name in all_files(corpus) if not name.endswith(".zip")}


@pytest.fixture(scope="module")
def capinfos(corpus: Path) -> dict[str, tuple[str, int]]:
    """capinfos' view of every file it can read: (encapsulation, frame count)."""
    # Exit status 2 is expected: some corpus files (MANIFEST.md, label CSVs) are not captures.
    out = subprocess.run(["capinfos", "-T", "-r", "-E", "-c", *all_files(corpus)], check=False,
                         capture_output=True, text=True, timeout=300)
    table = {}
    for line in out.stdout.splitlines():
        name, encap, count = line.split("\t")
        table[name] = (encap, int(count))
    return table


def test_same_files_are_captures(ours: dict[str, Read], capinfos: dict[str, tuple[str, int]]) -> None:
    # capinfos calls an empty file an empty ERF capture; for us an empty file is not a capture.
    theirs = {n for n, (encap, count) in capinfos.items() if not (encap == "erf" and count == 0)}
    mine = {n for n, r in ours.items() if r.ok}
    assert mine == theirs and len(mine) > 0


def test_frame_counts_and_link_types_match_capinfos(ours: dict[str, Read],
                                                    capinfos: dict[str, tuple[str, int]]) -> None:
    wrong = []
    for name, read in ours.items():
        if not read.ok:
            continue
        encap, count = capinfos[name]
        if read.frames != count or read.linktypes != {ENCAP_LINKTYPE[encap]}:
            wrong.append((name, read.frames, count, read.linktypes, encap))
    assert wrong == []


def test_corpus_reads_without_warnings(ours: dict[str, Read]) -> None:
    assert {n: r.warnings for n, r in ours.items() if r.warnings} == {}


def tshark_frames(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    out = tool("tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
               "-e", "frame.cap_len", "-e", "frame.len")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    epochs = [r[1] for r in rows]
    return (np.array([float(e) for e in epochs]), np.array([int(r[2]) for r in rows]),
            np.array([int(r[3]) for r in rows]), epochs)


# Worth a full comparison whatever the sampling rule: a record whose microsecond field is negative.
ALWAYS = ("it/malcolm_DHCP.pcap",)


def sample(corpus: Path) -> list[str]:
    """The smallest and largest file of each (format, link types) pair, and ALWAYS."""
    groups: dict[tuple[str, frozenset[int]], list[tuple[int, str]]] = defaultdict(list)
    for name in all_files(corpus):
        with open(name, "rb") as f:
            kind = sniff(f.read(4))
        if kind not in ("pcap", "pcapng"):
            continue
        size = os.path.getsize(name)
        (inp,) = open_inputs([name])
        lts = frozenset(int(x) for b in inp.batches() for x in set(b.linktype.tolist()))
        groups[(kind, lts)].append((size, name))
    picked = {name for members in groups.values() for _size, name in (min(members), max(members))}
    picked |= {str(corpus / rel) for rel in ALWAYS if (corpus / rel).is_file()}
    return sorted(picked)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sampled" in metafunc.fixturenames:
        from helpers import captures_dir

        root = captures_dir()
        names = sample(root) if root.is_dir() else ["(corpus absent)"]
        metafunc.parametrize("sampled", names, ids=[os.path.relpath(n, root) for n in names])


def test_every_frame_matches_tshark(corpus: Path, sampled: str) -> None:
    mine = read_path(sampled)
    ts, cap, wire, epochs = tshark_frames(sampled)
    assert mine.frames == len(ts) and mine.warnings == []
    assert np.array_equal(mine.caplen, cap) and np.array_equal(mine.wirelen, wire)
    # tshark prints a negative sub-second part (a time-shifted record in malcolm_DHCP.pcap) as
    # "-SECONDS.FRACTION"; those rows are checked in the unit tests instead.
    plain = np.array([not e.startswith("-") for e in epochs], dtype=bool)
    assert np.abs(mine.ts[plain] - ts[plain]).max(initial=0) < 1e-6
    assert mine.ts[0] == pytest.approx(ts[0], abs=1e-6) and mine.ts[-1] == pytest.approx(ts[-1], abs=1e-6)


@pytest.mark.slow
def test_zip_members_match_the_unpacked_files(corpus: Path, tmp_path: Path) -> None:
    archives = sorted(corpus.rglob("*.zip"))
    assert archives, "the corpus has zipped captures"
    for archive in archives:
        inputs = list(open_inputs([str(archive)]))
        with zipfile.ZipFile(archive) as zf:
            members = [i.filename for i in zf.infolist() if not i.is_dir()]
            assert [i.name for i in inputs] == [f"{archive}:{m}" for m in members]
            for inp, member in zip(inputs, members):
                unpacked = Path(zf.extract(member, tmp_path / archive.name))
                streamed = read_all(inp)
                direct = read_path(str(unpacked))
                assert streamed.warnings == direct.warnings == []
                assert np.array_equal(streamed.ts, direct.ts) and np.array_equal(streamed.caplen, direct.caplen)
                count = tool("capinfos", "-T", "-r", "-c", str(unpacked)).split("\t")[-1]
                assert streamed.frames == int(count)
                # First and last frame against tshark, without dissecting the 300k in between.
                last = tmp_path / "last.pcap"
                tool("editcap", "-F", "pcap", "-r", str(unpacked), str(last), str(streamed.frames))
                first_ts, first_cap, first_wire, _ = tshark_frames_head(str(unpacked))
                last_ts, last_cap, last_wire, _ = tshark_frames(str(last))
                assert (streamed.ts[0], streamed.caplen[0], streamed.wirelen[0]) == (
                    pytest.approx(first_ts, abs=1e-6), first_cap, first_wire)
                assert (streamed.ts[-1], streamed.caplen[-1], streamed.wirelen[-1]) == (
                    pytest.approx(last_ts[0], abs=1e-6), last_cap[0], last_wire[0])
                unpacked.unlink()


def tshark_frames_head(path: str) -> tuple[float, int, int, str]:
    out = tool("tshark", "-n", "-r", path, "-c", "1", "-T", "fields", "-e", "frame.time_epoch",
               "-e", "frame.cap_len", "-e", "frame.len")
    epoch, cap, wire = out.split()
    return float(epoch), int(cap), int(wire), epoch
