"""``--learn-for``: a run learns its first seconds, writes the baseline, and detects with it afterwards."""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from frames import Conversation, write_pcap  # noqa: E402
from helpers import run_otsensor  # noqa: E402


def adu(tid: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu


def plant(tmp_path: Path) -> tuple[Path, int]:
    """An HMI polls registers 0-9 every second for 200 s; at 150 s it writes register 40, which it never did."""
    c = Conversation(step=0.01)
    c.handshake()
    write_frame = 0
    for second in range(200):
        c.t = 1000.0 + second
        tid = second + 1
        if second == 150:
            write_frame = c.packet(True, adu(tid, struct.pack(">BHH", 6, 40, 7)))
            c.packet(False, adu(tid, struct.pack(">BHH", 6, 40, 7)))
            continue
        c.packet(True, adu(tid, struct.pack(">BHH", 3, 0, 10)))
        c.packet(False, adu(tid, bytes([3, 20]) + bytes(20)))
    return write_pcap(tmp_path / "plant.pcap", c.frames), write_frame


@pytest.mark.parametrize("batch_frames", [65_536, 7])  # the period ends inside a batch, or between small ones
def test_learn_for_writes_a_baseline_then_alerts_only_on_what_it_did_not_learn(tmp_path, batch_frames) -> None:
    capture, write_frame = plant(tmp_path)
    baseline = tmp_path / "learned.json"
    done = run_otsensor("analyze", capture, "--db", tmp_path / "a.db", "--learn-for", "100", "--baseline", baseline,
                        "--alerts", tmp_path / "alerts.jsonl", "--no-progress", "--batch-frames", batch_frames)
    assert done.returncode == 0, done.stderr
    learned = json.loads(baseline.read_text())
    assert learned["learned"]["last_ts"] <= 1000.0 + 100 + 1  # only the first 100 s were learned
    alerts = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert alerts and {a["rule"] for a in alerts} == {"baseline.new_function"}
    flagged = {n for a in alerts for _, n in a["frames"]}
    assert write_frame in flagged and flagged <= {write_frame, write_frame + 1}  # the write and its echo

    again = run_otsensor("analyze", capture, "--db", tmp_path / "b.db", "--baseline", baseline,
                         "--alerts", tmp_path / "again.jsonl", "--no-progress")  # the written baseline loads
    assert again.returncode == 0, again.stderr
    assert {json.loads(line)["rule"] for line in (tmp_path / "again.jsonl").read_text().splitlines()} \
        == {"baseline.new_function"}


def test_learn_for_needs_a_baseline_path(tmp_path) -> None:
    capture, _ = plant(tmp_path)
    done = run_otsensor("analyze", capture, "--db", tmp_path / "a.db", "--learn-for", "100", "--no-progress")
    assert done.returncode == 2 and "--baseline" in done.stderr
    assert not (tmp_path / "a.db").exists()
