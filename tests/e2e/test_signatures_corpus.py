"""Signatures on real captures whose story names the dangerous operation they hold.

The expectations come from each capture's name and source (../shared/captures/MANIFEST.md), never
from the sensor's output: a capture called "stop" must raise the PLC-stop rule, with the client that
sent it as ``src``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sensor.detect.checks import detection_checks
from sensor.detect.engine import Detector
from sensor.pipeline import Options, Pipeline
from sensor.store import Store

EXPECTED = {  # capture -> rules that must fire (others may fire too)
    "s7comm/iti_snap7_s300_stop.pcapng": {"s7comm.plc_stop"},
    "s7comm/iti_step7_s300_stop.pcapng": {"s7comm.plc_stop"},
    "s7comm/iti_step7_s300_download.pcapng": {"s7comm.block_download"},
    "s7comm/iti_s7comm_downloading_block_db1.pcap": {"s7comm.block_download"},
    "s7comm/iti_step7_s300_AuthPassword.pcapng": {"s7comm.password"},
    "enip/iti_EIP-FirmwareChangeFailure.pcap": {"ot.firmware_update"},
    "enip/iti_cip_stop_plc.pcap": {"ot.mode_change"},
    "enip/iti_EIP-RebootorRestart.pcap": {"ot.restart"},
    "modbus/lemay_characterization_modbus_6RTU_with_operate.pcap": {"modbus.points_scan"},
}
QUIET = ["modbus/iti_modbus_test_data_part1.pcap", "s7comm/iti_s7-1200-hmi.pcap", "enip/emre_enip.pcap"]


def alerts_of(path: Path, tmp: Path) -> list[dict]:
    newest: dict[str, dict] = {}
    with Store.open(str(tmp / "x.db")) as store:
        Pipeline(store, Options(strict=True, detector=Detector(detection_checks()),
                                on_alerts=lambda a: newest.update((x["id"], x) for x in a))).run([str(path)])
    return list(newest.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dangerous_operation_is_alerted(corpus: Path, tmp_path: Path, name: str) -> None:
    alerts = alerts_of(corpus / name, tmp_path)
    fired = {rule for a in alerts for rule in a["rules"]}
    assert EXPECTED[name] <= fired, f"{name}: fired {sorted(fired)}"
    for a in alerts:
        assert a["frames"] and a["summary"].endswith((".", ")")) and 0 <= a["severity"] <= 10
        assert all(d["expected"] is not None and "seen" in d for d in a["evidence"]["detections"])


@pytest.mark.parametrize("name", QUIET)
def test_routine_traffic_raises_no_operation_alert(corpus: Path, tmp_path: Path, name: str) -> None:
    """Polling and HMI traffic: no operation rule (program, mode, restart, firmware) fires."""
    rules = {rule for a in alerts_of(corpus / name, tmp_path) for rule in a["rules"]}
    dangerous = {r for r in rules if r.startswith("ot.") or r.endswith(("plc_stop", "block_download", "restart"))}
    assert not dangerous, f"{name}: {sorted(rules)}"
