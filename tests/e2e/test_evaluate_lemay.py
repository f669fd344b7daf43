"""Learned baselines on the labelled Lemay captures: packet F1 at least 0.99, every attack episode alerted,
and nothing alerted in the normal traffic the baseline learned from.

Each capture learns from its own pre-attack part: every frame before its first labelled attack frame.
The characterization scan starts at frame 3, so that capture learns from the pre-attack parts of the
other two captures of the same plant and day (the polling master and RTUs are the same hosts).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sensor.detect.evaluate import evaluate, format_report, frame_times, load_labels
from sensor.detect.learn import Cutoff

CNC = "lemay_CnC_uploading_exe_modbus_6RTU_with_operate"
MOVING = "lemay_moving_two_files_modbus_6RTU"
SCAN = "lemay_characterization_modbus_6RTU_with_operate"
TRAIN = {CNC: [CNC], MOVING: [MOVING], SCAN: [CNC, MOVING]}
F1_FLOOR = 0.99


def pcap(corpus: Path, name: str) -> str:
    return str(corpus / "modbus" / f"{name}.pcap")


def labels(corpus: Path, name: str) -> str:
    return str(corpus / "modbus" / "labels" / f"{name}_labeled.csv")


def pre_attack(corpus: Path, name: str) -> int:
    """The last frame before the first labelled attack frame."""
    attack = load_labels(labels(corpus, name), frame_times(pcap(corpus, name))).attack
    return int(attack.argmax())


@pytest.mark.parametrize("name", [CNC, MOVING, SCAN])
def test_lemay_capture(corpus: Path, name: str) -> None:
    for needed in [pcap(corpus, name), labels(corpus, name)] + [pcap(corpus, t) for t in TRAIN[name]]:
        if not Path(needed).is_file():
            pytest.skip(f"{needed} not in the corpus")
    cutoff = Cutoff({pcap(corpus, t): pre_attack(corpus, t) for t in TRAIN[name]})
    report = evaluate(pcap(corpus, name), labels(corpus, name), [pcap(corpus, t) for t in TRAIN[name]], cutoff)
    print(format_report(report))
    ours = report.ours
    assert ours.f1 >= F1_FLOOR, format_report(report)
    assert ours.f1 >= report.reference.f1 - 1e-9, "the learned baseline does worse than the plain allowlist"
    assert all(delay is not None for delay in ours.detected), "an attack episode got no alert"
    if TRAIN[name] == [name]:  # the part it learned from is normal: no alert may touch it
        learned = cutoff.frames[pcap(corpus, name)]
        early = [a for a in report.alerts if any(frame <= learned for _, frame in a["frames"])]
        assert not early, early
