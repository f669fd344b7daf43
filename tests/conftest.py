"""Shared test fixtures: where the capture corpus lives, and how to run the command line."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def captures_dir() -> Path:
    """The shared corpus: $OTSENSOR_CAPTURES, else ../shared/captures beside the repository."""
    env = os.environ.get("OTSENSOR_CAPTURES")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "captures").resolve()


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


def otsensor_argv() -> list[str]:
    """The CLI of this checkout as a module, so tests run the working tree even when not pip-installed."""
    return [sys.executable, "-m", "sensor.cli"]


def run_otsensor(*args: str, cwd: Path | None = None, timeout: float = 900,
                 stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run `otsensor ARGS` as a subprocess (as users do), capturing stdout and stderr as text."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([*otsensor_argv(), *map(str, args)], cwd=cwd or REPO_ROOT, env=env, input=stdin,
                          capture_output=True, timeout=timeout, text=stdin is None)


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
