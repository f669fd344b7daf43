"""Every Modbus PDU in the corpus, as tshark sees it, is an event of ours, and nothing else is.

For each capture in <corpus>/modbus the multiset of (frame, function_code, exception_code, transaction_id,
unit_id) from our `--events` (proto == "modbus") must equal tshark's (see oracle_tshark.py). Ports other
than 502 that carry Modbus are detected per file and passed to both tools (tshark `-d`, our `--modbus-port`).

Differences are allowed only where tshark itself flags the frame (malformed or an expert warning), and only
if listed in DOCUMENTED below with the reason; a documented difference that no longer occurs fails too, so the
table stays true. Nothing is ignored silently.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import captures_dir

import oracle_tshark as oracle

MODBUS_DIR = captures_dir() / "modbus"
FILES = sorted(p.name for p in MODBUS_DIR.glob("*") if p.suffix in (".pcap", ".pcapng", ".cap")) \
    if MODBUS_DIR.is_dir() else []


@dataclass(frozen=True)
class Documented:
    """A known, explained difference at one frame: the rows each tool reports there."""

    file: str
    frame: int
    tshark: tuple[oracle.Row, ...]
    ours: tuple[oracle.Row, ...]
    why: str


# Row = (frame, function_code, exception_code, transaction_id, unit_id).
# | file | frame | tshark says | we say | why |
DOCUMENTED: list[Documented] = []


@pytest.fixture(scope="session")
def tshark_views() -> Callable[[Path], oracle.TsharkView]:
    """tshark output per file, computed once per session (tshark is the slow half of this test)."""
    cache: dict[Path, oracle.TsharkView] = {}

    def get(path: Path) -> oracle.TsharkView:
        if path not in cache:
            cache[path] = oracle.view(path)
        return cache[path]

    return get


def our_events(otsensor: Callable, path: Path, ports: tuple[int, ...], tmp: Path) -> list[dict]:
    events = tmp / "events.jsonl"
    args = ["analyze", path, "--strict", "--db", tmp / "o.db", "--events", events]
    for p in ports:
        args += ["--modbus-port", str(p)]
    proc = otsensor(*args)
    assert proc.returncode == 0, f"otsensor analyze {path.name} exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()]


def frame_diffs(tshark_rows: Counter, our_rows: Counter) -> dict[int, tuple[tuple, tuple]]:
    """For each frame where the tools disagree: (tshark's rows there, our rows there), sorted."""
    frames = {r[0] for r in (tshark_rows - our_rows) + (our_rows - tshark_rows)}

    def at(rows: Counter, f: int) -> tuple:
        return tuple(sorted((r for r in rows.elements() if r[0] == f), key=repr))

    return {f: (at(tshark_rows, f), at(our_rows, f)) for f in sorted(frames)}


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(
    reason=f"no Modbus captures under {MODBUS_DIR}"))])
def test_modbus_events_match_tshark(name: str, corpus: Path, otsensor: Callable, tshark_views: Callable,
                                    tmp_path: Path) -> None:
    path = corpus / "modbus" / name
    view = tshark_views(path)
    assert view.rows, f"tshark sees no Modbus in {name}: the oracle would be vacuous"
    events = our_events(otsensor, path, view.ports, tmp_path)
    ours: Counter[oracle.Row] = Counter(
        (e["frame"], e["function_code"], e["exception_code"], e["transaction_id"], e["unit_id"])
        for e in events if e.get("proto") == "modbus")
    weird = {e["frame"]: e.get("name") for e in events if e.get("proto") == "weird" and "frame" in e}
    diffs = frame_diffs(view.rows, ours)
    documented = {d.frame: d for d in DOCUMENTED if d.file == name}

    problems = []
    for frame, (theirs, mine) in diffs.items():
        doc = documented.get(frame)
        if doc is None or (doc.tshark, doc.ours) != (theirs, mine):
            problems.append(f"frame {frame}: tshark {list(theirs)} | ours {list(mine)} | our weird: "
                            f"{weird.get(frame)} | tshark flags: {view.flagged.get(frame, '-')}")
    for frame, doc in documented.items():
        if frame not in diffs:
            problems.append(f"frame {frame}: documented difference no longer occurs ({doc.why}); update DOCUMENTED")
        elif frame not in view.flagged:
            problems.append(f"frame {frame}: documented, but tshark does not flag it: a difference there is a bug")
    assert not problems, (f"{name} (ports {view.ports or (502,)}): {len(problems)} frames differ "
                          f"(tshark {sum(view.rows.values())} PDUs, ours {sum(ours.values())}; row = "
                          "(frame, function_code, exception_code, transaction_id, unit_id))\n" + "\n".join(problems[:40]))


def test_documented_differences_are_well_formed() -> None:
    """Each entry names a corpus file, a frame, and a reason; at most one entry per frame."""
    keys = [(d.file, d.frame) for d in DOCUMENTED]
    assert len(keys) == len(set(keys))
    for d in DOCUMENTED:
        assert d.file in FILES or not FILES, d
        assert d.why.strip() and d.tshark != d.ours, d
        assert all(r[0] == d.frame for r in d.tshark + d.ours), d
