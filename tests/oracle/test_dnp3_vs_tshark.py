"""Every DNP3 capture of the corpus, decoded by the package alone, against tshark's DNP3 dissector.

Package level (the full-pipeline oracle comes when the sensor is wired to ``protocols.dnp3``): tshark
extracts each TCP segment's payload with its stream index, ports and relative sequence number (the raw
segments); a minimal in-order reassembler (retransmitted bytes dropped, a hole becomes ``gap()``) feeds them
per (stream, direction) into ``Dnp3Stream``. tshark, with its default reassembly, says per frame which DNP3
link frames and application fragments it decoded.
Per frame we compare:

- application function codes (``dnp3.al.func``) with our application messages, as multisets;
- link-only frames (every ``dnp3.ctl`` that is not a primary user-data frame) with our link messages,
  as (PRM, link function code);
- the string values of device attributes (``dnp3.al.da.value``) with our string-valued attributes;
- object headers (``dnp3.al.obj``: group << 8 | variation, in order) with ours.

Differences are allowed only where listed in DOCUMENTED with their reason; a documented difference that
no longer occurs fails too, so the table stays true. ``dnp3.al.obj`` may also be shorter on our side when
we stop at a weird (an unknown object size) and tshark walks on: those frames are listed too.

One tshark pass per file gives both views (``tcp.payload`` is each frame's own segment even with reassembly
on); tshark start-up dominates, so the small files run four at a time (about 20 s in all on an idle machine).
The three QUT captures (50 MB each unzipped) are marked ``slow``: unzipped and cut to port 20000 with tcpdump
first, each then takes a couple of seconds. UDP payloads go through the stateless ``datagram`` seam.
"""
from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import captures_dir

from protocols.base import Malformed, Message
from protocols.dnp3 import PORT, Dnp3Stream, parse_datagram, probe

CORPUS = captures_dir()
# (folder, file): the dnp3 folder, and captures elsewhere whose MANIFEST row lists dnp3
OTHER_FILES = [("enip", "iti_EIP-ViewDeviceStatus.pcap")]
WORKERS = 4  # concurrent tshark processes for the small files
NO_DNP3 = {"qut_control_training_infrequent_attacker.pcap.zip"}
"""The benign QUT baseline: the attacker's span port never sees DNP3 (MANIFEST lists none). Both tools must find
none: a check against false positives rather than a comparison."""
SLOW = {"qut_injection_training_infrequent_attacker.pcap.zip", "qut_mitm_training_infrequent_attacker.pcap.zip",
        "qut_control_training_infrequent_attacker.pcap.zip"}


def corpus_files() -> list[tuple[str, str]]:
    folder = CORPUS / "dnp3"
    if not folder.is_dir():
        return []
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith((".pcap", ".pcapng", ".pcap.zip")))
    return [("dnp3", n) for n in names] + [f for f in OTHER_FILES if (CORPUS / f[0] / f[1]).exists()]


FILES = corpus_files()

TSHARK_SKIPS_OBJECTS = frozenset({0x10, 0x11, 0x12, 0x16, 0x20, 0x21, 0x83})
"""Functions whose objects tshark 4.0 does not dissect (initialize/start/stop application, assign class;
secure authentication requests and responses): their object headers are not compared."""
VARIATION_IS_LENGTH = frozenset({110, 111, 112, 113})
"""Octet strings and VTO: the variation is the length (§A.41-§A.44); tshark prints ``dnp3.al.obj`` with
variation 0 for them, so both sides are compared as group << 8."""

Row = tuple  # ("app", function_code) | ("link", prm, function) | ("attr", value) | ("objs", (obj, ...))


def tshark(path: Path, *args: str) -> str:
    proc = subprocess.run(["tshark", "-n", "-r", str(path), *args], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark failed on {path}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


@dataclass(frozen=True)
class Segment:
    frame: int
    transport: str  # "tcp" or "udp"
    stream: int
    src: str
    sport: int
    dport: int
    seq: int
    syn: bool
    payload: bytes


def dnp3_ports(segs: list[Segment]) -> set[int]:
    """The server ports of streams that carry DNP3: 20000, and any stream whose first payload is a link header."""
    ports = {PORT}
    first: dict[int, Segment] = {}
    for s in segs:
        if s.transport == "tcp" and s.payload and s.stream not in first:
            first[s.stream] = s
    for s in first.values():
        if probe(s.payload[:10]) and len(s.payload) >= 10:
            ports.add(s.dport if s.dport < s.sport else s.sport)
    return ports


RESYNC = 1 << 20
"""A segment this far behind the next expected byte is from another session on the same ports (spliced
captures such as malcolm_DNP3.pcap), not a retransmission."""


def our_rows(segs: list[Segment], ports: set[int]) -> tuple[Counter, Counter, list[Message]]:
    """Our rows per frame (as tshark would list them), the Malformed codes, and every message."""
    rows: Counter = Counter()
    malformed: Counter = Counter()
    messages: list[Message] = []
    clients: dict[int, tuple[str, int]] = {}
    streams: dict[tuple[int, str, int], Dnp3Stream] = {}
    next_seq: dict[tuple[int, str, int], int] = {}
    objs: dict[int, list[int]] = defaultdict(list)
    record = _recorder(rows, malformed, messages, objs)
    for s in segs:
        if s.syn:
            clients.setdefault(s.stream, (s.src, s.sport))
        if not s.payload or not ({s.sport, s.dport} & ports):
            continue
        if s.transport == "udp":
            outcomes = [(s.frame, o) for o in parse_datagram(s.payload, s.dport in ports)]
            record(outcomes)
            continue
        key = (s.stream, s.src, s.sport)
        is_request = clients.get(s.stream, (None, None)) == (s.src, s.sport) if s.stream in clients \
            else s.dport in ports
        framer = streams.setdefault(key, Dnp3Stream(is_request))
        data, start = s.payload, s.seq
        expected = next_seq.get(key)
        if expected is not None:
            if start > expected or expected - start > RESYNC:
                framer.gap()  # a hole, or a sequence number from another session: resynchronise
            elif start + len(data) <= expected:
                continue  # a retransmission of bytes already fed
            elif start < expected:
                data = data[expected - start:]
        next_seq[key] = s.seq + len(s.payload)
        record(framer.feed(data, s.frame))
    for frame, o in objs.items():
        if o:
            rows[(frame, "objs", tuple(o))] += 1
    return rows, malformed, messages


def _recorder(rows: Counter, malformed: Counter, messages: list[Message], objs: dict[int, list[int]]
              ) -> Callable[[list[tuple[int, Message | Malformed]]], None]:
    """Count outcomes the way tshark lists them per frame."""
    def record(outcomes: list[tuple[int, Message | Malformed]]) -> None:
        for frame, outcome in outcomes:
            if isinstance(outcome, Malformed):
                malformed[(frame, outcome.code)] += 1
                continue
            messages.append(outcome)
            if outcome.function_name.startswith("link_"):
                rows[(frame, "link", outcome.fields["prm"], outcome.function_code)] += 1
                continue
            rows[(frame, "app", outcome.function_code)] += 1
            if outcome.function_code not in TSHARK_SKIPS_OBJECTS:
                objs[frame] += [o["group"] << 8 | (0 if o["group"] in VARIATION_IS_LENGTH else o["variation"])
                                for o in outcome.fields["objects"]]
            for a in outcome.fields.get("attributes", ()):
                if isinstance(a["value"], str):
                    rows[(frame, "attr", a["value"])] += 1

    return record


def _ints(cell: str) -> list[int]:
    return [int(v, 0) for v in cell.split(SEP) if v] if cell else []


SEP = "\x1f"  # field aggregator: expert messages contain commas

_FIELDS = ("frame.number", "tcp.stream", "udp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.dstport",
           "udp.srcport", "udp.dstport", "tcp.seq", "tcp.flags.syn", "tcp.flags.ack", "tcp.payload", "udp.payload",
           "dnp3.ctl", "dnp3.al.func", "dnp3.al.obj", "dnp3.al.da.value", "_ws.expert.message")


@dataclass
class TsharkView:
    """One tshark pass: every segment's raw payload, and what the DNP3 dissector decoded per frame."""

    segments: list[Segment]
    link_frames: int  # every DNP3 link frame tshark decoded, user data or not
    rows: Counter
    flags: dict[int, str]  # expert messages per frame


def tshark_view(path: Path, ports: set[int] = frozenset({PORT})) -> TsharkView:
    """``tcp.payload`` is each frame's own segment even with reassembly on, so one pass gives both views."""
    decode_as = [arg for p in sorted(ports - {PORT}) for arg in ("-d", f"tcp.port=={p},dnp3")]
    out = tshark(path, *decode_as, "-o", "tcp.relative_sequence_numbers:TRUE", "-T", "fields", "-E", "occurrence=a",
                 "-E", f"aggregator={SEP}", "-E", "quote=n", *[a for f in _FIELDS for a in ("-e", f)])
    view = TsharkView([], 0, Counter(), {})
    for line in out.splitlines():
        cells = [c.split(SEP) for c in (line.split("\t") + [""] * len(_FIELDS))[:len(_FIELDS)]]
        (frame, tstream, ustream, src4, src6, tsport, tdport, usport, udport, seq, syn, ack, tpayload,
         upayload) = (c[0] for c in cells[:14])
        ctls, funcs, objs, values, expert = cells[14:]
        f = int(frame)
        if tstream:
            view.segments.append(Segment(f, "tcp", int(tstream), src4 or src6, int(tsport), int(tdport), int(seq or 0),
                                         syn in ("1", "True") and ack not in ("1", "True"), bytes.fromhex(tpayload)))
        elif ustream and usport:
            view.segments.append(Segment(f, "udp", int(ustream), src4 or src6, int(usport), int(udport), 0, False,
                                         bytes.fromhex(upayload)))
        if expert != [""]:
            view.flags[f] = "; ".join(expert)
        view.link_frames += len(_ints(ctls))
        for ctl in _ints(ctls):
            prm, function = bool(ctl & 0x40), ctl & 0x0F
            if not (prm and function in (3, 4)):
                view.rows[(f, "link", prm, function)] += 1
        for fc in _ints(funcs):
            view.rows[(f, "app", fc)] += 1
        if objs != [""]:
            view.rows[(f, "objs", tuple(o & 0xFF00 if o >> 8 in VARIATION_IS_LENGTH else o for o in _ints(objs)))] += 1
        for v in values if values != [""] else ():
            view.rows[(f, "attr", v)] += 1
    return view


def _ints(cells: list[str]) -> list[int]:
    return [int(v, 0) for v in cells if v]


Check = Callable[[tuple, tuple, "Result", int], bool]


def _objs(rows: tuple) -> tuple[int, ...]:
    return next((r[1] for r in rows if r[0] == "objs"), ())


def _apps(rows: tuple) -> list[tuple]:
    return sorted(r for r in rows if r[0] == "app")


def _prefix(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    """Same function; tshark's object headers are a proper prefix of ours (it stopped, we read on)."""
    t, o = _objs(theirs), _objs(mine)
    return _apps(theirs) == _apps(mine) and len(t) < len(o) and o[:len(t)] == t


def _same_function_and_crob(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    """Same function; both read the g12v1 header first and disagree only on the garbage after it."""
    return _apps(theirs) == _apps(mine) and _objs(theirs)[:1] == _objs(mine)[:1] == (0x0C01,) \
        and all(r[0] in ("app", "objs") or r == ("attr", "") for r in theirs + mine)


def _ours_only(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    """We decode a fragment tshark does not (or decodes as function 0 from the wrong segments)."""
    return bool(_apps(mine)) and _apps(theirs) in ([], [("app", 0)])


def _tshark_retransmission(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    return not theirs and bool(_apps(mine)) and "retransmission" in result.flags.get(frame, "")


def _tshark_redissects(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    return bool(_apps(theirs)) and not mine and "retransmission" in result.flags.get(frame, "")


def _altered_copy(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    return bool(_apps(theirs)) and not mine and result.malformed[(frame, "dnp3_bad_start")] > 0


def _tshark_out_of_order(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    return not theirs and bool(_apps(mine)) and "out-of-order" in result.flags.get(frame, "")


def _datagram_spanning(theirs: tuple, mine: tuple, result: Result, frame: int) -> bool:
    return bool(_apps(theirs)) and not mine and result.malformed[(frame, "dnp3_transport_no_first")] > 0


@dataclass(frozen=True)
class Documented:
    """A known, explained kind of difference, at exactly these frames of one file."""

    file: str
    frames: tuple[int, ...]
    why: str
    check: Check  # the difference at each frame must be of this kind


SEQUENCE_WRAP = (
    "the fragment's transport segments wrap their sequence number from 63 to 0 (IEEE 1815-2012 §8.2.1.2 counts "
    "modulo 64); tshark 4.0 does not reassemble across the wrap (no function at the last segment), or joins the "
    "segment to an older fragment with the same number (function 0). We reassemble the fragment the outstation sent.")
FUZZED_CROB = (
    "fuzzed CROB (the file's purpose): the qualifier of the g12v1 header is altered (0x06 'all objects', 0x07 count "
    "0, ...), so the CROB's own 11 octets are read as further object headers. Both tools agree on the function and "
    "the g12v1 header; in the garbage after it tshark lists a header of which it has only group and variation and "
    "then raises its exception, while we list only complete headers and stop at the first bad one with a weird "
    "(dnp3_bad_range, dnp3_objects_truncated, dnp3_bad_attribute).")
G120_V3 = (
    "g120v3 (aggressive mode request: CSQ and user number, 6 octets, §A.45.3): tshark 4.0 does not know its size and "
    "stops ('Unknown Object\\Variation'); we read on to the g12v1 CROB and the g120v9 MAC that follow.")
VTO_EMPTY = (
    "g112v0 headers with range 0-65535: 65536 zero-length VTO strings per header, the header repeated to fill the "
    "fragment (a crafted capture). tshark raises an exception after the first header; we read every 7-octet header.")
SPLICED = (
    "malcolm_DNP3.pcap splices several captures that reuse the same addresses and ports: tshark takes the other "
    "session's sequence numbers for a retransmission and does not dissect the segment; our feeder resynchronises "
    "on a sequence number from another session (as the sensor does after a gap) and decodes it.")
UDP_SPANNING = (
    "DNP3 over UDP whose fragment spans datagrams: tshark reassembles transport segments across datagrams; the "
    "ProtocolSpec.datagram seam is stateless (one datagram at a time), so the earlier datagram ends with "
    "dnp3_fragment_incomplete and this one starts with dnp3_transport_no_first.")

MITM_REDISSECTED = (
    "QUT MITM: the attacker forwards every segment, so each appears twice; where tshark calls the second copy a "
    "'fast retransmission' it dissects it again (the same function twice), while we deliver retransmitted bytes once.")
MITM_NEW_BYTES = (
    "QUT MITM: a copy tshark calls a retransmission and does not dissect; by sequence number its bytes are new to our "
    "in-order feeder (the copy it repeats was not captured whole), so we decode them here.")
MITM_ALTERED = (
    "QUT MITM: the attacker's copy of the previous segment is one octet longer than the original (the attack alters "
    "responses); our in-order feeder keeps the extra octet as stream data, so this segment's frame starts one octet "
    "late (dnp3_bad_start) and framing resumes at the next segment. tshark decodes the original copy.")
OUT_OF_ORDER = (
    "a segment tshark flags out-of-order: tshark does not dissect it; our feeder calls gap() at the hole and decodes "
    "the segment (the sensor's reassembler would wait for the hole to fill instead).")

DOCUMENTED: list[Documented] = [
    Documented("icsnpp_dnp3_example.pcap", (18, 114, 210, 311, 810), SEQUENCE_WRAP, _ours_only),
    Documented("iti_DNP3-Malformed.pcap", (
        4, 12, 21, 30, 38, 42, 43, 45, 47, 48, 49, 50, 53, 55, 58, 59, 63, 65, 66, 67, 68, 70, 72, 74, 77, 82, 84,
        85, 86, 87, 89, 96, 101, 103, 104, 105, 106, 109, 115, 116, 119, 121, 122, 123, 124, 127, 129, 133, 138, 140,
        141, 142, 143, 146, 151, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 169, 170, 175, 180, 182, 183, 184,
        185, 197), FUZZED_CROB, _same_function_and_crob),
    Documented("iti_operate_aggressive_mode.pcap", (1,), G120_V3, _prefix),
    Documented("iti_write_vto_empty_string.pcap", (2,), VTO_EMPTY, _prefix),
    # malcolm_DNP3.pcap holds copies of several files above, time-shifted, plus UDP and spliced TCP sessions
    Documented("malcolm_DNP3.pcap", (8,), VTO_EMPTY, _prefix),
    Documented("malcolm_DNP3.pcap", (32,), G120_V3, _prefix),
    Documented("malcolm_DNP3.pcap", (28, 34, 36, 41, 42, 44, 46, 47, 49, 50, 66, 70, 73, 86, 87, 88, 102, 103, 125),
               SPLICED, _tshark_retransmission),
    Documented("malcolm_DNP3.pcap", (155, 283, 379, 480, 979), SEQUENCE_WRAP, _ours_only),
    Documented("malcolm_DNP3.pcap", (1209, 1324, 1331), UDP_SPANNING, _datagram_spanning),
    Documented("malcolm_DNP3.pcap", (
        1283, 1306, 1345, 1362, 1375, 1379, 1380, 1382, 1384, 1385, 1389, 1390, 1393, 1395, 1398, 1399, 1403, 1405,
        1406, 1407, 1408, 1410, 1412, 1414, 1417, 1422, 1424, 1425, 1426, 1427, 1429, 1436, 1441, 1443, 1444, 1445,
        1446, 1449, 1458, 1459, 1462, 1464, 1465, 1466, 1467, 1473, 1475, 1479, 1493, 1495, 1496, 1497, 1498, 1501,
        1506, 1510, 1511, 1512, 1513, 1514, 1515, 1516, 1517, 1518, 1519, 1524, 1525, 1530, 1535, 1537, 1538, 1539,
        1540, 1552), FUZZED_CROB, _same_function_and_crob),
    Documented("qut_mitm_training_infrequent_attacker.pcap.zip", (47, 54, 258, 264, 271, 634, 1125, 1293),
               MITM_REDISSECTED, _tshark_redissects),
    Documented("qut_mitm_training_infrequent_attacker.pcap.zip", (238,), MITM_NEW_BYTES, _tshark_retransmission),
    Documented("qut_mitm_training_infrequent_attacker.pcap.zip", (815, 821, 827, 834), MITM_ALTERED, _altered_copy),
    Documented("qut_mitm_training_infrequent_attacker.pcap.zip", (1441, 1448), OUT_OF_ORDER, _tshark_out_of_order),
]
"""Every difference, per file, with its reason. Files not listed agree with tshark on every frame."""


@dataclass
class Result:
    ports: set[int]
    link_frames: int
    tshark: Counter
    flags: dict[int, str]
    ours: Counter
    malformed: Counter
    messages: list[Message] = field(default_factory=list)


def pcap_path(folder: str, name: str, tmp: Path) -> Path:
    path = CORPUS / folder / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            member = next(m for m in zf.namelist() if m.endswith(".pcap"))
            target = tmp / name.removesuffix(".zip")
            with zf.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        # Only DNP3's port matters here; tcpdump's filter keeps tshark's work to the part we compare.
        small = tmp / (name + ".dnp3.pcap")
        subprocess.run(["tcpdump", "-r", str(target), "-w", str(small), f"tcp port {PORT}"], check=True,
                       capture_output=True, timeout=300)
        target.unlink()
        return small
    return path


def analyse(path: Path) -> Result:
    view = tshark_view(path)
    ports = dnp3_ports(view.segments)
    if ports != {PORT}:  # DNP3 on another port: tshark must be told, as the sensor would be
        view = tshark_view(path, ports)
    ours, malformed, messages = our_rows(view.segments, ports)
    return Result(ports, view.link_frames, view.rows, view.flags, ours, malformed, messages)


def frame_diffs(theirs: Counter, mine: Counter) -> dict[int, tuple[tuple, tuple]]:
    frames = {r[0] for r in (theirs - mine) + (mine - theirs)}

    def at(rows: Counter, f: int) -> tuple:
        return tuple(sorted((r[1:] for r in rows.elements() if r[0] == f), key=repr))

    return {f: (at(theirs, f), at(mine, f)) for f in sorted(frames)}


def params() -> Iterator:
    if not FILES:
        yield pytest.param("dnp3", "none", marks=pytest.mark.skip(reason=f"no DNP3 captures under {CORPUS}"))
        return
    for folder, name in FILES:
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(folder, name, marks=marks, id=name)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Result]:
    """Each file analysed once. tshark's start-up is most of the cost and mostly waiting, so the small files
    run together in a few threads on first use."""
    cache: dict[tuple[str, str], Result] = {}

    def one(key: tuple[str, str]) -> Result:
        return analyse(pcap_path(key[0], key[1], tmp_path_factory.mktemp("dnp3")))

    def get(folder: str, name: str) -> Result:
        if not cache and name not in SLOW:
            small = [f for f in FILES if f[1] not in SLOW]
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                cache.update(zip(small, pool.map(one, small)))
        if (folder, name) not in cache:
            cache[(folder, name)] = one((folder, name))
        return cache[(folder, name)]

    return get


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize(("folder", "name"), list(params()))
def test_dnp3_matches_tshark(folder: str, name: str, corpus: Path, results: Callable) -> None:
    result = results(folder, name)
    if name in NO_DNP3:
        assert not result.link_frames and not result.messages and not result.malformed, name
        return
    assert result.link_frames, f"tshark sees no DNP3 in {name}: the comparison would be vacuous"
    diffs = frame_diffs(result.tshark, result.ours)
    documented = {f: d for d in DOCUMENTED if d.file == name for f in d.frames}
    problems = []
    for frame, (theirs, mine) in diffs.items():
        doc = documented.get(frame)
        if doc is None or not doc.check(theirs, mine, result, frame):
            bad = sorted(code for (f, code) in result.malformed if f == frame)
            problems.append(f"frame {frame}: tshark {list(theirs)} | ours {list(mine)} | our malformed {bad} | "
                            f"tshark flags {result.flags.get(frame, '-')}" + (f" | documented: {doc.why[:60]}" if doc else ""))
    for frame, doc in documented.items():
        if frame not in diffs:
            problems.append(f"frame {frame}: documented difference no longer occurs ({doc.why[:80]}); update DOCUMENTED")
    assert not problems, (f"{name} (ports {sorted(result.ports)}): {len(problems)} problems\n" + "\n".join(problems[:60]))


def test_documented_differences_are_well_formed() -> None:
    """Each entry names a corpus file and a reason; no frame is documented twice."""
    keys = [(d.file, f) for d in DOCUMENTED for f in d.frames]
    assert len(keys) == len(set(keys))
    names = {n for _, n in FILES}
    for d in DOCUMENTED:
        assert d.file in names or not FILES, d.file
        assert d.why.strip() and d.frames, d
