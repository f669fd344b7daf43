"""The whole sensor against tshark's iec60870_104 and iec60870_asdu dissectors, on every IEC 104 capture.

``otsensor analyze FILE --strict --events E.jsonl`` runs over each capture of the ``iec104`` folder and the
captures elsewhere whose MANIFEST row lists iec60870_104; tshark lists, per frame, every field of every APDU
it dissects. Per frame, as multisets, we compare:

- the APCI: format (``iec60870_104.type``: 0 I, 1 S, 3 U), U function (``.utype``), N(S) (``.tx``) and N(R)
  (``.rx``) with our ``apci_type``, ``u_function``, ``send_sequence`` and ``receive_sequence``;
- the ASDU's data unit identifier: ``iec60870_asdu.typeid``, ``.causetx``, ``.nega``, ``.test``, ``.oa``,
  ``.addr``, ``.numix``, ``.sq`` with our ``type_id`` (the function code), ``cause``, ``negative``, ``test``,
  ``originator_address``, ``common_address``, ``number_of_objects``, ``sq``;
- the information object addresses (``iec60870_asdu.ioa``, those SQ = 1 implies included) with the ``ioa``
  of our objects;
- the values tshark decodes: single-point (``.siq.spi``), double-point (``.diq.dpi``), normalized, scaled and
  short floating point values (``.normval``, ``.scalval``, ``.float``), counters (``.bcr.count``), single and
  double command states and their S/E bits (``.sco.on``, ``.dco.on``, ``.sco.se``, ``.dco.se``, ``.qos.se``),
  step positions (``.vti.v``), bitstrings (``.bitstring``), the interrogation qualifier (``.qoi``), and the
  parts of every CP56Time2a and CP24Time2a time tag (``.cp56time.ms`` ... ``.year``) with our ``time``.

Each capture is analysed by a CLI run of its own, a few at a time in threads with tshark
(``pipeline_oracle.Jobs``): both are processes of their own, so the threads only wait.

One difference of representation holds for every file and is not listed per frame: the 32-bit bitstring of
M_BO_* and C_BO_* (BSI, IEC 60870-5-101 §7.2.6.13). tshark 4.0 reads its four octets big-endian; like every
other multi-octet field of the standard (and as lib60870, the stack under c104, encodes it) we read them
least significant octet first, so tshark's value is compared byte-swapped. The corpus agrees with us: its
bitstrings are small counts (1, 2, 3 ... 31) in the first octet, which tshark shows as 0x01000000 ....

There is no other difference: over the 19 captures (978 APDUs, 652 ASDUs, 1,031 information objects, with
their values and time tags) the tools agree on every frame, the ITI capture built to test dissectors included
(octets before the start octet, APDU lengths below 4, ASDUs cut inside their identifier, unknown U functions).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from helpers import captures_dir

CORPUS = captures_dir()
OTHER_FILES = [("mixed", "iti_JavaRMI_and_IEC_Misc.pcap")]  # MANIFEST lists iec60870_104 there too
SEP = "\x1f"

APCI_FIELDS = {"iec60870_104.type": "type", "iec60870_104.utype": "utype", "iec60870_104.tx": "tx",
               "iec60870_104.rx": "rx"}
ASDU_FIELDS = {"iec60870_asdu.typeid": "typeid", "iec60870_asdu.causetx": "causetx", "iec60870_asdu.nega": "nega",
               "iec60870_asdu.test": "test", "iec60870_asdu.oa": "oa", "iec60870_asdu.addr": "addr",
               "iec60870_asdu.numix": "numix", "iec60870_asdu.sq": "sq", "iec60870_asdu.ioa": "ioa"}
VALUE_FIELDS = {"iec60870_asdu.siq.spi": "spi", "iec60870_asdu.diq.dpi": "dpi", "iec60870_asdu.normval": "normval",
                "iec60870_asdu.scalval": "scalval", "iec60870_asdu.float": "float", "iec60870_asdu.bcr.count": "bcr",
                "iec60870_asdu.sco.on": "sco", "iec60870_asdu.dco.on": "dco", "iec60870_asdu.sco.se": "se",
                "iec60870_asdu.dco.se": "se", "iec60870_asdu.qos.se": "se", "iec60870_asdu.vti.v": "vti",
                "iec60870_asdu.bitstring": "bitstring", "iec60870_asdu.qoi": "qoi"}
TIME_FIELDS = {f"iec60870_asdu.{clock}.{part}": f"{clock}.{part}" for clock, parts in
               (("cp56time", ("ms", "min", "hour", "day", "month", "year")), ("cp24time", ("ms", "min"))) for part in parts}
FIELDS = {**APCI_FIELDS, **ASDU_FIELDS, **VALUE_FIELDS, **TIME_FIELDS}
FORMAT_CODE = {"I": 0, "S": 1, "U": 3}
VALUE_TYPES = {  # our type id -> the value row tshark gives its objects
    **dict.fromkeys((1, 2, 30), "spi"), **dict.fromkeys((3, 4, 31), "dpi"), **dict.fromkeys((9, 10, 21, 34), "normval"),
    **dict.fromkeys((11, 12, 35), "scalval"), **dict.fromkeys((13, 14, 36), "float"), **dict.fromkeys((15, 16, 37), "bcr"),
    **dict.fromkeys((45, 58), "sco"), **dict.fromkeys((46, 59), "dco"), **dict.fromkeys((48, 61), "normval"),
    **dict.fromkeys((49, 62), "scalval"), **dict.fromkeys((50, 63), "float"), 110: "normval", 111: "scalval",
    112: "float", **dict.fromkeys((5, 6, 32), "vti"), **dict.fromkeys((7, 8, 33, 51, 64), "bitstring"), 100: "qoi",
}
CP24_TYPES = frozenset({2, 4, 6, 8, 10, 12, 14, 16})
CP56_TYPES = frozenset({*range(30, 38), *range(58, 65), 103, 107})  # the time tags tshark 4.0 decodes
SE_TYPES = frozenset({45, 46, 48, 49, 50, 58, 59, 61, 62, 63})  # objects with an S/E bit tshark shows


def capture_files() -> list[Path]:
    folder = CORPUS / "iec104"
    files = sorted(p for p in folder.iterdir() if p.suffix in (".pcap", ".pcapng")) if folder.is_dir() else []
    return files + [CORPUS / d / n for d, n in OTHER_FILES if (CORPUS / d / n).exists()]


FILES = capture_files()


def _float32(value: float) -> float:
    """tshark prints a float with the precision of its 32 bits; compare both at that precision."""
    return float(f"{struct.unpack('<f', struct.pack('<f', value))[0]:.6g}")


def _value(kind: str, cell: str) -> object:
    if kind in ("spi", "sco", "se", "nega", "test", "sq"):
        return cell in ("1", "True")
    if kind in ("float", "normval"):
        return _float32(float(cell))
    if kind == "bitstring":  # tshark reads BSI big-endian; we read it as its octets go, LE (see the docstring)
        return int.from_bytes(int(cell, 0).to_bytes(4, "big"), "little")
    return int(cell, 0)


def tshark_rows(path: Path) -> Counter:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a", "-E",
                          f"aggregator={SEP}", "-E", "quote=n", "-e", "frame.number",
                          *[a for f in FIELDS for a in ("-e", f)]], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    rows: Counter = Counter()
    for line in out.stdout.splitlines():
        cells = (line.split("\t") + [""] * (len(FIELDS) + 1))[:len(FIELDS) + 1]
        frame = int(cells[0])
        for kind, cell in zip(FIELDS.values(), cells[1:]):
            for value in (v for v in cell.split(SEP) if v):
                rows[(frame, kind, _value(kind, value))] += 1
    return rows


def our_rows(events: list[dict]) -> Counter:
    rows: Counter = Counter()
    for e in events:
        if e.get("proto") != "iec104":
            continue
        f = e["frame"]
        rows[(f, "type", FORMAT_CODE[e["apci_type"]])] += 1
        for ours, kind in (("u_function", "utype"), ("send_sequence", "tx"), ("receive_sequence", "rx"),
                           ("type_id", "typeid"), ("cause", "causetx"), ("negative", "nega"), ("test", "test"),
                           ("originator_address", "oa"), ("common_address", "addr"), ("number_of_objects", "numix"),
                           ("sq", "sq")):
            if ours in e:
                rows[(f, kind, e[ours])] += 1
        kind = VALUE_TYPES.get(e.get("type_id", -1))
        for o in e.get("objects", ()):
            rows[(f, "ioa", o["ioa"])] += 1
            if kind is not None:
                value = o["qualifier"] if kind == "qoi" else o["value"]
                rows[(f, kind, _float32(value) if kind in ("float", "normval") else
                      bool(value) if kind in ("spi", "sco") else value)] += 1
            if e["type_id"] in SE_TYPES:
                rows[(f, "se", o["select"])] += 1
            if e["type_id"] in CP24_TYPES or e["type_id"] in CP56_TYPES:
                rows.update((f, kind, value) for kind, value in _time_rows(o["time"]))
    return rows


def _time_rows(text: str) -> list[tuple[str, int]]:
    """Our ``time`` (``YYYY-MM-DDTHH:MM:SS.mmm`` or ``MM:SS.mmm``) as tshark's CP56Time2a/CP24Time2a parts."""
    if "T" not in text:
        minute, seconds = text.split(":")
        return [("cp24time.ms", round(float(seconds) * 1000)), ("cp24time.min", int(minute))]
    date, clock = text.split("T")
    year, month, day = (int(v) for v in date.split("-"))
    hour, minute, seconds = clock.split(":")
    return [("cp56time.ms", round(float(seconds) * 1000)), ("cp56time.min", int(minute)),
            ("cp56time.hour", int(hour)), ("cp56time.day", day), ("cp56time.month", month),
            ("cp56time.year", year - 2000)]


def compare(path: Path) -> tuple[Counter, Counter]:
    """(tshark's rows, ours) for one capture, each analysed by a CLI run of its own (as a user would)."""
    with tempfile.TemporaryDirectory() as tmp:
        return tshark_rows(path), our_rows(po.analyze(path, Path(tmp), "--no-progress"))


@pytest.fixture(scope="module")
def results() -> po.Jobs:
    return po.Jobs(compare, FILES)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no IEC 104 capture"))],
                         ids=lambda p: p.name if p else "none")
def test_iec104_matches_tshark(path: Path, results: po.Jobs) -> None:
    expected, ours = results.get(path)
    assert any(r[1] == "type" for r in expected), f"tshark sees no IEC 104 in {path.name}: the comparison is vacuous"
    diffs = po.frame_diffs(expected, ours)
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in diffs.items()]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    apdus = sum(n for r, n in expected.items() if r[1] == "type")
    print(f"{path.name}: {apdus} APDUs agree")

