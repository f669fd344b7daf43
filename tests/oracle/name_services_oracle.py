"""tshark against the sensor for the name services (DNS, mDNS, LLMNR, NBNS): what the four oracle tests share.

Each capture is read once by each tool per session, whichever of the four tests asks first: one ``otsensor analyze
--strict --events`` over all the captures together (the whole pipeline: decoding, flows, TCP reassembly, dispatch
by port, the packages; one start-up instead of one per file) and one tshark pass per capture with the fields of
all four dissectors, a few at a time in threads. Rows are per frame, with each list field the concatenation over
the messages of the frame in order (tshark aggregates a frame's occurrences the same way), so a TCP segment that
completes two DNS messages compares as one row.

The captures are those where tshark finds the protocol: a scan of the whole corpus with
``tshark -Y "dns or nbns or llmnr or mdns"`` (minutes; done once, listed here) found them; each test asserts that
tshark still finds its protocol in each, so a list gone stale fails rather than passes vacuously.
"""
from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pipeline_oracle as po
from helpers import captures_dir, run_otsensor

CORPUS = captures_dir()
FILES = {
    "dns": ["it/emre_http.pcap", "it/malcolm_DNS.pcap", "it/malcolm_NTP.pcap", "it/malcolm_STUN.pcap",
            "modbus/iti_modbusSmall.pcap", "opcua/icsnpp_open62541_client-server_mainloop.pcap",
            "opcua/malcolm_OPCUA-Binary.pcap"],
    "mdns": ["dnp3/emre_DNP3Value.pcap", "iec104/emre_104deneme2.pcap",
             "opcua/icsnpp_open62541_discover_getendpoints_discover_urls.pcap", "opcua/malcolm_OPCUA-Binary.pcap",
             "profinet/iti_Profinet_Failed.pcap", "s7comm/iti_wrapup.pcapng"],
    "llmnr": ["dnp3/emre_DNP3Value.pcap", "enip/emre_ControlLogix_Logix5000_download_upload_run.pcap",
              "iec104/emre_104LocalValue.pcap", "it/emre_simens.pcap", "other_ics/iti_addroute.pcapng",
              "profinet/icsnpp_profinet_io_cm_mixed_1.pcap", "profinet/icsnpp_profinet_io_cm_mixed_2.pcapng",
              "s7comm/iti_wrapup.pcapng"],
    "nbns": ["dnp3/emre_DNP3Value.pcap", "enip/emre_ControlLogix_FactoryTalk_HMI.pcap",
             "enip/emre_ControlLogix_Logix5000_download_upload_run.pcap",
             "enip/iti_EIP-ControlProtocolChangeAttempt.pcap", "enip/iti_EIP-RemoteModeChangeAttempt.pcap",
             "enip/iti_EIP-SoftwareUploadFailure.pcap", "it/emre_simens.pcap", "it/emre_snmp.pcap",
             "it/malcolm_Telnet.pcap", "modbus/lemay_CnC_uploading_exe_modbus_6RTU_with_operate.pcap",
             "modbus/lemay_moving_two_files_modbus_6RTU.pcap", "other_ics/iti_Sample_File_MMS_and_GOOSE.pcap",
             "other_ics/iti_addroute.pcapng", "profinet/icsnpp_profinet_io_cm_mixed_1.pcap",
             "profinet/icsnpp_profinet_io_cm_mixed_2.pcapng", "s7comm/iti_wrapup.pcapng"],
}
DNS_FIELDS = ("dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.resp.type", "dns.a", "dns.aaaa",
              "dns.ptr.domain_name")
NBNS_FIELDS = ("nbns.id", "nbns.flags.response", "nbns.flags.opcode", "nbns.name", "nbns.addr", "nbns.netbios_name",
               "nbns.unit_id")
AGGREGATOR = "\x1f"
DNS_LIKE = ("dns", "mdns", "llmnr")
HAVE_TSHARK = shutil.which("tshark") is not None
REPLACED = re.compile("\ufffd+")


def paths(protocol: str) -> list[Path]:
    return [CORPUS / name for name in FILES[protocol] if (CORPUS / name).is_file()]


def _tshark(path: Path) -> list[list[str]]:
    fields = ("frame.number", "frame.protocols", *DNS_FIELDS, *NBNS_FIELDS)
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "dns or mdns or llmnr or nbns", "-T", "fields",
                          "-E", "occurrence=a", "-E", f"aggregator={AGGREGATOR}", *[a for f in fields for a in ("-e", f)]],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    return [(line.split("\t") + [""] * len(fields))[:len(fields)] for line in out.stdout.splitlines()]


@functools.cache
def _ours() -> dict[str, list[dict]]:
    """One strict run of the CLI over every listed capture (one start-up, not one per file): events by file."""
    by_file: dict[str, list[dict]] = {str(p): [] for p in ALL}
    with tempfile.TemporaryDirectory() as tmp:
        events = tmp + "/events.jsonl"
        proc = run_otsensor("analyze", *ALL, "--strict", "--no-progress", "--db", tmp + "/o.db", "--events", events)
        assert proc.returncode == 0, f"otsensor analyze exit {proc.returncode}:\n{proc.stderr[-3000:]}"
        for line in Path(events).read_text().splitlines():
            event = json.loads(line)
            if event.get("proto") in (*DNS_LIKE, "nbns", "weird") and event.get("file") in by_file:
                by_file[event["file"]].append(event)
    return by_file


def ours(path: Path) -> list[dict]:
    with LOCK:
        return _ours()[str(path)]


ALL = sorted({p for protocol in FILES for p in paths(protocol)})
TSHARK = po.Jobs(_tshark, ALL if HAVE_TSHARK else [])
LOCK = threading.Lock()


def _list(cell: str) -> tuple[str, ...]:
    return tuple(cell.split(AGGREGATOR)) if cell else ()


def same_replacements(names: Iterable[str]) -> tuple[str, ...]:
    """Names with runs of U+FFFD made one: octets that are not UTF-8 become U+FFFD in both tools, but Python and
    GLib do not agree on how many (one per octet, or one per broken sequence)."""
    return tuple(REPLACED.sub("\ufffd", name) for name in names)


def _bool(cell: str) -> tuple[bool, ...]:
    return tuple(v in ("1", "True", "true") for v in _list(cell))


def _ints(cell: str) -> tuple[int, ...]:
    return tuple(int(v, 0) for v in _list(cell))


def tshark_rows(path: Path, protocol: str) -> Counter:
    """One row per frame tshark dissects as ``protocol`` (the last name-service layer of ``frame.protocols``)."""
    rows: Counter = Counter()
    for cells in TSHARK.get(path):  # type: ignore[union-attr]
        layers = [p for p in cells[1].split(":") if p in (*DNS_LIKE, "nbns")]
        if not layers or layers[-1] != protocol:
            continue
        frame = int(cells[0])
        if protocol == "nbns":
            ident, response, opcode, names, addrs, status_names, unit = cells[10:17]
            first = _list(names)[0].split(" (")[0] if names else None
            rows[(frame, _ints(ident), _bool(response), _ints(opcode), first, _list(addrs), _list(status_names),
                  _list(unit))] += 1
        else:
            ident, response, qname, qtype, rtype, a, aaaa, ptr = cells[2:10]
            rows[(frame, _ints(ident), _bool(response), same_replacements(_list(qname)), _ints(qtype), _ints(rtype),
                  _list(a), _list(aaaa), same_replacements(_list(ptr)))] += 1
    return rows


def _records(event: dict) -> list[dict]:
    return [r for key in ("answers", "authorities", "additionals") for r in event.get(key, ())]


def _types(record: dict) -> list[int]:
    """A record's type, then the types of an NSEC/NSEC3 bit map: tshark prints those as ``dns.resp.type`` too."""
    data = record.get("data")
    return [record["type"], *(data.get("types", ()) if isinstance(data, dict) else ())]


def our_rows(path: Path, protocol: str) -> Counter:
    by_frame: dict[int, list[dict]] = {}
    for event in ours(path):
        if event["proto"] == protocol:
            by_frame.setdefault(event["frame"], []).append(event)
    rows: Counter = Counter()
    for frame, events in by_frame.items():
        if protocol == "nbns":
            # nbns.netbios_name shows the 15 octets of a name table entry without the <xx> suffix
            status = [n["name"][:-4] for e in events for r in e.get("answers", ()) if isinstance(r.get("data"), dict)
                      for n in r["data"]["names"]]
            units = [r["data"]["unit_id"] for e in events for r in e.get("answers", ())
                     if isinstance(r.get("data"), dict) and "unit_id" in r["data"]]
            rows[(frame, tuple(e["transaction_id"] for e in events), tuple(e["response"] for e in events),
                  tuple(e["opcode"] for e in events), events[0].get("name"),
                  tuple(a for e in events for a in e.get("addresses", ())), tuple(status), tuple(units))] += 1
        else:
            records = [r for e in events for r in _records(e)]
            queries = [q for e in events for q in e.get("queries", ())]

            def data(kind: str) -> tuple[str, ...]:
                return tuple(r["data"] for r in records if r["type_name"] == kind and "data" in r)  # noqa: B023

            rows[(frame, tuple(e["transaction_id"] for e in events), tuple(e["response"] for e in events),
                  same_replacements(q["name"] for q in queries), tuple(q["type"] for q in queries),
                  tuple(t for r in records for t in _types(r)), data("A"), data("AAAA"),
                  same_replacements(data("PTR")))] += 1
    return rows


def compare(path: Path, protocol: str, allowed: dict[str, set[int]] | None = None) -> tuple[int, list[str]]:
    """(frames tshark dissects as ``protocol``, the differences not in ``allowed[file name]``)."""
    theirs, ours = tshark_rows(path, protocol), our_rows(path, protocol)
    assert theirs, f"tshark sees no {protocol} in {path.name}: the comparison would be vacuous"
    excused = (allowed or {}).get(path.name, set())
    diffs = po.frame_diffs(theirs, ours)
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in diffs.items() if f not in excused]
    return sum(theirs.values()), problems
