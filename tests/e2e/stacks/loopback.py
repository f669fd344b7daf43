"""Record one run of a real server and client on loopback with tcpdump.

tcpdump (on lo, filtered by ``bpf``) starts first and must say it is listening; then the server, which must
print a line starting with ``ready``; then the client, run to completion with ``--out RESULTS``; the server
is stopped, and tcpdump last with SIGINT, after a pause that lets it drain its ring buffer (it drops unread
blocks when interrupted). Needs root for tcpdump. Every failure raises with the tools' own stderr.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def stop(proc: subprocess.Popen, sig: int, timeout: float = 15) -> str:
    """Stop a process (killing it if it does not stop in time); its stderr."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


@contextmanager
def tcpdump(out: Path, bpf: str, drain: float = 1.5) -> Iterator[None]:
    """Record loopback to ``out`` around the body: tcpdump must say it listens first, and report no drops after
    the pause that lets it drain."""
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-nn", "-U", "-w", str(out), bpf], stderr=subprocess.PIPE, text=True)
    line = dump.stderr.readline() if dump.stderr else ""
    if "listening on" not in line:
        raise RuntimeError(f"tcpdump did not start: {line.strip()} {stop(dump, signal.SIGINT)}")
    try:
        yield
    finally:
        time.sleep(drain)
        stats = stop(dump, signal.SIGINT)
    if not re.search(r"^0 packets dropped by kernel", stats, re.MULTILINE):
        raise RuntimeError(f"tcpdump reports drops: {stats}")


def record(out: Path, bpf: str, server: list[str], client: list[str], drain: float = 1.5) -> Any:
    """Write the capture to ``out`` and return what the client wrote to ``out``.results.json."""
    results = out.with_suffix(".results.json")
    with tcpdump(out, bpf, drain):
        running = subprocess.Popen(server, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = running.stdout.readline() if running.stdout else ""
            if not ready.startswith("ready"):
                raise RuntimeError(f"server did not start ({' '.join(server)}): "
                                   f"{stop(running, signal.SIGTERM)[-2000:]}")
            done = subprocess.run([*client, "--out", str(results)], capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"client failed ({done.returncode}): {done.stderr[-2000:]}")
        finally:
            stop(running, signal.SIGTERM)
    return json.loads(results.read_text())
