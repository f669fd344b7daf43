"""What the sensor could not see, per zone, from the counters analyze stores on each communication.

The capture is made here with scapy, one Modbus/TCP conversation per blind spot, each to a different PLC, so the
report must name exactly the right ones: a conversation whose segment the mirror dropped (a TCP gap of 12 bytes),
one the capture joined mid-stream (no SYN), one the mirror shows in one direction only, and a whole one that must
appear nowhere. The zones come from the scenarios' policy (field 10.10/16, control 10.20/16, enterprise 10.40/16).
"""
from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor
from scapy.all import IP, TCP, Ether, wrpcap

POLICY = REPO_ROOT / "captures" / "scenarios" / "policy.yaml"
HMI, OFFICE_PC = "10.20.0.10", "10.40.0.7"
GAPPY, WHOLE, ONE_WAY, CONTROL_SERVER = "10.10.0.5", "10.10.0.6", "10.10.0.7", "10.20.0.20"
T0 = 1_700_000_000.0
READ = struct.pack(">BHH", 3, 0, 2)  # read holding registers 0-1
ANSWER = struct.pack(">BBHH", 3, 4, 7, 9)


def mbap(tid: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu


class Conversation:
    """One TCP connection's frames, with sequence numbers kept right; ``drop`` leaves a segment out of the
    capture (the mirror lost it) while the sequence numbers go on as if it had been sent."""

    def __init__(self, client: str, server: str, sport: int, start: float) -> None:
        self.client, self.server, self.sport = client, server, sport
        self.seq, self.ack = 1000, 5000
        self.t = start
        self.frames: list = []

    def _frame(self, from_client: bool, flags: str, payload: bytes = b"", keep: bool = True) -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.sport, 502) if from_client else (502, self.sport)
        seq, ack = (self.seq, self.ack) if from_client else (self.ack, self.seq)
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack) / payload
        p.time = self.t
        self.t += 0.01
        if keep:
            self.frames.append(p)
        step = len(payload) + (1 if "S" in flags or "F" in flags else 0)
        if from_client:
            self.seq += step
        else:
            self.ack += step

    def handshake(self) -> Conversation:
        self._frame(True, "S")
        self._frame(False, "SA")
        self._frame(True, "A")
        return self

    def poll(self, tid: int, answered: bool = True, request_kept: bool = True) -> Conversation:
        self._frame(True, "PA", mbap(tid, READ), keep=request_kept)
        if answered:
            self._frame(False, "PA", mbap(tid, ANSWER))
        return self


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gappy = Conversation(HMI, GAPPY, 40001, T0).handshake().poll(1).poll(2, request_kept=False).poll(3)
    whole = Conversation(HMI, WHOLE, 40002, T0 + 1).handshake().poll(1).poll(2)
    midstream = Conversation(OFFICE_PC, CONTROL_SERVER, 40003, T0 + 2).poll(7).poll(8)
    one_way = Conversation(HMI, ONE_WAY, 40004, T0 + 3).handshake()
    one_way.frames = [f for f in one_way.frames if f[IP].src == HMI]  # the mirror carries one direction only
    one_way.poll(1, answered=False).poll(2, answered=False)
    frames = sorted(gappy.frames + whole.frames + midstream.frames + one_way.frames, key=lambda p: p.time)
    folder = tmp_path_factory.mktemp("blind")
    capture, db = folder / "blind.pcap", folder / "blind.db"
    wrpcap(str(capture), frames)
    done = run_otsensor("analyze", capture, "--db", db, "--policy", POLICY, "--strict", "--no-progress")
    assert done.returncode == 0, done.stderr
    return db


def counters(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT responder, packets, responder_packets, flows, midstream_flows, gap_bytes "
                            "FROM communications")
        return {row[0]: row[1:] for row in rows}


def test_each_communication_counts_what_the_sensor_could_not_see(analysed: Path) -> None:
    found = counters(analysed)
    # packets, from the responder, flows, mid-stream, bytes missing
    assert found[GAPPY] == (8, 4, 1, 0, len(mbap(2, READ)))
    assert found[WHOLE] == (7, 3, 1, 0, 0)
    assert found[CONTROL_SERVER] == (4, 2, 1, 1, 0)
    assert found[ONE_WAY] == (4, 0, 1, 0, 0)


def test_the_summary_names_each_blind_spot_in_its_zone(analysed: Path) -> None:
    done = run_otsensor("report", "--db", analysed, "--format", "md", "--policy", POLICY)
    assert done.returncode == 0, done.stderr
    section = done.stdout.split("## What the sensor could not see")[1].split("\n## ")[0]
    zones = {line.split(":")[0].lstrip("- "): line for line in section.splitlines() if line.startswith("- ")}
    assert "1 gaps" in zones["field"] and "1 one way" in zones["field"]
    assert "midstream" not in zones["field"]
    assert "1 midstream" in zones["control"] and "gaps" not in zones["control"]


def test_the_html_report_lists_them_with_their_evidence(analysed: Path, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    done = run_otsensor("report", "--db", analysed, "--html", html, "--policy", POLICY)
    assert done.returncode == 0, done.stderr
    text = html.read_text()
    assert f"{HMI} → {GAPPY} tcp/502 (modbus): 12 bytes missing" in text
    assert f"{OFFICE_PC} → {CONTROL_SERVER} tcp/502 (modbus): 1 of 1 sessions" in text
    assert f"{HMI} → {ONE_WAY} tcp/502" in text and "all from the initiator" in text
    assert f"{HMI} → {WHOLE}" not in text.split('id="blind"')[1].split("</section>")[0]


def test_an_older_database_says_its_communications_were_not_counted(analysed: Path, tmp_path: Path) -> None:
    """Rows an older otsensor stored have NULL counters (migration 0010): unknown, not 'no blind spot'."""
    old = tmp_path / "old.db"
    with sqlite3.connect(analysed) as src, sqlite3.connect(old) as dst:
        src.backup(dst)
        dst.execute("UPDATE communications SET responder_packets = NULL, midstream_flows = NULL, gap_bytes = NULL")
    done = run_otsensor("report", "--db", old, "--format", "md", "--policy", POLICY)
    assert done.returncode == 0, done.stderr
    assert "4 communications were stored by an older otsensor" in done.stdout
    section = done.stdout.split("## What the sensor could not see")[1].split("\n## ")[0]
    assert "1 gaps" not in section and "1 one way" not in section
