"""The live config file: keys are the options, flags win, --check-config says what is wrong and exits 0 or 2."""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest
from helpers import run_otsensor

from sensor.cli import build_parser, main
from sensor.live.config import ConfigError, check, load, resolve


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["live", *argv])


def settings(tmp_path: Path, text: str, *argv: str) -> argparse.Namespace:
    path = tmp_path / "otsensor.yaml"
    path.write_text(text)
    args = parse("--config", str(path), *argv)
    return resolve(args, args.live_settings, load(str(path)), str(path))


def test_defaults_when_neither_flag_nor_config() -> None:
    args = parse("-i", "eth1")
    ns = resolve(args, args.live_settings)
    assert (ns.interface, ns.filter, ns.db, ns.health_every, ns.flush_seconds) == ("eth1", None, "otsensor.db", 60.0, 2.0)
    assert ns.promiscuous is True and ns.strict is False and ns.decode_as == [] and ns.modbus_port == []
    assert ns.window == build_parser().parse_args(["analyze", "x.pcap"]).window


def test_the_config_fills_in_and_flags_override(tmp_path: Path) -> None:
    ns = settings(tmp_path, "interface: eth0\ndb: plant.db\nhealth_every: 30\nfilter: tcp port 502\n"
                            "flush-seconds: 5\npromiscuous: true\n",
                  "-i", "eth2", "--health-every", "5", "--no-promiscuous")
    assert ns.interface == "eth2" and ns.health_every == 5.0 and ns.promiscuous is False  # the flags
    assert ns.filter == "tcp port 502" and ns.flush_seconds == 5.0  # the config (either spelling of a key)
    assert ns.db == str(tmp_path / "plant.db"), "relative paths are taken from the config's folder"


def test_values_take_the_options_own_types(tmp_path: Path) -> None:
    ns = settings(tmp_path, "interface: eth0\ndecode_as: [modbus=5020, dnp3=udp/20001]\nmodbus_port: 1502\n"
                            "strict: true\nwindow: 60\ndb: /var/lib/otsensor/x.db\n")
    assert ns.decode_as == [("modbus", "tcp", 5020), ("dnp3", "udp", 20001)]
    assert ns.modbus_port == [1502], "a single value for an option that repeats is a list of one"
    assert ns.strict is True and ns.window == 60.0 and ns.db == "/var/lib/otsensor/x.db"


@pytest.mark.parametrize("text, message", [
    ("flush_second: 3\n", "flush_second: unknown setting (did you mean 'flush_seconds'?)"),
    ("colour: blue\n", "colour: unknown setting (known: "),
    ("health_every: soon\n", "health_every: must be a number, not 'soon'"),
    ("strict: maybe\n", "strict: must be true or false, not 'maybe'"),
    ("db: 5\n", "db: must be a string, not 5 (quote it)"),
    ("filter: yes\n", "filter: must be a string, not true (quote it if it is text)"),
    ("decode_as: [banana=1]\n", "decode_as: no protocol 'banana'"),
    ("modbus_port: 70000\n", "modbus_port: not a port: 70000"),
    ("interface: [eth0, eth1]\n", "interface: must be a single value, not a list"),
    ("policy:\n", "policy: has no value"),
])
def test_a_wrong_key_or_value_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, "interface: eth0\n" + text)
    assert len(error.value.problems) == 1
    assert error.value.problems[0].startswith(f"{tmp_path / 'otsensor.yaml'}: {message}"), error.value.problems


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, "colour: blue\nhealth_every: soon\nstrict: 1\n")
    assert len(error.value.problems) == 3


@pytest.mark.parametrize("text, message", [("interface: [eth0\n", "not valid YAML (line 2, column 1)"),
                                           ("- eth0\n", "must be a mapping of settings")])
def test_a_file_that_is_no_config(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(str(path))
    with pytest.raises(ConfigError, match="cannot read: No such file"):
        load(str(tmp_path / "missing.yaml"))


def test_check_names_what_would_stop_the_sensor(tmp_path: Path) -> None:
    ns = settings(tmp_path, "interface: nosuchif0\nfilter: tcp port banana\npolicy: missing.yaml\n"
                            "alerts: nowhere/alerts.jsonl\nflush_seconds: 0\nhealth_every: -1\n")
    problems = check(ns)
    expected = ["health_every: must be 0", "flush_seconds: must be more than 0", "interface: no such interface",
                "filter: bad filter 'tcp port banana'", "policy: no such file", "alerts: "]
    assert [p.split(":")[0] for p in problems] == [e.split(":")[0] for e in expected], problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_a_good_config_checks_clean(tmp_path: Path) -> None:
    ns = settings(tmp_path, "interface: lo\nfilter: tcp port 502\ndb: plant.db\n")
    assert check(ns) == []


def test_check_config_exits_0_or_2_with_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("interface: lo\ndb: plant.db\n")
    assert main(["live", "--check-config", "--config", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: OK (interface lo")
    bad = tmp_path / "bad.yaml"
    bad.write_text("interface: nosuchif0\nbaseline: nope.json\n")
    assert main(["live", "--check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {bad}: interface: no such interface 'nosuchif0' (ip link lists them)",
                   f"error: {bad}: baseline: no such file {tmp_path / 'nope.json'}"]
    assert main(["live", "--check-config", "--config", str(bad), "-i", "lo", "--baseline", str(good)]) == 2
    assert "baseline: " in capsys.readouterr().err, "a flag overrides the config, and is checked too"


def test_no_interface_is_an_error_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["live", "--db", str(tmp_path / "x.db")]) == 2
    assert capsys.readouterr().err == "error: interface: none given (-i IFACE, or interface: in the config)\n"
    assert not (tmp_path / "x.db").exists()
    assert main(["live", "-i", "nosuchif0", "--db", str(tmp_path / "x.db")]) == 2
    assert capsys.readouterr().err == "error: live:nosuchif0: no such interface 'nosuchif0'\n"
    assert not (tmp_path / "x.db").exists()


def test_help_shows_the_real_defaults(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["live", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 60.0)" in out and "(default: otsensor.db)" in out and "(default: None)" not in out


def test_the_example_config_of_deploy_is_valid() -> None:
    """deploy/otsensor.yaml: every key known, every value of its type (the machine's paths are checked on site)."""
    path = Path(__file__).resolve().parents[3] / "deploy" / "otsensor.yaml"
    args = parse("--config", str(path))
    ns = resolve(args, args.live_settings, load(str(path)), str(path))
    assert (ns.interface, ns.db, ns.health_every, ns.flush_seconds) == ("eth1", "/var/lib/otsensor/otsensor.db", 60, 2)


@pytest.mark.skipif(os.geteuid() != 0, reason="opening the capture needs CAP_NET_RAW")
def test_an_output_that_cannot_be_written_is_one_line_under_python_m(tmp_path: Path) -> None:
    """``python -m sensor.cli`` runs the CLI as __main__: its Fault must still be the one main() catches."""
    proc = run_otsensor("live", "-i", "lo", "--db", tmp_path / "x.db", "--events", tmp_path / "no" / "x.jsonl",
                        timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"error: {tmp_path / 'no' / 'x.jsonl'}: no such directory: {tmp_path / 'no'}\n"
    assert not (tmp_path / "x.db").exists()
