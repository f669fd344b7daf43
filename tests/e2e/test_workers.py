"""``analyze --workers N`` gives what one process gives: inventory, alerts, paths, events, flows and the stored
communications.

Each run goes through the real command line into its own database; the outputs a user reads are compared
byte for byte (the events and flows files sorted, as the workers' parts are merged by frame, not written
in one process's order). The corpus folders are chosen for what crosses workers: hosts behind routers
(one MAC, many IPs), ARP next to IP traffic, directed broadcasts, fragments that time out, captures with
time going backwards, and several inputs whose flow state carries from one to the next.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_otsensor, stored_communications

SCENARIOS = REPO_ROOT / "captures" / "scenarios"


def outputs(inputs: list[Path], folder: Path, workers: int, *extra: str) -> dict[str, str]:
    """Everything a run writes or reports, as text."""
    db, events, flows = folder / f"w{workers}.db", folder / f"w{workers}.events", folder / f"w{workers}.flows"
    zeek = folder / f"w{workers}.zeek"
    done = run_otsensor("analyze", *inputs, "--db", db, "--workers", str(workers), "--no-progress", "--strict",
                        "--events", events, "--flows", flows, "--zeek-logs", zeek, *extra)
    assert done.returncode == 0, done.stderr
    out = {name: run_otsensor(name, "--db", db, "--format", "json").stdout for name in ("assets", "alerts")}
    out["events"] = "".join(sorted(events.read_text().splitlines(keepends=True)))
    out["flows"] = "".join(sorted(flows.read_text().splitlines(keepends=True)))
    assert sorted(p.name for p in zeek.iterdir() if p.name.startswith(".")) == [], "a worker's part was left"
    for log in sorted(zeek.iterdir()):
        out[log.name] = zeek_log(log)
    out["communications"] = repr(stored_communications(db))
    out["summary"] = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("speed"))
    return out


def zeek_log(path: Path) -> str:
    """A Zeek log to compare: its header (but the #open and #close stamps: the first line one process writes,
    a connection's as it ends, need not be the earliest), then its lines sorted (merged from the workers' parts,
    they come in another order)."""
    lines = path.read_text().splitlines(keepends=True)
    head = [line for line in lines if line.startswith("#") and not line.startswith(("#open", "#close"))]
    return "".join(head + sorted(line for line in lines if not line.startswith("#")))


@pytest.mark.parametrize("folder,counts", [("it", (2, 3)), ("bacnet", (2, 3)), ("modbus", (2,)), ("enip", (2,)),
                                           ("other_ics", (2,)), ("s7comm", (2,)), ("iec104", (2,)), ("mixed", (2,))])
def test_workers_give_what_one_process_gives_on_the_corpus(corpus: Path, tmp_path: Path, folder: str,
                                                            counts: tuple[int, ...]) -> None:
    """Three workers where routers, ARP, broadcasts and fragments cross them most (it, bacnet); two elsewhere."""
    inputs = [corpus / folder]
    one = outputs(inputs, tmp_path, 1)
    assert json.loads(one["assets"]), "the folder made no asset: nothing would be compared"
    for workers in counts:
        assert outputs(inputs, tmp_path, workers) == one, workers


def test_workers_keep_the_policy_verdicts_and_paths(tmp_path: Path) -> None:
    inputs = sorted(SCENARIOS.glob("*.pcap"))
    policy = ("--policy", str(SCENARIOS / "policy.yaml"))
    one = outputs(inputs, tmp_path, 1, *policy)
    two = outputs(inputs, tmp_path, 2, *policy)
    assert two == one
    assert any(a["rule"].startswith("policy.") for a in json.loads(one["alerts"]))
    paths = [run_otsensor("paths", "--db", tmp_path / f"w{w}.db", "--format", "json", *policy).stdout for w in (1, 2)]
    assert paths[0] == paths[1] and json.loads(paths[0])


def test_a_file_left_unfinished_by_other_workers_is_a_one_line_fault(corpus: Path, tmp_path: Path) -> None:
    """Each worker resumes its own share: another number of workers cannot finish the file without counting
    some of it twice, so the run stops before reading and says what to do."""
    capture = corpus / "modbus" / "iti_ModbusTCP.pcap"
    db = tmp_path / "partial.db"
    assert run_otsensor("analyze", capture, "--db", db, "--workers", "2", "--no-progress").returncode == 0
    import sqlite3

    with sqlite3.connect(db) as conn:  # as a kill would leave it: the workers' checkpoints, not complete
        conn.execute("UPDATE files SET complete = 0, frames_done = 100")
    again = run_otsensor("analyze", capture, "--db", db, "--workers", "3", "--no-progress")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {db}: {capture}: partly analysed with --workers 2; finish it with that many"]
    done = run_otsensor("analyze", capture, "--db", db, "--workers", "2", "--no-progress")
    assert done.returncode == 0, done.stderr


def test_outputs_that_need_one_process_say_so(corpus: Path, tmp_path: Path) -> None:
    capture = corpus / "modbus" / "iti_ModbusTCP.pcap"
    done = run_otsensor("analyze", capture, "--db", tmp_path / "z.db", "--workers", "2", "--no-progress",
                        "--learn-for", "60", "--baseline", tmp_path / "baseline.json")
    assert done.returncode == 0, done.stderr
    assert "note: --learn-for runs in one process: --workers 2 ignored" in done.stderr
    assert (tmp_path / "baseline.json").exists()
