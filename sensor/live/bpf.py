"""Capture filters (``-f``): a tcpdump expression compiled to classic BPF and attached to the socket.

The expression is compiled by libpcap itself through ctypes (``pcap_open_dead`` for Ethernet, ``pcap_compile``,
``pcap_freecode``: the Debian package libpcap0.8), so it means exactly what it means to tcpdump. Without libpcap
the program is read from ``tcpdump -ddd EXPR`` instead (one ``code jt jf k`` line per instruction). The kernel
runs the program on every frame before it is queued to the socket (``SO_ATTACH_FILTER``), so filtered-out traffic
costs no copy and no Python at all.

Two things to know on a trunk port: the expression is compiled for plain Ethernet, so like tcpdump's
``tcp port 502`` it does not match 802.1Q-tagged frames unless the NIC strips the tag (``vlan and tcp port 502``
does); and libpcap's special handling of hardware-stripped VLAN tags (BPF ancillary loads) is only emitted for a
live libpcap handle, not for the dead one used here.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import socket
import subprocess

DLT_EN10MB = 1
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
SO_ATTACH_FILTER = 26
BPF_MAXINSNS = 4096

Program = list[tuple[int, int, int, int]]  # (code, jt, jf, k) per instruction, as struct sock_filter


class BpfError(ValueError):
    """A filter expression that does not compile, or no compiler at all: one line for the user."""


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):  # struct bpf_program (pcap) and struct sock_fprog (kernel) have this shape
    _fields_ = [("len", ctypes.c_uint), ("insns", ctypes.POINTER(_Insn))]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


_libpcap: ctypes.CDLL | None | bool = False  # False: not looked for yet


def libpcap() -> ctypes.CDLL | None:
    """libpcap through ctypes, or None when it is not installed."""
    global _libpcap
    if _libpcap is False:
        name = ctypes.util.find_library("pcap")
        lib = None
        for candidate in (name, "libpcap.so.0.8", "libpcap.so.1"):
            if not candidate:
                continue
            try:
                lib = ctypes.CDLL(candidate)
                break
            except OSError:
                continue
        if lib is not None:
            lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
            lib.pcap_open_dead.restype = ctypes.c_void_p
            lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Program), ctypes.c_char_p, ctypes.c_int,
                                         ctypes.c_uint32]
            lib.pcap_compile.restype = ctypes.c_int
            lib.pcap_geterr.argtypes = [ctypes.c_void_p]
            lib.pcap_geterr.restype = ctypes.c_char_p
            lib.pcap_freecode.argtypes = [ctypes.POINTER(_Program)]
            lib.pcap_freecode.restype = None
            lib.pcap_close.argtypes = [ctypes.c_void_p]
            lib.pcap_close.restype = None
        _libpcap = lib
    return _libpcap or None


def compile_filter(expression: str, snaplen: int = 262144) -> Program:
    """The classic BPF program of a tcpdump filter expression for Ethernet frames.

    A matching frame is accepted whole up to ``snaplen`` bytes (the program's ``ret`` value caps the length the
    kernel copies, so it must be the capture's snaplen). Raises BpfError with libpcap's own words.
    """
    lib = libpcap()
    if lib is not None:
        return _compile_libpcap(lib, expression, snaplen)
    if shutil.which("tcpdump"):
        return _compile_tcpdump(expression, snaplen)
    raise BpfError("cannot compile capture filters: neither libpcap (Debian: libpcap0.8) nor tcpdump is installed")


def _compile_libpcap(lib: ctypes.CDLL, expression: str, snaplen: int) -> Program:
    handle = lib.pcap_open_dead(DLT_EN10MB, snaplen)
    if not handle:
        raise BpfError("pcap_open_dead failed")
    program = _Program()
    try:
        if lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1, PCAP_NETMASK_UNKNOWN) != 0:
            reason = (lib.pcap_geterr(handle) or b"does not compile").decode(errors="replace")
            raise BpfError(f"bad filter {expression!r}: {reason}")
        try:
            return [(i.code, i.jt, i.jf, i.k) for i in program.insns[:program.len]]
        finally:
            lib.pcap_freecode(ctypes.byref(program))
    finally:
        lib.pcap_close(handle)


def _compile_tcpdump(expression: str, snaplen: int) -> Program:
    """``tcpdump -ddd`` prints the instruction count, then ``code jt jf k`` in decimal per line."""
    done = subprocess.run(["tcpdump", "-ddd", "-s", str(snaplen), expression], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("Warning:")]
        reason = lines[-1].removeprefix("tcpdump: ") if lines else f"tcpdump exit {done.returncode}"
        raise BpfError(f"bad filter {expression!r}: {reason}")
    return parse_ddd(done.stdout)


def parse_ddd(text: str) -> Program:
    """Read ``tcpdump -ddd`` output."""
    lines = text.split()
    try:
        count = int(lines[0])
        numbers = [int(n) for n in lines[1:]]
    except (IndexError, ValueError):
        raise BpfError(f"unexpected tcpdump -ddd output: {text[:80]!r}") from None
    if len(numbers) != 4 * count:
        raise BpfError(f"tcpdump -ddd announced {count} instructions and printed {len(numbers) / 4:g}")
    return [tuple(numbers[i:i + 4]) for i in range(0, len(numbers), 4)]  # type: ignore[misc]


def attach_filter(sock: socket.socket, program: Program) -> None:
    """Attach the program to the socket (SO_ATTACH_FILTER, struct sock_fprog)."""
    if not 0 < len(program) <= BPF_MAXINSNS:
        raise BpfError(f"filter program of {len(program)} instructions (the kernel takes 1..{BPF_MAXINSNS})")
    set_program(sock, socket.SOL_SOCKET, SO_ATTACH_FILTER, program)


def set_program(sock: socket.socket, level: int, option: int, program: Program) -> None:
    """A socket option whose value is a classic BPF program (struct sock_fprog): a socket's filter, or a fanout
    group's (PACKET_FANOUT_DATA). The kernel copies the program."""
    insns = (_Insn * len(program))(*(_Insn(*insn) for insn in program))
    fprog = _SockFprog(len(program), ctypes.cast(insns, ctypes.POINTER(_Insn)))
    sock.setsockopt(level, option, bytes(fprog))

