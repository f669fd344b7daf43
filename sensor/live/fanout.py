"""AF_PACKET fanout by host pair: the classic BPF program that picks each frame's worker, and joining the group.

``live --workers N`` opens N packet sockets on the interface, one per worker, in one fanout group: the kernel
hands each frame to one member only, the one whose index is the group's program's return value modulo N. The
program is ``program()`` below: a hash of the frame's unordered address pair, the same for both directions of a
conversation and for every conversation between the same two hosts; frames without IPv4 or IPv6 (ARP, LLDP,
PROFINET DCP) return 0, worker 0, as ``analyze --workers`` sends them (sensor.parallel.shard_of).

Why not PACKET_FANOUT_HASH: the kernel's flow hash is per 5-tuple (addresses and ports), so two TCP connections
between the same two hosts may land on different workers, while the sensor computes per pair of hosts (polls,
channels, bursts, baselines): each worker would see part of a pair's traffic. PACKET_FANOUT_CBPF (Linux 4.3)
runs our own classic BPF program instead.

The program reads the frame through SKF_LL_OFF (offsets from the link-layer header, wherever the kernel's data
pointer stands when the fanout runs). The kernel takes a VLAN tag out of the frame into metadata before packet
sockets see it (software or NIC), so offset 12 is usually the inner ethertype already; one tag still in the frame
(0x8100 or 0x88a8: of two tags the kernel takes out the outer one only) is stepped over. Either way the hash is
the same, as it reads the addresses only. IPv6 addresses are folded to 32 bits each (a polynomial over their four
words) before the pair is ordered. The mix is 32-bit (classic BPF's ALU): min * K_MIN ^ max * K_MAX, then
xor-shift, multiply, xor-shift, so that the low bits the modulo keeps depend on every bit of both addresses. A
frame too short for the loads ends the program with 0 in the kernel, as in ``evaluate``.

``evaluate`` runs the same instructions in Python (the subset used here), so the tests can show the hash is
symmetric and spreads pairs, and what each worker received can be checked against it.

Joining (``join_group``), after the socket is bound: PACKET_FANOUT with the group id and type (the first member
asks the kernel for an id no other group uses, PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.16), then PACKET_FANOUT_DATA
with the program (one program per group; each member sets the same one). Members are indexed in the order they
join: the workers join one after the other, so worker k is member k. PACKET_FANOUT_FLAG_IGNORE_OUTGOING (Linux
6.2) keeps the host's own transmissions out, as the socket option PACKET_IGNORE_OUTGOING does without fanout (the
group's hook replaces the socket's); on older kernels they are dropped by their packet type. No rollover flag: a
worker whose ring is full drops (and counts) its frames rather than handing a pair's frames to another worker.
"""
from __future__ import annotations

import errno
import socket
import struct

from .bpf import Program, set_program

SOL_PACKET = 263
PACKET_FANOUT = 18
PACKET_FANOUT_DATA = 22
PACKET_FANOUT_CBPF = 6
FLAG_UNIQUEID = 0x2000
FLAG_IGNORE_OUTGOING = 0x4000
NEW_GROUP = -1  # ``join_group``'s group for the first member: the kernel picks an unused id
SKF_LL_OFF = -0x200000
ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, ETH_P_8021AD = 0x0800, 0x86DD, 0x8100, 0x88A8
K_MIN, K_MAX, K_MIX, K_FOLD = 0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F  # odd 32-bit multipliers

# Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
LD, LDX, ST, STX, ALU, JMP, RET, MISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
W, H, B = 0x00, 0x08, 0x10
IMM, ABS, MEM = 0x00, 0x20, 0x60
ADD, MUL, RSH, XOR = 0x00, 0x20, 0x70, 0xA0
JA, JEQ, JGT = 0x00, 0x10, 0x20
K, X, A = 0x00, 0x08, 0x10
TAX, TXA = 0x00, 0x80

REJECT_ALL: Program = [(RET | K, 0, 0, 0)]  # a socket filter that keeps nothing: a member not yet started

_Line = tuple[int, int | str, int | str, int | str] | str  # an instruction, its jumps may name labels; or a label


def _ll(offset: int) -> int:
    """The load offset of byte ``offset`` of the link-layer header, as the u32 ``k`` field holds it."""
    return (SKF_LL_OFF + offset) & 0xFFFFFFFF


def _fold(at: int) -> list[_Line]:
    """A = the IPv6 address at link-layer offset ``at`` folded to 32 bits: ((w0*K+w1)*K+w2)*K+w3. Uses X."""
    lines: list[_Line] = [(LD | W | ABS, 0, 0, _ll(at))]
    for word in (1, 2, 3):
        lines += [(ALU | MUL | K, 0, 0, K_FOLD), (MISC | TAX, 0, 0, 0), (LD | W | ABS, 0, 0, _ll(at + 4 * word)),
                  (ALU | ADD | X, 0, 0, 0)]
    return lines


def _addresses(l3: int) -> list[_Line]:
    """For the IP header at link-layer offset ``l3``: M[0] = one address, A = the other; then to the mix."""
    v4: list[_Line] = [f"v4@{l3}", (LD | W | ABS, 0, 0, _ll(l3 + 12)), (ST, 0, 0, 0),
                       (LD | W | ABS, 0, 0, _ll(l3 + 16)), (JMP | JA, 0, 0, "mix")]
    v6: list[_Line] = [f"v6@{l3}", *_fold(l3 + 8), (ST, 0, 0, 0), *_fold(l3 + 24),
                       (JMP | JA, 0, 0, "mix")]
    return v4 + v6


def _source() -> list[_Line]:
    dispatch: list[_Line] = [
        (LD | H | ABS, 0, 0, _ll(12)),
        (JMP | JEQ | K, "v4@14", 0, ETH_P_IP),
        (JMP | JEQ | K, "v6@14", 0, ETH_P_IPV6),
        (JMP | JEQ | K, "tagged", 0, ETH_P_8021Q),
        (JMP | JEQ | K, "tagged", 0, ETH_P_8021AD),
        (RET | K, 0, 0, 0),  # not IP: worker 0
        "tagged",
        (LD | H | ABS, 0, 0, _ll(16)),
        (JMP | JEQ | K, "v4@18", 0, ETH_P_IP),
        (JMP | JEQ | K, "v6@18", 0, ETH_P_IPV6),
        (RET | K, 0, 0, 0),
    ]
    mix: list[_Line] = [
        "mix",  # M[0] and A: the two addresses; M[1] = the lower, M[2] = the higher
        (LDX | W | MEM, 0, 0, 0),
        (JMP | JGT | X, 0, "x_high", 0),
        (ST, 0, 0, 2), (STX, 0, 0, 1), (JMP | JA, 0, 0, "hash"),
        "x_high",
        (STX, 0, 0, 2), (ST, 0, 0, 1),
        "hash",
        (LD | W | MEM, 0, 0, 1), (ALU | MUL | K, 0, 0, K_MIN), (ST, 0, 0, 1),
        (LD | W | MEM, 0, 0, 2), (ALU | MUL | K, 0, 0, K_MAX), (LDX | W | MEM, 0, 0, 1), (ALU | XOR | X, 0, 0, 0),
        (MISC | TAX, 0, 0, 0), (ALU | RSH | K, 0, 0, 16), (ALU | XOR | X, 0, 0, 0),
        (ALU | MUL | K, 0, 0, K_MIX),
        (MISC | TAX, 0, 0, 0), (ALU | RSH | K, 0, 0, 15), (ALU | XOR | X, 0, 0, 0),
        (RET | A, 0, 0, 0),
    ]
    return dispatch + _addresses(14) + _addresses(18) + mix


def assemble(lines: list[_Line]) -> Program:
    """Instructions with their labels resolved: jumps are forward only, conditional ones at most 255 ahead."""
    where: dict[str, int] = {}
    code: list[tuple[int, int | str, int | str, int | str]] = []
    for line in lines:
        if isinstance(line, str):
            where[line] = len(code)
        else:
            code.append(line)
    out: Program = []
    for i, (op, jt, jf, k) in enumerate(code):
        if op == JMP | JA:
            out.append((op, 0, 0, _ahead(i, k, where, 0xFFFFFFFF)))
        else:
            assert isinstance(k, int)
            out.append((op, _ahead(i, jt, where, 255), _ahead(i, jf, where, 255), k))
    return out


def _ahead(i: int, target: int | str, where: dict[str, int], limit: int) -> int:
    """How many instructions the jump at ``i`` skips to reach ``target`` (a label, or already a count)."""
    step = where[target] - i - 1 if isinstance(target, str) else target
    if not 0 <= step <= limit:
        raise ValueError(f"instruction {i}: jump of {step} to {target!r}")
    return step


def program() -> Program:
    """The fanout program: a symmetric hash of the frame's address pair, 0 for a frame without IP."""
    return assemble(_source())


class _Abort(Exception):
    """A load beyond the frame: the kernel ends the program, returning 0."""


def evaluate(code: Program, frame: bytes) -> int:
    """What ``code`` returns for ``frame`` (its bytes from the link-layer header on), as the kernel runs it: the
    instructions ``program`` uses, 32-bit arithmetic, and 0 when a load falls outside the frame."""
    a = x = 0
    mem = [0] * 16
    pc = 0
    try:
        while True:
            op, jt, jf, k = code[pc]
            pc += 1
            cls, mode = op & 0x07, op & 0xE0
            if cls == LD:
                a = mem[k] if mode == MEM else _load(frame, op, k)
            elif cls == LDX and mode in (MEM, IMM):
                x = mem[k] if mode == MEM else k
            elif cls == ST:
                mem[k] = a
            elif cls == STX:
                mem[k] = x
            elif cls == ALU:
                a = _alu(op & 0xF0, a, x if op & X else k)
            elif cls == JMP:
                pc += k if op & 0xF0 == JA else jt if _holds(op, a, x if op & X else k) else jf
            elif cls == RET:
                return a if op & 0x18 == A else k
            elif cls == MISC:
                a, x = (a, a) if op & 0xF8 == TAX else (x, x)
            else:
                raise ValueError(f"opcode {op:#x} not evaluated")
    except _Abort:
        return 0


def _load(frame: bytes, op: int, k: int) -> int:
    if op & 0xE0 != ABS:
        raise ValueError(f"load mode {op:#x} not evaluated")
    offset = k - (SKF_LL_OFF & 0xFFFFFFFF)
    size = {W: 4, H: 2, B: 1}[op & 0x18]
    if not 0 <= offset <= len(frame) - size:
        raise _Abort
    return int.from_bytes(frame[offset:offset + size], "big")


def _alu(op: int, a: int, operand: int) -> int:
    if op == ADD:
        return (a + operand) & 0xFFFFFFFF
    if op == MUL:
        return (a * operand) & 0xFFFFFFFF
    if op == RSH:
        return a >> operand
    if op == XOR:
        return a ^ operand
    raise ValueError(f"ALU operation {op:#x} not evaluated")


def _holds(op: int, a: int, operand: int) -> bool:
    if op & 0xF0 == JEQ:
        return a == operand
    if op & 0xF0 == JGT:
        return a > operand
    raise ValueError(f"jump {op:#x} not evaluated")


def member(frame: bytes, members: int, code: Program | None = None) -> int:
    """The member (worker) the kernel hands ``frame`` to in a group of ``members``."""
    return evaluate(code if code is not None else program(), frame) % members


def join_group(sock: socket.socket, group: int) -> tuple[int, bool]:
    """Make the bound packet socket a member of fanout group ``group`` (NEW_GROUP: a new one) running
    ``program()``. Returns the group's id and whether the kernel keeps the host's own transmissions out."""
    last: OSError | None = None
    for flags in (FLAG_IGNORE_OUTGOING, 0):  # the flag is Linux 6.2's: older kernels refuse it (EINVAL)
        unique = FLAG_UNIQUEID if group == NEW_GROUP else 0
        try:
            sock.setsockopt(SOL_PACKET, PACKET_FANOUT,
                            max(group, 0) | (PACKET_FANOUT_CBPF | flags | unique) << 16)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            last = error
            continue
        set_program(sock, SOL_PACKET, PACKET_FANOUT_DATA, program())
        found = struct.unpack("I", sock.getsockopt(SOL_PACKET, PACKET_FANOUT, 4))[0] & 0xFFFF
        return found, bool(flags)
    assert last is not None
    raise last
