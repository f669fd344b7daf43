"""Services as a policy names them (``tcp/502``, ``modbus``) and as the sensor observed them.

A communication carries its transport, the responder port and the protocol the sensor identified
(the transport's own name when nothing was). A protocol name in a policy stands for that protocol on
any port *and* for its well-known ports, so ``modbus`` covers Modbus on tcp/5020 as well as a tcp/502
session whose payload was never decoded. What the sensor identified wins where it identified something:
a session on tcp/502 that turned out to be HTTP matches neither ``modbus`` nor ``tcp/502``, because
that is exactly the tunnel a conduit exists to stop.
"""
from __future__ import annotations

from dataclasses import dataclass

from sensor.services import ports_of

# name -> (well-known (transport, port) pairs, protocol labels the sensor may give it). The ports are those of
# sensor.services (the registered packages', and the IT services' table); a name the sensor does not use for a
# service (https, profinet's connection manager, icmp) lists its own.
KNOWN: dict[str, tuple[frozenset[tuple[str, int]], frozenset[str]]] = {
    name: (frozenset(ports) | ports_of(name), frozenset({name, *aliases}))
    for name, ports, aliases in (
        ("modbus", [], ["modbus_tcp", "mbtcp"]),
        ("s7comm", [], ["s7", "s7comm_plus", "cotp"]),
        ("dnp3", [], []),
        ("enip", [], ["cip"]),
        ("bacnet", [], ["bacnet_ip"]),
        ("iec104", [], ["iec60870_5_104"]),
        ("opcua", [], ["opc_ua"]),
        ("profinet", [("udp", 34964)], ["profinet_cm", "dcerpc"]),
        ("rdp", [], ["ms_wbt_server", "ms-wbt-server", "tls"]),
        ("https", [("tcp", 443)], ["tls", "ssl"]),
        ("http", [], []),
        ("ssh", [], []),
        ("telnet", [], []),
        ("ftp", [], []),
        ("smb", [], ["smb2", "microsoft_ds", "microsoft-ds", "netbios_ssn"]),
        ("vnc", [], ["rfb"]),
        ("winrm", [], []),
        ("dns", [], ["domain"]),
        ("dhcp", [], ["bootps", "bootpc"]),
        ("ntp", [], []),
        ("snmp", [], []),
        ("syslog", [], []),
        ("icmp", [("icmp", 0), ("icmp6", 0)], ["icmp6"]),
    )
}
TRANSPORTS = ("tcp", "udp")
# IP protocol numbers the sensor names as transports; any other N appears as transport "ipN" (``ip/N``).
IP_TRANSPORTS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}
_ALL_LABELS = frozenset(label for _, labels in KNOWN.values() for label in labels)
_BY_PORT = {pair: name for name, (ports, _) in KNOWN.items() for pair in ports}


@dataclass(frozen=True, slots=True)
class Observed:
    """What a communication says about its service."""

    transport: str
    port: int
    protocol: str  # the identified protocol, or the transport name

    @property
    def identified(self) -> bool:
        return self.protocol not in (self.transport, "", "unknown")

    @property
    def label(self) -> str:
        """How reports name it: the protocol when identified, else ``tcp/445`` (or ``ip47`` without ports)."""
        if self.identified or self.transport not in TRANSPORTS:
            return self.protocol
        return f"{self.transport}/{self.port}"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One entry of a conduit's ``services``: a port (``tcp/502``), an IP protocol (``ip/47``) or a name."""

    text: str
    transport: str | None = None
    port: int | None = None
    name: str | None = None

    @property
    def protocol(self) -> str | None:
        """The protocol this entry stands for: its name, or the well-known protocol of its port."""
        return self.name or _BY_PORT.get((self.transport, self.port))

    def matches(self, seen: Observed) -> bool:
        """Whether ``seen`` is this service."""
        if self.name is not None:
            ports, labels = KNOWN[self.name]
            return seen.protocol in labels or (
                (seen.transport, seen.port) in ports and not _other_protocol(seen, labels))
        if self.transport == "ip":  # ip/N: every packet of IP protocol N, ports or not
            return seen.transport == IP_TRANSPORTS.get(self.port, f"ip{self.port}")
        if (seen.transport, seen.port) != (self.transport, self.port):
            return False
        expected = _BY_PORT.get((seen.transport, seen.port))
        return not (expected and _other_protocol(seen, KNOWN[expected][1]))


def _other_protocol(seen: Observed, labels: frozenset[str]) -> bool:
    """The sensor identified a protocol, and it is a known one other than these labels."""
    return seen.identified and seen.protocol not in labels and seen.protocol in _ALL_LABELS


def parse_service(text: str) -> ServiceSpec:
    """``tcp/502``, ``udp/47808``, ``ip/47`` or a protocol name; ValueError says what is wrong."""
    text = text.strip().lower()
    if "/" in text:
        transport, _, number = text.partition("/")
        if transport not in (*TRANSPORTS, "ip"):
            raise ValueError(f"service {text!r}: write tcp/PORT, udp/PORT or ip/PROTOCOL-NUMBER")
        low, high, what = (0, 255, "IP protocol") if transport == "ip" else (1, 65535, "port")
        if not number.isdigit() or not low <= int(number) <= high:
            raise ValueError(f"service {text!r}: {what} must be a number from {low} to {high}")
        return ServiceSpec(text=text, transport=transport, port=int(number))
    if text not in KNOWN:
        raise ValueError(f"unknown service {text!r}: use tcp/PORT, udp/PORT, ip/PROTOCOL-NUMBER or one of "
                         f"{', '.join(sorted(KNOWN))}")
    return ServiceSpec(text=text, name=text)


def suggest_name(seen: Observed) -> str | None:
    """The policy word for an observed service, or None when the policy language cannot name it.

    The port's protocol name, the identified protocol, ``tcp/PORT``, or ``ip/47`` for IP protocols
    without ports. TLS on 3389 reads ``rdp`` and on 443 ``https``; TLS elsewhere stays a port, because
    a name would allow it on every port. Packets whose transport header could not be read (``ip``)
    have no name.
    """
    own = _BY_PORT.get((seen.transport, seen.port))
    if own and ServiceSpec(text=own, name=own).matches(seen):
        return own
    if seen.protocol in KNOWN:
        return seen.protocol
    if seen.transport in TRANSPORTS:
        return f"{seen.transport}/{seen.port}"
    number = seen.transport.removeprefix("ip")
    return f"ip/{number}" if number.isdigit() else None
