"""The package's SPEC: where EtherNet/IP lives, the probe, the datagram parser."""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from enip_frames import cpf, encap, list_identity_reply

import protocols.enip
from protocols.base import Malformed, ProtocolSpec, Verdict
from protocols.enip import SPEC, EnipStream, datagram, detect


def test_spec():
    assert isinstance(SPEC, ProtocolSpec) and SPEC.name == "enip"
    assert SPEC.ports == frozenset({("tcp", 44818), ("udp", 44818), ("udp", 2222)})
    assert SPEC.transports == frozenset({"tcp", "udp"}) and SPEC.ports_on("udp") == frozenset({44818, 2222})
    assert isinstance(SPEC.framer(True), EnipStream) and SPEC.framer(False).is_request is False
    assert SPEC.datagram is datagram and SPEC.probe is detect


def test_package_imports_nothing_from_sensor():
    root = Path(protocols.enip.__file__).parent
    offenders = [p.name for p in root.glob("*.py")
                 if re.search(r"^\s*(from|import) sensor\b", p.read_text(), re.MULTILINE)]
    assert not offenders


def test_detect():
    assert detect(encap(0x65, b"\x01\x00\x00\x00")) is Verdict.ACCEPT
    assert detect(b"\x65\x00\x04") is Verdict.MORE
    assert detect(b"SSH-2.0-OpenSSH_9.2\r\n") is Verdict.REJECT


def test_datagram_list_identity():
    [request] = datagram(encap(0x63), True)
    assert request.direction == "request"
    [answer] = datagram(list_identity_reply(), False)
    assert answer.direction == "announce" and answer.fields["identity"]["product_name"] == "1756-ENBT/A"


def test_datagram_io():
    payload = cpf((0x8002, struct.pack("<II", 7, 9)), (0x00B1, b"\x01\x00\xaa\xbb"))
    [io] = datagram(payload, True)
    assert io.function_name == "io_data" and io.fields["connection_id"] == 7


@pytest.mark.parametrize("payload,code", [(b"", "enip_truncated"), (encap(0x63)[:10], "enip_truncated"),
                                          (encap(0x63, b"abc", length=9), "enip_truncated"),
                                          (b"\x99\x99" + bytes(22), "enip_unknown_command"),
                                          (encap(0x63) + b"\x63", "enip_truncated")])
def test_datagram_malformed(payload, code):
    with pytest.raises(Malformed) as bad:
        datagram(payload, True)
    assert bad.value.code == code
