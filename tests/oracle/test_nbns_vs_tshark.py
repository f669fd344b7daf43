"""The whole sensor against tshark's nbns dissector, on every corpus capture where tshark finds NBNS.

Per frame tshark dissects as ``nbns``: the transaction IDs, the R bit, the opcode, the first name decoded from the
first-level encoding with its suffix (``nbns.name`` without the suffix's description, ``WORKGROUP<1e>``), every
NB_ADDRESS, and for node status responses the names of the name table (``nbns.netbios_name``) and the MAC address
of the statistics (``nbns.unit_id``) must be ours too, and we must give no NBNS event tshark does not
(``name_services_oracle``). The corpus holds no node status response: ``tests/e2e/test_name_services.py`` crafts
one and compares it with tshark too. There is no documented difference: the tools agree on every frame.
"""
from __future__ import annotations

from pathlib import Path

import name_services_oracle as nso
import pytest

PROTOCOL = "nbns"


@pytest.mark.skipif(not nso.HAVE_TSHARK, reason="tshark not installed")
@pytest.mark.parametrize("path", nso.paths(PROTOCOL), ids=lambda p: p.name)
def test_nbns_matches_tshark(path: Path) -> None:
    frames, problems = nso.compare(path, PROTOCOL)
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {frames} NBNS frames agree")
