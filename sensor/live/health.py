"""The health line of ``otsensor live``: one structured line on standard error, every N seconds and on SIGUSR1.

    health reason=periodic uptime_s=60.0 iface=eth1 packets=120456 bytes=9876543 pps=2007.6 kernel_packets=120456
    kernel_drops=0 if_rx_packets=120460 if_rx_dropped=0 if_tx_packets=0 weirds=3 internal_errors=0 flows=42
    flows_active=17 alerts=1 spool_backlog=-

(one line in the log). Every field is ``key=value`` with no spaces in the value, so the line splits with
``shlex.split``/``str.split`` and log shippers parse it as logfmt. ``-`` means unknown or not in use. The fields
come from sources added with ``add``: callables returning a mapping, asked in order, a later one overriding an
earlier one; ``spool_backlog`` is ``-`` unless a source (the SIEM forwarder's, see command.py) reports it. A source that fails reports
``health_error=...`` instead of ending the sensor. With ``--workers N`` the line begins ``workers=N``, its counters
are every worker's summed (kernel drops too), and ``worker_packets=P0,P1,...`` says how the frames were shared
out (sensor.live.workers).

``tick()`` is called from the capture loop (at least every poll interval); the signal handler only calls
``request()``, which sets a flag, so the line is always written outside the handler.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import IO

Source = Callable[[], Mapping[str, object]]


def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    return "".join("_" if ch.isspace() or ch in '="' else ch for ch in text) or "-"


def format_line(fields: Mapping[str, object]) -> str:
    return "health " + " ".join(f"{key}={format_value(value)}" for key, value in fields.items())


class Health:
    """Writes the health line every ``every`` seconds (0: never on a timer), on request, and when asked."""

    def __init__(self, every: float = 60.0, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self._next = self.started + every if every > 0 else float("inf")
        self._requested = False
        self._sources: list[Source] = []
        self._last = (self.started, 0)  # (time, packets) of the previous line, for the rate
        self.lines = 0

    def add(self, source: Source) -> None:
        """Add fields to every line, after those of the sources added before."""
        self._sources.append(source)

    def request(self) -> None:
        """Write a line at the next tick (SIGUSR1). Safe in a signal handler."""
        self._requested = True

    def tick(self) -> None:
        now = self.clock()
        if self._requested:
            self._requested = False
            self.emit("signal")
        elif now >= self._next:
            self._next = now + self.every
            self.emit("periodic")

    def fields(self, reason: str) -> dict[str, object]:
        now = self.clock()
        out: dict[str, object] = {"reason": reason, "uptime_s": round(now - self.started, 1)}
        for source in self._sources:
            try:
                out.update(source())
            except Exception as error:  # noqa: BLE001 - a broken statistic must never stop the capture
                out["health_error"] = f"{type(error).__name__}:{error}"
        packets = out.get("packets")
        if isinstance(packets, int):
            then, before = self._last
            out["pps"] = (packets - before) / (now - then) if now > then else 0.0
            self._last = (now, packets)
        out.setdefault("spool_backlog", None)  # until the SIEM forwarder reports it
        return _pps_after_bytes(out)

    def emit(self, reason: str) -> str:
        line = format_line(self.fields(reason))
        stream = self.stream if self.stream is not None else sys.stderr
        print(line, file=stream, flush=True)
        self.lines += 1
        return line


def _pps_after_bytes(fields: dict[str, object]) -> dict[str, object]:
    """``pps`` next to ``bytes``: the line reads packets, bytes, pps, then the rest."""
    if "pps" in fields and "bytes" in fields:
        keys = [k for k in fields if k != "pps"]
        keys.insert(keys.index("bytes") + 1, "pps")
        return {k: fields[k] for k in keys}
    return fields
