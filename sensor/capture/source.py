"""Capture inputs named on the command line: files, directories, ``-`` (stdin) and zip archives.

Formats are told apart by their first bytes, never by file name, so ``capture.cap``,
``trace.pcap`` holding pcapng, and a file with no extension all read alike:

    a1b2c3d4 / a1b23c4d / a1b2cd34 (either byte order)  pcap          -> pcap.read_pcap
    0a0d0d0a                                            pcapng        -> pcapng.read_pcapng
    1f8b                                                gzip          -> unpacked on the fly, then as above
    504b0304                                            zip archive   -> one input per capture member

Errors are per input and lazy: ``open_inputs`` never raises for a bad path, it yields an
input whose ``batches()`` raises :class:`CaptureError` on the first ``next()``, before any
batch (a missing file, or bytes that are not a capture). That way the caller can report the
one bad file and go on with the rest; a generator that raised would be finished.
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import os
import stat
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

from . import CaptureError, FrameBatch
from .chunks import DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES, read_exact
from .pcap import MAGICS as PCAP_MAGICS
from .pcap import read_pcap
from .pcapng import read_pcapng

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
GZIP_MAGIC = b"\x1f\x8b"

Opener = Callable[[], AbstractContextManager[BinaryIO]]


def sniff(head: bytes) -> str | None:
    """Name the container from its first four bytes: pcap, pcapng, gzip, zip, or None."""
    magic = head[:4]
    if magic in PCAP_MAGICS:
        return "pcap"
    if magic == PCAPNG_MAGIC:
        return "pcapng"
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if magic in ZIP_MAGICS:
        return "zip"
    return None


class CaptureInput:
    """One capture to read: a file, a zip member, or a stream such as stdin.

    ``warnings`` gathers one line per problem met while reading (truncation, corruption,
    read errors); it is reset at the start of every ``batches()`` pass.
    """

    __slots__ = ("_error", "_once", "_open", "_used", "name", "warnings")

    def __init__(self, name: str, opener: Opener | None = None, *, error: str = "", once: bool = False) -> None:
        self.name = name
        self.warnings: list[str] = []
        self._open = opener
        self._error = error
        self._once = once  # a stream cannot be rewound, so it reads once
        self._used = False

    def __repr__(self) -> str:
        return f"CaptureInput({self.name!r})"

    def batches(
        self, max_frames: int = DEFAULT_MAX_FRAMES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Iterator[FrameBatch]:
        """Yield the frames as batches of at most ``max_frames`` frames and about ``max_bytes`` bytes.

        Raises CaptureError on the first ``next()`` if the input cannot be opened or is not a
        capture; after that, problems only end the input early with a line in ``warnings``.
        """
        self.warnings.clear()
        if self._error or self._open is None:
            raise CaptureError(self.name, self._error or "nothing to read")
        if self._once and self._used:
            raise CaptureError(self.name, "stream already read")
        self._used = True
        try:
            ctx = self._open()
            stream = ctx.__enter__()
        except Exception as exc:  # any failure to open is this input's error, not the run's
            raise CaptureError(self.name, f"cannot open: {_reason(exc)}") from exc
        try:
            yield from self._read(stream, max_frames, max_bytes)
        finally:
            ctx.__exit__(None, None, None)

    def _read(self, stream: BinaryIO, max_frames: int, max_bytes: int) -> Iterator[FrameBatch]:
        head = self._head(stream)
        kind = sniff(head)
        if kind == "gzip":
            stream = gzip.GzipFile(fileobj=_Prefixed(head, stream), mode="rb")  # type: ignore[assignment]
            head = self._head(stream)
            kind = sniff(head)
            if kind not in ("pcap", "pcapng"):
                raise CaptureError(self.name, f"gzip data is not a pcap or pcapng file ({_magic(head)})")
        if kind == "pcap":
            reader = read_pcap
        elif kind == "pcapng":
            reader = read_pcapng
        elif kind == "zip":
            raise CaptureError(self.name, "zip archive on a stream cannot be read (zip needs seeking); unzip it")
        else:
            raise CaptureError(self.name, f"not a pcap or pcapng file ({_magic(head)})")
        yield from reader(stream, self.name, self.warnings, head=head, max_frames=max_frames, max_bytes=max_bytes)

    def _head(self, stream: BinaryIO) -> bytes:
        try:
            return read_exact(stream, 4)
        except Exception as exc:  # e.g. a gzip header that is not one
            raise CaptureError(self.name, f"cannot read: {_reason(exc)}") from exc


def open_inputs(
    paths: Iterable[str], *, stdin: BinaryIO | None = None, skip_non_captures: bool = False,
    on_skip: Callable[[str, str], None] | None = None,
) -> Iterator[CaptureInput]:
    """Expand command-line paths into capture inputs, in order.

    ``-`` is stdin (``stdin`` overrides it, for tests), read as a stream. A directory
    expands to its regular files, recursively, sorted by path components so a folder's
    files stay together (symlinked files count; symlinked folders are not followed). A zip
    archive expands to its members that are captures, named ``archive.zip:member``.

    Every other file is an input, capture or not, so ``batches()`` can report what it is.
    With ``skip_non_captures``, files found inside directories whose magic is not a capture
    (READMEs, label CSVs) are left out instead, each passed to ``on_skip`` with what it starts with;
    paths named explicitly always yield an input, so a wrong name is always reported.
    """
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
            yield open_stream(stream, "-") if stream is not None else CaptureInput("-", error="stdin is not available")
        elif os.path.isdir(path):
            files, errors = _walk(path)
            for where, why in errors:
                yield CaptureInput(where, error=f"cannot list directory: {why}")
            for name in files:
                yield from _file_inputs(name, skip_non_captures, on_skip)
        else:
            yield from _file_inputs(path, False)


def open_stream(stream: BinaryIO, name: str = "-") -> CaptureInput:
    """An input over an already open binary stream (stdin, a pipe, a BytesIO); it is not closed."""
    return CaptureInput(name, lambda: contextlib.nullcontext(stream), once=True)


def _walk(root: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Regular files under ``root`` sorted by their path components, plus unreadable folders."""
    found: list[tuple[list[str], str]] = []
    errors: list[tuple[str, str]] = []

    def onerror(exc: OSError) -> None:
        errors.append((exc.filename or root, _reason(exc)))

    for dirpath, _dirnames, filenames in os.walk(root, onerror=onerror):
        for fname in filenames:
            full = os.path.join(dirpath, fname)
            if os.path.isfile(full):  # follows symlinks; skips FIFOs, sockets, devices
                found.append((os.path.relpath(full, root).split(os.sep), full))
    found.sort()
    return [full for _key, full in found], sorted(errors)


def _file_inputs(path: str, skip_non_captures: bool,
                 on_skip: Callable[[str, str], None] | None = None) -> Iterator[CaptureInput]:
    """One input for a capture file, one per capture member for a zip archive."""
    opener: Opener = functools.partial(open, path, "rb")
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        regular = False
    if not regular:
        # Missing files fail in batches(); FIFOs and devices must not lose bytes to sniffing.
        yield CaptureInput(path, opener)
        return
    try:
        with open(path, "rb") as f:
            head = read_exact(f, 4)
    except OSError:
        yield CaptureInput(path, opener)
        return
    kind = sniff(head)
    if kind == "zip":
        yield from _zip_inputs(path)
    elif kind is not None or not skip_non_captures:
        yield CaptureInput(path, opener)
    elif on_skip is not None:
        on_skip(path, _magic(head))


def _zip_inputs(path: str) -> Iterator[CaptureInput]:
    """The capture members of a zip archive, each streamed from the archive when read."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [info.filename for info in zf.infolist() if not info.is_dir()]
            heads: dict[str, bytes | str] = {}
            for member in members:
                try:
                    with zf.open(member) as f:
                        heads[member] = read_exact(f, 4)
                except Exception as exc:  # noqa: BLE001 - encrypted, unsupported method, bad data
                    heads[member] = _reason(exc)
    except Exception as exc:  # noqa: BLE001 - zipfile raises many kinds for a damaged archive
        yield CaptureInput(path, error=f"bad zip archive: {_reason(exc)}")
        return
    count = 0
    for member in members:
        head = heads[member]
        name = f"{path}:{member}"
        if isinstance(head, str):
            count += 1
            yield CaptureInput(name, error=f"cannot read zip member: {head}")
        elif sniff(head) in ("pcap", "pcapng", "gzip"):
            count += 1
            yield CaptureInput(name, _member_opener(path, member))
    if count == 0:
        yield CaptureInput(path, error="zip archive holds no pcap or pcapng member")


def _member_opener(path: str, member: str) -> Opener:
    @contextlib.contextmanager
    def opener() -> Iterator[BinaryIO]:
        with zipfile.ZipFile(path) as zf, zf.open(member) as f:
            yield f  # type: ignore[misc]

    return opener


class _Prefixed:
    """A read-only stream that replays bytes already read before continuing with ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                out, self._head = self._head + self._rest.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._rest.read(n)


def _magic(head: bytes) -> str:
    if not head:
        return "empty file"
    if len(head) < 4:
        return f"only {len(head)} bytes: 0x{head.hex()}"
    return f"magic 0x{head[:4].hex()}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
