"""Service matching: ports, protocol names, and what the sensor identified."""
from __future__ import annotations

import pytest

from sensor.policy.services import Observed, parse_service, suggest_name


def matches(spec: str, transport: str, port: int, protocol: str) -> bool:
    return parse_service(spec).matches(Observed(transport, port, protocol))


@pytest.mark.parametrize("spec, seen, expected", [
    ("modbus", ("tcp", 502, "modbus"), True),
    ("modbus", ("tcp", 5020, "modbus"), True),  # identified on another port
    ("modbus", ("tcp", 502, "tcp"), True),  # well-known port, payload never decoded
    ("modbus", ("tcp", 502, "http"), False),  # something else tunnelled on 502
    ("modbus", ("tcp", 5020, "tcp"), False),
    ("tcp/502", ("tcp", 502, "modbus"), True),
    ("tcp/502", ("tcp", 502, "http"), False),
    ("tcp/502", ("udp", 502, "udp"), False),
    ("tcp/8443", ("tcp", 8443, "tls"), True),  # no well-known protocol there: any
    ("rdp", ("tcp", 3389, "tls"), True),
    ("https", ("tcp", 443, "tls"), True),
    ("https", ("tcp", 443, "ssh"), False),
    ("smb", ("tcp", 445, "microsoft-ds"), True),
    ("udp/47808", ("udp", 47808, "bacnet"), True),
    ("icmp", ("icmp", 0, "icmp"), True),
    ("icmp", ("icmp6", 0, "icmp6"), True),
    ("ip/47", ("ip47", 0, "ip47"), True),
    ("ip/6", ("tcp", 445, "tcp"), True),  # every TCP packet
    ("ip/47", ("ip89", 0, "ip89"), False),
])
def test_matching(spec, seen, expected):
    assert matches(spec, *seen) is expected


@pytest.mark.parametrize("text", ["tcp/0", "tcp/70000", "sctp/5", "tcp/abc", "modbuss", "ip/256", "ip/gre"])
def test_bad_services_are_refused(text):
    with pytest.raises(ValueError):
        parse_service(text)


def test_suggested_names():
    assert suggest_name(Observed("tcp", 502, "modbus")) == "modbus"
    assert suggest_name(Observed("tcp", 3389, "tls")) == "rdp"
    assert suggest_name(Observed("tcp", 8443, "tls")) == "tcp/8443"
    assert suggest_name(Observed("tcp", 445, "tcp")) == "smb"
    assert suggest_name(Observed("tcp", 5555, "tcp")) == "tcp/5555"
    assert suggest_name(Observed("icmp6", 0, "icmp6")) == "icmp"
    assert suggest_name(Observed("ip89", 0, "ip89")) == "ip/89"
    assert suggest_name(Observed("ip", 0, "ip")) is None  # no readable transport header


def test_labels():
    assert Observed("tcp", 445, "tcp").label == "tcp/445"
    assert Observed("tcp", 5020, "modbus").label == "modbus"
    assert Observed("ip47", 0, "ip47").label == "ip47"
