"""Machinery of the LLDP and CDP oracle tests: one strict CLI run over every capture, tshark's fields per file.

Both tools read one cut of all the captures: their Ethernet frames whose type (after up to two VLAN tags) is
0x88CC or an IEEE 802.3 length, in their order, chosen by those two header fields alone (not by either tool's
dissector). The whole captures hold 63,000 frames of which 1,400 are LLDP or CDP; reading them all cost both
tools 50 s, and tshark takes a second to start: one cut and one run of each tool cost a few seconds.
``Cut.frames`` maps a frame of the cut back to its capture and its number there.

The captures are the corpus files where tshark dissects LLDP or CDP (found with ``tshark -Y "lldp or cdp"`` over
the whole corpus when these tests were written; running that search in every test run would cost a minute of
tshark over 300 files). Each test asserts tshark still finds its protocol in each file, so a list gone stale
fails rather than compares nothing.
"""
from __future__ import annotations

import json
import struct
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pipeline_oracle as po
from helpers import captures_dir, run_otsensor
from scapy.utils import RawPcapReader

CORPUS = captures_dir()
LLDP_FILES = (
    "dnp3/emre_DNP3Value.pcap", "enip/emre_enip.pcap", "enip/icsnpp_enip_cip_example.pcap",
    "enip/iti_EIP-ChangeDateAttempt.pcap", "enip/iti_EIP-ChangeTimeAttempt.pcap",
    "enip/iti_EIP-ControlProtocolChangeAttempt.pcap", "enip/iti_EIP-FirmwareChangeFailure.pcap",
    "enip/iti_EIP-RebootorRestart.pcap", "enip/iti_EIP-SoftwareDownloadFailure.pcap", "enip/iti_EIP-SoftwareUpload.pcap",
    "enip/iti_EIP-SoftwareUploadFailure.pcap", "iec104/emre_104IPValue.pcap", "iec104/emre_104deneme2.pcap",
    "iec104/emre_59.pcap", "it/emre_LLDP.pcap", "it/emre_simens.pcap", "mixed/emre_cip_cotp_proces.pcap",
    "modbus/iti_mb2.pcap", "profinet/icsnpp_profinet_io_cm_mixed_1.pcap", "profinet/icsnpp_profinet_io_cm_mixed_2.pcapng",
    "profinet/iti_Profinet_Failed.pcap", "s7comm/iti_wrapup.pcapng",
)
CDP_FILES = (
    "enip/iti_EIP-ChangeTimeAttempt.pcap", "enip/iti_EIP-ControlProtocolChangeAttempt.pcap",
    "enip/iti_EIP-FirmwareChangeFailure.pcap", "enip/iti_EIP-RemoteModeChangeAttempt.pcap",
    "enip/iti_EIP-SoftwareDownloadFailure.pcap", "enip/iti_EIP-SoftwareUpload.pcap",
    "enip/iti_EIP-SoftwareUploadFailure.pcap", "it/emre_LLDP.pcap", "it/emre_cdp_v2.pcap",
)
AGGREGATOR = "\x1f"  # between occurrences of one field in a frame: a character no name or address holds


LINKTYPE_ETHERNET = 1
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)


@dataclass(frozen=True)
class Cut:
    path: Path  # a classic pcap of the link-layer frames of every capture, one after the other
    frames: tuple[tuple[Path, int], ...]  # for each frame of the cut: its capture and its number there


def present(names: Sequence[str]) -> list[Path]:
    return [CORPUS / name for name in names if (CORPUS / name).is_file()]


def is_link_layer(frame: bytes) -> bool:
    """Ethernet type 0x88CC or an 802.3 length, after up to two VLAN tags: LLDP and LLC frames (CDP...)."""
    at = 12
    for _ in range(3):
        if len(frame) < at + 2:
            return False
        kind = int.from_bytes(frame[at:at + 2], "big")
        if kind not in VLAN_TPIDS:
            return kind == 0x88CC or kind < 0x0600
        at += 4
    return False


def cut(sources: Sequence[Path], folder: Path) -> Cut:
    """The link-layer frames of all ``sources`` in one pcap (one start-up of each tool instead of one per file)."""
    frames: list[tuple[Path, int]] = []
    records = []
    for source in sources:
        for number, (data, meta) in enumerate(RawPcapReader(str(source)), start=1):
            if getattr(meta, "linktype", LINKTYPE_ETHERNET) == LINKTYPE_ETHERNET and is_link_layer(data):
                frames.append((source, number))
                records.append(struct.pack("<IIII", len(frames), 0, len(data), len(data)) + data)
    path = folder / "link_layer_frames.pcap"
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET)
    path.write_bytes(header + b"".join(records))
    return Cut(path, tuple(frames))


def analyze(cut: Cut, tmp: Path) -> dict[Path, list[dict]]:
    """One ``otsensor analyze --strict`` over the cut: every event, by its capture, with its frame number there."""
    events = tmp / "events.jsonl"
    proc = run_otsensor("analyze", cut.path, "--strict", "--no-progress", "--db", tmp / "o.db", "--events", events)
    assert proc.returncode == 0, f"otsensor analyze exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    out: dict[Path, list[dict]] = {}
    for line in events.read_text().splitlines():
        if line.strip():
            event = json.loads(line)
            if "frame" in event:
                source, event["frame"] = cut.frames[event["frame"] - 1]
                out.setdefault(source, []).append(event)
    return out


def tshark_fields(cut: Cut, display_filter: str, fields: Sequence[str]) -> dict[Path, list[list[list[str]]]]:
    """Per frame tshark shows with ``display_filter``, by capture: each field's occurrences (a list, empty when
    absent); the first field must be ``frame.number``, given as the frame's number in its capture."""
    proc = subprocess.run(["tshark", "-n", "-r", str(cut.path), "-Y", display_filter, "-T", "fields", "-E",
                           "occurrence=a", "-E", f"aggregator={AGGREGATOR}", *[a for f in fields for a in ("-e", f)]],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-500:]
    out: dict[Path, list[list[list[str]]]] = {}
    for line in proc.stdout.splitlines():
        cells = (line.split("\t") + [""] * len(fields))[:len(fields)]
        source, number = cut.frames[int(cells[0]) - 1]
        out.setdefault(source, []).append([[str(number)]] + [cell.split(AGGREGATOR) if cell else [] for cell in cells[1:]])
    return out


def escaped(text: str | None) -> str | None:
    """A string as tshark's field output shows it: control characters as C escapes."""
    if text is None:
        return None
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def first(cell: list[str]) -> str | None:
    return cell[0] if cell else None


def number(cell: list[str]) -> int | None:
    """tshark's first value of a numeric field (decimal or 0x hex), or None when it has none."""
    return int(cell[0], 0) if cell else None


def bits(names: list[str] | None, table: Sequence[str]) -> int | None:
    """Our capability names as the bit mask tshark prints (bit i is ``table[i]``)."""
    return None if names is None else sum(1 << table.index(n) for n in names)


def assert_agree(path: Path, theirs: Counter, ours: Counter, protocol: str) -> None:
    """Every frame's rows equal in both tools, and the comparison not vacuous."""
    assert theirs, f"tshark sees no {protocol} in {path.name}: the comparison would be vacuous"
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in po.frame_diffs(theirs, ours).items()]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:20])
    print(f"{path.name}: {sum(theirs.values())} {protocol} frames agree")
