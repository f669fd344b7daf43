"""Protocol parsers. This package imports nothing from ``sensor``; registration is explicit."""
from __future__ import annotations

from protocols.bacnet import SPEC as BACNET
from protocols.base import ProtocolSpec
from protocols.cdp import SPEC as CDP
from protocols.dhcp import SPEC as DHCP
from protocols.dhcpv6 import SPEC as DHCPV6
from protocols.dnp3 import SPEC as DNP3
from protocols.dns import SPEC as DNS
from protocols.enip import SPEC as ENIP
from protocols.http import SPEC as HTTP
from protocols.iec104 import SPEC as IEC104
from protocols.lldp import SPEC as LLDP
from protocols.llmnr import SPEC as LLMNR
from protocols.mdns import SPEC as MDNS
from protocols.modbus import SPEC as MODBUS
from protocols.nbns import SPEC as NBNS
from protocols.opcua import SPEC as OPCUA
from protocols.profinet import SPEC as PROFINET
from protocols.s7comm import SPEC as S7COMM
from protocols.tls import SPEC as TLS

BUILTIN: tuple[ProtocolSpec, ...] = (MODBUS, DNP3, ENIP, S7COMM, PROFINET, BACNET, DHCP, DHCPV6, LLDP, CDP, OPCUA, IEC104, TLS, HTTP, DNS, MDNS, LLMNR, NBNS)
NAMING: frozenset[str] = frozenset(spec.name for spec in BUILTIN if not spec.industrial)  # IT: no device typing
