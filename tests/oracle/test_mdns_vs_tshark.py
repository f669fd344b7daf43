"""The whole sensor against tshark's mdns dissector (DNS fields on UDP 5353), on every corpus capture with mDNS.

Per frame tshark dissects as ``mdns``: the IDs, QR, question names and types, every record's type (with the
types of NSEC bit maps, which mDNS uses to deny records, RFC 6762 §6.1), the A and AAAA addresses and the PTR
names (service types and instances) must be ours too, and we must give no mDNS event tshark does not
(``name_services_oracle``). There is no documented difference: the tools agree on every frame.
"""
from __future__ import annotations

from pathlib import Path

import name_services_oracle as nso
import pytest

PROTOCOL = "mdns"


@pytest.mark.skipif(not nso.HAVE_TSHARK, reason="tshark not installed")
@pytest.mark.parametrize("path", nso.paths(PROTOCOL), ids=lambda p: p.name)
def test_mdns_matches_tshark(path: Path) -> None:
    frames, problems = nso.compare(path, PROTOCOL)
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {frames} mDNS frames agree")
