"""The registration record, and the probe that tells S7 from MMS on the shared port 102."""
from __future__ import annotations

import pytest
from s7comm_frames import CC, CR, READ_DB1, SETUP_JOB, dt, plus_frame, plus_response, tpkt

from protocols.base import ProtocolSpec, Verdict
from protocols.s7comm import SPEC, S7Stream, probe
from protocols.s7comm.codes import ACTIONS, WEIRDS

MMS_INITIATE = tpkt(dt(bytes.fromhex("0dc80506130100160102140200023302000134020001c1b6311c0002000300")))
MMS_CONFIRMED = tpkt(dt(bytes.fromhex("0100010061")))  # ISO session give-tokens + data transfer SPDUs


def test_spec() -> None:
    assert isinstance(SPEC, ProtocolSpec)
    assert (SPEC.name, SPEC.ports, SPEC.transports) == ("s7comm", frozenset({("tcp", 102)}), frozenset({"tcp"}))
    assert SPEC.framer is S7Stream and SPEC.datagram is None
    assert SPEC.actions is ACTIONS and SPEC.weirds is WEIRDS
    assert isinstance(SPEC.framer(True), S7Stream)


def test_spec_is_not_registered_by_import() -> None:
    """Registration is explicit: importing the package changes nothing in protocols.BUILTIN."""
    from protocols import BUILTIN

    assert all(spec.name != "s7comm" for spec in BUILTIN) or SPEC in BUILTIN


@pytest.mark.parametrize("data", [
    SETUP_JOB, READ_DB1, CR + SETUP_JOB, CC + SETUP_JOB, SETUP_JOB[:9],
    tpkt(dt(plus_frame(plus_response(0x04CA, 1)))), tpkt(dt(b"\x72")),
])
def test_probe_accepts_s7_and_s7_plus(data: bytes) -> None:
    assert probe(data) is Verdict.ACCEPT


@pytest.mark.parametrize("data", [b"", CR, CC, CR + CC, SETUP_JOB[:4], SETUP_JOB[:7], tpkt(dt(b"", eot=False)),
                                  tpkt(dt(b"\x32"))])
def test_probe_waits_while_it_cannot_tell(data: bytes) -> None:
    """Connection set-up is the same for S7 and MMS: only the first COTP data decides."""
    assert probe(data) is Verdict.MORE


@pytest.mark.parametrize("data", [
    MMS_INITIATE, MMS_CONFIRMED, CR + MMS_INITIATE, SETUP_JOB[:8] + b"\x33",
    tpkt(dt(b"\x32\x05" + bytes(8))),  # no such ROSCTR
    b"GET / HTTP/1.1\r\n\r\n", bytes.fromhex("1603010200010001fc0303"), bytes.fromhex("000100000006010300000001"),
    tpkt(bytes([2, 0x30, 0])),  # no such TPDU
    tpkt(bytes([9, 0xF0, 0x80])),  # a length indicator past the TPKT
])
def test_probe_rejects_everything_else(data: bytes) -> None:
    assert probe(data) is Verdict.REJECT
