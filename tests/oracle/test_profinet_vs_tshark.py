"""The whole sensor against tshark's pn_dcp dissector, on every capture of the corpus where tshark finds DCP.

``otsensor analyze FILE --strict --events E.jsonl`` runs over each capture (capture reading, batch decoding with
VLAN tags, link-layer dispatch by ethertype, the package, the events writer); tshark lists, per frame it
dissects as ``pn_dcp``, the ServiceID, ServiceType and the identity fields it decodes: NameOfStation, VendorID,
DeviceID and the IP address. Each such frame must give exactly one of our events with the same values (our
``service_id``, ``service_type``, ``name_of_station``, ``vendor_id``, ``device_id``, ``ip_address``), and we
must give no DCP event tshark does not. Files tshark finds no DCP in are not compared (nothing to agree on).
There is no documented difference: the tools agree on every frame.
"""
from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from helpers import captures_dir

CORPUS = captures_dir()
FOLDERS = ("profinet", "mixed", "other_ics")  # where the MANIFEST lists pn_rt/pn_dcp
FIELDS = ("frame.number", "pn_dcp.service_id", "pn_dcp.service_type", "pn_dcp.suboption_device_nameofstation",
          "pn_dcp.suboption_vendor_id", "pn_dcp.suboption_device_id", "pn_dcp.suboption_ip_ip")
Row = tuple  # (frame, service_id, service_type, name_of_station, vendor_id, device_id, ip_address)


def tshark_rows(path: Path) -> Counter:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "pn_dcp", "-T", "fields", "-E", "occurrence=f",
                          *[a for f in FIELDS for a in ("-e", f)]], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    rows: Counter = Counter()
    for line in out.stdout.splitlines():
        frame, sid, stype, name, vendor, device, ip = (line.split("\t") + [""] * 7)[:7]
        rows[(int(frame), int(sid), int(stype), name or None, int(vendor, 0) if vendor else None,
              int(device, 0) if device else None, ip or None)] += 1
    return rows


def our_rows(events: list[dict]) -> Counter:
    return Counter((e["frame"], e["service_id"], e["service_type"], e.get("name_of_station"), e.get("vendor_id"),
                    e.get("device_id"), e.get("ip_address")) for e in events if e.get("proto") == "profinet")


def dcp_files() -> list[Path]:
    """Every capture in the folders where tshark dissects at least one DCP frame (tshark decides, not us)."""
    if shutil.which("tshark") is None:
        return []
    files = sorted(p for folder in FOLDERS if (CORPUS / folder).is_dir() for p in (CORPUS / folder).iterdir()
                   if p.suffix in (".pcap", ".pcapng"))
    return [p for p in files if subprocess.run(["tshark", "-n", "-r", str(p), "-Y", "pn_dcp", "-T", "fields",
                                                "-e", "frame.number"], capture_output=True, text=True,
                                               timeout=300).stdout.strip()]


FILES = dcp_files()


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no DCP capture"))],
                         ids=lambda p: p.name if p else "none")
def test_profinet_matches_tshark(path: Path, tmp_path: Path) -> None:
    theirs = tshark_rows(path)
    events = po.analyze(path, tmp_path)
    ours = our_rows(events)
    assert theirs, f"tshark sees no DCP in {path.name}: the comparison would be vacuous"
    diffs = po.frame_diffs(theirs, ours)
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in diffs.items()]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {sum(theirs.values())} DCP frames agree")
