"""The learned baseline: every model of normal traffic, in one file a person can review and edit.

The file is JSON, written one allowed item per line::

    {
      "format": "otsensor-baseline/1",
      "learned": {"files": [...], "packets": 1234, "messages": 567, "first_ts": ..., "last_ts": ...},
      "communications": [
        {"client": "10.0.0.5", "server": "10.0.0.9", "transport": "tcp", "port": 502, "service": "modbus"},
        ...
      ],
      "functions": [{"client": ..., "server": ..., "protocol": "modbus", "action": "read", "function": "read_coils"}],
      "points": [{"client": ..., "server": ..., "protocol": "modbus", "unit": 1, "function": "read_coils",
                  "addresses": [[0, 9], [20, 29]]}],
      "values": [{"server": ..., "unit": 1, "table": "holding_register", "address": 100, "min": 50, "max": 60,
                  "samples": 12}],
      "schedules": [{"client": ..., "server": ..., "protocol": ..., "unit": 1, "function": "read_coils",
                     "period": 10.0, "jitter": 0.004, "intervals": 360}],
      "sequences": [{"client": ..., "server": ..., "protocol": ..., "unit": 1,
                     "transitions": [["read_coils", "read_holding_registers"], ...], "learned_from": 720}],
      "forest": {"window_s": 60, "features": [...], "threshold": 0.61, "windows": [[...], ...]}
    }

Deleting an entry's line stops allowing it (the reader forgives the comma that may then precede a
closing bracket); editing ``min``/``max`` or a ``period`` changes what is expected. ``service`` is the
protocol the sensor recognised, shown for the reader; it is not matched. Sections: see each model in
``models/``. A unit of ``-1`` means the protocol has none.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from models.allowlist import Allowlist, RangeAllowlist
from models.forest import WindowForest
from models.sequence import Dfa
from models.timing import Schedule
from models.values import ValueRanges
from sensor.detect.streams import WINDOW_S

FORMAT = "otsensor-baseline/1"
COMMUNICATION = ("client", "server", "transport", "port")
FUNCTION = ("client", "server", "protocol", "action", "function")
POINT = ("client", "server", "protocol", "unit", "function")
VALUE = ("server", "unit", "table", "address")
SCHEDULE = ("client", "server", "protocol", "unit", "function")
SEQUENCE = ("client", "server", "protocol", "unit")


class BaselineError(Exception):
    """A baseline file that cannot be read: the message names the file and what is wrong."""


@dataclass(slots=True)
class Baseline:
    communications: Allowlist = field(default_factory=lambda: Allowlist(COMMUNICATION))
    services: dict[tuple, str] = field(default_factory=dict)  # communication -> protocol seen, for the reader
    functions: Allowlist = field(default_factory=lambda: Allowlist(FUNCTION))
    points: RangeAllowlist = field(default_factory=lambda: RangeAllowlist(POINT))
    values: ValueRanges = field(default_factory=lambda: ValueRanges(VALUE))
    schedules: dict[tuple, Schedule] = field(default_factory=dict)
    sequences: dict[tuple, Dfa] = field(default_factory=dict)
    forest: WindowForest | None = None
    window_s: float = WINDOW_S
    learned: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "learned": self.learned,
            "communications": [{**e, "service": self.services.get(tuple(e[k] for k in COMMUNICATION), "")}
                               for e in self.communications.to_dict()],
            "functions": self.functions.to_dict(),
            "points": self.points.to_dict(),
            "values": self.values.to_dict(),
            "schedules": [{**dict(zip(SCHEDULE, key)), **s.to_dict()} for key, s in sorted(self.schedules.items())],
            "sequences": [{**dict(zip(SEQUENCE, key)), **d.to_dict()} for key, d in sorted(self.sequences.items())],
            "forest": {"window_s": self.window_s, **self.forest.to_dict()} if self.forest is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Baseline:
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
        communications = data.get("communications", [])
        forest = data.get("forest")
        return cls(
            communications=Allowlist.from_dict(COMMUNICATION, communications),
            services={tuple(e[k] for k in COMMUNICATION): e.get("service", "") for e in communications},
            functions=Allowlist.from_dict(FUNCTION, data.get("functions", [])),
            points=RangeAllowlist.from_dict(POINT, data.get("points", [])),
            values=ValueRanges.from_dict(VALUE, data.get("values", [])),
            schedules={tuple(e[k] for k in SCHEDULE): Schedule.from_dict(e) for e in data.get("schedules", [])},
            sequences={tuple(e[k] for k in SEQUENCE): Dfa.from_dict(e) for e in data.get("sequences", [])},
            forest=WindowForest.from_dict(forest) if forest else None,
            window_s=float(forest["window_s"]) if forest else WINDOW_S,
            learned=data.get("learned", {}),
        )

    def learned_functions(self) -> frozenset[tuple[str, str, str, str]]:
        """(client, server, protocol, function) it learned: what the signatures stay quiet about."""
        return frozenset((client, server, protocol, function)
                         for client, server, protocol, _action, function in self.functions.items)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as out:
            out.write(dumps(self.to_dict()) + "\n")

    @classmethod
    def load(cls, path: str) -> Baseline:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            return cls.from_dict(json.loads(_TRAILING_COMMA.sub(r"\1", text)))
        except OSError as error:
            raise BaselineError(f"{path}: {error.strerror or error}") from None
        except json.JSONDecodeError as error:
            raise BaselineError(f"{path}: line {error.lineno}: {error.msg}") from None
        except (KeyError, TypeError, ValueError) as error:
            raise BaselineError(f"{path}: not a baseline: {error}") from None


_TRAILING_COMMA = re.compile(r",(\s*[\]}])")  # left behind when a person deletes the last line of a list


def dumps(value: object, indent: str = "") -> str:
    """JSON with one entry per line: lists of objects or lists are unrolled, everything smaller stays inline."""
    inner = indent + "  "
    if isinstance(value, dict) and any(_unrolled(v) for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if _unrolled(value):
        return "[\n" + ",\n".join(inner + json.dumps(item) for item in value) + f"\n{indent}]"
    return json.dumps(value)


def _unrolled(value: object) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict | list) or (
        isinstance(value, dict) and any(_unrolled(v) for v in value.values()))
