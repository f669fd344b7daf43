"""The S7comm package against tshark, capture by capture, frame by frame.

For every capture of the corpus that carries ISO-on-TCP on port 102 (the ``s7comm`` folder and the
files elsewhere that do), tshark lists each TCP segment (``-o tcp.desegment_tcp_streams:FALSE``);
they are fed per (stream, direction) into ``S7Stream`` (tests/e2e/stacks/s7comm_segments.py). tshark's
own dissection (default reassembly) is the oracle:

- the same frames carry the same COTP connection TPDUs (CR, CC, DR, DC, ER: ``cotp.type``) and the
  same S7comm PDUs: ROSCTR, PDU reference and function (``s7comm.param.func``; userdata: function
  group << 8 | subfunction);
- the variables of read/write var jobs and cyclic subscriptions agree (S7ANY area, DB, byte, bit,
  transport size, length; DBREAD DB, start, length);
- the identity read from SZL xy11 and xy1C agrees with tshark's ``s7comm.szl.*`` fields.

Differences are allowed only where listed in DOCUMENTED (file -> frame -> why) and tshark flags the
frame; a listed difference that no longer occurs fails too. Debian's tshark has no S7comm-plus
dissector (the ``s7comm_plus`` plugin is not packaged), so S7comm-plus is checked against golden
expectations per file (PLUS_GOLDEN), whose layout is the plugin's ``packet-s7comm_plus.c``
(``dissect_s7commp``, ``s7commp_decode_data``; github.com/JuergenKosel/s7commwireshark,
src/s7comm_plus). Finally the probe must tell S7 from IEC 61850 MMS, which shares port 102.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import REPO_ROOT, captures_dir

from protocols.base import Malformed, Message, Verdict
from protocols.s7comm import probe
from protocols.s7comm.codes import COUNTED_AREAS, TransportSize

sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e" / "stacks"))
from s7comm_segments import FIELDS as SEGMENT_FIELDS  # noqa: E402
from s7comm_segments import Outcome, Segment, frame_all, segment, segments, tshark_lines  # noqa: E402

CORPUS = captures_dir()
# The s7comm folder, and the captures elsewhere with ISO-on-TCP on port 102 (S7comm, S7comm-plus, or a
# bare COTP connection attempt). s7comm/iti_wrapup.pcapng has no port 102 traffic at all (synchrophasor
# and IT chatter): both tools find nothing there, which the tests check like any other file.
ELSEWHERE = ["profinet/emre_pro2.pcap", "modbus/iti_mb2.pcap", "modbus/iti_modbusBig.pcap",
             "mixed/emre_cip_cotp_proces.pcap", "profinet/iti_Profinet_Failed.pcap"]
FILES = (sorted(f"s7comm/{p.name}" for p in (CORPUS / "s7comm").glob("*") if p.suffix in (".pcap", ".pcapng"))
         + [f for f in ELSEWHERE if (CORPUS / f).exists()]) if (CORPUS / "s7comm").is_dir() else []
MMS_FILES = ["other_ics/iti_iec61850_read.pcap", "other_ics/iti_iec61850_write.pcap",
             "other_ics/iti_mms-stopRequest.pcap", "other_ics/iti_Sample_File_MMS_and_GOOSE.pcap"]

pytestmark = [
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]
_NO_CORPUS = pytest.param("none", marks=pytest.mark.skip(reason=f"capture corpus not found at {CORPUS}"))

# --- documented differences -------------------------------------------------------------------------

SPURIOUS_RETRANSMISSION = (
    "tshark calls the segment a (spurious) retransmission because the other side already acknowledged its "
    "bytes, and does not dissect it; the first copy was never captured, so these are new bytes to our "
    "reassembly order and the ack_data read var they carry is decoded. tshark reports it at no frame.")

DOCUMENTED: dict[str, dict[int, str]] = {
    # | file | frame | why |
    "s7comm/iti_s7comm_clean.pcap": {
        frame: SPURIOUS_RETRANSMISSION
        for frame in (398, 412, 1273, 1456, 1611, 1746, 2002, 2296, 2299, 2859, 3654, 4060)
    },
}

# --- S7comm-plus golden expectations (no tshark dissector) ------------------------------------------
# Per file: messages by (function name, direction), the identity the PLC's ServerSessionVersion
# ("1;<order number> ;V<firmware>", in the CreateObject response and echoed by the client's
# SetMultiVariables) reveals, the client roles from the called TSAP ("SIMATIC-ROOT-HMI"/"-ES"), and the
# point spaces of Get/SetMultiVariables item addresses (access area 0x8A0E0000 + n = DB n; 80-84 =
# I, Q, M, C, T). Counts were read with the plugin's layout: header 72 vv len, V3 integrity part
# (digest length + digest) first, opcode, reserved, function, reserved, sequence, session id
# (requests), transport flags; fragments without trailer joined (s7commp "reassembling").


@dataclass(frozen=True)
class PlusGolden:
    messages: dict[tuple[str, str], int]
    identity: dict[str, str] | None = None
    client_roles: frozenset[str] = frozenset()
    points: dict[tuple[str, str], int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)  # requests only: action -> count
    versions: frozenset[int] = frozenset()


S1511 = {"order_code": "6ES7 511-1AK00-0AB0", "firmware": "V1.0", "vendor": "Siemens"}
S1214 = {"order_code": "6ES7 214-1HE30-0XB0", "firmware": "V2.2", "vendor": "Siemens"}
REQ, RES, NTF = "request", "response", "unsolicited"
V13 = "s7comm/iti_V13_1200_TP1200sim_MW100_Int_SPS_5s_MW102_Int_SPS_10s_MW102_ab_1000_Timer_sync"

PLUS_GOLDEN: dict[str, PlusGolden] = {
    # V3 mid-session: subscription notifications, SetVariable of SubscriptionCreditLimit (1053) to
    # keep them coming, and a SetMultiVariables into DB5. The engineering station role comes from the
    # capture's other, classic S7comm connection (called TSAP 01 01: PG).
    "s7comm/icsnpp_s7comm_plus.pcap": PlusGolden(
        {("notification", NTF): 79, ("set_variable", REQ): 26, ("get_multi_variables", REQ): 6,
         ("get_multi_variables", RES): 6, ("set_multi_variables", REQ): 2, ("set_multi_variables", RES): 2},
        client_roles=frozenset({"engineering_station"}), points={("DB5", "write"): 2},
        actions={"read": 32, "write": 2}, versions=frozenset({3})),
    # TIA V12 engineering station: session, explore of thePLCProgram (3), and CreateObject of a block
    # in thePLCProgram between BeginSequence and EndSequence: a program download.
    "s7comm/iti_S7-1200-Uploading-OB1-TIAV12.pcap": PlusGolden(
        {("create_object", REQ): 2, ("create_object", RES): 2, ("set_multi_variables", REQ): 1,
         ("set_multi_variables", RES): 1, ("get_var_sub_streamed", REQ): 9, ("get_var_sub_streamed", RES): 9,
         ("get_multi_variables", REQ): 22, ("get_multi_variables", RES): 22, ("get_link", REQ): 2,
         ("get_link", RES): 2, ("explore", REQ): 2, ("explore", RES): 2, ("begin_sequence", REQ): 2,
         ("begin_sequence", RES): 2, ("end_sequence", REQ): 2, ("end_sequence", RES): 2,
         ("delete_object", REQ): 1, ("delete_object", RES): 1},
        identity=S1214, client_roles=frozenset({"engineering_station"}),
        actions={"session": 3, "read": 33, "discovery": 2, "other": 4, "program_download": 1},
        versions=frozenset({1, 2})),
    "s7comm/iti_S7-1511-opc-request-all-types.pcap": PlusGolden(
        {("create_object", REQ): 1, ("create_object", RES): 1, ("set_multi_variables", REQ): 1,
         ("set_multi_variables", RES): 1, ("get_var_sub_streamed", REQ): 1, ("get_var_sub_streamed", RES): 1,
         ("get_multi_variables", REQ): 6, ("get_multi_variables", RES): 6},
        identity=S1511, points={("DB6", "read"): 45}, actions={"session": 2, "read": 7}, versions=frozenset({1, 2})),
    "s7comm/iti_S7-1511_db2_var1_HMI.pcap": PlusGolden(
        {("create_object", REQ): 1, ("create_object", RES): 1, ("set_multi_variables", REQ): 1,
         ("set_multi_variables", RES): 1, ("get_multi_variables", REQ): 6, ("get_multi_variables", RES): 6,
         ("delete_object", REQ): 1, ("delete_object", RES): 1},
        identity=S1511, client_roles=frozenset({"hmi"}), points={("DB2", "read"): 5},
        actions={"session": 3, "read": 6}, versions=frozenset({1, 2})),
    "s7comm/iti_S7-1511_db3_var1_HMI.pcap": PlusGolden(
        {("create_object", REQ): 3, ("create_object", RES): 3, ("set_multi_variables", REQ): 3,
         ("set_multi_variables", RES): 3, ("get_multi_variables", REQ): 2, ("get_multi_variables", RES): 1,
         ("get_var_sub_streamed", REQ): 1, ("get_var_sub_streamed", RES): 1, ("delete_object", REQ): 2},
        identity=S1511, points={("DB3", "read"): 2},  # called TSAP SIMATIC-ROOT-OTH: neither ES nor HMI
        actions={"session": 8, "read": 3}, versions=frozenset({1, 2})),
    "s7comm/iti_S7-1511_db6w0_HMI.pcap": PlusGolden(
        {("create_object", REQ): 1, ("create_object", RES): 1, ("set_multi_variables", REQ): 1,
         ("set_multi_variables", RES): 1, ("get_var_sub_streamed", REQ): 1, ("get_var_sub_streamed", RES): 1,
         ("delete_object", REQ): 1, ("delete_object", RES): 1},
        identity=S1511, actions={"session": 3, "read": 1}, versions=frozenset({1, 2})),
    f"{V13}.pcapng": PlusGolden(
        {("create_object", REQ): 3, ("create_object", RES): 3, ("set_multi_variables", REQ): 2,
         ("set_multi_variables", RES): 2, ("get_multi_variables", REQ): 3, ("get_multi_variables", RES): 3,
         ("set_variable", REQ): 10, ("set_variable", RES): 10, ("notification", NTF): 32,
         ("delete_object", REQ): 2, ("delete_object", RES): 2},
        identity=S1214, client_roles=frozenset({"hmi"}), versions=frozenset({1, 2})),
    f"{V13}_FehlerbeiMW100.pcapng": PlusGolden(
        {("create_object", REQ): 3, ("create_object", RES): 3, ("set_multi_variables", REQ): 2,
         ("set_multi_variables", RES): 2, ("get_multi_variables", REQ): 3, ("get_multi_variables", RES): 3,
         ("set_variable", REQ): 9, ("set_variable", RES): 9, ("notification", NTF): 28,
         ("delete_object", REQ): 2, ("delete_object", RES): 2},
        identity=S1214, client_roles=frozenset({"hmi"}), versions=frozenset({1, 2})),
    "s7comm/iti_s7-1200-hmi.pcap": PlusGolden(
        {("create_object", REQ): 1, ("create_object", RES): 1, ("set_multi_variables", REQ): 2,
         ("set_multi_variables", RES): 2, ("get_multi_variables", REQ): 9, ("get_multi_variables", RES): 9},
        identity={"order_code": "6ES7 211-1BE31-0XB0", "firmware": "V3.0", "vendor": "Siemens"},
        client_roles=frozenset({"hmi"}), points={("DB3", "read"): 16, ("DB3", "write"): 1},
        actions={"session": 2, "read": 9, "write": 1}, versions=frozenset({1, 2})),
    # Mid-session V2 captures on port 102 that tshark shows as bare COTP
    "modbus/iti_modbusBig.pcap": PlusGolden(
        {("explore", REQ): 76, ("explore", RES): 76, ("notification", NTF): 489, ("set_variable", REQ): 230,
         ("set_variable", RES): 230},
        actions={"discovery": 76, "write": 230}, versions=frozenset({2})),
    "mixed/emre_cip_cotp_proces.pcap": PlusGolden(
        {("get_multi_variables", REQ): 634, ("get_multi_variables", RES): 634, ("set_multi_variables", REQ): 3,
         ("set_multi_variables", RES): 3},
        points={("Q", "read"): 631, ("M", "read"): 631, ("M", "write"): 3}, actions={"read": 634, "write": 3},
        versions=frozenset({2})),
}

# --- what each tool reports ---------------------------------------------------------------------------

PDU_FIELDS = ["frame.number", "cotp.type", "s7comm.header.rosctr", "s7comm.header.pduref", "s7comm.param.func",
              "s7comm.param.userdata.funcgroup", "s7comm.param.userdata.subfunc"]
ITEM_FIELDS = ["s7comm.param.item.syntaxid", "s7comm.param.item.transp_size", "s7comm.param.item.length",
               "s7comm.param.item.db", "s7comm.param.item.area", "s7comm.param.item.address.byte",
               "s7comm.param.item.address.bit", "s7comm.param.item.address.number",
               "s7comm.param.item.dbread.length", "s7comm.param.item.dbread.db",
               "s7comm.param.item.dbread.startaddress"]
SZL_FIELDS = {  # tshark field -> our identity key (xy1C)
    "s7comm.szl.001c.0001.name": "name", "s7comm.szl.001c.0002.name": "module_name",
    "s7comm.szl.001c.0003.tag": "plant_id", "s7comm.szl.001c.0004.copyright": "copyright",
    "s7comm.szl.001c.0005.serialn": "serial", "s7comm.szl.001c.0007.cputypname": "model",
    "s7comm.szl.001c.0008.snmcmmc": "memory_card_serial", "s7comm.szl.001c.000b.loc_id": "location",
}
XY11_FIELDS = ["s7comm.szl.xy11.0001.index", "s7comm.szl.xy11.0001.anz", "s7comm.szl.xy11.0001.ausbg",
               "s7comm.szl.xy11.0001.ausbe"]
ALL_FIELDS = PDU_FIELDS + ITEM_FIELDS + list(SZL_FIELDS) + XY11_FIELDS
_TSIZE = {t.name.lower(): int(t) for t in TransportSize}


@dataclass
class View:
    """One capture as a tool sees it: rows per kind, each a multiset of tuples starting with the frame."""

    pdus: Counter = field(default_factory=Counter)
    items: Counter = field(default_factory=Counter)
    identity: dict[int, dict[str, str]] = field(default_factory=dict)
    flagged: set[int] = field(default_factory=set)
    ambiguous: list[int] = field(default_factory=list)
    messages: list[Outcome] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


def _split(cell: str) -> list[str]:
    return cell.split("|") if cell else []


def _version(hi: int, lo: int) -> str | None:
    return f"{chr(hi >> 8)}{hi & 0xFF}.{lo >> 8}.{lo & 0xFF}" if 0x41 <= hi >> 8 <= 0x5A else None


def views_of(path: Path) -> tuple[View, View]:
    """(tshark's view, ours) from one tshark run: each segment's payload, and tshark's default dissection."""
    extra = ALL_FIELDS[1:]  # tshark prints a field asked for twice only once: frame.number is in both lists
    lines = tshark_lines(path, [*SEGMENT_FIELDS, *extra], reassemble=True)
    width = len(SEGMENT_FIELDS)
    theirs = View()
    segs = []
    for line in lines:
        cells = line.split("\t")
        seg = segment(cells[:width])
        if seg is None:
            continue
        segs.append(seg)
        _tshark_row(theirs, [str(seg.frame), *(cells[width:] + [""] * len(extra))[:len(extra)]])
    return theirs, our_view(segs)


def _tshark_row(view: View, cells: list[str]) -> None:
    """One frame as tshark dissects it (default reassembly); lists joined with '|'."""
    frame = int(cells[0])
    for t in _split(cells[1]):
        if int(t, 16) != 0x0F:  # DT TPDUs carry; they are no messages
            view.pdus[(frame, "cotp", int(t, 16))] += 1
    ros, refs, funcs, groups, subs = map(_split, cells[2:7])
    n = len(ros)
    if n and all(r == "7" for r in ros) and len(groups) == n and len(subs) == n - groups.count("0"):
        subs_iter = iter(subs)
        for r, g in zip(refs, groups):
            view.pdus[(frame, "s7comm", 7, int(r), int(g) << 8 | int(next(subs_iter)) if g != "0" else 0)] += 1
    elif n and all(r != "7" for r in ros) and len(funcs) == n:
        for ro, r, f in zip(ros, refs, funcs):
            view.pdus[(frame, "s7comm", int(ro), int(r), int(f, 16))] += 1
    elif n == 1:
        view.pdus[(frame, "s7comm", int(ros[0]), int(refs[0]), int(funcs[0], 16) if funcs else None)] += 1
    elif n:
        view.ambiguous.append(frame)
    _items(view, frame, cells[7:7 + len(ITEM_FIELDS)])
    ident = _identity(cells[7 + len(ITEM_FIELDS):])
    if ident:
        view.identity[frame] = ident


def _items(view: View, frame: int, cells: list[str]) -> None:
    syntax, tsize, length, db, area, byte, bit, number, dlen, ddb, dstart = map(_split, cells)
    plain = iter(zip(byte, bit))
    counted = iter(number)
    for i, a in enumerate(area):
        code = int(a, 16)
        if code in COUNTED_AREAS:
            where: tuple = (int(next(counted)), None)
        else:
            b, t = next(plain)
            where = (int(b), int(t))
        view.items[(frame, "any", code, int(db[i]), *where, int(tsize[i]), int(length[i]))] += 1
    for d, s, n in zip(ddb, dstart, dlen):
        view.items[(frame, "dbread", int(d), int(s), int(n))] += 1


def _identity(cells: list[str]) -> dict[str, str]:
    out = {}
    for (_, key), value in zip(SZL_FIELDS.items(), cells):
        if value.strip():
            out[key] = value.strip()
    index, mlfb, ausbg, ausbe = map(_split, cells[len(SZL_FIELDS):])
    for i, idx in enumerate(index):
        hi, lo = int(ausbg[i]), int(ausbe[i])
        if int(idx, 16) == 1:
            if mlfb[i].strip():
                out["order_code"] = mlfb[i].strip()
            if hi < 0x100:
                out.setdefault("hardware_version", str(hi))
        elif int(idx, 16) == 6 and hi < 0x100:
            out["hardware_version"] = str(hi)
        elif int(idx, 16) == 7 and _version(hi, lo):
            out["firmware"] = _version(hi, lo) or ""
        elif int(idx, 16) == 0x81 and _version(hi, lo):
            out["boot_loader"] = _version(hi, lo) or ""
    return out


_ROSCTR = {"job": 1, "ack": 2, "ack_data": 3, "userdata": 7}


def our_view(segs: list[Segment]) -> View:
    view = View(segments=segs)
    for o in frame_all(segs):
        view.messages.append(o)
        m = o.item
        if isinstance(m, Malformed):
            continue
        pdu = m.fields.get("pdu")
        if pdu == "cotp":
            view.pdus[(o.frame, "cotp", m.function_code >> 4)] += 1
        elif pdu == "s7comm":
            rosctr = _ROSCTR[m.fields["rosctr"]]
            if rosctr == 7:
                code: int | None = m.function_code if m.function_code >> 8 else 0  # group 0: mode transition
            else:
                code = None if m.function_name == m.fields["rosctr"] else m.function_code
            view.pdus[(o.frame, "s7comm", rosctr, m.fields["pdu_ref"], code)] += 1
            _our_items(view, o.frame, m)
            if "identity" in m.fields:
                view.identity[o.frame] = m.fields["identity"]
    return view


def _our_items(view: View, frame: int, m: Message) -> None:
    for it in m.fields.get("items") or ():
        if "db_areas" in it:
            for d in it["db_areas"]:
                view.items[(frame, "dbread", d["db"], d["start"], d["length"])] += 1
        elif "area_code" in it:
            where = (it["number"], None) if "number" in it else (it["byte"], it["bit"])
            view.items[(frame, "any", it["area_code"], it["db"], *where, _TSIZE[it["transport_size"]],
                        it["length"])] += 1


def _flagged(path: Path) -> set[int]:
    proc = subprocess.run(["tshark", "-n", "-r", str(path), "-Y",
                           "tcp.analysis.retransmission || tcp.analysis.spurious_retransmission", "-T", "fields",
                           "-e", "frame.number"], capture_output=True, text=True, timeout=600)
    return {int(x) for x in proc.stdout.split()}


@pytest.fixture(scope="session")
def views() -> dict[str, tuple[View, View]]:
    """(tshark's view, ours) per file, computed in parallel once per session."""
    if not FILES:
        pytest.skip(f"capture corpus not found at {CORPUS}")

    def both(name: str) -> tuple[View, View]:
        path = CORPUS / name
        theirs, ours = views_of(path)
        if name in DOCUMENTED:
            theirs.flagged = _flagged(path)
        return theirs, ours

    with ThreadPoolExecutor(max_workers=8) as pool:  # tshark waits more than it computes: overlap them
        return dict(zip(FILES, pool.map(both, FILES)))


def frame_diffs(theirs: Counter, ours: Counter) -> dict[int, tuple[list, list]]:
    frames = {r[0] for r in (theirs - ours) + (ours - theirs)}

    def at(rows: Counter, f: int) -> list:
        return sorted((r for r in rows.elements() if r[0] == f), key=repr)

    return {f: (at(theirs, f), at(ours, f)) for f in sorted(frames)}


# --- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES or [_NO_CORPUS])
def test_pdus_match_tshark(name: str, views: dict) -> None:
    """Same frames, same COTP connection TPDUs and S7comm PDUs (ROSCTR, PDU reference, function)."""
    theirs, ours = views[name]
    assert not theirs.ambiguous, f"{name}: tshark field lists do not line up at frames {theirs.ambiguous[:10]}"
    diffs = frame_diffs(theirs.pdus, ours.pdus)
    documented = DOCUMENTED.get(name, {})
    problems = [f"frame {f}: tshark {t} | ours {o}" for f, (t, o) in diffs.items() if f not in documented]
    problems += [f"frame {f}: documented difference no longer occurs ({why[:60]}...)"
                 for f, why in documented.items() if f not in diffs]
    problems += [f"frame {f}: documented, but tshark does not flag it as a retransmission"
                 for f in documented if f in diffs and f not in theirs.flagged]
    malformed = [(o.frame, o.item.code) for o in ours.messages if isinstance(o.item, Malformed)]
    assert not problems, f"{name}: {len(problems)} problems\n" + "\n".join(problems[:40])
    assert not malformed, f"{name}: our framer reports Malformed where tshark dissects: {malformed[:10]}"


def test_the_oracle_is_not_vacuous(views: dict) -> None:
    """Most files carry S7comm that tshark dissects; the comparison must see all kinds of rows."""
    pdus = sum(sum(t.pdus.values()) for t, _ in views.values())
    items = sum(sum(t.items.values()) for t, _ in views.values())
    idents = sum(len(t.identity) for t, _ in views.values())
    assert pdus > 30_000 and items > 20_000 and idents >= 20, (pdus, items, idents)


@pytest.mark.parametrize("name", FILES or [_NO_CORPUS])
def test_items_match_tshark(name: str, views: dict) -> None:
    """Read/write var and cyclic subscription variables: area, DB, address, transport size, length."""
    theirs, ours = views[name]
    documented = DOCUMENTED.get(name, {})
    diffs = {f: d for f, d in frame_diffs(theirs.items, ours.items).items() if f not in documented}
    assert not diffs, f"{name}: items differ at {len(diffs)} frames: " + \
        "; ".join(f"{f}: tshark {t[:3]} ours {o[:3]}" for f, (t, o) in list(diffs.items())[:5])


@pytest.mark.parametrize("name", FILES or [_NO_CORPUS])
def test_identity_matches_tshark(name: str, views: dict) -> None:
    """Every identity field tshark decodes from SZL xy11/xy1C, we report at the same frame, the same."""
    theirs, ours = views[name]
    problems = []
    for frame, fields in theirs.identity.items():
        mine = ours.identity.get(frame, {})
        wrong = {k: (v, mine.get(k)) for k, v in fields.items() if mine.get(k) != v}
        if wrong:
            problems.append(f"frame {frame}: (tshark, ours) {wrong}")
    extra = sorted(set(ours.identity) - set(theirs.identity))
    assert not problems and not extra, f"{name}: {problems[:10]}; identity only we report at {extra[:10]}"


@pytest.mark.parametrize("name", sorted(PLUS_GOLDEN) if FILES else [_NO_CORPUS])
def test_s7comm_plus_golden(name: str, views: dict) -> None:
    """S7comm-plus (no tshark dissector): message counts, identity, roles, points, actions, versions."""
    golden = PLUS_GOLDEN[name]
    _, ours = views[name]
    plus = [o for o in ours.messages if isinstance(o.item, Message) and o.item.fields.get("pdu") == "s7comm_plus"]
    got = Counter((o.item.function_name, o.item.direction) for o in plus)
    assert dict(got) == golden.messages
    assert {o.item.fields["version"] for o in plus} == golden.versions
    assert not [o.item.weird for o in plus if o.item.weird], "S7comm-plus messages flagged weird"
    idents = {tuple(sorted(f.value.items())) for o in plus for f in o.item.facts if f.kind == "identity"}
    assert idents == ({tuple(sorted(golden.identity.items()))} if golden.identity else set())
    assert all(f.about == "server" for o in plus for f in o.item.facts if f.kind == "identity")
    roles = {f.value for o in ours.messages if isinstance(o.item, Message) for f in o.item.facts
             if f.kind == "role" and f.about == "client"} - {"client"}
    assert roles == golden.client_roles
    points = Counter((f.value.space, f.value.access) for o in plus for f in o.item.facts if f.kind == "point")
    assert dict(points) == golden.points
    if golden.actions:
        actions = Counter(o.item.action for o in plus if o.item.direction == "request")
        assert dict(actions) == golden.actions


@pytest.mark.parametrize("name", [f for f in FILES if f not in PLUS_GOLDEN] or [_NO_CORPUS])
def test_no_s7comm_plus_where_none_is_expected(name: str, views: dict) -> None:
    _, ours = views[name]
    assert not [o.frame for o in ours.messages
                if isinstance(o.item, Message) and o.item.fields.get("pdu") == "s7comm_plus"]


def _first_data_verdicts(path: Path) -> list[Verdict]:
    """The probe's verdict on every payload that carries COTP data (CR/CC say MORE for S7 and MMS alike)."""
    out = []
    for seg in segments(path):
        if seg.payload:
            verdict = probe(seg.payload)
            if verdict is not Verdict.MORE:
                out.append(verdict)
    return out


@pytest.mark.parametrize("name", MMS_FILES)
def test_probe_rejects_mms(name: str) -> None:
    """IEC 61850 MMS shares TCP 102 and the TPKT/COTP stack: the probe must never take it for S7."""
    if not (CORPUS / name).exists():
        pytest.skip(f"{name} not in the corpus at {CORPUS}")
    verdicts = _first_data_verdicts(CORPUS / name)
    assert verdicts and Verdict.ACCEPT not in verdicts


def test_probe_accepts_every_s7_stream(views: dict) -> None:
    """Each stream's first payload that decides is an ACCEPT, in every capture of the protocol."""
    first: dict[tuple[str, int], Verdict] = {}
    for name, (_, ours) in views.items():
        for seg in ours.segments:
            key = (name, seg.stream)
            if seg.payload and key not in first:
                verdict = probe(seg.payload)
                if verdict is not Verdict.MORE:
                    first[key] = verdict
    rejected = sorted(k for k, v in first.items() if v is not Verdict.ACCEPT)
    # Streams whose capture starts inside a TPKT cannot be recognised from that segment.
    known_midstream = {("s7comm/icsnpp_s7comm_plus.pcap", 1)}
    assert set(rejected) <= known_midstream, rejected
    assert len(first) > 80

