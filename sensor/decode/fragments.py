"""IPv4 fragment reassembly (RFC 791 §3.2, RFC 815).

Fragments are rare on OT networks, so this is plain Python over the few rows that need it.
Completed datagrams are returned as a small raw-IPv4 ``FrameBatch`` numbered with the frame of
their last fragment, and go through the same decoder as everything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensor.capture import LINKTYPE_IPV4, FrameBatch
from sensor.decode.packets import Weird

MAX_DATAGRAMS = 4096  # datagrams being reassembled at once; the oldest is dropped beyond it
MAX_DATAGRAM_BYTES = 65535
TIMEOUT_S = 30.0  # packet time after which an incomplete datagram is abandoned (as Linux ipfrag_time)


@dataclass(slots=True)
class _Datagram:
    header: bytes = b""
    pieces: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None  # payload length, known once the last fragment arrived
    first_ts: float = 0.0
    first_frame: int = 0
    file: str = ""


class FragmentReassembler:
    """Per-capture table of incomplete datagrams keyed by (src, dst, id, protocol)."""

    def __init__(self) -> None:
        self._table: dict[tuple[bytes, int], _Datagram] = {}

    def add(self, fb: FrameBatch, rows: np.ndarray, l3: np.ndarray, ihl: np.ndarray, total: np.ndarray,
            weirds: list[Weird]) -> FrameBatch | None:
        out: list[tuple[bytes, int, float]] = []
        data = fb.data
        for i in rows:
            start, header_len = int(l3[i]), int(ihl[i])
            end = min(start + int(total[i]), int(fb.offset[i] + fb.caplen[i]))
            header = data[start:start + header_len].tobytes()
            frame, ts = int(fb.frame[i]), float(fb.ts[i])
            flags_offset = int.from_bytes(header[6:8], "big")
            offset, more = (flags_offset & 0x1FFF) * 8, bool(flags_offset & 0x2000)
            key = (header[12:20] + header[9:10], int.from_bytes(header[4:6], "big"))
            had = self._table.get(key)
            if had is not None and ts - had.first_ts > TIMEOUT_S:  # this datagram's own clock: not the others'
                del self._table[key]
                weirds.append(_timeout(had))
            dgram = self._table.setdefault(key, _Datagram(first_ts=ts, first_frame=frame, file=fb.file))
            piece = data[start + header_len:end].tobytes()
            if offset == 0:
                dgram.header = header
            if not more:
                dgram.total = offset + len(piece)
            overlaps = any(start_at < offset + len(piece) and offset < start_at + len(held)
                           for start_at, held in dgram.pieces.items())
            if overlaps or offset + len(piece) > MAX_DATAGRAM_BYTES:
                weirds.append(Weird("ipv4_fragment_overlap", "ipv4", fb.file, frame, ts))
            dgram.pieces[offset] = piece
            whole = self._complete(dgram)
            if whole is not None:
                del self._table[key]
                out.append((whole, frame, ts))
            elif len(self._table) > MAX_DATAGRAMS:
                oldest = next(iter(self._table))
                del self._table[oldest]
                weirds.append(Weird("ipv4_fragment_table_full", "ipv4", fb.file, frame, ts))
        return _as_batch(out, fb.file) if out else None

    def expire(self, now: float) -> list[Weird]:
        """Abandon the datagrams older than ``TIMEOUT_S`` at packet time ``now`` (the reader's clock after each
        batch, which workers share too); each is a weird at its first fragment."""
        weirds = []
        while self._table:
            key, oldest = next(iter(self._table.items()))
            if now - oldest.first_ts <= TIMEOUT_S:
                break
            del self._table[key]
            weirds.append(_timeout(oldest))
        return weirds

    @staticmethod
    def _complete(dgram: _Datagram) -> bytes | None:
        if dgram.total is None or not dgram.header:
            return None
        payload = bytearray()
        for offset in sorted(dgram.pieces):
            if offset > len(payload):
                return None  # a hole remains
            piece = dgram.pieces[offset]
            payload[offset:offset + len(piece)] = piece
        if len(payload) < dgram.total:
            return None
        header = bytearray(dgram.header)
        header[2:4] = (len(header) + dgram.total).to_bytes(2, "big")
        header[6:8] = b"\x00\x00"
        return bytes(header) + bytes(payload[:dgram.total])


def _timeout(dgram: _Datagram) -> Weird:
    return Weird("ipv4_fragment_timeout", "ipv4", dgram.file, dgram.first_frame, dgram.first_ts,
                 f"incomplete after {TIMEOUT_S:.0f} s")


def _as_batch(datagrams: list[tuple[bytes, int, float]], file: str) -> FrameBatch:
    lengths = np.array([len(d) for d, _, _ in datagrams], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return FrameBatch(
        data=np.frombuffer(b"".join(d for d, _, _ in datagrams), dtype=np.uint8),
        offset=offsets, caplen=lengths, wirelen=lengths.copy(),
        ts=np.array([t for _, _, t in datagrams], dtype=np.float64),
        linktype=np.full(len(datagrams), LINKTYPE_IPV4, dtype=np.int64),
        frame=np.array([f for _, f, _ in datagrams], dtype=np.int64), file=file,
    )
