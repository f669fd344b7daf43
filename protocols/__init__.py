"""Protocol parsers. This package imports nothing from ``sensor``; registration is explicit."""
from __future__ import annotations

from protocols.base import ProtocolSpec
from protocols.modbus import SPEC as MODBUS

BUILTIN: tuple[ProtocolSpec, ...] = (MODBUS,)
