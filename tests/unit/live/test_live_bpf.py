"""Capture filters: compiled by libpcap (or tcpdump -ddd), run by the kernel.

The kernel runs a socket filter on AF_UNIX datagrams too, so attaching the compiled program to one end of a
socketpair shows what it keeps without root or an interface.
"""
from __future__ import annotations

import shutil
import socket

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import Ether

from sensor.live import bpf
from sensor.live.bpf import BpfError, attach_filter, compile_filter, parse_ddd

MODBUS = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=502) / b"\x00\x01")
PING = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP())


def kept(program: bpf.Program, frames: list[bytes]) -> list[bytes]:
    """The frames a socket with ``program`` attached receives."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with a, b:
        attach_filter(b, program)
        for frame in frames:
            a.send(frame)
        b.setblocking(False)
        out = []
        while True:
            try:
                out.append(b.recv(65536))
            except BlockingIOError:
                return out


needs_libpcap = pytest.mark.skipif(bpf.libpcap() is None, reason="libpcap (libpcap0.8) not installed")


@needs_libpcap
def test_a_good_expression_compiles_and_the_kernel_runs_it() -> None:
    program = compile_filter("tcp port 502")
    assert program[-1][0] & 0x07 == 0x06, "ends with a return"
    assert kept(program, [MODBUS, PING, MODBUS]) == [MODBUS, MODBUS]
    assert kept(compile_filter("icmp"), [MODBUS, PING]) == [PING]


@needs_libpcap
def test_the_snap_length_is_what_the_program_accepts() -> None:
    assert max(k for code, _jt, _jf, k in compile_filter("tcp", snaplen=1234) if code == 0x06) == 1234


@needs_libpcap
@pytest.mark.parametrize("expression, words", [("tcp port banana", "banana"), ("tcp prot 502", "syntax error"),
                                               ("host", "syntax error")])
def test_a_bad_expression_says_why_in_one_line(expression: str, words: str) -> None:
    with pytest.raises(BpfError) as error:
        compile_filter(expression)
    message = str(error.value)
    assert message.startswith(f"bad filter {expression!r}: ") and words in message and "\n" not in message


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_without_libpcap_tcpdump_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpf, "libpcap", lambda: None)
    program = compile_filter("tcp port 502")
    assert kept(program, [MODBUS, PING]) == [MODBUS]
    with pytest.raises(BpfError, match="^bad filter 'tcp port banana': "):
        compile_filter("tcp port banana")


def test_nothing_to_compile_with_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpf, "libpcap", lambda: None)
    monkeypatch.setattr(bpf.shutil, "which", lambda name: None)
    with pytest.raises(BpfError, match="neither libpcap .* nor tcpdump"):
        compile_filter("tcp")


def test_tcpdump_ddd_output_is_read() -> None:
    assert parse_ddd("2\n40 0 0 12\n6 0 0 262144\n") == [(40, 0, 0, 12), (6, 0, 0, 262144)]
    with pytest.raises(BpfError):
        parse_ddd("3\n40 0 0 12\n")
    with pytest.raises(BpfError):
        parse_ddd("")


def test_a_program_the_kernel_cannot_take_is_refused() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s, pytest.raises(BpfError):
        attach_filter(s, [])
