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


# --- running on every core (scripts/test: pytest-xdist, --dist loadgroup) ---------------------------------------
# Tests that listen on the loopback, capture it with tcpdump, make network namespaces or run rsyslog share one
# worker, one after another, so no capture sees another test's packets. Every other file is a group of its own,
# so a module's expensive fixture (a scenario analysed once for all its tests) is built once.
SERIAL_GROUP = "network"
SERIAL_FILES = ("tests/e2e/test_*stack*.py", "tests/e2e/test_siem_*.py", "tests/e2e/test_live_*.py",
                "tests/e2e/test_realistic_plant.py", "tests/e2e/test_tls_http.py", "tests/unit/live/*.py",
                "tests/unit/sinks/test_siem_*.py", "tests/oracle/test_dnp3_vs_tshark.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(REPO_ROOT)
        serial = any(path.match(pattern) for pattern in SERIAL_FILES)
        item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP if serial else str(path)))


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
