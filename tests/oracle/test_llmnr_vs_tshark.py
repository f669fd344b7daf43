"""The whole sensor against tshark's llmnr dissector (DNS fields on UDP/TCP 5355), on every corpus capture with it.

Per frame tshark dissects as ``llmnr``: the IDs, QR, question names and types, record types and the A/AAAA
addresses of answers must be ours too, and we must give no LLMNR event tshark does not
(``name_services_oracle``). There is no documented difference: the tools agree on every frame.
"""
from __future__ import annotations

from pathlib import Path

import name_services_oracle as nso
import pytest

PROTOCOL = "llmnr"


@pytest.mark.skipif(not nso.HAVE_TSHARK, reason="tshark not installed")
@pytest.mark.parametrize("path", nso.paths(PROTOCOL), ids=lambda p: p.name)
def test_llmnr_matches_tshark(path: Path) -> None:
    frames, problems = nso.compare(path, PROTOCOL)
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    print(f"{path.name}: {frames} LLMNR frames agree")
