"""``--version``, and help that tells a new user what every option does and what it is when not given."""
from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterator

import pytest
from helpers import REPO_ROOT, run_otsensor

from sensor.cli import build_parser


def options(parser: argparse.ArgumentParser, command: str = "") -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from options(sub, f"{command} {name}".strip())
        elif action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield command, action


def test_version_prints_the_package_version() -> None:
    done = run_otsensor("--version")
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.returncode == 0 and done.stdout == f"otsensor {version}\n"


@pytest.mark.parametrize("command", ["assets", "alerts", "paths", "policy suggest", "analyze", "live", "learn",
                                     "evaluate"])
def test_every_option_has_help_that_states_its_default(command: str) -> None:
    found = [(name, action) for name, action in options(build_parser()) if name == command]
    assert found
    for _, action in found:
        if action.help == argparse.SUPPRESS or action.required:
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        assert re.search(r"\bdefault\b", action.help), f"{command} {action.option_strings[0]}: {action.help}"


@pytest.mark.parametrize("command", ["assets", "alerts"])
def test_listing_help_says_how_times_are_written(command: str) -> None:
    done = run_otsensor(command, "--help")
    text = " ".join(done.stdout.split())
    assert "ISO 8601 UTC in table and csv" in text and "seconds since the epoch in json" in text
