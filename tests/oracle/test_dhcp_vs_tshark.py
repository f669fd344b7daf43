"""The DHCP package against tshark's DHCP (BOOTP) dissector, on every capture of the corpus where tshark finds DHCP.

tshark lists, per frame it dissects as ``dhcp`` (DHCP quoted inside ICMP errors left out), the message type (53),
transaction id, client MAC, yiaddr, host name (12), vendor class (60), client FQDN name (81), the parameter
request list (55), the server identifier (54), and the UDP payload, which our ``datagram`` reads as the sensor
does (see ``dhcp_oracle``). Every frame must give one message with the same values. Then the whole CLI on
it/malcolm_DHCP.pcap: every frame tshark dissects as DHCP or DHCPv6 is exactly one event of ours, and no other.

Differences, per file: none. it/malcolm_DHCP.pcap frames 57 and 58 are fuzzed BOOTREQUESTs tshark marks
``[Malformed Packet]`` (no option 53, the options field cut); it still reads their header fields, and so do we
(``bootrequest`` events).
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from dhcp_oracle import CORPUS, files_with, message, split, tshark

from protocols.dhcp import datagram

FILTER = "dhcp && !icmp"
FIELDS = ("frame.number", "dhcp.option.dhcp", "dhcp.id", "dhcp.hw.mac_addr", "dhcp.ip.your", "dhcp.option.hostname",
          "dhcp.option.vendor_class_id", "dhcp.fqdn.name", "dhcp.option.request_list_item",
          "dhcp.option.dhcp_server_id", "udp.payload")
FILES = files_with("dhcp")
GOLDEN = CORPUS / "it" / "malcolm_DHCP.pcap"


def compare(path: Path) -> tuple[Counter, Counter]:
    theirs: Counter = Counter()
    ours: Counter = Counter()
    for frame, kind, xid, mac, yiaddr, host, vendor, fqdn, prl, server, payload in tshark(path, FILTER, FIELDS):
        theirs[(int(frame), int(kind) if kind else None, int(xid, 0), (split(mac) or [None])[0], yiaddr,
                host or None, vendor or None, fqdn or None, ",".join(split(prl)) or None, server or None)] += 1
        e = message(datagram, payload)
        if isinstance(e, str):
            ours[(int(frame), e)] += 1
            continue
        f = e.fields
        ours[(int(frame), f["msg_type"], f["transaction_id"], f["chaddr"] if f["hlen"] == 6 else None, f["yiaddr"],
              f.get("hostname"), f.get("vendor_class_id"), f.get("client_fqdn"), f.get("parameter_request_list"),
              f.get("server_identifier"))] += 1
    return theirs, ours


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no DHCP capture"))],
                         ids=lambda p: f"{p.parent.name}/{p.name}" if p else "none")
def test_dhcp_matches_tshark(path: Path) -> None:
    theirs, ours = compare(path)
    assert theirs, f"tshark sees no DHCP in {path.name}: the comparison would be vacuous"
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in po.frame_diffs(theirs, ours).items()]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {sum(theirs.values())} DHCP frames agree")


@pytest.mark.skipif(shutil.which("tshark") is None or not GOLDEN.exists(), reason="tshark or the capture missing")
def test_every_tshark_frame_is_an_event(tmp_path: Path) -> None:
    """The whole pipeline: dispatch by port (67/68, 546/547, a reply from an ephemeral port), relays, the events."""
    theirs = Counter((int(f), p) for f, p in tshark(GOLDEN, "dhcp && !icmp", ("frame.number", "frame.protocols"))
                     for p in ["dhcp"])
    theirs += Counter((int(f), "dhcpv6") for (f,) in tshark(GOLDEN, "dhcpv6", ("frame.number",)))
    ours = Counter((e["frame"], e["proto"]) for e in po.analyze(GOLDEN, tmp_path) if e["proto"] in ("dhcp", "dhcpv6"))
    assert sum(theirs.values()) == 91 and ours == theirs
