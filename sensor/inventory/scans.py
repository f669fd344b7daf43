"""What a host's unanswered connection attempts say about it: how many it made, to how many targets, on which ports.

A destination that never answered and never received anything a dissector could read is not an asset: it may
not exist (a sweep of a /16), and an inventory that grows by one row per probed address is what a scan or a
flood would make of it. The attempts are counted on their *sender* instead, per transport, so the scanner
shows up with what it did. Targets are told apart by a 64-bit hash of (sender, target) kept in one sorted
array, bounded by ``MAX_SCAN_PAIRS``; ports by a compressed 65,536-bit map per sender, which merges by OR across runs
and workers (a worker sees every attempt of a (sender, target) pair, so target counts add up exactly).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from sensor.decode.packets import address_text
from sensor.flows.half_open import Attempts
from sensor.flows.table import TRANSPORT_NAMES
from sensor.order import first_rows

MAX_SCAN_PAIRS = 1 << 21  # (sender, target) pairs remembered to count distinct targets: 16 MiB
PORT_MAP_BYTES = 65536 // 8
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9),
        np.uint64(0xD6E8FEB86659FD93), np.uint64(0xFF51AFD7ED558CCD))


@dataclass(slots=True)
class ScanDelta:
    """One sender's unanswered attempts on one transport since the last flush."""

    source: str
    transport: str
    first_seen: float
    last_seen: float
    attempts: int
    targets: int  # new distinct targets (past MAX_SCAN_PAIRS, every target not remembered counts again)
    ports: bytes  # ``port_map`` of the target ports tried (empty for ICMP)

    def port_list(self) -> list[int]:
        return ports_of(self.ports)


@dataclass(frozen=True, slots=True)
class Sender:
    """What one batch of ended attempts says about their sender as an asset."""

    ip: str
    first_seen: float
    last_seen: float
    packets: int
    bytes: int
    mac: tuple[int, int, str] | None  # (MAC, frame, file) of its first attempt that showed one


def port_map(ports: np.ndarray) -> bytes:
    """The ports as a bitmap (bit p of byte p >> 3 for port p), compressed: a scan of three ports takes some
    30 bytes, not 8 KiB."""
    bits = np.zeros(65536, bool)
    bits[ports] = True
    return _packed(np.packbits(bits, bitorder="little"))


def _packed(bits: np.ndarray) -> bytes:
    """A bitmap of 8,192 bytes as stored: compressed (one place says how)."""
    return zlib.compress(bits.tobytes(), 1)


def _bits(packed: bytes) -> np.ndarray:
    return np.frombuffer(zlib.decompress(packed), np.uint8)


def ports_of(packed: bytes) -> list[int]:
    if not packed:
        return []
    return np.flatnonzero(np.unpackbits(_bits(packed), bitorder="little")).tolist()


def port_summary(packed: bytes, lowest: int) -> tuple[int, list[int]]:
    """How many ports a map holds, and the ``lowest`` first of them: a scanner's map can hold tens of thousands,
    which listing whole (``ports_of``) would cost for every asset read."""
    if not packed:
        return 0, []
    bits = _bits(packed)
    used = np.flatnonzero(bits)  # bytes with a port
    through = np.cumsum(np.bitwise_count(bits[used]))
    enough = used[:int(np.searchsorted(through, lowest)) + 1]  # the bytes that hold the lowest ports
    ports = (enough[:, None] * 8 + np.arange(8))[np.unpackbits(bits[enough][:, None], axis=1, bitorder="little") == 1]
    return int(through[-1]) if len(through) else 0, ports[:lowest].tolist()


def or_maps(stored: bytes | None, incoming: bytes | None) -> bytes:
    """Port maps merge by OR: a port tried in either was tried."""
    if not stored or not incoming:
        return stored or incoming or b""
    return _packed(_bits(stored) | _bits(incoming))


class ScanBook:
    """Counts ended attempts per (sender, transport) between flushes."""

    def __init__(self) -> None:
        self._pairs = np.zeros(0, np.uint64)  # sorted hashes of (sender, target, transport) seen so far
        self._deltas: dict[tuple[str, str], ScanDelta] = {}
        self._maps: dict[tuple[str, str], np.ndarray] = {}  # their port bitmaps, packed, compressed at ``take``
        self.full = False  # MAX_SCAN_PAIRS reached: later targets are counted as attempts only

    def observe(self, attempts: Attempts) -> list[Sender]:
        """Count the attempts; return what each sender's asset learns from them."""
        s_hi, s_lo = attempts.sender()
        t_hi, t_lo = attempts.target()
        proto = attempts.proto()
        _, target_port = attempts.ports()
        sender_key = s_hi * _MIX[0] ^ s_lo * _MIX[1] ^ proto.astype(np.uint64) * _MIX[4]
        new_target = self._remember(sender_key ^ t_hi * _MIX[2] ^ t_lo * _MIX[3])
        order = np.lexsort((attempts.first_frame, attempts.file, proto, sender_key))  # the earliest attempt first
        key_sorted = sender_key[order]
        starts = np.flatnonzero(np.r_[True, (key_sorted[1:] != key_sorted[:-1]) | (np.diff(proto[order]) != 0)])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))  # per sorted row
        counts = np.diff(np.r_[starts, len(order)])
        first = np.minimum.reduceat(attempts.first_ts[order], starts).tolist()
        last = np.maximum.reduceat(attempts.last_ts[order], starts).tolist()
        packets = np.add.reduceat(attempts.packets[order], starts).tolist()
        octets = np.add.reduceat(attempts.bytes[order], starts).tolist()
        targets = np.add.reduceat(new_target[order].astype(np.int64), starts).tolist()
        maps = np.zeros((len(starts), PORT_MAP_BYTES), np.uint8)
        port = target_port[order]
        np.bitwise_or.at(maps, (group, port >> 3), (1 << (port & 7)).astype(np.uint8))
        heads = order[starts]
        with_mac = np.flatnonzero(attempts.mac[order] != 0)
        mac_row = np.full(len(starts), -1, np.int64)
        groups_with_mac, first_with_mac = np.unique(group[with_mac], return_index=True)
        mac_row[groups_with_mac] = order[with_mac[first_with_mac]]
        senders = []
        for k, (row, count, m) in enumerate(zip(heads.tolist(), counts.tolist(), mac_row.tolist())):
            p = int(proto[row])
            source = address_text(int(s_hi[row]), int(s_lo[row]))
            transport = TRANSPORT_NAMES.get(p, f"ip{p}")
            self._add(source, transport, first[k], last[k], count, targets[k],
                      maps[k] if transport in ("tcp", "udp") else None)
            mac = None if m < 0 else (int(attempts.mac[m]), int(attempts.mac_frame[m]), attempts.files[int(attempts.file[m])])
            senders.append(Sender(source, first[k], last[k], packets[k], octets[k], mac))
        return senders

    def take(self) -> list[ScanDelta]:
        """The deltas since the last take, their port maps compressed for the store."""
        deltas = []
        for key, delta in self._deltas.items():
            bits = self._maps.get(key)
            deltas.append(ScanDelta(**{**{f: getattr(delta, f) for f in ScanDelta.__slots__},
                                       "ports": b"" if bits is None else _packed(bits)}))
        self._deltas, self._maps = {}, {}
        return deltas

    def _add(self, source: str, transport: str, first: float, last: float, attempts: int, targets: int,
             ports: np.ndarray | None) -> None:
        key = (source, transport)
        had = self._deltas.get(key)
        if had is None:
            self._deltas[key] = ScanDelta(source, transport, first, last, attempts, targets, b"")
            if ports is not None:
                self._maps[key] = ports.copy()
            return
        had.first_seen, had.last_seen = min(had.first_seen, first), max(had.last_seen, last)
        had.attempts += attempts
        had.targets += targets
        if ports is not None:
            self._maps[key] |= ports

    def _remember(self, pair: np.ndarray) -> np.ndarray:
        """Per attempt: is its (sender, target) pair new? Each new pair counts once, at its first attempt."""
        unique, first = first_rows(pair)
        known = np.zeros(len(unique), bool)
        if len(self._pairs):
            at = np.minimum(np.searchsorted(self._pairs, unique), len(self._pairs) - 1)
            known = self._pairs[at] == unique
        fresh = unique[~known]
        room = MAX_SCAN_PAIRS - len(self._pairs)
        if len(fresh) > room:
            self.full = True
            fresh = fresh[:max(room, 0)]
        if len(fresh):
            merged = np.concatenate([self._pairs, fresh])
            merged.sort(kind="stable")  # two sorted runs: merged in one pass
            self._pairs = merged
        new = np.zeros(len(pair), bool)
        new[first[~known]] = True
        return new
