"""The DHCPv6 package against tshark's DHCPv6 dissector, on every capture of the corpus where tshark finds DHCPv6.

tshark lists, per frame it dissects as ``dhcpv6``, every message type in the datagram (a Relay-forward and the
message it relays), the transaction id, the client FQDN, the Option Request codes, the link-layer addresses of the
DUIDs, the IA addresses, the vendor class data, and the UDP payload, which our ``datagram`` reads as the sensor
does (see ``dhcp_oracle``; the whole pipeline is compared in test_dhcp_vs_tshark.py). Every frame must give one
message with the same values: our relays' types then ``msg_type``; ``client_fqdn``; ``option_request``; the
client and server DUID link-layer addresses, as a set; ``ia_addresses``; ``vendor_class``.

Differences, per file: profinet/icsnpp_profinet_io_cm_mixed_1.pcap and _2.pcapng (14 frames each): the client
sends a fully qualified FQDN, and tshark writes the root label as a final dot
(``LT-US-DSWANSON.americas.phoenixcontact.com.``); our ``client_fqdn`` is the name without it, as names are kept
in the inventory. The comparison drops that dot from tshark's value; nothing else differs.
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from dhcp_oracle import files_with, message, split, tshark

from protocols.dhcpv6 import datagram

FILTER = "dhcpv6 && !icmpv6"
FIELDS = ("frame.number", "dhcpv6.msgtype", "dhcpv6.xid", "dhcpv6.client_domain", "dhcpv6.requested_option_code",
          "dhcpv6.duidllt.link_layer_addr", "dhcpv6.duidll.link_layer_addr", "dhcpv6.iaaddr.ip",
          "dhcpv6.vendorclass.data", "udp.payload")
FILES = files_with("dhcpv6")
RELAYS = {"relay_forw": 12, "relay_repl": 13}


def compare(path: Path) -> tuple[Counter, Counter]:
    theirs: Counter = Counter()
    ours: Counter = Counter()
    for frame, kinds, xid, fqdn, oro, llt, ll, addresses, vendor, payload in tshark(path, FILTER, FIELDS):
        theirs[(int(frame), tuple(int(k) for k in split(kinds)), int(xid, 0) if xid else None,
                fqdn.rstrip(".") or None, ",".join(split(oro)) or None, tuple(sorted(set(split(llt) + split(ll)))),
                tuple(split(addresses)), ",".join(split(vendor)) or None)] += 1
        e = message(datagram, payload)
        if isinstance(e, str):
            ours[(int(frame), e)] += 1
            continue
        f = e.fields
        duids = {f[k] for k in ("client_link_layer_address", "server_link_layer_address") if k in f}
        ours[(int(frame), tuple([RELAYS[r["msg_type_name"]] for r in f.get("relays", [])] + [f["msg_type"]]),
              f["transaction_id"], f.get("client_fqdn"), f.get("option_request"), tuple(sorted(duids)),
              tuple(f.get("ia_addresses", [])), f.get("vendor_class"))] += 1
    return theirs, ours


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no DHCPv6 capture"))],
                         ids=lambda p: f"{p.parent.name}/{p.name}" if p else "none")
def test_dhcpv6_matches_tshark(path: Path) -> None:
    theirs, ours = compare(path)
    assert theirs, f"tshark sees no DHCPv6 in {path.name}: the comparison would be vacuous"
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in po.frame_diffs(theirs, ours).items()]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {sum(theirs.values())} DHCPv6 frames agree")
