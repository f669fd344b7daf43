"""`--alerts-format ecs`: the same alerts as the native file, with Elastic Common Schema names."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import REPO_ROOT, run_otsensor  # noqa: E402

CAPTURE = REPO_ROOT / "captures" / "iti_modbus_test_data_part2.pcap"


def test_ecs_alerts_are_the_native_alerts_renamed(tmp_path) -> None:
    runs = {}
    for fmt in ("native", "ecs"):
        out = tmp_path / f"{fmt}.jsonl"
        done = run_otsensor("analyze", CAPTURE, "--db", tmp_path / f"{fmt}.db", "--alerts", out, "--alerts-format",
                            fmt, "--sensor-name", "line-3", "--no-progress")
        assert done.returncode == 0, done.stderr
        runs[fmt] = [json.loads(line) for line in out.read_text().splitlines()]
    native, ecs = runs["native"], runs["ecs"]
    assert native and len(ecs) == len(native)
    for a, e in zip(native, ecs):
        assert e["event"]["kind"] == "alert" and e["event"]["id"] == a["id"]
        assert e["rule"]["id"] == a["rule"] and e["event"]["severity"] == a["severity"]
        assert e["source"]["ip"] == a["src"] and e["destination"]["ip"] == a["dst"]
        assert e["observer"] == {**e["observer"], "name": "line-3", "type": "sensor"}
        assert e["@timestamp"].endswith("Z") and e["message"] == a["summary"]
