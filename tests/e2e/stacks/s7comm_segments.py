"""TCP payloads of a capture on port 102, as tshark extracts them, fed through ``S7Stream`` per direction.

Shared by the S7comm oracle, unit and stack tests: tshark (``-o tcp.desegment_tcp_streams:FALSE``)
lists every segment with its stream index, ports, relative sequence number and payload; a
segment is fed to the framer of its (stream, direction), its direction being from the client
(the side that is not on port 102) to the server. Segments are put in sequence order the way a
reassembler does: bytes already delivered (retransmissions) are dropped, a hole makes ``gap()``.
"""
from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from protocols.base import Malformed, Message
from protocols.s7comm.stream import S7Stream

PORT = 102
FIELDS = ("frame.number", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.flags.syn", "tcp.payload")


@dataclass(frozen=True)
class Segment:
    frame: int
    stream: int
    is_request: bool  # client -> server (toward port 102)
    seq: int  # relative sequence number of the first payload octet (after a SYN: of the next one)
    payload: bytes  # empty for segments that only tell where the sequence stands (SYN, bare ACK)


def segments(path: Path, port: int = PORT) -> list[Segment]:
    """Every TCP segment to or from ``port``, in capture order; bare ones only say where the sequence stands."""
    segs = (segment(line.split("\t"), port) for line in tshark_lines(path, FIELDS, port))
    return [s for s in segs if s is not None]


def tshark_lines(path: Path, fields: tuple[str, ...] | list[str], port: int = PORT, reassemble: bool = False) -> list[str]:
    """tshark's tab-separated ``fields`` for every TCP segment to or from ``port`` (lists joined with '|').

    ``tcp.payload`` is each segment's own payload whether or not tshark reassembles, so one run
    can give both the segments and what tshark's dissectors make of them (``reassemble``).
    """
    args = [] if reassemble else ["-o", "tcp.desegment_tcp_streams:FALSE"]
    proc = subprocess.run(
        ["tshark", "-n", "-r", str(path), *args, "-Y", f"tcp.port == {port}", "-T", "fields",
         "-E", "occurrence=a", "-E", "aggregator=|", *[a for f in fields for a in ("-e", f)]],
        capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark failed on {path}: {proc.stderr[-500:]}")
    return proc.stdout.splitlines()


def segment(cells: list[str], port: int = PORT) -> Segment | None:
    """A Segment from the FIELDS columns of one tshark line; None for a TCP header quoted in ICMP."""
    frame, stream, sport, dport, seq, syn, payload = (c.split("|")[0] for c in (list(cells) + [""] * 7)[:7])
    if not stream or not seq or "|" in cells[1]:
        return None
    start = int(seq) + (1 if syn in ("1", "True") else 0)
    return Segment(int(frame), int(stream), int(dport) == port and int(sport) != port, start,
                   bytes.fromhex(payload.replace(":", "")))


@dataclass(frozen=True)
class Outcome:
    frame: int
    stream: int
    is_request: bool
    item: Message | Malformed


def frame_all(segs: list[Segment]) -> Iterator[Outcome]:
    """Feed each (stream, direction) its segments in order; yield what the framers report, per frame."""
    framers: dict[tuple[int, bool], S7Stream] = {}
    next_seq: dict[tuple[int, bool], int] = defaultdict(lambda: -1)
    for seg in segs:
        key = (seg.stream, seg.is_request)
        framer = framers.get(key)
        if framer is None:
            framer = framers[key] = S7Stream(seg.is_request)
        expected = next_seq[key]
        data, seq = seg.payload, seg.seq
        if not data:
            if expected < 0:
                next_seq[key] = seq  # a SYN or bare ACK says where the byte stream starts
            continue
        if expected >= 0:
            if seq + len(data) <= expected:
                continue  # retransmission of bytes already delivered
            if seq < expected:
                data = data[expected - seq:]
                seq = expected
            elif seq > expected:
                framer.gap()
        next_seq[key] = seq + len(data)
        for _, item in framer.feed(data, seg.frame):
            yield Outcome(seg.frame, seg.stream, seg.is_request, item)
