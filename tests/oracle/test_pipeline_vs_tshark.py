"""The whole sensor against tshark: ``otsensor analyze FILE --strict --events E.jsonl`` on every capture that the
DNP3, EtherNet/IP and S7comm package oracles cover, compared frame by frame with tshark's dissectors.

The package oracles (test_dnp3_vs_tshark.py, test_enip_vs_tshark.py, test_s7comm_vs_tshark.py) feed tshark's
payloads straight into the framers. Here the bytes go through everything the sensor does: capture reading, L2-L4
decoding in batches, flows, our TCP reassembly (out-of-window refusal, first copy wins, holes held until filled
or given up), dispatch by port and by probe (no ``--decode-as``: DNP3 on 20001 and on the spliced sessions' ports
of malcolm_DNP3.pcap must be found by the probe), the generic dissection path (sensor/dissect/generic.py) with its
request/response completion, and the JSON lines writer. tshark's side, and the file lists, are the package
oracles' own (imported from their modules), with tshark's default TCP reassembly: an event's ``frame`` is the
frame that completed its message, which is where tshark puts a reassembled PDU.

Compared per frame, as multisets, the same things the package oracles compare:

- DNP3: application function codes (responses 129, unsolicited 130, ...), link-only frames as (PRM, link
  function), object headers in order (group << 8 | variation) and string device attributes (identity);
- EtherNet/IP: encapsulation commands (one per encapsulation message), CIP services with the wrappers
  (Unconnected Send 0x52 on requests, Multiple Service Packet 0x0A), identities (vendor id, product code,
  serial number, product name from ListIdentity and Identity-object replies) and class 0/1 I/O connection ids;
- S7comm: COTP connection TPDUs (CR, CC, DR, DC, ER) and S7comm PDUs (ROSCTR, PDU reference, function) of the
  events' ``pdu`` field, read/write-var and cyclic variables, and the SZL identity fields tshark decodes;
  S7comm-plus (no tshark dissector) against the package oracle's golden counts.

Every frame where the rows differ must be explained. DOCUMENTED lists, per file and frame, the known
difference and why (most carry over from the package oracles; the others come from our TCP reassembly), each
with a check that the difference at that frame is of the kind described; a documented frame where the tools
now agree fails too, so the table stays true. SUSPECTED lists differences that look like bugs in the sensor
(not TCP-analysis choices): they stay failing, with the explanation, until the sensor is fixed.

Cost: one CLI run and one tshark pass per file and protocol, all at once in a few threads on first use (about
two minutes on two cores). The zipped QUT captures (50 MB unzipped) are ``slow``: tshark reads only their
port-20000 frames, cut out with the original frame numbers (pipeline_oracle.port_cut); the sensor reads the zip.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pipeline_oracle as po
import pytest
import test_dnp3_vs_tshark as dnp3
import test_enip_vs_tshark as enip
import test_s7comm_vs_tshark as s7
from helpers import captures_dir

CORPUS = captures_dir()
DNP3_FILES = [f"{folder}/{name}" for folder, name in dnp3.FILES]
ENIP_FILES = list(enip.FILES)
S7_FILES = list(s7.FILES)
SLOW = {f"dnp3/{n}" for n in dnp3.SLOW}  # the zipped QUT captures, 50 MB each unzipped
NO_DNP3 = {f"dnp3/{n}" for n in dnp3.NO_DNP3}
ALL_FILES = sorted(set(DNP3_FILES) | set(ENIP_FILES) | set(S7_FILES))

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


# --- how a difference is explained --------------------------------------------------------------------------

@dataclass
class Seen:
    """One file as both tools saw it: rows (frame first), tshark's expert messages, our weirds (frame, code).

    ``malformed`` is the name the DNP3 package oracle's checks read our Malformed codes under; here they are
    the weird lines of the events file, which is where the pipeline reports them.
    """

    theirs: Counter
    ours: Counter
    flags: dict[int, str]
    malformed: Counter
    diffs: dict[int, tuple[tuple, tuple]] = field(default_factory=dict)


Check = Callable[[tuple, tuple, Seen, int], bool]  # (tshark's rows at the frame, ours, the file, frame)


@dataclass(frozen=True)
class Kind:
    why: str
    check: Check


def at(frames: tuple[int, ...] | range, kind: Kind) -> dict[int, Kind]:
    return dict.fromkeys(frames, kind)


def _flag(seen: Seen, frame: int, *words: str) -> bool:
    return any(w in seen.flags.get(frame, "") for w in words)


def _weird(seen: Seen, frame: int, *codes: str) -> bool:
    return all(seen.malformed[(frame, c)] for c in codes)


def _first_copy_of_retransmission(theirs: tuple, mine: tuple, seen: Seen, frame: int) -> bool:
    """tshark reports nothing (it calls the frame a retransmission); we decode it."""
    return not theirs and bool(mine) and _flag(seen, frame, "retransmission")


def _refused_out_of_window(theirs: tuple, mine: tuple, seen: Seen, frame: int) -> bool:
    return bool(theirs) and not mine and _weird(seen, frame, "tcp_out_of_window")


def _first_copy_wins_conflict(theirs: tuple, mine: tuple, seen: Seen, frame: int) -> bool:
    return bool(theirs) and not mine and _weird(seen, frame, "tcp_overlap_conflict", "dnp3_bad_start")


def _out_of_order_decoded(theirs: tuple, mine: tuple, seen: Seen, frame: int) -> bool:
    return not theirs and bool(mine) and _flag(seen, frame, "out-of-order")


def judge(name: str, seen: Seen, documented: dict[int, Kind], suspected: list[Kind]) -> list[str]:
    """Every problem with one file: unexplained differences, suspected bugs, documented ones that no longer occur."""
    problems: list[str] = []
    bugs: dict[Kind, list[int]] = {k: [] for k in suspected}
    for frame, (theirs, mine) in seen.diffs.items():
        doc = documented.get(frame)
        if doc is not None and doc.check(theirs, mine, seen, frame):
            continue
        bug = next((k for k in suspected if k.check(theirs, mine, seen, frame)), None)
        if bug is not None:
            bugs[bug].append(frame)
            continue
        weird = sorted(c for (f, c) in seen.malformed if f == frame)
        problems.append(f"frame {frame}: tshark {list(theirs)} | ours {list(mine)} | our weirds {weird} | tshark "
                        f"flags {seen.flags.get(frame, '-')[:200]}" + (f" | documented: {doc.why[:70]}..." if doc else ""))
    for frame, doc in documented.items():
        if frame not in seen.diffs:
            problems.append(f"frame {frame}: documented difference no longer occurs ({doc.why[:70]}...); "
                            "update DOCUMENTED")
    for kind, frames in bugs.items():
        if frames:
            problems.append(f"SUSPECTED SENSOR BUG at {len(frames)} frames ({', '.join(map(str, frames[:12]))}"
                            f"{', ...' if len(frames) > 12 else ''}): {kind.why}")
            theirs, mine = seen.diffs[frames[0]]
            problems.append(f"  e.g. frame {frames[0]}: tshark {list(theirs)} | ours {list(mine)}")
        else:
            problems.append(f"suspected bug no longer seen ({kind.why[:70]}...): remove it from SUSPECTED")
    return problems


# --- DNP3 -------------------------------------------------------------------------------------------------------

WRAP = Kind(dnp3.SEQUENCE_WRAP, dnp3._ours_only)
CROB = Kind(dnp3.FUZZED_CROB, dnp3._same_function_and_crob)
G120 = Kind(dnp3.G120_V3, dnp3._prefix)
VTO = Kind(dnp3.VTO_EMPTY, dnp3._prefix)
UDP_SPANNING = Kind(dnp3.UDP_SPANNING, dnp3._datagram_spanning)
MITM_REDISSECTED = Kind(dnp3.MITM_REDISSECTED, dnp3._tshark_redissects)
MITM_FIRST_COPY_WINS = Kind(
    "QUT MITM: the attacker's forwarded copies are shifted one octet later than the originals (the attack alters "
    "the stream). The attacker's copy of the previous response ended one octet past the original, and that octet "
    "came first: first copy wins, so this original segment's first octet is a tcp_overlap_conflict and its link "
    "frame starts one octet late (dnp3_bad_start; framing resumes at the next segment). tshark takes each "
    "segment as it comes and decodes the original.", _first_copy_wins_conflict)
MITM_OUT_OF_ORDER = Kind(
    "QUT MITM: tshark flags the original segment out-of-order (the attacker's shifted copy already took the "
    "sequence numbers past it) and does not dissect it; to our reassembler its bytes continue the stream, so "
    "the response is decoded here. tshark reports it at no frame.", _out_of_order_decoded)

SPLICED_OLD_BYTES = Kind(
    "spliced sessions on one 4-tuple (192.168.1.2:49159 <-> 192.168.1.1:20000): frame 13 belongs to a session "
    "picked up mid-stream, frames 15-17 are a new handshake on the same ports (tshark: 'TCP port numbers "
    "reused'), and both tools follow the new connection from there (13, 18, 24 and 29 decode in both). Frame 25 "
    "carries the OLD session's server bytes (its sequence number is what frame 13 acknowledged), 269,476,184 "
    "bytes ahead of the new connection's: its receiver would discard it, beyond the 65,536-byte window it "
    "announced (shift 8 from the new SYNs), and so do we (tcp_out_of_window); tshark, which does not check "
    "windows, takes it for data after lost segments and decodes it.", _refused_out_of_window)

DNP3_DOCUMENTED: dict[str, dict[int, Kind]] = {
    "dnp3/icsnpp_dnp3_example.pcap": at((18, 114, 210, 311, 810), WRAP),
    "dnp3/iti_DNP3-Malformed.pcap": at((
        4, 12, 21, 30, 38, 42, 43, 45, 47, 48, 49, 50, 53, 55, 58, 59, 63, 65, 66, 67, 68, 70, 72, 74, 77, 82, 84,
        85, 86, 87, 89, 96, 101, 103, 104, 105, 106, 109, 115, 116, 119, 121, 122, 123, 124, 127, 129, 133, 138, 140,
        141, 142, 143, 146, 151, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 169, 170, 175, 180, 182, 183, 184,
        185, 197), CROB),
    "dnp3/iti_operate_aggressive_mode.pcap": at((1,), G120),
    "dnp3/iti_write_vto_empty_string.pcap": at((2,), VTO),
    # malcolm_DNP3.pcap holds copies of several files above, time-shifted, plus UDP and spliced TCP sessions. The
    # package oracle's SPLICED frames (28, 34, ...) agree here: tshark calls them retransmissions, and our
    # reassembler refuses them as far outside the receiver's window (tcp_out_of_window): neither reports them.
    "dnp3/malcolm_DNP3.pcap": {
        **at((8,), VTO), **at((32,), G120), **at((155, 283, 379, 480, 979), WRAP), **at((25,), SPLICED_OLD_BYTES),
        **at((1209, 1324, 1331), UDP_SPANNING),
        **at((1283, 1306, 1345, 1362, 1375, 1379, 1380, 1382, 1384, 1385, 1389, 1390, 1393, 1395, 1398, 1399, 1403,
              1405, 1406, 1407, 1408, 1410, 1412, 1414, 1417, 1422, 1424, 1425, 1426, 1427, 1429, 1436, 1441, 1443,
              1444, 1445, 1446, 1449, 1458, 1459, 1462, 1464, 1465, 1466, 1467, 1473, 1475, 1479, 1493, 1495, 1496,
              1497, 1498, 1501, 1506, 1510, 1511, 1512, 1513, 1514, 1515, 1516, 1517, 1518, 1519, 1524, 1525, 1530,
              1535, 1537, 1538, 1539, 1540, 1552), CROB),
    },
    "dnp3/qut_mitm_training_infrequent_attacker.pcap.zip": {
        **at((33053, 33062, 84400, 84408, 84415, 130356, 225191, 246886), MITM_REDISSECTED),
        **at((166456, 166462, 166469, 166505), MITM_FIRST_COPY_WINS),
        **at((261348, 261355), MITM_OUT_OF_ORDER),
    },
}
"""Per file, frame -> why. Files not listed agree with tshark on every frame."""

DNP3_SUSPECTED: dict[str, list[Kind]] = {}


def _dnp3_tshark(name: str, tmp: Path) -> tuple[dnp3.TsharkView, set[int]]:
    """The DNP3 oracle's tshark view (with the DNP3 ports it found), frames numbered as in the original file."""
    path = CORPUS / name
    numbers = None
    if name.endswith(".zip"):
        numbers = po.port_cut(path, dnp3.PORT, tmp / "cut.pcap")
        path = tmp / "cut.pcap"
    view = dnp3.tshark_view(path)
    ports = dnp3.dnp3_ports(view.segments)
    if ports != {dnp3.PORT}:  # DNP3 elsewhere: tshark must be told (our sensor finds it by its probe)
        view = dnp3.tshark_view(path, ports)
    view.segments = []
    if numbers is not None:
        view.rows = Counter({(numbers[r[0] - 1], *r[1:]): n for r, n in view.rows.items()})
        view.flags = {numbers[f - 1]: m for f, m in view.flags.items()}
    return view, ports


def dnp3_rows(events: list[dict]) -> Counter:
    """Our events as the DNP3 oracle's rows (test_dnp3_vs_tshark._recorder)."""
    rows: Counter = Counter()
    objs: dict[int, list[int]] = {}
    for e in events:
        if e.get("proto") != "dnp3":
            continue
        f = e["frame"]
        if e["function_name"].startswith("link_"):
            rows[(f, "link", e["prm"], e["function_code"])] += 1
            continue
        rows[(f, "app", e["function_code"])] += 1
        if e["function_code"] not in dnp3.TSHARK_SKIPS_OBJECTS:
            objs.setdefault(f, []).extend(
                o["group"] << 8 | (0 if o["group"] in dnp3.VARIATION_IS_LENGTH else o["variation"])
                for o in e.get("objects", ()))
        for a in e.get("attributes", ()):
            if isinstance(a["value"], str):
                rows[(f, "attr", a["value"])] += 1
    for f, o in objs.items():
        if o:
            rows[(f, "objs", tuple(o))] += 1
    return rows


# --- EtherNet/IP ----------------------------------------------------------------------------------------------

ENIP_SPURIOUS = Kind(enip.SPURIOUS_RETRANSMISSION, _first_copy_of_retransmission)

ENIP_DOCUMENTED: dict[str, dict[int, Kind]] = {
    "enip/emre_specialCIP.pcap": at((229, 232), ENIP_SPURIOUS),
}
ENIP_SUSPECTED: dict[str, list[Kind]] = {}


def enip_rows(rows: enip.Rows) -> Counter:
    """The EtherNet/IP oracle's per-frame rows as one multiset, frame first."""
    out: Counter = Counter()
    for table in ("commands", "services", "io"):
        for f, values in getattr(rows, table).items():
            for v, n in values.items():
                out[(f, table[:-1] if table != "io" else "io", v)] += n
    for f, idents in rows.identities.items():
        for ident in idents:
            out[(f, "identity", ident)] += 1
    return out


def enip_ours(events: list[dict]) -> enip.Rows:
    """Our events as the EtherNet/IP oracle's rows (test_enip_vs_tshark.record). Responses are already completed
    with their requests by the pipeline, so a reply's ``unconnected_send`` is its request's context, not a
    wrapper it carries: 0x52 is counted on requests only, as the package oracle (which counts before completing)
    and tshark do."""
    rows = enip.Rows()
    for e in events:
        if e.get("proto") != "enip":
            continue
        f = e["frame"]
        if "connection_id" in e and e["function_name"] == "io_data":
            rows.add("io", f, e["connection_id"])
            continue
        msp = e.get("multiple_service_packet")
        first = msp is None or msp["index"] == 0
        if first:
            rows.add("commands", f, e["command"])
        if "service" in e:
            rows.add("services", f, e["function_code"])
            if first and "unconnected_send" in e and e["direction"] == "request":
                rows.add("services", f, 0x52)
            if msp is not None and msp["index"] == 0:
                rows.add("services", f, 0x0A)
        if "identity" in e:
            for ident in [e["identity"], *e.get("identities", [])]:
                if {"vendor_id", "product_code", "serial_number", "product_name"} <= ident.keys():
                    rows.add("identities", f, (ident["vendor_id"], ident["product_code"], ident["serial_number"],
                                               ident["product_name"]))
    return rows


# --- S7comm -------------------------------------------------------------------------------------------------------

S7_SPURIOUS = Kind(s7.SPURIOUS_RETRANSMISSION, _first_copy_of_retransmission)

S7_DOCUMENTED: dict[str, dict[int, Kind]] = {
    "s7comm/iti_s7comm_clean.pcap": at((398, 412, 1273, 1456, 1611, 1746, 2002, 2296, 2299, 2859, 3654, 4060),
                                       S7_SPURIOUS),
}

S7_SUSPECTED: dict[str, list[Kind]] = {}


def s7_ours(events: list[dict]) -> s7.View:
    """Our events as the S7comm oracle's view (test_s7comm_vs_tshark.our_view), from their ``pdu`` field."""
    view = s7.View()
    for e in events:
        if e.get("proto") != "s7comm":
            continue
        f = e["frame"]
        if e.get("pdu") == "cotp":
            view.pdus[(f, "cotp", e["function_code"] >> 4)] += 1
        elif e.get("pdu") == "s7comm":
            rosctr = s7._ROSCTR[e["rosctr"]]
            if rosctr == 7:
                code: int | None = e["function_code"] if e["function_code"] >> 8 else 0
            else:
                code = None if e["function_name"] == e["rosctr"] else e["function_code"]
            view.pdus[(f, "s7comm", rosctr, e["pdu_ref"], code)] += 1
            for it in e.get("items") or ():
                if "db_areas" in it:
                    for d in it["db_areas"]:
                        view.items[(f, "dbread", d["db"], d["start"], d["length"])] += 1
                elif "area_code" in it:
                    where = (it["number"], None) if "number" in it else (it["byte"], it["bit"])
                    view.items[(f, "any", it["area_code"], it["db"], *where, s7._TSIZE[it["transport_size"]],
                                it["length"])] += 1
            if "identity" in e:
                view.identity[f] = e["identity"]
    return view


def s7_rows(theirs: s7.View, ours: s7.View) -> tuple[Counter, Counter]:
    """PDUs, items and identity as rows. Identity: the fields tshark decodes at a frame must be ours there, the
    same (we may know more, e.g. the vendor); an identity only we report is a row of its own."""
    t, o = theirs.pdus + theirs.items, ours.pdus + ours.items
    for f, fields in theirs.identity.items():
        t[(f, "identity", tuple(sorted(fields.items())))] += 1
        mine = ours.identity.get(f)
        if mine is not None:
            o[(f, "identity", tuple(sorted((k, mine.get(k)) for k in fields)))] += 1
    for f in set(ours.identity) - set(theirs.identity):
        o[(f, "identity", tuple(sorted(ours.identity[f].items())))] += 1
    return t, o


# --- running both tools ---------------------------------------------------------------------------------------------

def expert(path: Path, *args: str) -> dict[int, str]:
    """tshark's expert messages per frame (retransmission, out-of-order, ...), for files with differences."""
    proc = subprocess.run(["tshark", "-n", "-r", str(path), *args, "-Y", "_ws.expert", "-T", "fields",
                           "-E", "aggregator=; ", "-e", "frame.number", "-e", "_ws.expert.message"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {int(f): m for f, _, m in (line.partition("\t") for line in proc.stdout.splitlines()) if f}


def _needed(items: list[pytest.Item]) -> list[tuple[str, str]]:
    """The jobs the selected tests of this module will ask for, so that they all run together."""
    keys: dict[tuple[str, str], None] = {}
    for item in items:
        if item.module is None or item.module.__name__ != __name__:
            continue
        test, name = getattr(item, "originalname", item.name), getattr(item, "callspec", None)
        name = name.params.get("name") if name is not None else None
        if test == "test_the_oracle_is_not_vacuous":
            keys.update(dict.fromkeys([("dnp3", n) for n in DNP3_FILES if n not in SLOW]
                                      + [("enip", n) for n in ENIP_FILES] + [("s7comm", n) for n in S7_FILES]))
        elif name in ALL_FILES:
            keys[("events", name)] = None
            kind = {"test_dnp3_events_match_tshark": "dnp3", "test_enip_events_match_tshark": "enip",
                    "test_s7comm_events_match_tshark": "s7comm"}.get(test)
            if kind:
                keys[(kind, name)] = None
    return list(keys)


@pytest.fixture(scope="session")
def jobs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus: Path,
         otsensor: Callable) -> po.Jobs:
    """Our events per file, and tshark's view per (protocol, file): every one the selected tests need, all at
    once on first use."""
    base = tmp_path_factory.mktemp("pipeline")

    def compute(key: tuple[str, str]) -> object:
        kind, name = key
        tmp = Path(tempfile.mkdtemp(prefix=kind + "-", dir=base))  # thread-safe, unlike mktemp
        if kind == "events":
            return po.analyze(corpus / name, tmp)
        if kind == "dnp3":
            return _dnp3_tshark(name, tmp)
        if kind == "enip":
            return enip.tshark_rows(enip.tshark_fields(corpus / name))
        if kind == "s7comm":
            return s7.views_of(corpus / name)[0]
        raise KeyError(kind)

    return po.Jobs(compute, _needed(request.session.items))


def _params(files: list[str]) -> list:
    if not files:
        return [pytest.param("none", marks=pytest.mark.skip(reason=f"capture corpus not found at {CORPUS}"))]
    known = {**DNP3_SUSPECTED, **ENIP_SUSPECTED, **S7_SUSPECTED}
    return [pytest.param(n, id=n, marks=([pytest.mark.slow] if n in SLOW else []) + (
        [pytest.mark.xfail(strict=True, reason=f"known sensor defect, to fix: {known[n][0].why[:160]}...")]
        if n in known else [])) for n in files]


def _summary(name: str, seen: Seen) -> str:
    frames = {r[0] for r in seen.theirs} | {r[0] for r in seen.ours}
    return (f"{name}: {len(frames) - len(seen.diffs)} of {len(frames)} frames agree (tshark {sum(seen.theirs.values())}"
            f" rows, ours {sum(seen.ours.values())})")


@pytest.mark.parametrize("name", _params(DNP3_FILES))
def test_dnp3_events_match_tshark(name: str, jobs: po.Jobs) -> None:
    view, ports = jobs.get(("dnp3", name))
    events = jobs.get(("events", name))
    if name in NO_DNP3:
        assert not view.link_frames, f"tshark finds DNP3 in {name}"
        assert not [e for e in events if e.get("proto") == "dnp3" or e.get("layer") == "dnp3"], name
        return
    assert view.link_frames, f"tshark sees no DNP3 in {name}: the comparison would be vacuous"
    seen = Seen(view.rows, dnp3_rows(events), view.flags, po.weirds(events))
    seen.diffs = po.frame_diffs(seen.theirs, seen.ours)
    problems = judge(name, seen, DNP3_DOCUMENTED.get(name, {}), DNP3_SUSPECTED.get(name, []))
    assert not problems, (f"{_summary(name, seen)}; DNP3 ports {sorted(ports)}; row = ('app', function) | "
                          f"('link', prm, function) | ('objs', headers) | ('attr', value)\n" + "\n".join(problems[:60]))


@pytest.mark.parametrize("name", _params(ENIP_FILES))
def test_enip_events_match_tshark(name: str, jobs: po.Jobs) -> None:
    events = jobs.get(("events", name))
    theirs, ours = enip_rows(jobs.get(("enip", name))), enip_rows(enip_ours(events))
    seen = Seen(theirs, ours, {}, po.weirds(events))
    seen.diffs = po.frame_diffs(theirs, ours)
    if seen.diffs:
        seen.flags = expert(CORPUS / name, *enip.DECODE_AS.get(name, ()))
    problems = judge(name, seen, ENIP_DOCUMENTED.get(name, {}), ENIP_SUSPECTED.get(name, []))
    assert not problems, (f"{_summary(name, seen)}; row = ('command', encapsulation command) | ('service', CIP "
                          "service) | ('identity', (vendor, product code, serial, name)) | ('io', connection id)\n"
                          + "\n".join(problems[:60]))


@pytest.mark.parametrize("name", _params(S7_FILES))
def test_s7comm_events_match_tshark(name: str, jobs: po.Jobs) -> None:
    events = jobs.get(("events", name))
    view = jobs.get(("s7comm", name))
    assert not view.ambiguous, f"{name}: tshark field lists do not line up at frames {view.ambiguous[:10]}"
    theirs, ours = s7_rows(view, s7_ours(events))
    # our S7comm weirds are rows too: the package oracle allows no Malformed where tshark dissects
    ours.update((e["frame"], "weird", e["name"]) for e in events if e.get("proto") == "weird"
                and e.get("layer") == "s7comm")
    seen = Seen(theirs, ours, {}, po.weirds(events))
    seen.diffs = po.frame_diffs(theirs, ours)
    if seen.diffs:
        seen.flags = expert(CORPUS / name)
    problems = judge(name, seen, S7_DOCUMENTED.get(name, {}), S7_SUSPECTED.get(name, []))
    assert not problems, (f"{_summary(name, seen)}; row = ('cotp', TPDU type) | ('s7comm', ROSCTR, PDU ref, "
                          "function) | ('any'|'dbread', item...) | ('identity', fields) | ('weird', our s7comm weird)\n" + "\n".join(problems[:60]))


@pytest.mark.parametrize("name", sorted(s7.PLUS_GOLDEN) if S7_FILES else _params([]))
def test_s7comm_plus_events_match_golden(name: str, jobs: po.Jobs) -> None:
    """S7comm-plus (no tshark dissector): the package oracle's golden message counts and versions, as events."""
    golden = s7.PLUS_GOLDEN[name]
    plus = [e for e in jobs.get(("events", name)) if e.get("proto") == "s7comm" and e.get("pdu") == "s7comm_plus"]
    assert dict(Counter((e["function_name"], e["direction"]) for e in plus)) == golden.messages
    assert {e["version"] for e in plus} == golden.versions
    if golden.actions:
        assert dict(Counter(e["action"] for e in plus if e["direction"] == "request")) == golden.actions


def test_the_oracle_is_not_vacuous(jobs: po.Jobs) -> None:
    """Across the small files both tools see thousands of messages of each protocol, identities included."""
    if not ALL_FILES:
        pytest.skip(f"capture corpus not found at {CORPUS}")
    dnp3_apps = sum(sum(n for r, n in jobs.get(("dnp3", f))[0].rows.items() if r[1] == "app")
                    for f in DNP3_FILES if f not in SLOW)
    enip_views = [jobs.get(("enip", f)) for f in ENIP_FILES]
    s7_views = [jobs.get(("s7comm", f)) for f in S7_FILES]
    counts = {"dnp3 functions": dnp3_apps,
              "enip commands": sum(sum(c.values()) for v in enip_views for c in v.commands.values()),
              "enip identities": sum(len(v.identities) for v in enip_views),
              "s7comm pdus": sum(sum(v.pdus.values()) for v in s7_views),
              "s7comm identities": sum(len(v.identity) for v in s7_views)}
    assert counts["dnp3 functions"] > 2000 and counts["enip commands"] > 10_000 and counts["s7comm pdus"] > 30_000, counts
    assert counts["enip identities"] >= 5 and counts["s7comm identities"] >= 20, counts


def test_documented_differences_are_well_formed() -> None:
    """Each entry names a file of its protocol's list and gives a reason."""
    for table, files in ((DNP3_DOCUMENTED, DNP3_FILES), (ENIP_DOCUMENTED, ENIP_FILES), (S7_DOCUMENTED, S7_FILES),
                         (DNP3_SUSPECTED, DNP3_FILES), (ENIP_SUSPECTED, ENIP_FILES), (S7_SUSPECTED, S7_FILES)):
        for name, entries in table.items():
            assert name in files or not files, name
            kinds = entries.values() if isinstance(entries, dict) else entries
            assert kinds and all(k.why.strip() for k in kinds), name
