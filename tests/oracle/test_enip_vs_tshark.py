"""The EtherNet/IP package against tshark's dissector, frame by frame, on every ENIP capture of the corpus.

Package level (the full-pipeline oracle comes when the package is wired into the sensor): one tshark pass per
file gives each frame's raw segment or datagram payload (`tcp.payload`, the segment's own bytes even where tshark
reassembles) and what its dissector reports with the default reassembly. The payloads are fed per (TCP stream,
direction) into `EnipStream` (retransmitted bytes dropped, `gap()` on a hole, as the sensor's reassembly does)
and per datagram into `datagram`; replies are completed with their requests (`pairing.complete`) by pair key
within their stream. Compared per frame:

- `enip.command`: one per encapsulation message; ours: one per group of messages an encapsulation gave;
- `cip.sc`: every CIP service, wrappers included (Unconnected Send 0x52, Multiple Service Packet 0x0A)
  and the services inside them; ours: each message's service plus the wrappers named in its fields;
- `enip.lir.*` (ListIdentity) and `cip.id.*` (Identity attributes in a Get_Attributes_All or Get_Attribute_List
  reply): vendor id, product code,
  serial number and product name must equal our identity fields;
- `enip.cpf.sai.connid`: the connection id of class 0/1 I/O on UDP 2222.

Every frame where a row differs must be listed in DOCUMENTED for its file, with the reason; a documented
difference that no longer occurs fails too, so the table stays true.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import captures_dir

from protocols.base import Malformed, Message
from protocols.enip import ENIP_PORT, IO_PORT, EnipStream, complete, datagram

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")

Row = tuple  # (commands, services, identities, io connection ids), each a sorted tuple


def corpus_files(root: Path) -> list[str]:
    """Every capture under enip/, and every other one whose MANIFEST.md row lists enip/cip/cipio."""
    files = {f"enip/{p.name}" for p in (root / "enip").glob("*") if p.suffix in (".pcap", ".pcapng", ".cap")}
    manifest = root / "MANIFEST.md"
    if manifest.is_file():
        folder = None
        for line in manifest.read_text().splitlines():
            heading = re.match(r"^### ([\w/]+)/\s*$", line)
            if heading:
                folder = heading.group(1)
                continue
            cells = [c.strip() for c in line.split("|")]
            if folder and len(cells) > 7 and re.search(r"\b(enip|cip|cipio)\b", cells[7]):
                if (root / folder / cells[1]).is_file():
                    files.add(f"{folder}/{cells[1]}")
    return sorted(files)


FILES = corpus_files(captures_dir()) if captures_dir().is_dir() else []

# tshark options per file, each with its reason: without them tshark would not dissect the ENIP at all.
DECODE_AS: dict[str, tuple[str, ...]] = {
    # The client's ephemeral port is 1102, IDMP's registered port; tshark tries the lower port first and hands
    # the whole 44818 conversation to IDMP ("IDMP fragment, 536870913 bytes"), so no frame is ENIP to it.
    "enip/iti_EIP-ControlProtocolChangeAttempt.pcap": ("-d", "tcp.port==1102,enip"),
}

SPURIOUS_RETRANSMISSION = (
    "tshark flags the segment '[TCP Spurious Retransmission]' (its bytes were acknowledged before, but the "
    "original segment is not in the capture) and does not dissect it; these are the first copy of the bytes "
    "in the capture, so our feed delivers them and decodes the Read Tag reply. tshark reports it at no frame.")

# | file | frame -> why |  (the test prints both tools' rows at any frame that differs)
DOCUMENTED: dict[str, dict[int, str]] = {
    "enip/emre_specialCIP.pcap": {229: SPURIOUS_RETRANSMISSION, 232: SPURIOUS_RETRANSMISSION},
}


@dataclass
class Rows:
    """Per frame: (encapsulation commands, CIP services, identities, I/O connection ids)."""

    commands: dict[int, Counter] = field(default_factory=dict)
    services: dict[int, Counter] = field(default_factory=dict)
    identities: dict[int, set] = field(default_factory=dict)
    io: dict[int, Counter] = field(default_factory=dict)

    def add(self, table: str, frame: int, value) -> None:
        bucket = getattr(self, table).setdefault(frame, set() if table == "identities" else Counter())
        if table == "identities":
            bucket.add(value)
        else:
            bucket[value] += 1

    def at(self, frame: int) -> Row:
        return (tuple(sorted(self.commands.get(frame, Counter()).elements())),
                tuple(sorted(self.services.get(frame, Counter()).elements())),
                tuple(sorted(self.identities.get(frame, set()))),
                tuple(sorted(self.io.get(frame, Counter()).elements())))

    def frames(self) -> set[int]:
        return set(self.commands) | set(self.services) | set(self.identities) | set(self.io)


FIELDS = ("frame.number", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.payload", "udp.srcport",
          "udp.dstport", "udp.payload", "enip.command", "cip.sc", "enip.lir.vendor", "enip.lir.prodcode",
          "enip.lir.serial", "enip.lir.name", "cip.id.vendor_id", "cip.id.product_code", "cip.id.serial_number",
          "cip.id.product_name", "enip.cpf.sai.connid")


def tshark_fields(path: Path) -> list[list[str]]:
    """One tshark pass (default reassembly) over the ENIP ports: each frame's raw segment or datagram payload
    (`tcp.payload` is the segment's own bytes even when tshark reassembles) and what the dissector reports."""
    args = ["-r", str(path), *DECODE_AS.get(path.relative_to(path.parent.parent).as_posix(), ()), "-Y", f"tcp.port=={ENIP_PORT} || udp.port=={ENIP_PORT} || udp.port=={IO_PORT}",
            "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for name in FIELDS:
        args += ["-e", name]
    proc = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line.split("|") for line in proc.stdout.splitlines()]


def _ints(cell: str) -> list[int]:
    return [int(v, 0) for v in cell.split(",") if v]


def tshark_rows(lines: list[list[str]]) -> Rows:
    """What tshark's dissector reports per frame."""
    rows = Rows()
    for cells in lines:
        frame = int(cells[0])
        commands, services, v, pc, sn, name, cv, cpc, csn, cname, connid = cells[9:]
        for c in _ints(commands):
            rows.add("commands", frame, c)
        for s in _ints(services):
            rows.add("services", frame, s)
        if v:
            rows.add("identities", frame, (int(v, 0), int(pc, 0), int(sn, 0), name))
        if cv and cname:
            rows.add("identities", frame, (int(cv, 0), int(cpc, 0), int(csn, 0), cname))
        for c in _ints(connid):
            rows.add("io", frame, c)
    return rows


def payloads(lines: list[list[str]]) -> Iterator[tuple[int, str, int, int, int, int | None, bytes]]:
    """(frame, transport, TCP stream, src port, dst port, raw seq or None, payload) of every frame with a payload."""
    for cells in lines:
        frame, stream, sport, dport, seq, tcp_payload, usport, udport, udp_payload = cells[:9]
        if stream:
            if tcp_payload:
                yield (int(frame), "tcp", int(stream), int(sport), int(dport), int(seq),
                       bytes.fromhex(tcp_payload.replace(":", "")))
        elif udp_payload:
            yield int(frame), "udp", 0, int(usport), int(udport), None, bytes.fromhex(udp_payload.replace(":", ""))


def our_rows(lines: list[list[str]]) -> tuple[Rows, Counter]:
    """Our messages per frame (and the Malformed codes met)."""
    rows = Rows()
    malformed: Counter[str] = Counter()
    framers: dict[tuple[int, bool], EnipStream] = {}
    next_seq: dict[tuple[int, bool], int] = {}
    requests: dict[tuple, Message] = {}
    for frame, transport, stream, sport, dport, seq, data in payloads(lines):
        if transport == "udp":
            try:
                found: list = [(frame, m) for m in datagram(data, dport == ENIP_PORT)]
            except Malformed as bad:
                malformed[bad.code] += 1
                continue
        else:
            if ENIP_PORT not in (sport, dport):
                continue
            key = (stream, dport == ENIP_PORT)
            framer = framers.setdefault(key, EnipStream(dport == ENIP_PORT))
            expected = next_seq.get(key)
            assert seq is not None
            if expected is not None and seq != expected:
                if (seq - expected) % 2**32 < 2**31:  # bytes were lost before this segment
                    framer.gap()
                else:  # a retransmission: keep only bytes never seen
                    seen = (expected - seq) % 2**32
                    if seen >= len(data):
                        continue
                    data, seq = data[seen:], expected
            next_seq[key] = (seq + len(data)) % 2**32
            found = framer.feed(data, frame)
        record(rows, malformed, requests, stream, found)
    return rows, malformed


def record(rows: Rows, malformed: Counter, requests: dict[tuple, Message], stream: int,
           found: list[tuple[int, Message | Malformed]]) -> None:
    for frame, message in found:
        if isinstance(message, Malformed):
            malformed[message.code] += 1
            continue
        msp = message.fields.get("multiple_service_packet")
        first_of_encapsulation = msp is None or msp["index"] == 0
        if "connection_id" in message.fields and message.function_name == "io_data":
            rows.add("io", frame, message.fields["connection_id"])
            continue
        if first_of_encapsulation:
            rows.add("commands", frame, message.fields["command"])
        if "service" in message.fields:
            rows.add("services", frame, message.function_code)
            if first_of_encapsulation and "unconnected_send" in message.fields:
                rows.add("services", frame, 0x52)
            if msp is not None and msp["index"] == 0:
                rows.add("services", frame, 0x0A)
        if message.direction == "request" and message.pair_key is not None:
            requests[(stream, message.pair_key)] = message
        elif message.direction == "response" and message.pair_key is not None:
            request = requests.pop((stream, message.pair_key), None)
            if request is not None:
                message = complete(request, message)
        identities = [message.fields["identity"], *message.fields.get("identities", [])] \
            if "identity" in message.fields else []
        for identity in identities:
            if {"vendor_id", "product_code", "serial_number", "product_name"} <= identity.keys():
                rows.add("identities", frame, (identity["vendor_id"], identity["product_code"],
                                               identity["serial_number"], identity["product_name"]))


@pytest.fixture(scope="session")
def both(corpus: Path) -> dict[str, tuple[Rows, Rows, Counter]]:
    """(tshark's rows, our rows, our Malformed codes) per file, computed in parallel once."""
    with ThreadPoolExecutor(max_workers=8) as pool:  # tshark runs in parallel; its start-up is mostly waiting
        lines = dict(zip(FILES, pool.map(lambda name: tshark_fields(corpus / name), FILES)))
    return {name: (tshark_rows(lines[name]), *our_rows(lines[name])) for name in FILES}


@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(
    reason=f"no EtherNet/IP captures under {captures_dir()}"))])
def test_enip_frames_match_tshark(name: str, both: dict) -> None:
    theirs, ours, malformed = both[name]
    documented = DOCUMENTED.get(name, {})
    diffs = {f: (theirs.at(f), ours.at(f)) for f in sorted(theirs.frames() | ours.frames())
             if theirs.at(f) != ours.at(f)}
    problems = [f"frame {f}: tshark {t} | ours {o}" for f, (t, o) in diffs.items() if f not in documented]
    problems += [f"frame {f}: documented ({why[:60]}...) but the tools agree now; update DOCUMENTED"
                 for f, why in documented.items() if f not in diffs]
    agree = len((theirs.frames() | ours.frames()) - set(diffs))
    assert not problems, (f"{name}: {len(problems)} unexplained differences ({agree} frames agree; row = "
                          f"(commands, services, identities (vendor, product code, serial, name), I/O connection "
                          f"ids)); our Malformed: {dict(malformed)}\n" + "\n".join(problems[:40]))


def test_corpus_has_enip(both: dict) -> None:
    """The oracle is not vacuous: tshark and we agree on thousands of frames, identities included."""
    frames = sum(len(t.frames()) for t, _, _ in both.values())
    identities = sum(len(t.identities) for t, _, _ in both.values())
    assert frames > 10_000 and identities >= 5, (frames, identities)
