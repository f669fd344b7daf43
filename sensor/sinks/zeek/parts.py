"""The Zeek logs of ``analyze --workers N``: each worker writes its own logs into a part folder of the logs'
folder, and the run merges them into the one set of logs once the workers are done.

A worker sees every frame between the hosts of its share, so each of its lines is a line one process writes (a
connection's uid hashes what identifies it in its capture, the same in any worker). Merged, the parts' lines are
interleaved by ``ts``, each part's own order kept: a log is no more sorted by time than one process writes it
(conn.log has a connection's line when it ends, with the time it began), and the lines of a time come together.
In TSV the header is the parts' with the earliest ``#open``, and ``#close`` the latest of theirs; a JSON log is
its lines alone. The part folders are removed, whatever happens.
"""
from __future__ import annotations

import heapq
import os
import re
import shutil
from collections.abc import Callable, Iterator

from sensor.sinks.zeek.ascii import JSON

PART = ".part"  # a worker's folder inside the logs' folder: .part0, .part1...
_JSON_TS = re.compile(rb'\{"ts":([-+0-9.eE]+)')


def part_folder(folder: str, k: int) -> str:
    return os.path.join(folder, f"{PART}{k}")


def merge_parts(folder: str, parts: list[str], fmt: str) -> None:
    """Merge each log of the worker folders ``parts`` into ``folder``; remove the parts."""
    try:
        names = sorted({name for part in parts if os.path.isdir(part) for name in os.listdir(part)})
        for name in names:
            files = [os.path.join(part, name) for part in parts if os.path.exists(os.path.join(part, name))]
            _merge_log(files, os.path.join(folder, name), fmt)
    finally:
        remove_parts(parts)


def remove_parts(parts: list[str]) -> None:
    for part in parts:
        shutil.rmtree(part, ignore_errors=True)


def _merge_log(files: list[str], out_path: str, fmt: str) -> None:
    heads: list[list[bytes]] = []
    closes: list[bytes] = []
    bodies = []
    for path in files:
        head, body, close = _split(path)
        heads.append(head)
        closes += close
        bodies.append(body)
    with open(out_path, "wb") as out:
        if fmt != JSON:
            out.writelines(_earliest_open(heads))
        out.writelines(heapq.merge(*bodies, key=_ts_of(fmt)))
        if closes:
            out.write(max(closes))  # "#close\t%Y-%m-%d-%H-%M-%S": the latest sorts last


def _split(path: str) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """A part's header lines, its lines, and its #close line (if any)."""
    with open(path, "rb") as f:
        lines = f.readlines()
    head_end = next((i for i, line in enumerate(lines) if not line.startswith(b"#")), len(lines))
    tail = lines[head_end:]
    close = [line for line in tail if line.startswith(b"#close")]
    return lines[:head_end], [line for line in tail if not line.startswith(b"#")], close


def _earliest_open(heads: list[list[bytes]]) -> Iterator[bytes]:
    """The first part's header with the earliest ``#open`` of all parts (the other header lines are the same)."""
    opens = [line for head in heads for line in head if line.startswith(b"#open")]
    for line in heads[0]:
        yield min(opens) if line.startswith(b"#open") else line


def _ts_of(fmt: str) -> Callable[[bytes], float]:
    """A line's ``ts``: its first field, in TSV as in JSON (``{"ts":...,``), as every log here starts with it."""
    if fmt == JSON:
        return lambda line: float(m.group(1)) if (m := _JSON_TS.match(line)) else 0.0
    return lambda line: float(line.split(b"\t", 1)[0])
