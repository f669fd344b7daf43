"""Shared test fixtures: where the capture corpus lives, and how to run the command line."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import REPO_ROOT, captures_dir, run_otsensor


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The corpus folder; tests that need it skip, with the reason, when it is absent."""
    path = captures_dir()
    if not path.is_dir():
        pytest.skip(f"capture corpus not found at {path} (set OTSENSOR_CAPTURES)")
    return path


# --- oracle / e2e / golden: running the real command line -------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    # Registered here because pyproject's addopts has --strict-markers.
    config.addinivalue_line("markers", "slow: big inputs (unzipped 50 MB captures); deselect with -m 'not slow'")
    config.addinivalue_line("markers", "realtime: plays a plant in real time, sped up: its timing needs the machine "
                                       "to itself (scripts/test runs these after the rest)")


@pytest.fixture(scope="session")
def otsensor() -> Callable[..., subprocess.CompletedProcess]:
    """`run_otsensor`, after checking that `otsensor analyze --help` works.

    Skips only while sensor/cli.py does not exist; once it does, a CLI that cannot start fails every test
    that needs it, so a broken build can never pass as skipped.
    """
    if not (REPO_ROOT / "sensor" / "cli.py").exists():
        pytest.skip("otsensor CLI not built yet (no sensor/cli.py)")
    probe = run_otsensor("analyze", "--help", timeout=120)
    if probe.returncode != 0:
        pytest.fail(f"otsensor analyze --help exits {probe.returncode}: {(probe.stderr or probe.stdout)[-2000:]}")
    return run_otsensor
