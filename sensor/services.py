"""Service names: one table of what a well-known port is called, for flows, Zeek's conn.log and policies.

A protocol with a registered package (``protocols.BUILTIN``) is named by its dissector, which reads the
payload: its ports are the package's, and a flow on one of them that the dissector did not accept stays
unnamed. The IT services below have no dissector, so their port names them (as IANA assigns it); a port a
registered package claims is never named here.
"""
from __future__ import annotations

from functools import cache

# name -> the (transport, port) pairs that name it
PORT_SERVICES: dict[str, tuple[tuple[str, int], ...]] = {
    "ftp": (("tcp", 21),),
    "ssh": (("tcp", 22),),
    "telnet": (("tcp", 23),),
    "smtp": (("tcp", 25), ("tcp", 587)),
    "tftp": (("udp", 69),),
    "kerberos": (("tcp", 88), ("udp", 88)),
    "pop3": (("tcp", 110),),
    "ntp": (("udp", 123),),
    "netbios_dgm": (("udp", 138),),
    "smb": (("tcp", 445), ("tcp", 139)),
    "imap": (("tcp", 143),),
    "snmp": (("udp", 161), ("udp", 162)),
    "ldap": (("tcp", 389), ("udp", 389), ("tcp", 3268)),
    "syslog": (("udp", 514), ("tcp", 601)),
    "mssql": (("tcp", 1433),),
    "radius": (("udp", 1812), ("udp", 1813)),
    "mqtt": (("tcp", 1883),),
    "mysql": (("tcp", 3306),),
    "rdp": (("tcp", 3389), ("udp", 3389)),
    "sip": (("udp", 5060), ("tcp", 5060)),
    "postgresql": (("tcp", 5432),),
    "vnc": (("tcp", 5900),),
    "winrm": (("tcp", 5985), ("tcp", 5986)),
}


@cache
def registered() -> dict[str, frozenset[tuple[str, int]]]:
    """The registered packages' names and ports (loaded on first use: packages are added as work goes on)."""
    from protocols import BUILTIN

    return {spec.name: frozenset(spec.ports) for spec in BUILTIN}


@cache
def _by_port() -> dict[tuple[str, int], str]:
    claimed = {pair for ports in registered().values() for pair in ports}
    return {pair: name for name, pairs in PORT_SERVICES.items() if name not in registered()
            for pair in pairs if pair not in claimed}


def by_port(transport: str, port: int) -> str | None:
    """The IT service a well-known port names, or None (unknown ports, and ports a dissector decides)."""
    return _by_port().get((transport, port))


def ports_of(name: str) -> frozenset[tuple[str, int]]:
    """The well-known ports of a service: its registered package's, else this table's (empty if unknown)."""
    if name in registered():
        return registered()[name]
    return frozenset(pair for pair in PORT_SERVICES.get(name, ()) if pair in _by_port())


def flow_service(protocol: str | None, transport: str, resp_port: int | None) -> str | None:
    """A flow's service: the protocol its dissector read, else the name of the responder's well-known port."""
    if protocol:
        return protocol
    return by_port(transport, resp_port) if resp_port else None
