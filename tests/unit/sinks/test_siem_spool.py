"""The disk spool: order, acknowledgement, the size limit and its drop counter, persistence, privacy."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sensor.sinks.siem.spool import Spool, SpoolBusy

REPO = Path(__file__).resolve().parents[3]


def test_put_peek_ack_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool")
    spool.put([b"a", b"bb"])
    spool.put([b"ccc"])
    assert [d for _, d in spool.peek(10)] == [b"a", b"bb", b"ccc"]
    assert spool.backlog() == (3, 6)
    first_two = spool.peek(2)
    assert [d for _, d in first_two] == [b"a", b"bb"]
    spool.put([b"dddd"])  # arrives while the batch is in flight
    assert spool.ack(first_two[-1][0]) == 2
    assert [d for _, d in spool.peek(10)] == [b"ccc", b"dddd"]
    assert spool.backlog() == (2, 7)
    assert spool.ack(first_two[-1][0]) == 0  # acknowledging twice removes nothing more
    spool.close()


def test_sequence_numbers_are_never_reused(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool")
    spool.put([b"x"])
    (seq, _), = spool.peek(1)
    spool.ack(seq)
    spool.put([b"y"])
    (seq2, _), = spool.peek(1)
    assert seq2 > seq
    spool.close()


def test_limit_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool", max_bytes=10)
    assert spool.put([b"1234", b"5678"]) == 0
    assert spool.put([b"abcd"]) == 1  # 12 bytes > 10: the oldest goes
    assert [d for _, d in spool.peek(10)] == [b"5678", b"abcd"]
    assert spool.dropped == 1 and spool.counters()["dropped_bytes"] == 4
    assert spool.put([b"z" * 25]) == 3  # larger than the whole spool: everything goes, itself included
    assert spool.backlog() == (0, 0) and spool.dropped == 4
    spool.close()


def test_everything_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    spool = Spool(path, max_bytes=8)
    spool.put([b"aaaa", b"bbbb", b"cccc"])
    (seq, _), *_ = spool.peek(1)
    spool.ack(seq)
    spool.close()
    again = Spool(path, max_bytes=8)
    assert [d for _, d in again.peek(10)] == [b"cccc"]
    assert again.backlog() == (1, 4) and again.dropped == 1
    again.close()


def test_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        spool = Spool(tmp_path / "s.spool")
        spool.put([b"secret"])
        for suffix in ("", "-wal", "-shm", ".lock"):
            path = Path(f"{tmp_path / 's.spool'}{suffix}")
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        spool.close()
    finally:
        os.umask(old)


def test_one_process_at_a_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool")
    other = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from sensor.sinks.siem.spool import Spool, SpoolBusy
        try:
            Spool({str(tmp_path / 's.spool')!r})
        except SpoolBusy:
            sys.exit(3)
    """)], capture_output=True, text=True, timeout=60)
    assert other.returncode == 3, other.stderr
    spool.close()
    Spool(tmp_path / "s.spool").close()  # free again once closed


def start_writer(path: Path, repeat: int, send: bool) -> subprocess.Popen:
    """A process putting five numbered records at a time into the spool (as its sender or as one more producer)
    until killed, printing how many it has put after each transaction."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from sensor.sinks.siem.spool import Spool
        spool = Spool({str(path)!r}, send={send!r})
        n = 0
        while True:
            spool.put([b"%08d" % (n + i) * {repeat} for i in range(5)])
            n += 5
            print(n, flush=True)
    """)], stdout=subprocess.PIPE, text=True)


def test_killed_writer_leaves_whole_records(tmp_path: Path) -> None:
    """kill -9 in the middle of puts: every record in the spool is whole, and what was reported put is there."""
    path = tmp_path / "s.spool"
    writer = start_writer(path, repeat=64, send=True)
    assert writer.stdout is not None
    for _ in range(40):
        reported = int(writer.stdout.readline())
    writer.kill()
    writer.wait()
    spool = Spool(path)
    records = [d for _, d in spool.peek(10**6)]
    assert len(records) >= reported and len(records) % 5 == 0  # whole transactions only
    assert records == [b"%08d" % i * 64 for i in range(len(records))]
    assert spool.backlog() == (len(records), 512 * len(records))
    spool.close()


def test_bad_limit() -> None:
    with pytest.raises(ValueError):
        Spool("/nonexistent/x", max_bytes=0)


def test_busy_error_names_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool")
    with pytest.raises(SpoolBusy, match="s.spool"):
        Spool(tmp_path / "s.spool")
    spool.close()
