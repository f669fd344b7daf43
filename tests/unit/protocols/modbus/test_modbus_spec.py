"""The registration record and the probe that finds Modbus/TCP off port 502."""
from __future__ import annotations

import pytest

from protocols.base import ProtocolSpec, Verdict
from protocols.modbus import SPEC, probe

READ_REQ = bytes([
    0x00, 0x01,  # transaction id
    0x00, 0x00,  # protocol id
    0x00, 0x06,  # length
    0x01,        # unit id
    0x03,        # function code
    0x00, 0x00,  # address
    0x00, 0x0A,  # quantity
])


def test_spec() -> None:
    assert isinstance(SPEC, ProtocolSpec)
    assert (SPEC.name, SPEC.ports) == ("modbus", frozenset({("tcp", 502)}))
    assert SPEC.probe(READ_REQ) is Verdict.ACCEPT
    assert SPEC.probe(READ_REQ[:7]) is Verdict.MORE  # not yet a function code
    assert SPEC.probe(b"GET / HTTP/1.1\r\n") is Verdict.REJECT


def test_spec_is_listed_in_protocols() -> None:
    from protocols import BUILTIN

    assert SPEC in BUILTIN


@pytest.mark.parametrize("data", [
    READ_REQ,
    READ_REQ[:8],                                   # header and function code of a longer ADU
    READ_REQ + READ_REQ,                            # two ADUs in one segment
    READ_REQ + READ_REQ[:3],                        # and the start of a third
    bytes.fromhex("000100000003018302"),            # exception response
    bytes.fromhex("000700000005005a000200"),        # UMAS
])
def test_probe_accepts_modbus(data: bytes) -> None:
    assert probe(data)


@pytest.mark.parametrize("data", [
    b"",
    READ_REQ[:7],                                   # no function code yet
    bytes.fromhex("000100010006010300000001"),      # protocol id 1
    bytes.fromhex("000100000001010300000001"),      # length 1
    bytes.fromhex("000100000100010300000001"),      # length 256
    bytes.fromhex("000100000006010000000001"),      # function code 0
    bytes.fromhex("000100000006018000000001"),      # function code 0x80 (exception of 0)
    READ_REQ + b"\x16\x03\x01\x00\x10",             # a whole ADU followed by something else
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    bytes.fromhex("1603010200010001fc0303"),        # TLS client hello
])
def test_probe_rejects_other_bytes(data: bytes) -> None:
    assert not probe(data)
