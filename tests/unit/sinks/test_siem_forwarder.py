"""Transports and the Forwarder against real loopback sockets: framing, dead peers, outages, the spool."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from siem_receiver import Receiver, free_udp_socket
from siem_samples import ASSET, POLICY_ALERT

from sensor.sinks.siem import Forwarder, format_alert, format_asset
from sensor.sinks.siem.transport import UDP_MAX, PeerClosed, open_transport, parse_url

FAST = {"backoff_initial": 0.02, "backoff_max": 0.2, "timeout": 2.0}


def alert(n: int) -> dict:
    return dict(POLICY_ALERT, id=f"a{n:04d}", summary=f"alert {n}\nsecond line", ts=1767600300.0 + n)


def ids(messages: list[bytes]) -> set[str]:
    return {m.split(b"externalId=", 1)[1].split(b" ", 1)[0].decode() for m in messages if b"externalId=" in m}


# --- transports --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, parsed", [
    ("tcp://127.0.0.1:1514", ("tcp", "127.0.0.1", 1514)), ("udp://siem.example", ("udp", "siem.example", 514)),
    ("tls://siem.example", ("tls", "siem.example", 6514)), ("TLS://[::1]:7000", ("tls", "::1", 7000)),
])
def test_parse_url(url: str, parsed: tuple) -> None:
    assert parse_url(url) == parsed


@pytest.mark.parametrize("url", ["http://x:1", "tcp://", "tcp://host:99999", "host:514"])
def test_parse_url_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)


def test_tcp_sends_octet_counted_frames() -> None:
    receiver = Receiver().start()
    transport = open_transport(f"tcp://127.0.0.1:{receiver.port}")
    messages = [b"<13>1 - - - - - - one", b"<13>1 - - - - - - two\nlines", "é ☃".encode()]
    transport.send(messages)
    assert receiver.wait_for(3) == messages
    transport.close()
    receiver.stop()


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_tcp_send_to_a_closed_peer_raises(reset: bool) -> None:
    receiver = Receiver().start()
    transport = open_transport(f"tcp://127.0.0.1:{receiver.port}")
    transport.send([b"first"])
    receiver.wait_for(1)
    receiver.stop(reset=reset)
    time.sleep(0.05)
    with pytest.raises((PeerClosed, OSError)):
        transport.send([b"second"])  # the kernel may accept the bytes: the transport must still say no
    transport.close()


def test_connect_refused_raises() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        open_transport(f"tcp://127.0.0.1:{port}", timeout=1)


def test_udp_one_datagram_per_message() -> None:
    sink = free_udp_socket()
    transport = open_transport(f"udp://127.0.0.1:{sink.getsockname()[1]}")
    transport.send([b"a", b"b\nc", b"x" * (UDP_MAX + 10)])
    assert [sink.recv(70000) for _ in range(3)] == [b"a", b"b\nc", b"x" * UDP_MAX]
    assert transport.truncated == 1
    transport.close()
    sink.close()


# --- the forwarder -----------------------------------------------------------------------------------------

def test_forwarder_delivers_in_order(tmp_path: Path) -> None:
    receiver = Receiver().start()
    fwd = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "cef", "sensor-1", tmp_path / "s.spool", **FAST)
    fwd.alerts([alert(n) for n in range(50)])
    fwd.assets([ASSET])
    assert fwd.flush(10)
    got = receiver.wait_for(51)
    assert [m.split(b"externalId=")[1].split(b" ")[0].decode() for m in got[:50]] == [f"a{n:04d}" for n in range(50)]
    assert got[0].startswith(b"<131>1 2026-01-05T08:05:00.000Z sensor-1 otsensor - alert - CEF:0|")  # local0.error
    assert got[50].startswith(b"<134>1 ") and b" asset - CEF:0|otsensor|otsensor|" in got[50]
    health = fwd.health()
    assert health["sent"] == 51 and health["backlog"] == 0 and health["backlog_bytes"] == 0
    assert health["connected"] and health["dropped"] == 0 and health["last_error"] is None
    fwd.close(2)
    receiver.stop()


def test_forwarder_rides_out_an_outage(tmp_path: Path) -> None:
    receiver = Receiver()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        receiver.port = s.getsockname()[1]
    fwd = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "leef", "sensor-1", tmp_path / "s.spool", **FAST)
    t0 = time.monotonic()
    fwd.alerts([alert(n) for n in range(20)])
    assert time.monotonic() - t0 < 1.0  # the pipeline never waits for the network
    time.sleep(0.3)
    health = fwd.health()
    assert health["backlog"] == 20 and not health["connected"] and health["retries"] >= 2
    assert "ConnectionRefused" in health["last_error"]
    receiver.start()
    assert fwd.flush(10)
    assert len(receiver.wait_for(20)) == 20
    receiver.stop()  # and down again, mid-run
    time.sleep(0.05)
    fwd.alerts([alert(n) for n in range(20, 40)])
    time.sleep(0.2)
    assert fwd.health()["backlog"] > 0
    receiver.start()
    assert fwd.flush(10)
    got = {m.split(b"externalId=")[1].split(b"\t")[0].decode() for m in receiver.wait_for(40)}
    assert got == {f"a{n:04d}" for n in range(40)}
    fwd.close(2)
    receiver.stop()


def test_close_keeps_the_rest_for_the_next_process(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fwd = Forwarder(f"tcp://127.0.0.1:{port}", "json", "sensor-1", tmp_path / "s.spool", **FAST)
    fwd.alerts([alert(n) for n in range(5)])
    t0 = time.monotonic()
    fwd.close(0.3)
    assert time.monotonic() - t0 < 2.0
    receiver = Receiver(port).start()
    again = Forwarder(f"tcp://127.0.0.1:{port}", "json", "sensor-1", tmp_path / "s.spool", **FAST)
    assert again.flush(10)  # sent at startup, before anything new
    assert len(receiver.wait_for(5)) == 5 and all(b'"kind":"alert"' in m for m in receiver.received())
    again.close(2)
    receiver.stop()


def test_full_spool_drops_oldest_and_reports(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    size = len(format_alert(alert(0), "cef", "sensor-1")) + 100
    fwd = Forwarder(f"tcp://127.0.0.1:{port}", "cef", "sensor-1", tmp_path / "s.spool", max_spool_bytes=size * 5,
                    **FAST)
    fwd.alerts([alert(n) for n in range(12)])
    health = fwd.health()
    assert health["backlog"] <= 5 and health["dropped"] == 12 - health["backlog"]
    receiver = Receiver(port).start()
    assert fwd.flush(10)
    assert ids(receiver.wait_for(health["backlog"])) == {f"a{n:04d}" for n in range(12 - health["backlog"], 12)}
    fwd.close(2)
    receiver.stop()


def test_close_does_not_hang_on_a_receiver_that_never_reads(tmp_path: Path) -> None:
    receiver = Receiver(read=False).start()
    fwd = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "json", "s", tmp_path / "s.spool",
                    **dict(FAST, timeout=0.5))
    fwd.assets([dict(ASSET, ip=f"10.0.{n // 250}.{n % 250}", padding="x" * 20000) for n in range(800)])
    time.sleep(0.5)
    t0 = time.monotonic()
    fwd.close(0.5)
    assert time.monotonic() - t0 < 3.0
    receiver.stop()


def test_bad_arguments_fail_in_the_caller(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Forwarder("tcp://127.0.0.1:1", "xml", "s", tmp_path / "a.spool")
    with pytest.raises(ValueError):
        Forwarder("ftp://x", "cef", "s", tmp_path / "b.spool")
    with pytest.raises(FileNotFoundError):
        Forwarder("tls://x", "cef", "s", tmp_path / "c.spool", ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError):
        format_alert(POLICY_ALERT, "xml", "s")
    assert format_asset(ASSET, "ecs", "s") == format_asset(ASSET, "json", "s")


def _worker_spools(settings, first: int, count: int) -> None:
    """A worker process: its own Spooler over the Forwarder's spool, opened after fork, as a worker's is."""
    spooler = settings.open()
    for n in range(first, first + count):
        spooler.alerts([alert(n)])
    spooler.assets([dict(ASSET, ip=f"10.9.0.{first // 10}")])
    spooler.close()


def test_workers_spool_and_the_forwarder_sends_it_all(tmp_path: Path) -> None:
    """Two worker processes put into the spool the Forwarder sends from; it notices their records unwoken."""
    import multiprocessing

    receiver = Receiver().start()
    fwd = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "cef", "sensor-1", tmp_path / "s.spool", **FAST)
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_worker_spools, args=(fwd.producer(), first, 30)) for first in (0, 100)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    got = receiver.wait_for(62, timeout=10)
    assert fwd.flush(10)
    assert ids([m for m in got if b" alert - " in m]) == {f"a{n:04d}" for n in [*range(30), *range(100, 130)]}
    assert sum(b" asset - " in m for m in got) == 2 and len(got) == 62
    health = fwd.health()
    assert health["sent"] == 62 and health["backlog"] == 0 and health["format_errors"] == 0
    fwd.close(2)
    assert fwd.health()["sent"] == 62, "the health at close stays readable: the run's last health line"
    receiver.stop()


def _worker_cannot_format(settings) -> None:
    """A worker given one record that no format can take (a None where an alert belongs) among good ones."""
    spooler = settings.open()
    spooler.alerts([alert(1), None, alert(2)])  # type: ignore[list-item]
    spooler.close()


def test_records_a_worker_cannot_format_are_counted_in_the_forwarders_health(tmp_path: Path) -> None:
    """The worker logs it; the sender's health line counts it, as it counts its own, and a later run opening the
    same spool starts from zero."""
    import multiprocessing

    receiver = Receiver().start()
    fwd = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "cef", "sensor-1", tmp_path / "s.spool", **FAST)
    worker = multiprocessing.get_context("fork").Process(target=_worker_cannot_format, args=(fwd.producer(),))
    worker.start()
    worker.join(30)
    assert worker.exitcode == 0
    assert ids(receiver.wait_for(2, timeout=10)) == {"a0001", "a0002"}
    fwd.spooler.alerts([None])  # type: ignore[list-item]  # and one of its own
    assert fwd.flush(10)
    assert fwd.health()["format_errors"] == fwd.format_errors == 2
    fwd.close(2)
    assert fwd.health()["format_errors"] == 2
    later = Forwarder(f"tcp://127.0.0.1:{receiver.port}", "cef", "sensor-1", tmp_path / "s.spool", **FAST)
    assert later.health()["format_errors"] == 0
    later.close(2)
    receiver.stop()
