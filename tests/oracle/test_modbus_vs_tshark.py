"""Every Modbus PDU in the corpus, as tshark sees it, is an event of ours, and nothing else is.

For each capture in <corpus>/modbus the multiset of (frame, function_code, exception_code, transaction_id,
unit_id) from our `--events` (proto == "modbus") must equal tshark's (see oracle_tshark.py). Ports other
than 502 that carry Modbus are detected per file and passed to both tools (tshark `-d`, our `--modbus-port`).

Differences are allowed only where tshark itself flags the frame (malformed, or expert info of severity note
or worse: a TCP retransmission is a Note, and tshark does not dissect those), and only if listed in DOCUMENTED
below with the reason. One more case is allowed: a frame tshark does not flag whose PDUs the other tool reports
at a flagged frame (the same PDUs, attributed to another frame because of reordering). A documented difference
that no longer occurs fails too, so the table stays true. Nothing is ignored silently.
"""
from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import oracle_tshark as oracle
import pytest
from helpers import captures_dir

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
    # Set when the difference is our own rule, not tshark's TCP analysis: tshark need not flag the frame,
    # but we must report exactly this weird there instead of the PDU.
    our_weird: str | None = None


# Why, shared by several rows of the table.
NEW_BYTES_IN_RETRANSMISSION = (
    "tshark classifies the segment as a retransmission (sequence number at or below what it has seen) and does "
    "not dissect it; part of its bytes were never seen before (the original was not captured, or only partly), "
    "so our reassembler delivers them and decodes the PDU. tshark never reports this PDU at any frame.")
FUZZED_SEQUENCE = (
    "fuzzed capture: sequence numbers jump around, tshark calls the segment a retransmission or out-of-order and "
    "does not dissect it; our reassembler resynchronises after a gap (weird tcp_gap) and decodes it.")
FUZZED_ACK = (
    "fuzzed capture: the segment ends 1,149,969,436 bytes behind what the server had acknowledged, far outside any "
    "window, so a real receiver discards it and so do we (weird tcp_out_of_window, the trust issue's rule against "
    "forged segments); tshark does not check windows and decodes it.")
HOLE_FILLED_LATER = (
    "the segment arrives after a hole in the stream; tshark decodes it at once, we hold the bytes until the "
    "retransmission that fills the hole (flagged frame) and report all PDUs there, in stream order.")

MBAP_LENGTH_255 = (
    "the MBAP length field is 255: one more than the 254 the spec allows (253-byte PDU + unit id, Modbus "
    "Application Protocol 1.1b3 §4.1). The sensor's contract (issue 2: 'length 2–254; anything else on port 502 "
    "is a weird, not Modbus') makes it the weird modbus_bad_length; tshark decodes the UMAS (fc 90) PDU anyway.")

# Row = (frame, function_code, exception_code, transaction_id, unit_id).
# | file | frame | tshark says | we say | why |
DOCUMENTED: list[Documented] = [
    Documented("iti_modicon_test.pcap", 19, ((19, 90, None, 7, 0),), (), MBAP_LENGTH_255, "modbus_bad_length"),
    Documented("iti_modicon_test.pcap", 20, ((20, 90, None, 7, 0),), (), MBAP_LENGTH_255, "modbus_bad_length"),
    Documented("iti_fuzz-1011.pcap", 5, ((5, 4, None, 12993, 255),), (), FUZZED_ACK, "tcp_out_of_window"),
    Documented("iti_fuzz-72.pcap", 19, (), ((19, 47, 1, 0, 1),), FUZZED_SEQUENCE),
    Documented("iti_fuzz-72.pcap", 21, (), ((21, 51, 1, 0, 1),), FUZZED_SEQUENCE),
    Documented("iti_mb2.pcap", 1131, (), tuple((1131, 4, None, t, 255) for t in range(22506, 22510)),
               NEW_BYTES_IN_RETRANSMISSION + " Frame 1014 carried only request 22505; 1131 re-sends it with "
               "requests 22506-22509 appended."),
    Documented("iti_mb2.pcap", 3008, tuple((3008, 4, None, t, 255) for t in range(22506, 22510)), (),
               HOLE_FILLED_LATER + " Response 22505 (seq 371-384) is missing before 3008; frame 3674 fills it."),
    Documented("iti_mb2.pcap", 3674, (), tuple((3674, 4, None, t, 255) for t in range(22505, 22510)),
               HOLE_FILLED_LATER + " Response 22505 is in no other frame: tshark never reports it."),
    Documented("iti_mb2.pcap", 13176, (), ((13176, 2, None, 9825, 255), (13176, 4, None, 9824, 255)),
               NEW_BYTES_IN_RETRANSMISSION + " Frame 13142 carried response 9823 only; 13176 re-sends it with "
               "responses 9824 and 9825 appended."),
    Documented("iti_modbusBig.pcap", 3150, (), ((3150, 1, None, 50382, 255),),
               NEW_BYTES_IN_RETRANSMISSION + " Frame 3149 acknowledges bytes 7085-7095 that were not captured; "
               "3150 ('spurious retransmission') is the first copy of them in the capture."),
]


@pytest.fixture(scope="session")
def tshark_views() -> Callable[[Path], oracle.TsharkView]:
    """tshark output per file, computed once per session (tshark is the slow half of this test)."""
    cache: dict[Path, oracle.TsharkView] = {}

    def get(path: Path) -> oracle.TsharkView:
        if path not in cache:
            cache[path] = oracle.view(path)
        return cache[path]

    return get


@pytest.fixture(scope="session")
def events_of(otsensor: Callable, tshark_views: Callable, tmp_path_factory: pytest.TempPathFactory
              ) -> Callable[[Path], list[dict]]:
    """Our events per file (analysed with the ports tshark's view found), once per session."""
    cache: dict[Path, list[dict]] = {}

    def get(path: Path) -> list[dict]:
        if path not in cache:
            cache[path] = our_events(otsensor, path, tshark_views(path).ports, tmp_path_factory.mktemp("oracle"))
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


def moved_to_flagged(doc: Documented, view: oracle.TsharkView, ours: Counter) -> bool:
    """The frame's PDUs (without the frame number) appear in the other tool's rows at a flagged frame."""
    def elsewhere(rows: tuple, other: Counter) -> bool:
        return bool(rows) and all(any(o[1:] == r[1:] and o[0] in view.flagged for o in other) for r in rows)

    return elsewhere(doc.tshark, ours) or elsewhere(doc.ours, view.rows)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(
    reason=f"no Modbus captures under {MODBUS_DIR}"))])
def test_modbus_events_match_tshark(name: str, corpus: Path, tshark_views: Callable, events_of: Callable) -> None:
    path = corpus / "modbus" / name
    view = tshark_views(path)
    assert view.rows, f"tshark sees no Modbus in {name}: the oracle would be vacuous"
    events = events_of(path)
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
        elif doc.our_weird is not None:
            if weird.get(frame) != doc.our_weird:
                problems.append(f"frame {frame}: documented with weird {doc.our_weird}, got {weird.get(frame)}")
        elif frame not in view.flagged and not moved_to_flagged(doc, view, ours):
            problems.append(f"frame {frame}: documented, but tshark does not flag it (nor the frame its PDUs moved "
                            "to): a difference there is a bug")
    assert not problems, (f"{name} (ports {view.ports or (502,)}): {len(problems)} frames differ "
                          f"(tshark {sum(view.rows.values())} PDUs, ours {sum(ours.values())}; row = "
                          "(frame, function_code, exception_code, transaction_id, unit_id))\n" + "\n".join(problems[:40]))


@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(
    reason=f"no Modbus captures under {MODBUS_DIR}"))])
def test_exception_codes_only_on_responses(name: str, corpus: Path, events_of: Callable) -> None:
    """A PDU with the exception bit set is a response (Modbus Application Protocol 1.1b3, 7): never a request.

    tshark agrees on every such frame in the corpus ("Response ... Exception returned").
    """
    bad = [(e["frame"], e["direction"], e["src"], e["sport"], e["function_code"], e["exception_code"])
           for e in events_of(corpus / "modbus" / name)
           if e.get("proto") == "modbus" and e["exception_code"] is not None and e["direction"] != "response"]
    assert not bad, f"{name}: {len(bad)} events with an exception code not marked response " \
                    f"(frame, direction, src, sport, fc, exc): {bad[:10]}"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(
    reason=f"no Modbus captures under {MODBUS_DIR}"))])
def test_request_address_and_quantity_match_tshark(name: str, corpus: Path, tshark_views: Callable,
                                                   events_of: Callable) -> None:
    """For table-access requests both tools decode (same frame, transaction and function), the address and
    quantity agree: they are what the inventory's points are built from.

    Requests are taken by destination port (the Modbus port), as tshark does, not by our direction field.
    """
    path = corpus / "modbus" / name
    view = tshark_views(path)
    ports = {502, *view.ports}
    ours: Counter[oracle.RefRow] = Counter(
        (e["frame"], e["transaction_id"], e["function_code"], e["address"], e["quantity"])
        for e in events_of(path) if e.get("proto") == "modbus" and e["dport"] in ports
        and e["function_code"] in oracle.TABLE_FUNCTIONS and e["exception_code"] is None)
    both = {r[:3] for r in ours} & {r[:3] for r in view.refs}
    theirs = Counter({r: n for r, n in view.refs.items() if r[:3] in both})
    mine = Counter({r: n for r, n in ours.items() if r[:3] in both})
    assert both or not view.refs, f"{name}: no request decoded by both tools"
    diff = sorted({r[:3] for r in (theirs - mine) + (mine - theirs)})
    detail = [f"frame {f} tid {t} fc {fc}: tshark {sorted(r[3:] for r in theirs if r[:3] == (f, t, fc))} "
              f"ours {sorted(r[3:] for r in mine if r[:3] == (f, t, fc))} | tshark flags: {view.flagged.get(f, '-')}"
              for f, t, fc in diff]
    assert not diff, f"{name}: (address, quantity) differ in {len(diff)} requests:\n" + "\n".join(detail[:30])


def test_documented_differences_are_well_formed() -> None:
    """Each entry names a corpus file, a frame, and a reason; at most one entry per frame."""
    keys = [(d.file, d.frame) for d in DOCUMENTED]
    assert len(keys) == len(set(keys))
    for d in DOCUMENTED:
        assert d.file in FILES or not FILES, d
        assert d.why.strip() and d.tshark != d.ours, d
        assert all(r[0] == d.frame for r in d.tshark + d.ours), d
