"""Forward alerts and assets to a SIEM at least once, without ever making the pipeline wait for the network.

``alerts()``/``assets()`` format each record into a finished RFC 5424 message and put it in the disk spool
(one transaction), then return. A background thread sends from the spool in order and acknowledges a batch
only once the transport says the receiver took it. While the SIEM is unreachable it retries with exponential
backoff (0.5 s doubling to 30 s) and the spool grows, bounded, dropping the oldest when full (counted).
``close(timeout)`` drains for at most ``timeout`` seconds and leaves the rest in the spool; the next process
that opens the same spool sends it first. Duplicates are possible (a batch whose acknowledgement was lost is
sent again), so every record carries a stable id: the alert id, or the asset key plus a content hash.

The formatting and the put are a ``Spooler``'s; with ``--workers N`` each worker opens one of its own over the
same spool file (``Forwarder.producer``), and the one Forwarder's thread, in the process that started them,
sends what any of them put: it looks at an empty spool every ``IDLE_POLL_S``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sensor.sinks.siem.cef import alert_to_cef, asset_to_cef
from sensor.sinks.siem.common import APP_NAME, VERSION, compact_json, epoch
from sensor.sinks.siem.ecs import alert_to_ecs, asset_to_ecs
from sensor.sinks.siem.leef import alert_to_leef, asset_to_leef
from sensor.sinks.siem.spool import DEFAULT_MAX_BYTES, Spool
from sensor.sinks.siem.syslog import ASSET_SEVERITY, DEFAULT_FACILITY, frame_5424, syslog_severity
from sensor.sinks.siem.transport import UDP_MAX, Transport, open_transport, parse_url

log = logging.getLogger(__name__)

FORMATS = ("cef", "leef", "json")
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
BATCH = 200  # records per send: one syscall and one spool transaction per batch
IDLE_POLL_S = 0.2  # an empty spool is looked at this often: workers' records are seen this soon


# Per format: how an alert and how an asset become text (``json`` and ``ecs`` are the same ECS JSON line).
_FORMATTERS: dict[str, tuple[Callable[..., str], Callable[..., str]]] = {
    "cef": (alert_to_cef, asset_to_cef),
    "leef": (alert_to_leef, asset_to_leef),
    "json": (lambda a, name, version: compact_json(alert_to_ecs(a, name)),
             lambda a, name, version: compact_json(asset_to_ecs(a, name))),
}
_FORMATTERS["ecs"] = _FORMATTERS["json"]


def _formatter(fmt: str, which: int) -> Callable[..., str]:
    _check_format(fmt)
    return _FORMATTERS[fmt][which]


def _check_format(fmt: str) -> None:
    if fmt not in _FORMATTERS:
        raise ValueError(f"unknown SIEM format {fmt!r}: use cef, leef or json")


def format_alert(alert: dict, fmt: str, sensor_name: str, version: str = VERSION) -> str:
    """An alert as text in ``fmt``: ``cef``, ``leef``, or ``json``/``ecs`` (one line of ECS JSON)."""
    return _formatter(fmt, 0)(alert, sensor_name, version)


def format_asset(asset: dict, fmt: str, sensor_name: str, version: str = VERSION) -> str:
    """An asset as text in ``fmt`` (see ``format_alert``)."""
    return _formatter(fmt, 1)(asset, sensor_name, version)


class Spooler:
    """The pipeline's side of forwarding: each alert or asset formatted into a finished RFC 5424 message and put
    in the spool, never waiting for the network. A Forwarder has one over its own spool; a worker process of
    ``--workers N`` opens its own (``ProducerSettings.open``) over the same file, so that its alerts are on disk
    before the commit that stores them, as one process's are, while the Forwarder of the process that started it
    sends."""

    def __init__(self, spool: Spool, fmt: str, sensor_name: str, *, facility: int = DEFAULT_FACILITY,
                 version: str = VERSION, on_put: Callable[[], None] | None = None) -> None:
        _check_format(fmt)
        self.spool, self.fmt, self.sensor_name = spool, fmt, sensor_name
        self.facility, self.version = facility, version
        self.on_put = on_put  # the sender's wake-up, when it is in this process
        self.closed = False

    def alerts(self, alerts: list[dict]) -> None:
        """Format and spool alerts; returns once they are on disk."""
        self._put([self._alert_message(a) for a in alerts])

    def assets(self, assets: list[dict]) -> None:
        """Format and spool asset records; returns once they are on disk."""
        self._put([self._asset_message(a) for a in assets])

    def _alert_message(self, alert: dict) -> bytes | None:
        try:
            text = format_alert(alert, self.fmt, self.sensor_name, self.version)
            ts = alert.get("ts") if epoch(alert.get("ts")) is not None else time.time()
            return frame_5424(text, APP_NAME, self.sensor_name, syslog_severity(alert.get("severity")),
                              self.facility, "alert", ts)
        except Exception:  # a record we cannot format must not stop the sensor; it is counted and logged
            self._format_failed(alert)
            return None

    def _asset_message(self, asset: dict) -> bytes | None:
        try:
            text = format_asset(asset, self.fmt, self.sensor_name, self.version)
            ts = asset.get("last_seen") if epoch(asset.get("last_seen")) is not None else time.time()
            return frame_5424(text, APP_NAME, self.sensor_name, ASSET_SEVERITY, self.facility, "asset", ts)
        except Exception:
            self._format_failed(asset)
            return None

    def _format_failed(self, record: Any) -> None:
        self.spool.count_unformattable()
        log.exception("SIEM: cannot format record %.200s", json.dumps(record, default=str))

    def _put(self, messages: list[bytes | None]) -> None:
        if self.closed:
            raise RuntimeError("SIEM spooler is closed")
        records = [m for m in messages if m is not None]
        if records:
            dropped = self.spool.put(records)
            if dropped:
                log.warning("SIEM spool full: dropped the %d oldest records", dropped)
            if self.on_put is not None:
                self.on_put()

    def close(self) -> None:
        self.closed = True
        self.spool.close()


@dataclass(frozen=True)
class ProducerSettings:
    """What a worker process needs to spool as its Forwarder's process does: the spool file, its limit and the
    records' format. Plain values: it crosses a fork, and ``open`` is called after it, in the worker."""

    path: str
    max_bytes: int
    fmt: str
    sensor_name: str
    facility: int
    version: str

    def open(self) -> Spooler:
        """A Spooler with a connection of its own to the spool, putting only (the Forwarder sends)."""
        return Spooler(Spool(self.path, self.max_bytes, send=False), self.fmt, self.sensor_name,
                       facility=self.facility, version=self.version)


class Forwarder:
    """Spool-backed, at-least-once delivery of alerts and assets to one syslog receiver: a Spooler, and the
    thread that sends what any process spooled."""

    def __init__(self, url: str, fmt: str, sensor_name: str, spool_path: str | os.PathLike, *,
                 ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None,
                 max_spool_bytes: int = DEFAULT_MAX_BYTES, facility: int = DEFAULT_FACILITY, timeout: float = 5.0,
                 batch: int = BATCH, backoff_initial: float = BACKOFF_INITIAL_S, backoff_max: float = BACKOFF_MAX_S,
                 version: str = VERSION) -> None:
        _check_format(fmt)
        self._udp = parse_url(url)[0] == "udp"  # a bad URL fails here, in the caller, not later in the thread
        for name, path in (("CA file", ca_file), ("certificate", cert_file), ("key", key_file)):
            if path is not None and not os.path.isfile(path):
                raise FileNotFoundError(f"SIEM TLS {name} not found: {path}")
        self.url, self.fmt, self.sensor_name, self.version = url, fmt, sensor_name, version
        self.facility, self.timeout, self.batch = facility, timeout, max(1, batch)
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self._connect = lambda: open_transport(url, ca_file=ca_file, cert_file=cert_file, key_file=key_file,
                                        timeout=timeout)
        self.spool = Spool(spool_path, max_spool_bytes)
        self._unformattable_before = self.spool.counters()["unformattable"]
        self._transport: Transport | None = None
        self._state = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._retry_now = threading.Event()  # cuts a backoff short: on close, and when asked to flush
        self._closed = False
        self._final: dict | None = None  # the health at close, what the run's last health line reports
        self.spooler = Spooler(self.spool, fmt, sensor_name, facility=facility, version=version,
                               on_put=self._wake.set)
        self.sent = self.retries = self.truncated = 0
        self.last_error: str | None = None
        self.last_sent_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="siem-forwarder", daemon=True)
        self._thread.start()

    # --- the pipeline side: never blocks on the network ----------------------------------------------

    def alerts(self, alerts: list[dict]) -> None:
        """Format and spool alerts; returns once they are on disk."""
        self.spooler.alerts(alerts)

    def assets(self, assets: list[dict]) -> None:
        """Format and spool asset records; returns once they are on disk."""
        self.spooler.assets(assets)

    @property
    def format_errors(self) -> int:
        """Records that could not be formatted since this Forwarder opened its spool, by this process or by
        the workers that spool for it (each also logs its own)."""
        return self._format_errors(self.spool.counters())

    def _format_errors(self, counters: dict[str, int]) -> int:
        return counters["unformattable"] - self._unformattable_before

    def producer(self) -> ProducerSettings:
        """How another process (a worker, after fork) spools into this Forwarder's spool for it to send."""
        return ProducerSettings(str(self.spool.path), self.spool.max_bytes, self.fmt, self.sensor_name,
                                self.facility, self.version)

    # --- the sender thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.backoff_initial
        while not self._stop.is_set():
            try:
                batch = self.spool.peek(self.batch)
                if not batch:
                    self._wake.wait(IDLE_POLL_S)  # woken by this process's puts; other processes' are polled
                    self._wake.clear()
                    continue
                if self._transport is None:
                    self._transport = self._connect()
                    log.info("SIEM: connected to %s", self.url)
                self._transport.send([data for _, data in batch])
            except Exception as e:  # noqa: BLE001 - every failure means: keep the batch, back off, retry
                self._failed(e)
                self._retry_now.wait(backoff)
                self._retry_now.clear()
                backoff = min(backoff * 2, self.backoff_max)
                continue
            self.spool.ack(batch[-1][0])
            backoff = self.backoff_initial
            with self._state:
                self.sent += len(batch)
                self.last_sent_at = time.time()
                if self._udp:
                    self.truncated += sum(len(data) > UDP_MAX for _, data in batch)

    def _failed(self, error: Exception) -> None:
        with self._state:
            self.retries += 1
            first = self.last_error is None or self._transport is not None
            self.last_error = f"{type(error).__name__}: {error}"
        if first:
            log.warning("SIEM %s unreachable (%s); spooling and retrying", self.url, self.last_error)
        self._drop_transport()

    def _drop_transport(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            try:
                transport.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail in any way
                pass

    # --- status and shutdown ---------------------------------------------------------------------------

    def health(self) -> dict:
        """What an operator watches: sent, backlog, dropped, retries, connection state, last error. Once
        closed, as it was at the close."""
        if self._final is not None:
            return dict(self._final)
        counters = self.spool.counters()  # one read: what waits, from every process that spools here
        with self._state:
            return {
                "url": self.url,
                "format": self.fmt,
                "connected": self._transport is not None,
                "sent": self.sent,
                "backlog": counters["count"],
                "backlog_bytes": counters["bytes"],
                "dropped": counters["dropped"],
                "retries": self.retries,
                "format_errors": self._format_errors(counters),
                "truncated": self.truncated,
                "last_error": self.last_error,
                "last_sent_at": self.last_sent_at,
            }

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the spool to empty; True when it did."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        self._retry_now.set()
        while self.spool.backlog()[0] > 0:
            if time.monotonic() >= deadline or not self._thread.is_alive():
                return False
            time.sleep(0.02)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Drain for up to ``timeout`` seconds, then stop; what is left stays in the spool for the next run."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self.spooler.closed = True
        self._stop.set()
        self._wake.set()
        self._retry_now.set()
        transport = self._transport
        if transport is not None and hasattr(transport, "abort") and self._thread.is_alive():
            self._thread.join(0.2)
            if self._thread.is_alive():
                transport.abort()  # a send blocked on a receiver that does not read
        self._thread.join(self.timeout + 1)
        self._drop_transport()
        self._final = self.health()
        left = self._final["backlog"]
        if left:
            log.warning("SIEM: %d records left in the spool %s, sent by the next run", left, self.spool.path)
        self.spool.close()

    def __enter__(self) -> Forwarder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
