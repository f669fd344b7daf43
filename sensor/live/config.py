"""The YAML config of ``otsensor live`` (``--config PATH``): what the flags hold, the flags winning.

    interface: eth1
    filter: tcp port 502 or udp port 20000
    db: /var/lib/otsensor/otsensor.db
    alerts: /var/lib/otsensor/alerts.jsonl
    policy: /etc/otsensor/policy.yaml
    decode_as: [modbus=5020]
    health_every: 60

Every option of ``otsensor live`` is a key, named after its long flag (``health_every`` or ``health-every``),
with the flag's type; options that repeat take a list. So an output added to ``analyze`` is a key here too,
without a line in this file. Relative paths are taken from the config file's folder (the service runs in ``/``).

To know which flags were given, the live parser's options default to None (``prepare``), and their real defaults
are kept aside: a value that is still None after parsing was not given, and comes from the config or the default.
"""
from __future__ import annotations

import argparse
import difflib
import os
import socket
from dataclasses import dataclass, field

import yaml

NOT_SETTINGS = {"help", "config", "check_config"}  # what the command does, not what it is set to
PATH_KEYS = {"db", "events", "flows", "alerts", "policy", "baseline"}  # besides options whose metavar is PATH/DIR
OUTPUT_KEYS = ("db", "events", "flows", "alerts")


class ConfigError(Exception):
    """The config cannot be used: one line per problem, each naming the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Settings:
    """The live parser's options: ``actions`` by key (the config keys), and their real ``defaults``."""

    actions: dict[str, argparse.Action] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    hidden: dict[str, object] = field(default_factory=dict)  # options with no config key (help suppressed)

    def keys(self) -> list[str]:
        return sorted(self.actions)


def prepare(parser: argparse.ArgumentParser) -> Settings:
    """Make every option of ``parser`` default to None, and return what the defaults were."""
    settings = Settings()
    for action in parser._actions:
        dest = action.dest
        if dest in NOT_SETTINGS or dest is argparse.SUPPRESS:
            continue
        default = action.default
        if isinstance(default, str) and action.type is not None:
            default = action.type(default)  # what argparse would have made of it
        if action.help and "%(default)" in action.help:  # the help names the real default, not the None
            action.help = action.help.replace("%(default)s", str(default).replace("%", "%%"))
        if action.help == argparse.SUPPRESS:
            settings.hidden[dest] = default
        else:
            settings.actions[dest] = action
            settings.defaults[dest] = default
        action.default = None
    return settings


def load(path: str) -> dict[str, object]:
    """The config file's mapping; ConfigError for a file that cannot be read or is not a YAML mapping."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{path}: not valid YAML{where}: {problem}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: must be a mapping of settings (key: value), not a {type(data).__name__}"])
    return data


def resolve(args: argparse.Namespace, settings: Settings, config: dict[str, object] | None = None,
            config_path: str | None = None) -> argparse.Namespace:
    """The settings to run with: a flag given, else the config's value, else the default.

    Raises ConfigError listing every unknown key and every value of the wrong type.
    """
    from_config, problems = convert(config or {}, settings, config_path)
    if problems:
        raise ConfigError(problems)
    out = argparse.Namespace(**vars(args))
    for dest, default in [*settings.defaults.items(), *settings.hidden.items()]:
        if getattr(args, dest, None) is not None:
            continue
        value = from_config[dest] if dest in from_config else default
        setattr(out, dest, list(value) if isinstance(value, list) else value)
    return out


def convert(config: dict[str, object], settings: Settings, config_path: str | None = None
            ) -> tuple[dict[str, object], list[str]]:
    """The config's values by option, converted by the options' own types; and the problems found."""
    prefix = f"{config_path}: " if config_path else ""
    folder = os.path.dirname(os.path.abspath(config_path)) if config_path else os.getcwd()
    values: dict[str, object] = {}
    problems: list[str] = []
    for raw_key, value in config.items():
        key = str(raw_key).replace("-", "_")
        action = settings.actions.get(key)
        if action is None:
            close = difflib.get_close_matches(key, settings.keys(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(settings.keys())}"
            problems.append(f"{prefix}{raw_key}: unknown setting ({hint})")
            continue
        try:
            converted = _convert(action, value)
        except ValueError as error:
            problems.append(f"{prefix}{raw_key}: {error}")
            continue
        if _is_path(action) and isinstance(converted, str) and converted and not os.path.isabs(converted):
            converted = os.path.join(folder, converted)
        values[key] = converted
    return values, problems


def _is_path(action: argparse.Action) -> bool:
    return action.dest in PATH_KEYS or action.metavar in ("PATH", "DIR", "FILE")


def _convert(action: argparse.Action, value: object) -> object:
    if action.nargs == 0:  # store_true / store_false: the value is the setting itself
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {value!r}")
        return value
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_scalar(action, item) for item in items]
    return _scalar(action, value)


def _scalar(action: argparse.Action, value: object) -> object:
    if value is None:
        raise ValueError("has no value")
    if isinstance(value, (dict, list)):
        raise ValueError(f"must be a single value, not a {'mapping' if isinstance(value, dict) else 'list'}")
    if isinstance(value, bool):  # YAML reads yes/no/on/off as booleans: never a path, a number or an expression
        raise ValueError(f"must be {_kind(action)}, not {str(value).lower()} (quote it if it is text)")
    if action.type is None:
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {value!r} (quote it)")
        result: object = value
    else:
        try:
            result = action.type(str(value))
        except (argparse.ArgumentTypeError, TypeError, ValueError) as error:
            if action.type in (int, float):
                raise ValueError(f"must be {_kind(action)}, not {value!r}") from None
            raise ValueError(str(error)) from None
    if action.choices is not None and result not in action.choices:
        raise ValueError(f"must be one of {', '.join(map(str, action.choices))}, not {value!r}")
    return result


def _kind(action: argparse.Action) -> str:
    return {int: "a whole number", float: "a number", None: "a string"}.get(action.type, "a value")  # type: ignore


def check_values(ns: argparse.Namespace) -> list[str]:
    """The problems that need no look at the machine: a missing interface, numbers out of range."""
    problems = []
    if not ns.interface:
        problems.append("interface: none given (-i IFACE, or interface: in the config)")
    if ns.health_every is not None and ns.health_every < 0:
        problems.append(f"health_every: must be 0 (no periodic line) or more seconds, not {ns.health_every:g}")
    if ns.flush_seconds is not None and ns.flush_seconds <= 0:
        problems.append(f"flush_seconds: must be more than 0 seconds, not {ns.flush_seconds:g}")
    return problems


def check(ns: argparse.Namespace) -> list[str]:
    """What would stop ``otsensor live`` with these settings: each problem as ``key: what is wrong``."""
    from sensor.detect.baseline import Baseline, BaselineError
    from sensor.policy.policy_file import PolicyError, load_policy

    from .bpf import BpfError, compile_filter
    from .capture import SNAPLEN

    problems = check_values(ns)
    if ns.interface:
        try:
            socket.if_nametoindex(ns.interface)
        except OSError:
            problems.append(f"interface: no such interface {ns.interface!r} (ip link lists them)")
    if ns.filter:
        try:
            compile_filter(ns.filter, SNAPLEN)
        except BpfError as error:
            problems.append(f"filter: {error}")
    for key, loader, error_type in (("policy", load_policy, PolicyError), ("baseline", Baseline.load, BaselineError)):
        path = getattr(ns, key, None)
        if not path:
            continue
        if not os.path.isfile(path):
            problems.append(f"{key}: no such file {path}")
            continue
        try:
            loader(path)
        except (error_type, OSError) as error:
            problems.append(f"{key}: {error}")
    for key in OUTPUT_KEYS:
        path = getattr(ns, key, None)
        if path:
            problem = _output_problem(path)
            if problem:
                problems.append(f"{key}: {path}: {problem}")
    return problems


def _output_problem(path: str) -> str | None:
    """Why ``path`` cannot be written, or None."""
    if os.path.isdir(path):
        return "is a directory"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"no such directory {folder}"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else "not writable"
    return None if os.access(folder, os.W_OK | os.X_OK) else f"cannot create files in {folder}"
