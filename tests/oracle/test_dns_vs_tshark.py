"""The whole sensor against tshark's dns dissector, on every corpus capture where tshark finds DNS.

Per frame tshark dissects as ``dns`` (the last name-service layer of ``frame.protocols``; ``mdns`` and ``llmnr``
have tests of their own): the IDs, QR, the question names and types, every record's type (with the types an
NSEC/NSEC3 bit map lists, which tshark prints as ``dns.resp.type`` too), the A and AAAA addresses and the PTR
names must be ours too, and we must give no DNS event tshark does not (``name_services_oracle``).

Differences, per file, each with its reason:

- ``malcolm_DNS.pcap`` (2,577 DNS frames, a collection of odd and malformed DNS):
  frames 753 and 754, a response whose names run past 255 octets: tshark shows ``<Name too long>`` and goes
  on reading the rest as if the name had ended; we stop at the fault (``dns_name_too_long``) and keep the header.
  Frames 1408, 1787, 2240, 2244, 2266, 2271, 2285, 2335, 2461, 2516, 2540, 2597, 2606, 2644, 2686, 2709, 2719,
  2806, 2843, 2844: a question name with a label octet 0x40-0xBF (extended label types, RFC 6891 §5): tshark
  shows ``<Unknown extended label>`` and reads a type from the octets after it; we cannot know where the label
  ends, so we stop there (``dns_bad_label_type``) and keep the header. Frame 2490: an IPv4 packet cut to 4
  octets of UDP payload: tshark shows the ID of a message without its header; we report ``dns_short_header``.
  Frames 854 and 863: DNS on UDP port 8053, which tshark's dns dissector also claims; the sensor dispatches DNS
  by port 53 (``--decode-as dns=udp/8053`` adds it).
- ``icsnpp_open62541_client-server_mainloop.pcap`` frame 1 and ``malcolm_OPCUA-Binary.pcap`` frame 3918: a
  loopback query from port 63974 to port 58543 (Docker's embedded resolver): neither port is DNS's.

Names whose octets are not UTF-8 compare with runs of U+FFFD made one (Python and GLib replace differently).
"""
from __future__ import annotations

from pathlib import Path

import name_services_oracle as nso
import pytest

PROTOCOL = "dns"
EXCUSED = {
    "malcolm_DNS.pcap": {753, 754, 854, 863, 1408, 1787, 2240, 2244, 2266, 2271, 2285, 2335, 2461, 2490, 2516, 2540,
                         2597, 2606, 2644, 2686, 2709, 2719, 2806, 2843, 2844},
    "icsnpp_open62541_client-server_mainloop.pcap": {1},
    "malcolm_OPCUA-Binary.pcap": {3918},
}


@pytest.mark.skipif(not nso.HAVE_TSHARK, reason="tshark not installed")
@pytest.mark.parametrize("path", nso.paths(PROTOCOL), ids=lambda p: p.name)
def test_dns_matches_tshark(path: Path) -> None:
    frames, problems = nso.compare(path, PROTOCOL, EXCUSED)
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {frames} DNS frames, {frames - len(EXCUSED.get(path.name, ()))} agree")
