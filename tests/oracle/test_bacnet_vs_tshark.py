"""The whole sensor against tshark's bvlc/bacnet/bacapp dissectors, on every BACnet/IP capture of the corpus.

``otsensor analyze FILE --strict --events E.jsonl`` runs over each capture of the bacnet folder (the only folder
whose MANIFEST rows list bvlc); tshark lists, per frame it dissects as ``bvlc``, the BVLC function, the network
message type, the APDU type, the confirmed or unconfirmed service, the invoke id, the first object identifier
(type and instance), I-Am's vendor identifier, error class and code, reject and abort reasons. Each such frame
must give exactly one of our events with the same values, and we must give no BACnet event tshark does not.

Documented differences (``DIFFERENCES``; one that no longer occurs fails too, so the table stays true):

- BACnet over Ethernet 802.2 LLC, MS/TP and ARCNET frames are not compared: the sensor decodes BACnet/IP only
  (tshark rows without ``bvlc``). ct_bacnet-ethernet*.cap, ct_bacnet-properties.cap, ct_BACnet-MSTP-SNAP-Mixed.cap,
  ct_BACnetIP-MSTP-Mix.cap, emre_mstp_*.pcap and ct_bacnet-arcnet.cap hold such frames beside their B/IP ones.
- Segmented APDUs: tshark reassembles them and decodes the parameters at the last segment; the sensor reports each
  segment (segmented, more_follows, sequence number, window) and decodes the first as far as it goes. Their
  parameters (first object, errors) are not compared; types, services and invoke ids are.
- Single frames where tshark decodes what the standard refuses, listed in ``DIFFERENCES`` with the reason.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from helpers import captures_dir

from protocols.bacnet.tables import OBJECT_TYPES

CORPUS = captures_dir()
FOLDERS = ("bacnet",)
FIELDS = ("frame.number", "bvlc.function", "bacnet.mesgtyp", "bacapp.type", "bacapp.confirmed_service",
          "bacapp.unconfirmed_service", "bacapp.invoke_id", "bacapp.objectType", "bacapp.instance_number",
          "bacapp.vendor_identifier", "bacapp.error_class", "bacapp.error_code", "bacapp.reject_reason",
          "bacapp.abort_reason", "bacapp.segmented_request")
DIFFERENCES: dict[tuple[str, int], str] = {
    ("ct_bacnet-stack-services.cap", 1): "an NPDU of version 16 (an APDU sent without its NPDU): tshark decodes it "
                                         "anyway, we refuse it as bacnet_npdu_bad_version (clause 6.2.1)",
    **{("ct_bacnet-stack-services.cap", f): "an NPDU with DNET and hop count but no APDU: tshark shows an empty "
                                            "bacapp, we say bacnet_apdu_truncated" for f in (77, 79, 81, 83)},
}
"""(file, frame) -> why tshark's row and ours differ there."""


def _int(text: str) -> int | None:
    return int(text, 0) if text else None


def tshark_rows(path: Path) -> Counter:
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "bvlc", "-T", "fields", "-E", "occurrence=f",
                          *[a for f in FIELDS for a in ("-e", f)]], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    rows: Counter = Counter()
    for line in out.stdout.splitlines():
        cells = (line.split("\t") + [""] * len(FIELDS))[:len(FIELDS)]
        frame, function, message, kind, confirmed, unconfirmed, invoke, otype, instance, vendor, eclass, ecode, \
            reject, abort, segmented = (_int(c) for c in cells)
        service = unconfirmed if kind == 1 else confirmed
        if segmented:  # reassembled by tshark at the last segment: its parameters are not compared
            otype = eclass = ecode = None
        rows[(frame, function, message, kind, service, invoke, (otype, instance) if otype is not None else None,
              vendor if kind == 1 and service == 0 else None, eclass, ecode, reject, abort)] += 1
    return rows


TYPE_NUMBERS = {name: number for number, name in OBJECT_TYPES.items()}
FIRST_OBJECT_FIELD = {"i_have": "device", "who_has": "object", "unconfirmed_cov_notification": "initiating_device",
                      "confirmed_cov_notification": "initiating_device", "i_am": "object",
                      "confirmed_event_notification": "initiating_device",
                      "unconfirmed_event_notification": "initiating_device",
                      "confirmed_cov_notification_multiple": "initiating_device",
                      "unconfirmed_cov_notification_multiple": "initiating_device",
                      "confirmed_text_message": "source_device", "unconfirmed_text_message": "source_device",
                      "you_are": "device"}
"""Services whose first object identifier on the wire is not the object they reference: the field that holds it."""


def object_numbers(text: str | None) -> tuple[int, int] | None:
    """``analog-value,3`` back to (2, 3)."""
    if not text:
        return None
    name, instance = text.rsplit(",", 1)
    number = TYPE_NUMBERS.get(name)
    if number is None:
        number = int(name.rsplit("-", 1)[1])  # proprietary-130, reserved-70
    return number, int(instance)


def our_rows(events: list[dict]) -> Counter:
    rows: Counter = Counter()
    for e in events:
        if e.get("proto") != "bacnet":
            continue
        refs = e.get("references") or []
        first = (refs[0]["object_type"], refs[0]["instance"]) if refs and not e.get("segmented") else None
        if e["function_name"] in FIRST_OBJECT_FIELD and e.get("pdu_type") in (0, 1):
            first = object_numbers(e.get(FIRST_OBJECT_FIELD[e["function_name"]]))
        rows[(e["frame"], e["bvlc_function"], e.get("network_message_type"), e.get("pdu_type"),
              e.get("service_choice") if e.get("pdu_type") not in (6, 7) else None, e.get("invoke_id"), first,
              e.get("vendor_id") if e.get("function_name") == "i_am" else None, e.get("error_class"),
              e.get("error_code") if not e.get("segmented") else None, e.get("reject_reason"), e.get("abort_reason"))] += 1
    return rows


def capture_files() -> list[Path]:
    return sorted(p for folder in FOLDERS if (CORPUS / folder).is_dir() for p in (CORPUS / folder).iterdir()
                  if p.suffix in (".pcap", ".pcapng", ".cap"))


def compare(path: Path) -> tuple[Counter, Counter]:
    """(tshark's rows, ours) for one capture: both tools run once, captures a few at a time (``po.Jobs``)."""
    with tempfile.TemporaryDirectory() as tmp:
        return tshark_rows(path), our_rows(po.analyze(path, Path(tmp)))


FILES = capture_files() if shutil.which("tshark") else []
JOBS = po.Jobs(compare, FILES)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no BACnet capture"))],
                         ids=lambda p: p.name if p else "none")
def test_bacnet_matches_tshark(path: Path) -> None:
    """Files where tshark finds no BVLC (MS/TP, ARCNET) must give no BACnet event either."""
    theirs, ours = JOBS.get(path)  # type: ignore[misc]
    diffs = po.frame_diffs(theirs, ours)
    documented = {frame for (name, frame) in DIFFERENCES if name == path.name}
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in diffs.items() if f not in documented]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    stale = documented - set(diffs)
    assert not stale, f"{path.name}: documented differences no longer occur at frames {sorted(stale)}"
    print(f"{path.name}: {sum(theirs.values())} BVLC frames, {sum(theirs.values()) - len(diffs)} agree")


def test_the_corpus_has_bacnet_ip() -> None:
    """The comparison is not vacuous: most captures of the folder carry BACnet/IP that both tools decode."""
    if shutil.which("tshark") is None or not FILES:
        pytest.skip("tshark or the corpus missing")
    frames = sum(sum(JOBS.get(p)[0].values()) for p in FILES)  # type: ignore[index]
    assert frames > 10_000
