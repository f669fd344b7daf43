"""Machinery of the whole-pipeline oracle (test_pipeline_vs_tshark.py): run the real CLI, read its events.

Each capture is analysed once per session with ``otsensor analyze FILE --strict --events E.jsonl`` (however many
protocols it is compared for), and the jobs of both tools run a few at a time in threads: tshark and the CLI are
separate processes, so the threads only wait.

The zipped QUT captures unpack to 50 MB of which about 1,600 frames are DNP3: tshark is given only the frames of
the protocol's port, cut by ``port_cut`` with the frame numbers they had, so its rows map back to the numbering
our sensor (reading the zip itself) uses.
"""
from __future__ import annotations

import json
import os
import struct
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers import run_otsensor

WORKERS = min(8, 2 * (os.cpu_count() or 1))


def analyze(path: Path, tmp: Path, *extra: str) -> list[dict]:
    """Every line of ``--events`` from one strict run of the CLI over ``path``."""
    events = tmp / "events.jsonl"
    proc = run_otsensor("analyze", path, "--strict", "--db", tmp / "o.db", "--events", events, *extra)
    assert proc.returncode == 0, f"otsensor analyze {path.name} exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()]


def weirds(events: Iterable[dict]) -> Counter:
    """(frame, weird name) of every weird line: the oracle's view of what our sensor refused or flagged."""
    return Counter((e["frame"], e["name"]) for e in events if e.get("proto") == "weird" and "frame" in e)


def frame_diffs(theirs: Counter, ours: Counter) -> dict[int, tuple[tuple, tuple]]:
    """For each frame where two multisets of rows (frame first) differ: (tshark's rows there, ours), sorted."""
    frames = {r[0] for r in (theirs - ours) + (ours - theirs)}

    def at(rows: Counter, f: int) -> tuple:
        return tuple(sorted((r[1:] for r in rows.elements() if r[0] == f), key=repr))

    return {f: (at(theirs, f), at(ours, f)) for f in sorted(frames)}


class Jobs:
    """Results by key, computed once; the first ``get`` runs every key of ``warm`` together in threads.

    A job that raised raises again for its own key only, so one broken capture fails one test.
    """

    def __init__(self, compute: Callable[[Hashable], object], warm: Iterable[Hashable]) -> None:
        self._compute, self._warm = compute, list(warm)
        self._done: dict[Hashable, tuple[bool, object]] = {}
        self._lock = threading.Lock()

    def _run(self, key: Hashable) -> tuple[bool, object]:
        try:
            return True, self._compute(key)
        except Exception as error:  # noqa: BLE001 - handed to the test that asks for this key
            return False, error

    def get(self, key: Hashable) -> object:
        with self._lock:
            if self._warm:
                keys, self._warm = [k for k in self._warm if k not in self._done], []
                with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                    self._done.update(zip(keys, pool.map(self._run, keys)))
            if key not in self._done:
                self._done[key] = self._run(key)
            ok, value = self._done[key]
        if not ok:
            raise value  # type: ignore[misc]
        return value


# --- cutting a big zipped capture down to one port, keeping frame numbers ---------------------------------

_ETH_VLAN = (0x8100, 0x88A8, 0x9100)


def _ports(frame: bytes) -> tuple[int, int, int] | None:
    """(IP protocol, source port, destination port) of an Ethernet frame carrying TCP or UDP over IPv4/IPv6."""
    off, ethertype = 14, int.from_bytes(frame[12:14], "big") if len(frame) >= 14 else 0
    while ethertype in _ETH_VLAN and len(frame) >= off + 4:
        ethertype, off = int.from_bytes(frame[off + 2:off + 4], "big"), off + 4
    if ethertype == 0x0800 and len(frame) >= off + 20:
        proto, ihl = frame[off + 9], (frame[off] & 0x0F) * 4
        fragment = int.from_bytes(frame[off + 6:off + 8], "big") & 0x1FFF
        if fragment:
            return None
        off += ihl
    elif ethertype == 0x86DD and len(frame) >= off + 40:
        proto, off = frame[off + 6], off + 40
    else:
        return None
    if proto not in (6, 17) or len(frame) < off + 4:
        return None
    return proto, *struct.unpack_from(">HH", frame, off)


def port_cut(zipped: Path, port: int, out: Path) -> list[int]:
    """Write the TCP/UDP frames to or from ``port`` of the zip's (classic, Ethernet) pcap member to ``out``.

    Returns the original 1-based frame number of each frame written, in order (tshark's frame n is ours
    ``numbers[n - 1]``).
    """
    with zipfile.ZipFile(zipped) as zf:
        member = next(m for m in zf.namelist() if m.endswith((".pcap", ".cap")))
        raw = zf.read(member)
    magic = raw[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None:
        raise ValueError(f"{zipped}: member {member} is not a classic pcap")
    (linktype,) = struct.unpack_from(endian + "I", raw, 20)
    if linktype != 1:
        raise ValueError(f"{zipped}: link type {linktype}, only Ethernet is cut")
    numbers: list[int] = []
    kept = [raw[:24]]
    off, frame = 24, 0
    while off + 16 <= len(raw):
        incl = struct.unpack_from(endian + "I", raw, off + 8)[0]
        end = off + 16 + incl
        frame += 1
        ports = _ports(raw[off + 16:end])
        if ports is not None and port in ports[1:]:
            kept.append(raw[off:end])
            numbers.append(frame)
        off = end
    out.write_bytes(b"".join(kept))
    return numbers
