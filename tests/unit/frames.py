"""Shared test builders: frame batches, a TCP conversation with correct sequence numbers, a pipeline run.

Test modules in sibling folders import this after putting ``tests/unit`` on ``sys.path``.
"""
from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from sensor.capture import LINKTYPE_ETHERNET, FrameBatch


def frame_batch(frames: list[tuple], *, file: str = "test.pcap", first: int = 1,
                numbers: list[int] | None = None) -> FrameBatch:
    """Frames ``(bytes, linktype, ts[, wirelen])`` end to end in one buffer, numbered from ``first``."""
    datas = [bytes(f[0]) for f in frames]
    lengths = np.array([len(d) for d in datas], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) if datas else np.zeros(0, np.int64)
    wirelen = np.array([f[3] if len(f) > 3 else len(d) for f, d in zip(frames, datas)], dtype=np.int64)
    return FrameBatch(
        data=np.frombuffer(b"".join(datas), dtype=np.uint8).copy(),
        offset=offsets, caplen=lengths, wirelen=wirelen,
        ts=np.array([float(f[2]) for f in frames], dtype=np.float64),
        linktype=np.array([int(f[1]) for f in frames], dtype=np.int64),
        frame=np.array(numbers if numbers is not None else range(first, first + len(frames)), dtype=np.int64),
        file=file,
    )


def batches(frames: list[tuple], size: int, *, file: str = "test.pcap") -> list[FrameBatch]:
    """The frames cut into batches of ``size``, numbered as one file."""
    return [frame_batch(frames[i:i + size], file=file, first=i + 1) for i in range(0, len(frames), size)]


def write_pcap(path: Path, frames: list[tuple]) -> Path:
    """A classic microsecond pcap (one link type, taken from the first frame)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, frames[0][1] if frames else 1)]
    for f in frames:
        data, ts = bytes(f[0]), round(f[2] * 1_000_000)
        out.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), f[3] if len(f) > 3 else len(data)))
        out.append(data)
    path.write_bytes(b"".join(out))
    return path


class Conversation:
    """Frames of one Ethernet/IPv4 TCP connection; ``frames`` grows as packets are sent.

    Sequence and acknowledgement numbers follow what each side sent, so by default every segment
    continues its stream; pass ``seq`` to retransmit or reorder.
    """

    def __init__(self, client: str = "10.0.0.1", server: str = "10.0.0.2", cport: int = 40000, sport: int = 502,
                 *, t0: float = 1000.0, step: float = 0.01, client_mac: str = "02:00:00:00:00:01",
                 server_mac: str = "02:00:00:00:00:02", isn: tuple[int, int] = (1000, 5000)) -> None:
        self.ends = ((client, cport, client_mac), (server, sport, server_mac))
        self.next = list(isn)
        self.t = t0
        self.step = step
        self.frames: list[tuple[bytes, int, float]] = []

    def packet(self, from_client: bool, payload: bytes = b"", flags: str = "PA", seq: int | None = None,
               advance: bool = True) -> int:
        """Append one segment; returns its 1-based frame number."""
        me, peer = (0, 1) if from_client else (1, 0)
        (src, sp, mac), (dst, dp, peer_mac) = self.ends[me], self.ends[peer]
        s = self.next[me] if seq is None else seq
        pkt = Ether(src=mac, dst=peer_mac) / IP(src=src, dst=dst) / TCP(
            sport=sp, dport=dp, seq=s % (1 << 32), ack=self.next[peer] % (1 << 32), flags=flags) / Raw(payload)
        if advance:
            used = len(payload) + (1 if "S" in flags or "F" in flags else 0)
            self.next[me] = max(self.next[me], s + used)
        self.frames.append((bytes(pkt), LINKTYPE_ETHERNET, round(self.t, 6)))
        self.t += self.step
        return len(self.frames)

    def handshake(self) -> None:
        self.packet(True, flags="S")
        self.packet(False, flags="SA")
        self.packet(True, flags="A")

    def close(self) -> None:
        self.packet(True, flags="FA")
        self.packet(False, flags="FA")
        self.packet(True, flags="A")


def analyze(store, frame_batches: list[FrameBatch], **options):
    """Run the real pipeline (strict) over ready-made batches into ``store``; returns (pipeline, events text)."""
    from sensor.pipeline import Options, Pipeline

    events = io.StringIO()
    pipeline = Pipeline(store, Options(events=events, strict=True, **options))
    for fb in frame_batches:
        pipeline._process(fb)
    pipeline._end_of_input(frame_batches[0].file if frame_batches else "test.pcap")
    pipeline._flush(None)
    return pipeline, events.getvalue()


# One request and its answer for every function code the Modbus fast path takes, and exceptions (PDUs, no MBAP).
FAST_MODBUS_EXCHANGES: list[tuple[bytes, bytes]] = [
    (struct.pack(">BHH", 1, 10, 11), bytes([1, 2, 0b10110101, 0b00000110])),  # 11 coils: 16 bits sent
    (struct.pack(">BHH", 2, 0, 3), bytes([2, 1, 0b101])),
    (struct.pack(">BHH", 3, 100, 3), bytes([3, 6]) + struct.pack(">3H", 0, 65535, 1234)),
    (struct.pack(">BHH", 4, 7, 1), bytes([4, 2]) + struct.pack(">H", 42)),
    (struct.pack(">BHH", 5, 9, 0xFF00), struct.pack(">BHH", 5, 9, 0xFF00)),
    (struct.pack(">BHH", 5, 9, 0), struct.pack(">BHH", 5, 9, 0)),
    (struct.pack(">BHH", 6, 40, 900), struct.pack(">BHH", 6, 40, 900)),
    (struct.pack(">BHHB", 15, 20, 10, 2) + bytes([0xFF, 0x03]), struct.pack(">BHH", 15, 20, 10)),
    (struct.pack(">BHHB", 16, 30, 2, 4) + struct.pack(">2H", 7, 65000), struct.pack(">BHH", 16, 30, 2)),
    (struct.pack(">BHH", 3, 9000, 1), bytes([0x83, 2])),  # illegal data address
    (struct.pack(">BHH", 1, 0, 1), bytes([0x81, 11])),
]
