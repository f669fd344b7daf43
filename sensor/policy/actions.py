"""Control actions as the policy reads them, for every protocol alike.

Each protocol package holds its one action table (``ProtocolSpec.actions``: function name -> action of
the shared vocabulary in ``protocols.base.ACTIONS``). A conduit with ``access: read`` admits only
``read``, ``discovery`` and ``session``; everything else over it is a breach. Path risk and severity
rank actions by how much they can change in the process, from reading to reprogramming.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from protocols import BUILTIN
from protocols.base import READ_ONLY_ACTIONS

RANK = {
    "read": 0, "discovery": 0, "session": 0,
    "time_sync": 1, "diagnostics": 1,
    "other": 2, "file_transfer": 2, "program_upload": 2,
    "write": 3, "operate": 3,
    "restart": 4, "mode_change": 4,
    "program_download": 5, "firmware_update": 5,
}
"""How much an action can change: reads nothing; writes and operations move the process; restarts,
mode changes and new programs or firmware change what the controller does."""
CHANGES_PROCESS, CHANGES_CONTROLLER = 3, 4  # RANK thresholds used for severity and wording

_TABLES: dict[str, Mapping[str, str]] = {spec.name: spec.actions for spec in BUILTIN if spec.actions}
DECODED = tuple(sorted(_TABLES))  # protocols whose actions a read-only conduit can check


def controls(protocol: str) -> bool:
    """Whether the protocol can restart, stop or reprogram a controller: an industrial control protocol, whose
    server is a field device (HTTP or DNS, with actions of their own, cannot)."""
    return any(RANK.get(action, 0) >= CHANGES_CONTROLLER for action in _TABLES.get(protocol, {}).values())


def decodes(protocol: str) -> bool:
    """Whether the sensor knows the actions of this protocol (so ``access: read`` can mean something)."""
    return protocol in _TABLES


@lru_cache(maxsize=4096)
def classify(protocol: str, function_name: str) -> str:
    """The action of one function of one protocol; unknown functions and protocols give ``other``."""
    return _TABLES.get(protocol, {}).get(function_name.lower(), "other")


def worst(protocol: str, functions: Mapping[str, int]) -> str | None:
    """The action among the functions used that can change the most, or None when none were decoded."""
    found = [classify(protocol, name) for name in functions]
    return max(found, key=RANK.__getitem__) if found else None


def rank(protocol: str, functions: Mapping[str, int]) -> int:
    """RANK of the worst action used, -1 when none."""
    action = worst(protocol, functions)
    return RANK[action] if action else -1


def not_reads(protocol: str, functions: Mapping[str, int]) -> dict[str, int]:
    """The functions (with counts) a read-only conduit must not pass."""
    return {name: n for name, n in sorted(functions.items()) if classify(protocol, name) not in READ_ONLY_ACTIONS}
