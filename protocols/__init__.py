"""Protocol parsers. This package imports nothing from ``sensor``; registration is explicit."""
from __future__ import annotations

from protocols.base import ProtocolSpec
from protocols.dnp3 import SPEC as DNP3
from protocols.enip import SPEC as ENIP
from protocols.modbus import SPEC as MODBUS
from protocols.profinet import SPEC as PROFINET
from protocols.s7comm import SPEC as S7COMM

BUILTIN: tuple[ProtocolSpec, ...] = (MODBUS, DNP3, ENIP, S7COMM, PROFINET)
