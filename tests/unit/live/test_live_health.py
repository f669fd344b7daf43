"""The health line: key=value fields from sources, on a timer and on request."""
from __future__ import annotations

import io

from sensor.live.health import Health, format_line


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fields(line: str) -> dict[str, str]:
    word, *items = line.split()
    assert word == "health"
    return dict(item.split("=", 1) for item in items)


def test_values_never_break_the_line_apart() -> None:
    line = format_line({"a": None, "b": True, "c": 1.25, "d": "two words", "e": 'x="y"', "f": ""})
    assert line == "health a=- b=true c=1.2 d=two_words e=x__y_ f=-"


def test_timer_request_and_sources() -> None:
    clock, out = Clock(), io.StringIO()
    health = Health(every=60, stream=out, clock=clock)
    health.add(lambda: {"packets": clock.now * 10 // 1, "bytes": 5})
    health.add(lambda: {"packets": int(clock.now * 10), "iface": "eth1"})  # a later source overrides
    health.tick()
    assert out.getvalue() == ""
    clock.now += 10
    health.request()  # SIGUSR1
    health.tick()
    clock.now += 50
    health.tick()
    health.tick()
    lines = out.getvalue().splitlines()
    assert [fields(line)["reason"] for line in lines] == ["signal", "periodic"]
    first = fields(lines[0])
    assert list(first) == ["reason", "uptime_s", "packets", "bytes", "pps", "iface", "spool_backlog"]
    assert first["packets"] == "10100" and first["spool_backlog"] == "-" and first["uptime_s"] == "10.0"
    assert fields(lines[1])["pps"] == "10.0", "packets per second since the previous line"


def test_a_source_fills_the_spool_backlog_and_a_broken_one_is_reported() -> None:
    out = io.StringIO()
    health = Health(every=0, stream=out)
    health.add(lambda: {"spool_backlog": 7})
    health.add(lambda: 1 / 0)
    line = fields(health.emit("final"))
    assert line["spool_backlog"] == "7"
    assert line["health_error"].startswith("ZeroDivisionError")
    health.tick()
    assert health.lines == 1, "every=0: no timer"
