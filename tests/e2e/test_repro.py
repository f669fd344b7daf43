"""The reproducers of captures/repro/ (see its README): each defect stays fixed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor

REPRO = REPO_ROOT / "captures" / "repro"


def analyze(tmp_path: Path, name: str, *extra: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(messages, weirds, assets) of one strict run."""
    events = tmp_path / f"{name}.jsonl"
    db = tmp_path / f"{name}.db"
    done = run_otsensor("analyze", REPRO / f"{name}.pcap", "--db", db, "--events", events, "--strict",
                        "--no-progress", *extra)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assets = json.loads(run_otsensor("assets", "--db", db, "--format", "json").stdout)
    return [e for e in lines if e["proto"] != "weird"], [e for e in lines if e["proto"] == "weird"], assets


@pytest.mark.parametrize("batch_frames", ["1", "7", "16", "65536"])
def test_data_behind_a_hole_at_end_of_input_is_delivered_at_any_batch_size(tmp_path, batch_frames):
    messages, weirds, assets = analyze(tmp_path, "keyerror_small", "--batch-frames", batch_frames)
    assert "internal_error" not in {w["name"] for w in weirds}
    assert len(assets) >= 200  # the 200 ARP senders after the Modbus flow are all there
    assert any(m["proto"] == "modbus" for m in messages)


def test_a_segment_far_behind_the_window_is_refused(tmp_path):
    messages, weirds, assets = analyze(tmp_path, "jump_back3m")
    assert [(w["name"], w["frame"]) for w in weirds] == [("tcp_out_of_window", 26)]
    assert "behind what the receiver acknowledged" in weirds[0]["detail"]
    assert not [m for m in messages if m.get("address") == 9999 or 0xDEAD in (m.get("values") or [])]
    written = [p for a in assets for p in a.get("points") or [] if p["access"] == "write"]
    assert written and all(not p["address"] <= 9999 < p["address"] + p["quantity"] for p in written)
    requests = [m for m in messages if m["direction"] == "request"]
    assert len(requests) == 50  # every genuine write is still there


@pytest.mark.parametrize("name", ["overlap_before", "partial_overlap"])
def test_differing_overlaps_keep_the_first_copy_name_both_frames_and_mark_the_messages(tmp_path, name):
    messages, weirds, _ = analyze(tmp_path, name)
    conflicts = [w for w in weirds if w["name"] == "tcp_overlap_conflict"]
    assert len(conflicts) == 50
    assert {w["name"] for w in weirds} == {"tcp_overlap_conflict"}
    requests = [m for m in messages if m["direction"] == "request"]
    assert len(requests) == 50
    for weird in conflicts:
        first = int(weird["detail"].split("frame ")[1].split(",")[0])
        assert first < weird["frame"]  # the kept copy came first
        disputed = [m for m in requests if m["frame"] in (first, weird["frame"])]
        assert disputed and all(m.get("disputed") is True for m in disputed)
    assert not [m for m in messages if m["direction"] == "response" and m.get("disputed")]
