"""The README shows a new user how to start (the activation line, ``--version``) and what to do when stuck."""
from __future__ import annotations

from helpers import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_examples_start_with_the_activation_line_and_the_version() -> None:
    block = section("Using it").split("```\n", 2)[1]
    assert block.splitlines()[:2] == [". .venv/bin/activate", "otsensor --version"]


def test_troubleshooting_covers_read_only_evidence_stdin_and_narrow_terminals() -> None:
    text = section("Troubleshooting")
    for topic in ("**Read-only evidence.**", "**Piping a capture in.**", "**A narrow terminal.**",
                  "**A mistyped `--db`.**", "**Piping the output.**"):
        assert topic in text
