"""The parser against tshark on the real Modbus captures of the shared corpus.

For every TCP segment to or from port 502 we parse the segment's own payload. Where it holds whole
ADUs, (transaction id, unit id, function code, exception code) must equal what tshark reports for
that frame. Segments that only make sense after reassembly are checked the same way through
``ModbusStream``, fed in capture order per connection and direction. Retransmitted and out-of-order
segments are skipped by both tools (tshark's TCP analysis withholds them from Modbus); deciding what
to do with them is the reassembly layer's job, not the parser's.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import pytest
from helpers import captures_dir

from protocols.base import Malformed, NeedMore
from protocols.modbus.stream import ModbusStream
from protocols.modbus.wire import ModbusMessage, parse_adu

MODBUS = captures_dir() / "modbus"
FILES = sorted(p.name for p in MODBUS.glob("*.pcap*")) if MODBUS.is_dir() else []

pytestmark = [
    pytest.mark.skipif(not FILES, reason=f"capture corpus not found at {MODBUS} (set OTSENSOR_CAPTURES)"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed"),
]

FIELDS = ["frame.number", "tcp.stream", "tcp.dstport", "tcp.payload", "tcp.analysis.retransmission",
          "tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "mbtcp.trans_id", "mbtcp.unit_id",
          "modbus.func_code", "modbus.exception_code"]

# (transaction ids, unit ids, function codes, exception codes), each a list, as tshark prints them.
Key = tuple[tuple[str, ...], ...]


@dataclass
class Segment:
    frame: int
    stream: str
    is_request: bool
    payload: bytes
    withheld: bool  # retransmission or out of order: tshark gives it no Modbus tree
    lost_before: bool  # tshark saw a hole in the sequence space just before it
    tshark: Key | None  # None when tshark dissected no Modbus in this frame


@dataclass
class Capture:
    segments: list[Segment] = field(default_factory=list)


def _run_tshark(name: str) -> Capture:
    command = ["tshark", "-n", "-r", str(MODBUS / name), "-Y", "tcp.port == 502 && tcp.len > 0",
               "-T", "fields",
               "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        command += ["-e", f]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    capture = Capture()
    for line in out.splitlines():
        frame, stream, dport, payload, retrans, ooo, lost, tid, unit, fc, exc = line.split("\t")
        key = tuple(tuple(v.split(",")) if v else () for v in (tid, unit, fc, exc))
        capture.segments.append(Segment(
            frame=int(frame), stream=stream, is_request=dport == "502", payload=bytes.fromhex(payload),
            withheld=bool(retrans or ooo), lost_before=bool(lost), tshark=key if tid else None,
        ))
    return capture


@lru_cache(maxsize=1)
def _all_captures() -> dict[str, Capture]:
    """tshark starts slowly (~0.8 s), so run it for every file at once, once per session."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(FILES, pool.map(_run_tshark, FILES)))


def key_of(messages: list[ModbusMessage]) -> Key:
    return (
        tuple(str(m.transaction_id) for m in messages),
        tuple(str(m.unit_id) for m in messages),
        tuple(str(m.function_code) for m in messages),
        tuple(str(m.exception_code) for m in messages if m.exception_code is not None),
    )


def whole_adus(segment: Segment) -> list[ModbusMessage] | None:
    """The ADUs of a segment parsed on its own, or None if it does not hold whole ADUs only."""
    messages, offset = [], 0
    while offset < len(segment.payload):
        try:
            result = parse_adu(segment.payload, offset, segment.is_request)
        except Malformed:
            return None
        if isinstance(result, NeedMore):
            return None
        message, used = result
        messages.append(message)
        offset += used
    return messages


# Frames where we knowingly disagree with tshark; see test_known_disagreements.
KNOWN = {("iti_modicon_test.pcap", 19), ("iti_modicon_test.pcap", 20)}


@pytest.mark.parametrize("name", FILES)
def test_segments_holding_whole_adus_agree_with_tshark(name: str) -> None:
    # A segment holds whole ADUs for tshark too only if the one before it (same connection and
    # direction) ended on an ADU boundary; otherwise tshark is mid-reassembly there.
    boundary: dict[tuple[str, bool], bool] = {}
    agreed = 0
    for segment in _all_captures()[name].segments:
        if segment.withheld:
            continue
        direction = (segment.stream, segment.is_request)
        starts_clean = boundary.get(direction, True) and not segment.lost_before
        messages = whole_adus(segment)
        boundary[direction] = messages is not None
        if messages is None or not starts_clean:
            continue
        assert segment.tshark is not None, f"frame {segment.frame}: {key_of(messages)}, tshark saw no Modbus"
        assert key_of(messages) == segment.tshark, f"frame {segment.frame}"
        agreed += 1
    assert agreed > 0


@pytest.mark.parametrize("name", FILES)
def test_stream_framing_agrees_with_tshark_reassembly(name: str) -> None:
    streams: dict[tuple[str, bool], ModbusStream] = {}
    ours: dict[int, list[ModbusMessage]] = {}
    malformed: set[int] = set()
    tshark: dict[int, Key] = {}
    for segment in _all_captures()[name].segments:
        if segment.tshark is not None:
            tshark[segment.frame] = segment.tshark
        if segment.withheld:
            continue
        stream = streams.setdefault((segment.stream, segment.is_request), ModbusStream(segment.is_request))
        if segment.lost_before:
            stream.gap()
        for frame, outcome in stream.feed(segment.payload, segment.frame):
            if isinstance(outcome, Malformed):
                malformed.add(frame)
            else:
                ours.setdefault(frame, []).append(outcome)
    for frame in sorted(set(tshark) | set(ours)):
        if (name, frame) in KNOWN:
            continue
        assert key_of(ours.get(frame, [])) == tshark.get(frame, ((), (), (), ())), f"frame {frame}"
    # Malformed framing only where tshark found no Modbus either (it waits forever on a bad length).
    assert not malformed & set(tshark) - {f for n, f in KNOWN if n == name}


def test_known_disagreements() -> None:
    """iti_modicon_test.pcap frames 19/20: a Schneider Modicon sends UMAS (FC 90) with MBAP length 255.

    The PDU limit is 253 bytes (application spec §4.1), so length may be at most 254; tshark does not
    check and decodes FC 90. We raise modbus_bad_length, report it with the frame, and resynchronise
    at the next segment, which the device starts with a fresh ADU.
    """
    if "iti_modicon_test.pcap" not in FILES:
        pytest.skip("iti_modicon_test.pcap not in the corpus")
    segments = {s.frame: s for s in _all_captures()["iti_modicon_test.pcap"].segments}
    for frame in (19, 20):
        segment = segments[frame]
        assert segment.tshark is not None and segment.tshark[2] == ("90",)
        assert int.from_bytes(segment.payload[4:6], "big") == 255
        assert len(segment.payload) == 6 + 255
        with pytest.raises(Malformed) as err:
            parse_adu(segment.payload, 0, segment.is_request)
        assert err.value.code == "modbus_bad_length"
