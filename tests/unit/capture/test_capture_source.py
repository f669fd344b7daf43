"""Inputs: detection by magic, directories, stdin, zip and gzip, and per-input errors."""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from capture_builders import (
    NonSeekable,
    pcap_header,
    pcap_record,
    read_input,
    sample_pcap,
    sample_pcapng,
)

from sensor.capture import CaptureError
from sensor.capture.source import CaptureInput, open_inputs, open_stream, sniff

REPO = Path(__file__).resolve().parents[3]


def names(paths: list[str], **kw: object) -> list[str]:
    return [inp.name for inp in open_inputs(paths, **kw)]


def frames_of(inp: CaptureInput) -> list[tuple[int, bytes]]:
    got, _ = read_input(inp)
    return [(f.number, f.data) for f in got]


def test_sniff() -> None:
    assert sniff(b"\xd4\xc3\xb2\xa1") == "pcap"
    assert sniff(b"\xa1\xb2\x3c\x4d") == "pcap"
    assert sniff(b"\x34\xcd\xb2\xa1") == "pcap"
    assert sniff(b"\x0a\x0d\x0d\x0a") == "pcapng"
    assert sniff(b"PK\x03\x04") == "zip"
    assert sniff(b"\x1f\x8b\x08\x00") == "gzip"
    assert sniff(b"# Pu") is None and sniff(b"") is None


def test_detection_is_by_magic_not_by_name(tmp_path: Path) -> None:
    pcap, want, _ = sample_pcap()
    ng, want_ng, _ = sample_pcapng()
    (tmp_path / "really_pcapng.pcap").write_bytes(ng)
    (tmp_path / "no_extension").write_bytes(pcap)
    (tmp_path / "notes.txt").write_bytes(pcap)
    inputs = list(open_inputs([str(tmp_path)]))
    assert [Path(i.name).name for i in inputs] == ["no_extension", "notes.txt", "really_pcapng.pcap"]
    assert [len(frames_of(i)) for i in inputs] == [len(want), len(want), len(want_ng)]


def test_not_a_capture_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_bytes(b"# Public ICS captures\n")
    (inp,) = open_inputs([str(path)])
    with pytest.raises(CaptureError) as info:
        next(inp.batches())
    assert info.value.path == str(path)
    assert str(info.value) == f"{path}: not a pcap or pcapng file (magic 0x23205075)"


def test_empty_and_missing_files_raise(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    inputs = list(open_inputs([str(tmp_path / "empty"), str(tmp_path / "missing.pcap")]))
    errors = []
    for inp in inputs:
        with pytest.raises(CaptureError) as info:
            list(inp.batches())
        errors.append(str(info.value))
    assert errors == [f"{tmp_path / 'empty'}: not a pcap or pcapng file (empty file)",
                      f"{tmp_path / 'missing.pcap'}: cannot open: No such file or directory"]


def test_a_bad_input_does_not_stop_the_others(tmp_path: Path) -> None:
    pcap, want, _ = sample_pcap()
    (tmp_path / "a.pcap").write_bytes(pcap)
    (tmp_path / "b.txt").write_bytes(b"hello world")
    (tmp_path / "c.pcap").write_bytes(pcap)
    results = []
    for inp in open_inputs([str(tmp_path / "a.pcap"), str(tmp_path / "b.txt"), str(tmp_path / "nope"),
                            str(tmp_path / "c.pcap")]):
        try:
            results.append(len(frames_of(inp)))
        except CaptureError:
            results.append("error")
    assert results == [len(want), "error", "error", len(want)]


def test_directories_expand_recursively_sorted_regular_files_only(tmp_path: Path) -> None:
    pcap, _, _ = sample_pcap()
    for rel in ("b/z.pcap", "b/a/x", "a.pcap", "b.pcap", "c/d/e/f.cap", ".hidden.pcap"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(pcap)
    (tmp_path / "empty_dir").mkdir()
    os.mkfifo(tmp_path / "b" / "fifo.pcap")  # not a regular file: never opened, never blocks
    (tmp_path / "c" / "link.pcap").symlink_to(tmp_path / "a.pcap")
    got = [os.path.relpath(n, tmp_path) for n in names([str(tmp_path)])]
    # Sorted by path components: "b" (a folder) sorts before "b.pcap", and keeps its files together.
    assert got == [".hidden.pcap", "a.pcap", "b/a/x", "b/z.pcap", "b.pcap", "c/d/e/f.cap", "c/link.pcap"]


def test_directory_non_captures_are_inputs_unless_skipped(tmp_path: Path) -> None:
    pcap, _, _ = sample_pcap()
    (tmp_path / "cap.pcap").write_bytes(pcap)
    (tmp_path / "labels.csv").write_bytes(b"1;0\r\n")
    assert [Path(n).name for n in names([str(tmp_path)])] == ["cap.pcap", "labels.csv"]
    assert [Path(n).name for n in names([str(tmp_path)], skip_non_captures=True)] == ["cap.pcap"]
    # A file named explicitly is always an input, so a wrong name is always reported.
    assert names([str(tmp_path / "labels.csv")], skip_non_captures=True) == [str(tmp_path / "labels.csv")]


def test_paths_keep_their_order_and_spelling(tmp_path: Path) -> None:
    pcap, _, _ = sample_pcap()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "1.pcap").write_bytes(pcap)
    (tmp_path / "z.pcap").write_bytes(pcap)
    os.chdir(tmp_path)
    assert names(["z.pcap", "d", "./z.pcap"]) == ["z.pcap", os.path.join("d", "1.pcap"), "./z.pcap"]


# ---------------------------------------------------------------- stdin and streams


def test_stdin_injected_as_a_pipe() -> None:
    raw, want, _ = sample_pcapng()
    r, w = os.pipe()

    def writer() -> None:
        with os.fdopen(w, "wb") as f:
            for i in range(0, len(raw), 7):  # dribble, as a slow producer would
                f.write(raw[i:i + 7])
                f.flush()

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as stdin:
        (inp,) = open_inputs(["-"], stdin=stdin)
        assert inp.name == "-"
        got, warnings = read_input(inp)
    t.join()
    assert [f.data for f in got] == [f.data for f in want] and warnings == []


def test_stdin_in_a_subprocess() -> None:
    raw, want, _ = sample_pcap(n=20)
    code = (
        "import sys\n"
        "from sensor.capture.source import open_inputs\n"
        "for inp in open_inputs(['-']):\n"
        "    n = sum(len(b) for b in inp.batches(max_bytes=64))\n"
        "    print(inp.name, n, inp.warnings)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, input=raw[:-5], capture_output=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith(f"- {len(want) - 1} [")
    assert "truncated record" in out.stdout.decode()


def test_stream_reads_once_and_file_reads_again(tmp_path: Path) -> None:
    raw, want, _ = sample_pcap()
    inp = open_stream(NonSeekable(raw), "-")
    assert len(frames_of(inp)) == len(want)
    with pytest.raises(CaptureError, match="stream already read"):
        next(inp.batches())
    path = tmp_path / "f.pcap"
    path.write_bytes(raw[:-3])
    (finp,) = open_inputs([str(path)])
    first = read_input(finp)
    second = read_input(finp)
    assert first == second and len(first[1]) == 1  # warnings are per pass, not accumulated


def test_zip_on_a_stream_is_an_error() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.pcap", sample_pcap()[0])
    with pytest.raises(CaptureError, match="zip archive on a stream"):
        next(open_stream(NonSeekable(buf.getvalue()), "-").batches())


# ---------------------------------------------------------------- zip and gzip


def test_zip_members_that_are_captures(tmp_path: Path) -> None:
    pcap, want, _ = sample_pcap()
    ng, want_ng, _ = sample_pcapng()
    archive = tmp_path / "set.pcap.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", "not a capture")
        zf.writestr("dir/", "")
        zf.writestr("dir/one.pcap", pcap)
        zf.writestr("two", ng)
        zf.writestr("three.pcap.gz", gzip.compress(pcap))
    inputs = list(open_inputs([str(archive)]))
    assert [i.name for i in inputs] == [f"{archive}:dir/one.pcap", f"{archive}:two", f"{archive}:three.pcap.gz"]
    assert [len(frames_of(i)) for i in inputs] == [len(want), len(want_ng), len(want)]
    batch = next(inputs[0].batches())
    assert batch.file == f"{archive}:dir/one.pcap"


def test_zip_found_in_a_directory_expands_too(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.writestr("m.pcap", sample_pcap()[0])
    assert names([str(tmp_path)]) == [f"{tmp_path / 'x.zip'}:m.pcap"]


def test_zip_without_captures_and_broken_zip_are_errors(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "docs.zip", "w") as zf:
        zf.writestr("a.txt", "text")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\0" * 50)
    inputs = list(open_inputs([str(tmp_path / "docs.zip"), str(tmp_path / "broken.zip")]))
    messages = []
    for inp in inputs:
        with pytest.raises(CaptureError) as info:
            next(inp.batches())
        messages.append(info.value.reason)
    assert messages[0] == "zip archive holds no pcap or pcapng member"
    assert messages[1].startswith("bad zip archive: ")


def test_corrupt_zip_member_keeps_frames_and_warns(tmp_path: Path) -> None:
    pcap, want, _ = sample_pcap(n=200)
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("m.pcap", pcap)
    data = bytearray(archive.read_bytes())
    at = data.index(pcap[:24]) + len(pcap) - 10
    data[at] ^= 0xFF  # breaks the CRC, which zipfile checks at the member's end
    archive.write_bytes(bytes(data))
    (inp,) = open_inputs([str(archive)])
    got, warnings = read_input(inp)
    assert len(warnings) == 1 and "read error" in warnings[0] and "Bad CRC-32" in warnings[0]
    assert len(got) <= len(want)


def test_gzip_capture_and_truncated_gzip(tmp_path: Path) -> None:
    pcap, want, _ = sample_pcap(n=50)
    (tmp_path / "a.pcap.gz").write_bytes(gzip.compress(pcap))
    comp = gzip.compress(pcap)
    (tmp_path / "cut.pcap.gz").write_bytes(comp[: len(comp) // 2])
    (tmp_path / "text.gz").write_bytes(gzip.compress(b"hello there"))
    a, cut, text = open_inputs([str(tmp_path / n) for n in ("a.pcap.gz", "cut.pcap.gz", "text.gz")])
    assert read_input(a) == read_input(open_stream(NonSeekable(pcap), str(tmp_path / "a.pcap.gz")))
    got, warnings = read_input(cut)
    assert 0 < len(got) < len(want) and len(warnings) == 1 and "read error" in warnings[0]
    with pytest.raises(CaptureError, match="gzip data is not a pcap or pcapng file"):
        next(text.batches())


# ---------------------------------------------------------------- streaming


def test_memory_stays_bounded_by_the_chunk(tmp_path: Path) -> None:
    """A 24 MB file read in 1 MiB chunks never holds much more than a chunk."""
    frame = bytes(range(200))
    rec = pcap_record("<", 1, 2, frame)
    path = tmp_path / "big.pcap"
    with open(path, "wb") as f:
        f.write(pcap_header())
        block = rec * 5000
        f.writelines(block for _ in range(24))
    r, w = os.pipe()

    def writer() -> None:
        with open(path, "rb") as src, os.fdopen(w, "wb") as dst:
            while chunk := src.read(1 << 16):
                dst.write(chunk)

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as pipe:
        for inp in (next(open_inputs([str(path)])), open_stream(pipe, "-")):
            tracemalloc.start()
            n = 0
            for b in inp.batches(max_bytes=1 << 20):
                assert len(b.data) <= (1 << 20) + len(rec)
                n += len(b)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert n == 24 * 5000 and inp.warnings == []
            assert peak < 8 << 20, (inp.name, peak)
    t.join()
