"""Live capture from a network interface: a receive-only AF_PACKET socket, read as FrameBatches.

Passive means passive. Nothing here sends: the socket is only ever read (no send, sendto or sendmsg anywhere in
the sensor). Frames the host itself transmits on the interface are not captured (PACKET_IGNORE_OUTGOING, Linux
4.20 and later; on older kernels they are dropped here by their packet type): on a SPAN port everything worth
seeing arrives from the switch, and whatever the host might send there (it should send nothing: no address, IPv6
off, see deploy/README.md) is not the plant's traffic.

Promiscuous mode is asked for with PACKET_ADD_MEMBERSHIP / PACKET_MR_PROMISC, as libpcap does: a mirror port
delivers frames addressed to other stations, which a NIC not in promiscuous mode throws away. It changes what the
NIC accepts, never what it transmits; the kernel counts the membership and drops it when the socket closes, so a
killed sensor leaves the interface as it found it. It needs no capability beyond the CAP_NET_RAW that opening the
socket needs.

Set-up::

    socket(AF_PACKET, SOCK_RAW, 0)          receives nothing until bound
    SO_ATTACH_FILTER (with -f)              before binding: no unfiltered frame is ever queued
    PACKET_IGNORE_OUTGOING, SO_TIMESTAMPNS
    PACKET_VERSION TPACKET_V3, PACKET_RX_RING, mmap       the ring (or PACKET_AUXDATA + SO_RCVBUF without it)
    bind((interface, ETH_P_ALL))            frames start to arrive
    PACKET_ADD_MEMBERSHIP                   promiscuous
    PACKET_FANOUT, PACKET_FANOUT_DATA       only with ``fanout`` (``live --workers N``, sensor.live.fanout)

A member of a fanout group receives its share of the interface's frames. It is opened held: a filter that keeps
nothing stands in for the user's until ``release()``, called once every worker has joined, so no frame is
analysed that the kernel shared out among fewer members than the run has (the share of a host pair would change
as members join).

Reading, with the ring (the default): the kernel writes frames into blocks of a memory ring shared with us
(TPACKET_V3, RING_BLOCK bytes each, RING_BYTES in all) and hands a block over when it is full or RETIRE_MS after
its first frame. We poll the socket (at most POLL_SECONDS), copy each block handed over with one memcpy, find its
frames by walking the headers' next offsets, read the headers' columns (time, lengths, status) with numpy, and give
the block back. No system call and no Python object per frame: the loop sustains far more than the plain socket.
Without the ring (``ring_bytes=0``, or a kernel that refuses it), frames are received one by one with
recvmsg_into(MSG_DONTWAIT | MSG_TRUNC) into one preallocated buffer, the timestamp and VLAN tag coming as
ancillary data.

Either way a batch is handed over when it holds ``max_frames`` frames (or about ``max_bytes``), or its first frame
waited BATCH_SECONDS, and at stop. When nothing arrived nothing is yielded (the pipeline takes no empty batch);
``on_tick`` runs at every wake-up, so at least every POLL_SECONDS.

Timestamps are the kernel's receive time of each frame in nanoseconds, the time tcpdump reports (SO_TIMESTAMPNS is
set in both modes, which makes the kernel stamp each frame once on arrival, so every capture on the host reads
the same stamp); the wall clock stands in only for a frame that came without one. The length on the wire is kept
apart from the length captured (snap length SNAPLEN). NICs that strip 802.1Q tags in hardware report the tag beside
the frame; it is put back into the frame, as libpcap does, so VLANs decode as in a capture file. Frame numbers
count from 1 over the whole capture; ``file`` is ``live:IFACE``.
"""
from __future__ import annotations

import errno
import mmap
import select
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sensor.capture import LINKTYPE_ETHERNET, CaptureError, FrameBatch
from sensor.capture.chunks import DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES

from .bpf import BpfError, attach_filter, compile_filter
from .fanout import REJECT_ALL, SOL_PACKET, join_group

ETH_P_ALL = 0x0003
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V3 = 2
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35  # SO_TIMESTAMPNS_OLD: struct timespec with 64-bit fields on 64-bit Linux
SO_RCVBUFFORCE = 33
SO_DETACH_FILTER = 27
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
ETH_P_8021Q = 0x8100

SNAPLEN = 262144  # libpcap's MAXIMUM_SNAPLEN: GRO can hand over frames far larger than the MTU
VLAN_TAG_LEN = 4
RING_BYTES = 64 << 20  # the ring: what the kernel can hold while the pipeline works on a batch
RING_BLOCK = 1 << 20  # one block of the ring: larger than SNAPLEN, so no frame is cut to fit
RING_FRAME = 2048  # TPACKET_V3 packs frames by their size; the kernel only checks this divides the block
RETIRE_MS = 100  # a block with frames in it is handed over at the latest this long after its first frame
RCVBUF = 32 << 20  # without the ring: socket buffer asked for (the kernel doubles it)
POLL_SECONDS = 0.25  # longest sleep: stop, SIGUSR1 and the health timer are seen at least this often
BATCH_SECONDS = 0.25  # a batch is handed over at the latest this long after its first frame arrived
MAX_BATCH_BYTES = 16 << 20

_TIMESPEC = struct.Struct("qq")
_AUXDATA = struct.Struct("IIIHHHH")  # struct tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid
_STATS = struct.Struct("II")  # struct tpacket_stats (tpacket_stats_v3 begins the same): tp_packets, tp_drops
_MREQ = struct.Struct("iHH8s")  # struct packet_mreq
_REQ3 = struct.Struct("IIIIIII")  # struct tpacket_req3
_BLOCK = struct.Struct("III")  # tpacket_block_desc.hdr.bh1: num_pkts, offset_to_first_pkt, blk_len (from byte 12)
_U32 = struct.Struct("I")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) + socket.CMSG_SPACE(_AUXDATA.size)
_VLAN = struct.Struct("!HH")
# struct tpacket3_hdr, in 32-bit words: next_offset, sec, nsec, snaplen, len, status, mac|net, rxhash, vlan_tci,
# vlan_tpid|padding; 48 bytes with its padding, then struct sockaddr_ll (sll_pkttype at byte 10 of it).
_H_SEC, _H_NSEC, _H_SNAPLEN, _H_LEN, _H_STATUS, _H_MAC, _H_TCI, _H_TPID = 1, 2, 3, 4, 5, 6, 8, 9
_H_PKTTYPE = 48 + 10


class LiveCaptureError(CaptureError):
    """The interface cannot be captured (missing, no permission, bad filter): one line, named ``live:IFACE``."""


@dataclass(slots=True)
class Frames:
    """Columns of some frames in one buffer (a ring block, or the receive buffer), not yet numbered."""

    data: np.ndarray
    offset: np.ndarray
    caplen: np.ndarray
    wirelen: np.ndarray
    sec: np.ndarray
    nsec: np.ndarray

    def __len__(self) -> int:
        return len(self.offset)


def make_batches(parts: list[Frames], first_frame: int, name: str, max_frames: int) -> list[FrameBatch]:
    """Join parts into FrameBatches of at most ``max_frames`` frames, numbered from ``first_frame``."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return []
    if len(parts) == 1:
        joined = parts[0]
    else:
        shifts = np.cumsum([0] + [len(p.data) for p in parts[:-1]])
        joined = Frames(np.concatenate([p.data for p in parts]),
                        np.concatenate([p.offset + shift for p, shift in zip(parts, shifts.tolist())]),
                        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("caplen", "wirelen", "sec", "nsec")))
    n = len(joined)
    # As the pcap reader computes it from a nanosecond pcap, so both give the same floats for the same frame.
    ts = joined.sec.astype(np.float64) + joined.nsec.astype(np.float64) / 1_000_000_000
    step = max(int(max_frames), 1)
    return [FrameBatch(data=joined.data, offset=joined.offset[lo:lo + step].astype(np.int64),
                       caplen=joined.caplen[lo:lo + step].astype(np.int64),
                       wirelen=joined.wirelen[lo:lo + step].astype(np.int64), ts=ts[lo:lo + step],
                       linktype=np.full(min(step, n - lo), LINKTYPE_ETHERNET, dtype=np.int64),
                       frame=np.arange(first_frame + lo, first_frame + min(lo + step, n), dtype=np.int64), file=name)
            for lo in range(0, n, step)]


class BatchBuilder:
    """Frames received (or copied) one by one into one buffer at ``pos``; their columns kept as lists."""

    def __init__(self, max_bytes: int = MAX_BATCH_BYTES, snaplen: int = SNAPLEN) -> None:
        self.snaplen = snaplen
        self.max_bytes = max_bytes
        self.buf = bytearray(max_bytes + snaplen + VLAN_TAG_LEN)  # a frame always fits while pos < max_bytes
        self.view = memoryview(self.buf)
        self.reset()

    def reset(self) -> None:
        self.pos = 0
        self.offsets: list[int] = []
        self.caplens: list[int] = []
        self.wirelens: list[int] = []
        self.secs: list[int] = []
        self.nsecs: list[int] = []

    def __len__(self) -> int:
        return len(self.offsets)

    def space(self) -> memoryview:
        """Where the next frame goes (``snaplen`` bytes)."""
        return self.view[self.pos:self.pos + self.snaplen]

    def commit(self, caplen: int, wirelen: int, sec: int, nsec: int, vlan: tuple[int, int] | None = None) -> None:
        """Keep the ``caplen`` bytes just written at ``space()``; ``vlan`` (tpid, tci) is put back after the MACs."""
        pos = self.pos
        caplen = min(caplen, self.snaplen)
        if vlan is not None and caplen >= 12:
            self.buf[pos + 16:pos + caplen + VLAN_TAG_LEN] = self.buf[pos + 12:pos + caplen]  # a slice is a copy
            self.buf[pos + 12:pos + 16] = _VLAN.pack(*vlan)
            caplen += VLAN_TAG_LEN
            wirelen += VLAN_TAG_LEN
        self.offsets.append(pos)
        self.caplens.append(caplen)
        self.wirelens.append(max(wirelen, caplen))
        self.secs.append(sec)
        self.nsecs.append(nsec)
        self.pos = pos + caplen

    def add(self, frame: bytes, wirelen: int | None = None, sec: int = 0, nsec: int = 0,
            vlan: tuple[int, int] | None = None) -> None:
        """Copy one frame in."""
        caplen = min(len(frame), self.snaplen)
        self.view[self.pos:self.pos + caplen] = frame[:caplen]
        self.commit(caplen, len(frame) if wirelen is None else wirelen, sec, nsec, vlan)

    def take(self) -> Frames:
        """The frames so far, with their own copy of the bytes; the builder is empty again."""
        frames = Frames(np.frombuffer(self.buf, dtype=np.uint8, count=self.pos).copy(),
                        np.array(self.offsets, dtype=np.int64), np.array(self.caplens, dtype=np.int64),
                        np.array(self.wirelens, dtype=np.int64), np.array(self.secs, dtype=np.int64),
                        np.array(self.nsecs, dtype=np.int64))
        self.reset()
        return frames


class Ring:
    """A TPACKET_V3 receive ring on a packet socket (set up before bind)."""

    def __init__(self, sock: socket.socket, size: int = RING_BYTES, block: int = RING_BLOCK,
                 retire_ms: int = RETIRE_MS) -> None:
        self.block = block
        self.blocks = max(size // block, 2)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, _REQ3.pack(block, self.blocks, RING_FRAME,
                                                               block // RING_FRAME * self.blocks, retire_ms, 0, 0))
        self.map = mmap.mmap(sock.fileno(), block * self.blocks, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.current = 0

    def ready(self) -> bool:
        """The next block is ours to read."""
        return bool(_U32.unpack_from(self.map, self.current * self.block + 8)[0] & TP_STATUS_USER)

    def take(self, drop_outgoing: bool) -> Frames:
        """Copy the next block out, give it back to the kernel, and return its frames."""
        base = self.current * self.block
        count, first, length = _BLOCK.unpack_from(self.map, base + 12)
        data = np.empty((length + 3) & ~3, dtype=np.uint8)  # whole 32-bit words, for the header view below
        data[:length] = np.frombuffer(self.map, dtype=np.uint8, count=length, offset=base)
        self.map[base + 8:base + 12] = _U32.pack(TP_STATUS_KERNEL)
        self.current = (self.current + 1) % self.blocks
        view = memoryview(data)
        starts = []
        at = first
        for _ in range(count):  # each header says where the next one is
            starts.append(at)
            at += _U32.unpack_from(view, at)[0]
        o = np.array(starts, dtype=np.int64)
        if drop_outgoing:
            o = o[data[o + _H_PKTTYPE] != PACKET_OUTGOING]
        words = data.view(np.uint32)
        w = o >> 2  # headers are 16-byte aligned
        status = words[w + _H_STATUS]
        frames = Frames(data, o + (words[w + _H_MAC] & 0xFFFF).astype(np.int64), words[w + _H_SNAPLEN].astype(np.int64),
                        words[w + _H_LEN].astype(np.int64), words[w + _H_SEC].astype(np.int64),
                        words[w + _H_NSEC].astype(np.int64))
        tagged = (status & TP_STATUS_VLAN_VALID) != 0
        if tagged.any():
            frames = _with_vlan_tags(frames, tagged, words[w + _H_TCI] & 0xFFFF, words[w + _H_TPID] & 0xFFFF,
                                     (status & TP_STATUS_VLAN_TPID_VALID) != 0)
        return frames

    def close(self) -> None:
        self.map.close()


def _with_vlan_tags(frames: Frames, tagged: np.ndarray, tci: np.ndarray, tpid: np.ndarray,
                    tpid_valid: np.ndarray) -> Frames:
    """The frames again, with the 802.1Q tags the NIC stripped put back (the rare path: one copy per frame)."""
    builder = BatchBuilder(int(frames.caplen.sum()) + VLAN_TAG_LEN * len(frames), SNAPLEN)
    for i in range(len(frames)):
        start = int(frames.offset[i])
        vlan = (int(tpid[i]) if tpid_valid[i] else ETH_P_8021Q, int(tci[i])) if tagged[i] else None
        builder.add(frames.data[start:start + int(frames.caplen[i])].tobytes(), int(frames.wirelen[i]),
                    int(frames.sec[i]), int(frames.nsec[i]), vlan)
    return builder.take()


class LiveCapture:
    """A capture input (like ``CaptureInput``) reading an interface until ``stop()`` is called.

    ``open()`` may be called first to fail early with a LiveCaptureError; ``batches()`` opens the socket itself
    otherwise. ``failed`` is set (and the batches end) when the interface disappears under the capture.
    ``ring_bytes=0`` reads with recvmsg instead of the TPACKET_V3 ring. ``fanout``: join that AF_PACKET fanout
    group (``fanout.NEW_GROUP``: a new one, its id then in ``fanout``), held until ``release()``.
    """

    def __init__(self, interface: str, bpf: str | None = None, *, promiscuous: bool = True, snaplen: int = SNAPLEN,
                 ring_bytes: int = RING_BYTES, rcvbuf: int = RCVBUF, batch_seconds: float = BATCH_SECONDS,
                 poll_seconds: float = POLL_SECONDS, on_tick: Callable[[], None] | None = None,
                 fanout: int | None = None) -> None:
        self.interface = interface
        self.name = f"live:{interface}"
        self.bpf = bpf
        self.promiscuous = promiscuous
        self.snaplen = snaplen
        self.ring_bytes = ring_bytes
        self.rcvbuf = rcvbuf
        self.batch_seconds = batch_seconds
        self.poll_seconds = poll_seconds
        self.on_tick = on_tick
        self.fanout = fanout
        self.warnings: list[str] = []
        self.failed: str | None = None
        self.frames = 0  # frames handed over so far
        self.last_yield = 0.0  # monotonic time of the last batch handed over
        self.ignore_outgoing = False  # True: the kernel keeps our own transmissions out (PACKET_IGNORE_OUTGOING)
        self.buffer_bytes = 0  # the ring's size, or the socket buffer the kernel granted
        self.ring_refused: str | None = None  # why the ring could not be set up (recvmsg is used instead)
        self.kernel_packets = 0  # frames that passed the filter, dropped ones included (PACKET_STATISTICS)
        self.kernel_drops = 0  # frames the kernel dropped: ring or socket buffer full
        self._sock: socket.socket | None = None
        self._ring: Ring | None = None
        self._ifindex = 0
        self._stopped = False
        self._counters_at_open: dict[str, int] = {}
        self._program: list | None = None  # the user's filter, compiled
        self._held = False  # a fanout member not released yet: its socket keeps nothing

    def __repr__(self) -> str:
        return f"LiveCapture({self.interface!r}, bpf={self.bpf!r})"

    # --- set-up ---------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the socket: raises LiveCaptureError naming what is wrong (interface, permission, filter)."""
        if self._sock is not None:
            return
        try:
            self._ifindex = socket.if_nametoindex(self.interface)
        except OSError:
            raise LiveCaptureError(self.name, f"no such interface {self.interface!r}") from None
        if self.bpf:
            try:
                self._program = compile_filter(self.bpf, self.snaplen)
            except BpfError as error:
                raise LiveCaptureError(self.name, str(error)) from None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: nothing arrives before bind
        except PermissionError:
            raise LiveCaptureError(self.name, "capturing needs CAP_NET_RAW (run as root, or see deploy/README.md)") \
                from None
        try:
            self._configure(sock)
        except OSError as error:
            if self._ring is not None:
                self._ring.close()
                self._ring = None
            sock.close()
            raise LiveCaptureError(self.name, f"cannot capture: {error.strerror or error}") from None
        self._sock = sock
        self._zero_kernel_stats()
        self._counters_at_open = self._read_counters()

    def _configure(self, sock: socket.socket) -> None:
        self._held = self.fanout is not None
        if self._held:
            attach_filter(sock, REJECT_ALL)
        elif self._program is not None:
            attach_filter(sock, self._program)
        try:
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            self.ignore_outgoing = True
        except OSError:  # before Linux 4.20: outgoing frames are dropped when read, by their packet type
            self.ignore_outgoing = False
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if self.ring_bytes:
            try:
                self._ring = Ring(sock, self.ring_bytes)
                self.buffer_bytes = self._ring.block * self._ring.blocks
            except OSError as error:
                self.ring_refused = error.strerror or str(error)
        if self._ring is None:
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            try:  # beyond net.core.rmem_max: needs CAP_NET_ADMIN
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, self.rcvbuf)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            self.buffer_bytes = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        sock.bind((self.interface, ETH_P_ALL))
        if self.promiscuous:
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, _MREQ.pack(self._ifindex, PACKET_MR_PROMISC, 0, b""))
        if self.fanout is not None:  # the group's hook replaces the socket's: PACKET_IGNORE_OUTGOING no longer holds
            self.fanout, self.ignore_outgoing = join_group(sock, self.fanout)

    def release(self) -> None:
        """A fanout member starts receiving its share, through the user's filter (every member has it)."""
        if not self._held or self._sock is None:
            return
        if self._program is not None:
            attach_filter(self._sock, self._program)
        else:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
        self._held = False
        self._zero_kernel_stats()

    def _zero_kernel_stats(self) -> None:
        self.read_kernel_stats()  # PACKET_STATISTICS counts from the last read: start from zero
        self.kernel_packets = self.kernel_drops = 0

    def describe(self) -> str:
        """One line on how the capture is set up, for the start of the log."""
        mib = self.buffer_bytes / (1 << 20)
        reader = (f"TPACKET_V3 ring of {mib:.0f} MiB" if self._ring is not None else
                  f"recvmsg, socket buffer {mib:.1f} MiB" + (f" (no ring: {self.ring_refused})"
                                                             if self.ring_refused else ""))
        parts = [f"interface {self.interface}", "promiscuous" if self.promiscuous else "not promiscuous",
                 f"filter {self.bpf!r}" if self.bpf else "no filter", reader, "kernel timestamps",
                 "own transmissions ignored by the kernel" if self.ignore_outgoing else
                 "own transmissions dropped by packet type"]
        if self.fanout is not None:
            parts.append(f"AF_PACKET fanout group {self.fanout} by host pair")
        return ", ".join(parts)

    # --- reading --------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """End the capture: ``batches()`` hands over what is queued and returns. Safe in a signal handler."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    def batches(self, max_frames: int = DEFAULT_MAX_FRAMES, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[FrameBatch]:
        """Yield batches of at most ``max_frames`` frames and about ``max_bytes`` bytes until ``stop()``."""
        self.open()
        assert self._sock is not None
        max_frames = max(int(max_frames), 1)
        max_bytes = min(max(int(max_bytes), 1), MAX_BATCH_BYTES)
        builder = None if self._ring is not None else BatchBuilder(max_bytes, self.snaplen)
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        pending: list[Frames] = []
        count = size = 0
        started = 0.0  # when the first pending frame arrived
        try:
            while True:
                if self.on_tick is not None:
                    self.on_tick()
                stopping = self._stopped
                if stopping and self._ring is not None and not self._ring.ready():
                    poller.poll(RETIRE_MS * 1.5)  # the block the kernel is filling is handed over by then
                elif not stopping:
                    wait = self.poll_seconds
                    if count:
                        wait = min(wait, max(started + self.batch_seconds - time.monotonic(), 0.0))
                    poller.poll(wait * 1000)  # a signal ends the wait only if its handler raises; else resumed
                if builder is None:
                    full = self._drain_ring(pending, max_frames - count, max_bytes - size)
                else:
                    full = self._drain_socket(builder, max_frames - count, max_bytes - size)
                    if len(builder):
                        pending.append(builder.take())
                new = sum(len(p) for p in pending) - count
                if new and not count:
                    started = time.monotonic()
                count += new
                size = sum(len(p.data) for p in pending)
                stopping = stopping or self.failed is not None
                if count and (full or stopping or time.monotonic() - started >= self.batch_seconds):
                    yield from self._hand_over(pending, max_frames)
                    pending, count, size = [], 0, 0
                if stopping and not full:
                    return
        finally:
            self.close()

    def _hand_over(self, pending: list[Frames], max_frames: int) -> Iterator[FrameBatch]:
        for batch in make_batches(pending, self.frames + 1, self.name, max_frames):
            self.frames += len(batch)
            self.last_yield = time.monotonic()
            yield batch

    def _drain_ring(self, pending: list[Frames], frames_left: int, bytes_left: int) -> bool:
        """Take the blocks handed over; True when the batch filled up before the ring was empty."""
        ring = self._ring
        assert ring is not None
        drop_outgoing = not self.ignore_outgoing
        while ring.ready():
            if frames_left <= 0 or bytes_left <= 0:
                return True
            frames = ring.take(drop_outgoing)
            pending.append(frames)
            frames_left -= len(frames)
            bytes_left -= len(frames.data)
        self._check_error()
        return False

    def _drain_socket(self, builder: BatchBuilder, frames_left: int, bytes_left: int) -> bool:
        """Receive what is queued into ``builder``; True when it filled up before the socket was empty."""
        recv = self._sock.recvmsg_into  # type: ignore[union-attr]
        flags = socket.MSG_DONTWAIT | socket.MSG_TRUNC  # MSG_TRUNC: the call returns the length on the wire
        check_direction = not self.ignore_outgoing
        snaplen = self.snaplen
        while len(builder) < frames_left and builder.pos < bytes_left:
            try:
                wirelen, ancillary, _flags, address = recv([builder.space()], _ANCILLARY, flags)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as error:
                self._socket_error(error)
                return False
            if check_direction and address[2] == PACKET_OUTGOING:
                continue
            sec = nsec = -1
            vlan = None
            for level, kind, data in ancillary:
                if kind == SO_TIMESTAMPNS and level == socket.SOL_SOCKET:
                    sec, nsec = _TIMESPEC.unpack_from(data)
                elif kind == PACKET_AUXDATA and level == SOL_PACKET:
                    status, _len, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(data)
                    if status & TP_STATUS_VLAN_VALID:
                        vlan = (tpid if status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q, tci)
            if sec < 0:
                sec, nsec = divmod(time.time_ns(), 1_000_000_000)
            builder.commit(min(wirelen, snaplen), wirelen, sec, nsec, vlan)
        return True

    def _check_error(self) -> None:
        """A pending socket error (the ring reports ENETDOWN only through SO_ERROR)."""
        code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if self._sock is not None else 0
        if code:
            self._socket_error(OSError(code, errno.errorcode.get(code, str(code))))

    def _socket_error(self, error: OSError) -> None:
        """ENETDOWN: the link went down (the capture resumes when it comes up) or the interface went away."""
        if error.errno != errno.ENETDOWN:
            raise error
        try:
            same = socket.if_nametoindex(self.interface) == self._ifindex
        except OSError:
            same = False
        if not same:
            self.failed = f"{self.name}: interface {self.interface} disappeared"
        else:
            print(f"warning: {self.name}: interface {self.interface} is down; waiting for it to come back",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._sock is not None:
            self.read_kernel_stats()
            if self._ring is not None:
                self._ring.close()
                self._ring = None
            self._sock.close()  # the promiscuous membership goes with it
            self._sock = None

    # --- statistics -----------------------------------------------------------------------------------------

    def read_kernel_stats(self) -> tuple[int, int]:
        """Accumulated (packets, drops) of PACKET_STATISTICS, which resets at every read."""
        if self._sock is not None:
            packets, drops = _STATS.unpack(self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size))
            self.kernel_packets += packets  # tp_packets includes the dropped ones
            self.kernel_drops += drops
        return self.kernel_packets, self.kernel_drops

    def _read_counters(self) -> dict[str, int]:
        counters = {}
        for name in ("rx_packets", "rx_dropped", "tx_packets"):
            try:
                with open(f"/sys/class/net/{self.interface}/statistics/{name}", encoding="ascii") as f:
                    counters[name] = int(f.read())
            except (OSError, ValueError):
                pass
        return counters

    def interface_counters(self) -> dict[str, int | None]:
        """The interface's rx_packets, rx_dropped and tx_packets since the capture opened (None: unreadable)."""
        now = self._read_counters()
        return {name: now[name] - self._counters_at_open[name] if name in now and name in self._counters_at_open
                else None for name in ("rx_packets", "rx_dropped", "tx_packets")}

    def health(self) -> dict[str, object]:
        """The capture's fields of the health line."""
        packets, drops = self.read_kernel_stats()
        counters = self.interface_counters()
        return {"iface": self.interface, "kernel_packets": packets, "kernel_drops": drops,
                "if_rx_packets": counters["rx_packets"], "if_rx_dropped": counters["rx_dropped"],
                "if_tx_packets": counters["tx_packets"]}
