"""Signatures over real pipeline runs of crafted Modbus/TCP conversations."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import Conversation, write_pcap  # noqa: E402

from sensor.detect.engine import Detector  # noqa: E402
from sensor.detect.episodes import EPISODE_GAP_S  # noqa: E402
from sensor.detect.signatures import Signatures  # noqa: E402
from sensor.pipeline import Options, Pipeline  # noqa: E402
from sensor.store import Store  # noqa: E402


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read(tid: int, address: int, unit: int = 1, fc: int = 3) -> bytes:
    return adu(tid, unit, struct.pack(">BHH", fc, address, 2))


def registers(tid: int, unit: int = 1) -> bytes:
    return adu(tid, unit, struct.pack(">BBHH", 3, 4, 1, 2))


def exception(tid: int, fc: int, code: int, unit: int = 1) -> bytes:
    return adu(tid, unit, bytes([fc | 0x80, code]))


class Plant:
    """One HMI polling one PLC, with whatever the test adds."""

    def __init__(self) -> None:
        self.c = Conversation(step=0.05)
        self.c.handshake()
        self.tid = 0

    def poll(self, times: int, address: int = 100) -> None:
        for _ in range(times):
            self.ask(read(self.next_tid(), address), registers(self.tid))

    def next_tid(self) -> int:
        self.tid += 1
        return self.tid

    def ask(self, request: bytes, response: bytes | None) -> int:
        frame = self.c.packet(True, request)
        if response is not None:
            self.c.packet(False, response)
        return frame


def alerts_of(tmp_path, frames, size: int = 65_536, signatures: Signatures | None = None
              ) -> tuple[dict[str, dict], list[dict]]:
    """Final alert per id, and every alert record as written (grown alerts repeat their id)."""
    written: list[dict] = []
    path = write_pcap(tmp_path / "test.pcap", frames)
    with Store.open(str(tmp_path / f"s{size}.db")) as store:
        Pipeline(store, Options(strict=True, batch_frames=size, detector=Detector([signatures or Signatures()]),
                                on_alerts=written.extend)).run([str(path)])
    for alert in written:
        alert["frames"] = [[Path(file).name, n] for file, n in alert["frames"]]
    return {a["id"]: a for a in written}, written


def test_normal_polling_and_writes_raise_nothing(tmp_path) -> None:
    p = Plant()
    p.poll(200)
    for k in range(20):
        tid = p.next_tid()
        p.ask(adu(tid, 1, struct.pack(">BHH", 6, 10 + k % 3, 500 + k)), adu(tid, 1, struct.pack(">BHH", 6, 10 + k % 3, 500 + k)))
    final, _ = alerts_of(tmp_path, p.c.frames)
    assert final == {}


def test_force_listen_only_is_one_alert_of_the_protocol_rule(tmp_path) -> None:
    p = Plant()
    p.poll(10)
    frame = p.ask(adu(p.next_tid(), 1, bytes([8, 0, 4, 0, 0])), None)  # 8/4 has no response
    p.poll(10)
    final, _ = alerts_of(tmp_path, p.c.frames)
    [alert] = final.values()
    assert alert["rule"] == "modbus.force_listen_only" and alert["rules"] == ["modbus.force_listen_only"]
    assert alert["severity"] == 9 and alert["category"] == "signature"
    assert alert["frames"] == [["test.pcap", frame]]
    assert (alert["src"], alert["dst"], alert["proto"]) == ("10.0.0.1", "10.0.0.2", "modbus")
    assert "listen-only" in alert["summary"]
    assert alert["evidence"]["detections"][0]["seen"] == ["diagnostics/force_listen_only_mode"]


def test_clear_counters_needs_its_sub_function(tmp_path) -> None:
    p = Plant()
    echo = adu(p.next_tid(), 1, bytes([8, 0, 0, 0x12, 0x34]))  # 8/0 return query data: harmless
    p.ask(echo, echo)
    clear = adu(p.next_tid(), 1, bytes([8, 0, 10, 0, 0]))
    frame = p.ask(clear, clear)
    final, _ = alerts_of(tmp_path, p.c.frames)
    assert [(a["rule"], a["frames"]) for a in final.values()] == [("modbus.clear_counters", [["test.pcap", frame]])]


def test_points_scan_needs_distinct_addresses(tmp_path) -> None:
    same = Plant()
    for _ in range(40):  # a misconfigured HMI: the same bad address every poll
        same.ask(read(same.next_tid(), 9000), exception(same.tid, 3, 2))
    assert alerts_of(tmp_path, same.c.frames)[0] == {}

    scan = Plant()
    responses = [scan.ask(read(scan.next_tid(), 1000 + 10 * k), exception(scan.tid, 3, 2)) + 1 for k in range(12)]
    final, _ = alerts_of(tmp_path, scan.c.frames)
    [alert] = final.values()
    assert alert["rule"] == "modbus.points_scan"
    assert [f for _, f in alert["frames"]] == responses


def test_a_learned_sweep_is_no_address_scan_but_a_new_client_doing_it_is(tmp_path) -> None:
    sweep = Plant()  # a historian that reads 100 registers one by one, every cycle
    for _ in range(3):
        for address in range(100):
            sweep.ask(read(sweep.next_tid(), address), registers(sweep.tid))
    assert [a["rule"] for a in alerts_of(tmp_path, sweep.c.frames)[0].values()] == ["modbus.address_scan"]
    learned = Signatures(frozenset({("10.0.0.1", "10.0.0.2", "modbus", "read_holding_registers")}))
    (tmp_path / "learned").mkdir()
    assert alerts_of(tmp_path / "learned", sweep.c.frames, signatures=learned)[0] == {}
    other = Signatures(frozenset({("10.0.0.9", "10.0.0.2", "modbus", "read_holding_registers")}))
    (tmp_path / "other").mkdir()
    assert [a["rule"] for a in alerts_of(tmp_path / "other", sweep.c.frames, signatures=other)[0].values()] \
        == ["modbus.address_scan"]


@pytest.mark.parametrize("size", [65_536, 3])
def test_unit_scan_is_one_growing_alert_whatever_the_batches(tmp_path, size: int) -> None:
    p = Plant()
    p.poll(5)
    for unit in range(1, 61):
        p.ask(read(p.next_tid(), 0, unit=unit), exception(p.tid, 3, 11, unit=unit))
    final, written = alerts_of(tmp_path, p.c.frames, size)
    [alert] = final.values()
    assert alert["rule"] == "modbus.unit_scan" and alert["count"] == 60  # one frame per unit: the latest request to it
    (tmp_path / "whole").mkdir()
    reference, _ = alerts_of(tmp_path / "whole", p.c.frames)
    assert final == reference  # batch boundaries change nothing
    if size == 3:  # a commit every 8 batches: the alert is written as it grows
        counts = [a["count"] for a in written]
        assert len(counts) > 1 and counts == sorted(counts)  # written again, same id, as it grows


def test_silence_longer_than_the_gap_starts_a_new_episode(tmp_path) -> None:
    p = Plant()
    p.ask(adu(p.next_tid(), 1, bytes([8, 0, 1, 0, 0])), None)
    p.c.t += EPISODE_GAP_S + 1
    p.ask(adu(p.next_tid(), 1, bytes([8, 0, 1, 0, 0])), None)
    final, _ = alerts_of(tmp_path, p.c.frames)
    assert [a["rule"] for a in final.values()] == ["modbus.restart_communications"] * 2


def test_non_modbus_bytes_on_502(tmp_path) -> None:
    p = Plant()
    p.poll(3)
    frame = p.c.packet(True, b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n")
    final, _ = alerts_of(tmp_path, p.c.frames)
    [alert] = final.values()
    assert alert["rule"] == "modbus.non_modbus_payload" and alert["frames"] == [["test.pcap", frame]]


def test_readme_shows_the_rule_tables() -> None:
    from scripts.signature_table import table

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert table() in readme, "README's signature table is stale: paste `python scripts/signature_table.py`"
