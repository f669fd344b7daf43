"""Crash safety: a writer killed with SIGKILL at random instants leaves exactly the batches it committed."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from store_crash_writer import FINGERPRINT, POINTS

from sensor.store import Store

REPO = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("store_crash_writer.py")
KILLS = 6


def run_and_kill(path: Path, rng: random.Random) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    writer = subprocess.Popen([sys.executable, str(WRITER), str(path)], stdout=subprocess.PIPE, env=env)
    try:
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL


def test_sigkill_at_random_instants_leaves_exactly_the_committed_batches(tmp_path):
    path = tmp_path / "crash.db"
    rng = random.Random()
    previous = 0
    for _ in range(KILLS):
        run_and_kill(path, rng)
        with Store.open(str(path)) as store:
            assert store.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            done, complete, _ = store.file_progress(FINGERPRINT)
            assert done > previous and not complete
            (asset,) = store.assets()
            assert asset["packets"] == done * (done + 1) // 2  # batch n added n packets
            assert asset["bytes"] == done
            assert (asset["first_seen"], asset["last_seen"]) == (1.0, float(done))
            assert sorted(asset["hostnames"]) == sorted({f"h{n % 7}" for n in range(1, done + 1)})
            assert asset["hostnames"][0] == f"h{done % 7}"  # the newest name first
            points = store.points()
            assert len(points) == POINTS and {p["count"] for p in points} == {done}
            (communication,) = store.communications()
            assert (communication["packets"], communication["flows"]) == (2 * done, done)
            assert communication["actions"] == {"read_holding_registers": done}
            assert communication["sample_frames"] == [["crash.pcap", n] for n in range(1, min(done, 10) + 1)]
            (weird,) = store.weirds()
            assert (weird["code"], weird["count"], weird["first_frame"]) == ("crash_weird", done, 1)
        previous = done
