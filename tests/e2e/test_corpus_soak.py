"""Soak: every corpus capture, and fixed-seed mutations of each, through the whole pipeline in strict mode.

Each capture runs as it is, then its first PREFIX frames (read with the project's own reader, so zip,
gzip and pcapng inputs all come out as frames) are written as classic pcap files, one per link type,
and mutated at the record level:

- ``flip``: bits flipped in frame bytes (half of them in the first 64 bytes of a frame, where the headers
  are); record headers and the file header are left alone;
- ``cut``: the file truncated at a random byte after the file header;
- ``dup``: records repeated, right after themselves or somewhere later (out of time order);
- ``mix``: ``dup``, then many more flips;
- ``caplen``: one record header whose caplen is absurd while its bytes are not there (the reader stops);
- ``oversized``: one record really over MAX_CAPLEN, bytes and all (the reader skips it and goes on).

Every run is ``Pipeline(Store in tmp_path, Options(strict=True))``: an exception fails the test, and so does
a run longer than its time guard (SIGALRM), which catches hangs. Seeds are strings naming the capture, the
mutation and its number, so a case is rebuilt from its seed alone (``rebuild``); failures are
collected per capture and reported with the seed, the traceback and the mutated file (kept in tmp_path).

The whole soak is sized for about 3 minutes on the 2-core project machine (see PREFIX and MUTATIONS).
"""
from __future__ import annotations

import hashlib
import io
import math
import random
import signal
import struct
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import captures_dir

from sensor.capture import CaptureError
from sensor.capture.chunks import MAX_CAPLEN
from sensor.capture.source import open_inputs
from sensor.detect.engine import Detector
from sensor.detect.signatures import Signatures
from sensor.pipeline import Options, Pipeline, Summary
from sensor.store import Store

CORPUS = captures_dir()
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".zip", ".gz")
SEED = "otsensor-soak-1"
PREFIX = 2000  # frames of each capture that are mutated: bounds the cost of big captures
# Time guards (seconds): generous against the slowest machine, tiny against a hang.
GUARD_ORIGINAL = 120
GUARD_MUTANT = 30

Record = tuple[int, int, bytes, int]  # (seconds, nanoseconds, frame bytes, wire length)


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


FILES = corpus_files()


# ---------------------------------------------------------------- reading and writing records


def prefix_records(path: Path, limit: int = PREFIX) -> dict[int, list[Record]]:
    """The first ``limit`` frames of every capture in ``path`` (zip members too), grouped by link type."""
    groups: dict[int, list[Record]] = {}
    for inp in open_inputs([str(path)]):
        taken = 0
        try:
            for b in inp.batches():
                for i in range(len(b)):
                    if taken == limit:
                        break
                    o, c = int(b.offset[i]), int(b.caplen[i])
                    ts = float(b.ts[i])
                    sec = min(max(math.floor(ts), 0), 2**32 - 1)
                    nsec = min(max(round((ts - sec) * 1e9), 0), 999_999_999)
                    groups.setdefault(int(b.linktype[i]), []).append(
                        (sec, nsec, bytes(b.data[o:o + c]), int(b.wirelen[i])))
                    taken += 1
                if taken == limit:
                    break
        except CaptureError:
            continue  # a zip member that is not a capture: the original run reports it
    return groups


def write_pcap(records: list[Record], linktype: int, caplens: dict[int, int] | None = None) -> bytes:
    """A little-endian nanosecond pcap; ``caplens`` overrides the caplen field of some records (by index)."""
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, MAX_CAPLEN, linktype)]
    for i, (sec, nsec, data, wire) in enumerate(records):
        caplen = caplens.get(i, len(data)) if caplens else len(data)
        out.append(struct.pack("<IIII", sec, nsec, caplen, max(wire, len(data))))
        out.append(data)
    return b"".join(out)


# ---------------------------------------------------------------- mutations


def flip(records: list[Record], rng: random.Random, linktype: int, per: int = 8) -> bytes:
    """Up to one flipped bit per ``per`` frames."""
    return write_pcap(_flipped(records, rng, per), linktype)


def _flipped(records: list[Record], rng: random.Random, per: int) -> list[Record]:
    out = list(records)
    with_data = [i for i, r in enumerate(out) if r[2]]
    if not with_data:
        return out
    for _ in range(rng.randint(1, max(1, len(with_data) // per))):
        i = rng.choice(with_data)
        sec, nsec, data, wire = out[i]
        span = min(len(data), 64) if rng.random() < 0.5 else len(data)
        at = rng.randrange(span)
        buf = bytearray(data)
        buf[at] ^= 1 << rng.randrange(8)
        out[i] = (sec, nsec, bytes(buf), wire)
    return out


def cut(records: list[Record], rng: random.Random, linktype: int) -> bytes:
    raw = write_pcap(records, linktype)
    return raw[:rng.randint(24, len(raw))]


def dup(records: list[Record], rng: random.Random, linktype: int) -> bytes:
    return write_pcap(_duplicated(records, rng), linktype)


def _duplicated(records: list[Record], rng: random.Random) -> list[Record]:
    out = list(records)
    for _ in range(rng.randint(1, max(1, min(20, len(out) // 10)))):
        i = rng.randrange(len(out))
        where = i + 1 if rng.random() < 0.5 else rng.randint(i + 1, len(out))
        out.insert(where, out[i])
    return out


def mix(records: list[Record], rng: random.Random, linktype: int) -> bytes:
    """Duplicates, then many flips (up to one per 2 frames): the harshest input the dissectors get."""
    return write_pcap(_flipped(_duplicated(records, rng), rng, 2), linktype)


def bad_caplen(records: list[Record], rng: random.Random, linktype: int) -> bytes:
    i = rng.randrange(len(records))
    caplen = rng.choice([MAX_CAPLEN + 1, rng.randint(MAX_CAPLEN + 1, 2**32 - 1), 2**32 - 1])
    return write_pcap(records, linktype, {i: caplen})


def oversized(records: list[Record], rng: random.Random, linktype: int) -> bytes:
    i = rng.randrange(len(records))
    sec, nsec, data, _wire = records[i]
    size = rng.randint(MAX_CAPLEN + 1, MAX_CAPLEN + 40_000)
    big = (data or b"\0") * (size // max(len(data), 1) + 1)
    out = list(records)
    out[i] = (sec, nsec, big[:size], size)
    return write_pcap(out, linktype)


Mutation = Callable[[list[Record], random.Random, int], bytes]
# name -> (function, how many seeds per capture and link type)
MUTATIONS: dict[str, tuple[Mutation, int]] = {
    "flip": (flip, 6),
    "cut": (cut, 3),
    "dup": (dup, 3),
    "mix": (mix, 4),
    "caplen": (bad_caplen, 2),
    "oversized": (oversized, 2),
}


# ---------------------------------------------------------------- running


class Hang(BaseException):
    """Raised by SIGALRM: the run outlived its time guard (a BaseException, so no ``except Exception``
    in the code under test can swallow it)."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang("time guard expired")


def analyse(path: Path, db: Path, guard: float) -> Summary:
    """One strict pipeline run over ``path`` into a fresh store, under a SIGALRM time guard."""
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, guard)
    try:
        store = Store.open(str(db))
        try:
            summary = Pipeline(store, Options(events=io.StringIO(), flows=io.StringIO(), strict=True,
                                                      detector=Detector([Signatures()]))).run([str(path)])
        finally:
            store.close()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return summary


def mutants(rel: str, groups: dict[int, list[Record]]) -> Iterator[tuple[str, str, bytes]]:
    """(mutation name, seed, pcap bytes) for every mutation of every link type group, deterministically."""
    for linktype, records in sorted(groups.items()):
        if not records:
            continue
        for name, (fn, count) in MUTATIONS.items():
            for k in range(count):
                seed = f"{SEED}:{rel}:lt{linktype}:{name}:{k}"
                yield name, seed, fn(records, random.Random(seed), linktype)


def rebuild(seed: str) -> bytes:
    """The mutated pcap a seed names, from the corpus: for reproducing a reported failure by hand."""
    _tag, rel, lt, name, _k = seed.split(":")
    linktype = int(lt.removeprefix("lt"))
    return MUTATIONS[name][0](prefix_records(CORPUS / rel)[linktype], random.Random(seed), linktype)


def failure(what: str, exc: BaseException) -> str:
    return f"--- {what}\n" + "".join(traceback.format_exception(exc)).rstrip()


@pytest.mark.parametrize("capture", FILES or [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))],
                         ids=[str(p.relative_to(CORPUS)) for p in FILES] if FILES else None)
def test_soak(capture: Path, corpus: Path, tmp_path: Path) -> None:
    rel = str(capture.relative_to(corpus))
    db = tmp_path / "soak.db"
    failures: list[str] = []
    try:
        summary = analyse(capture, db, GUARD_ORIGINAL)
        assert not summary.errors, summary.errors
    except (Exception, Hang) as exc:  # noqa: BLE001 - every failure is collected, the mutations still run
        failures.append(failure(f"{rel} (unmutated)", exc))
    groups = prefix_records(capture)
    mutant = tmp_path / "mutant.pcap"
    for name, seed, raw in mutants(rel, groups):
        mutant.write_bytes(raw)
        try:
            analyse(mutant, db, GUARD_MUTANT)
        except (Exception, Hang) as exc:  # noqa: BLE001
            keep = tmp_path / f"failure-{len(failures)}.pcap"
            keep.write_bytes(raw)
            failures.append(failure(f"{rel} mutation {name}, seed {seed!r} (kept as {keep})", exc))
    mutant.unlink(missing_ok=True)
    if failures:
        pytest.fail(f"{len(failures)} failing run(s) for {rel}:\n" + "\n".join(failures), pytrace=False)


def test_oversized_record_is_skipped_through_the_pipeline(tmp_path: Path) -> None:
    """The reader's skip of a real oversized record, seen from the pipeline: later frames are analysed."""
    records = [(1_700_000_000 + i, 0, b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"\0" * 28, 42) for i in range(5)]
    raw = oversized(records, random.Random(f"{SEED}:oversized-unit"), 1)
    path = tmp_path / "o.pcap"
    path.write_bytes(raw)
    summary = analyse(path, tmp_path / "o.db", GUARD_MUTANT)
    assert summary.packets == 4
    assert any("skipped oversized record" in w and "(frame " in w for w in summary.warnings), summary.warnings
    assert summary.weirds["capture_record_skipped"] == 1  # a counted weird too, not only a warning line


def test_mutations_are_deterministic() -> None:
    records = [(1_700_000_000 + i, i, bytes(range(i, i + 60)), 60) for i in range(50)]
    first = [(n, s, hashed(raw)) for n, s, raw in mutants("x", {1: records})]
    again = [(n, s, hashed(raw)) for n, s, raw in mutants("x", {1: records})]
    assert first == again and len({h for _n, _s, h in first}) == len(first)


def test_a_seed_rebuilds_its_mutant(corpus: Path) -> None:
    rel = str(FILES[0].relative_to(corpus))
    name, seed, raw = next(mutants(rel, prefix_records(FILES[0])))
    assert rebuild(seed) == raw


def hashed(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()

