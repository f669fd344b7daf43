"""Flows continue from one input into the next only when time goes forward.

Two recordings of the same 5-tuple given together (two captures of one poller, minutes apart, named so the later
comes first) are two conversations: the second one's sequence numbers have nothing to do with the first's, and
reading them as one stream lost every message of the second (corpus: iec104 emre_33 then emre_64). A capture
split in two files (tcpdump -C) goes on forward in time and stays one flow.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from frames import Conversation, write_pcap  # noqa: E402
from helpers import captures_dir, run_otsensor  # noqa: E402

READ = struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 0, 2)
ANSWER = struct.pack(">HHHBBBHH", 1, 0, 7, 1, 3, 4, 7, 9)


def polls(conversation: Conversation, count: int) -> None:
    for _ in range(count):
        conversation.packet(True, READ)
        conversation.packet(False, ANSWER)


def modbus_events(tmp_path: Path, *inputs: Path, workers: int = 1) -> tuple[list[dict], list[dict], list[dict]]:
    """(Modbus events, flows, flow_rewound weirds) of one run."""
    events, flows = tmp_path / f"e{workers}.jsonl", tmp_path / f"f{workers}.jsonl"
    done = run_otsensor("analyze", *inputs, "--db", tmp_path / f"w{workers}.db", "--events", events, "--flows", flows,
                        "--strict", "--no-progress", "--workers", str(workers))
    assert done.returncode == 0, done.stderr
    read = lambda p: [json.loads(line) for line in p.read_text().splitlines()]
    found = read(events)
    return ([e for e in found if e["proto"] == "modbus"], read(flows),
            [e for e in found if e.get("name") == "flow_rewound"])


@pytest.mark.parametrize("workers", [1, 2])
def test_an_earlier_recording_of_the_same_ports_is_another_conversation(tmp_path: Path, workers: int) -> None:
    later = Conversation(t0=5000.0, isn=(10_000, 90_000))
    later.handshake()
    polls(later, 3)
    earlier = Conversation(t0=1000.0, isn=(777_000, 3_000_000))  # same addresses and ports, other numbers
    earlier.handshake()
    polls(earlier, 4)
    first = write_pcap(tmp_path / "a-later.pcap", later.frames)
    second = write_pcap(tmp_path / "b-earlier.pcap", earlier.frames)
    events, flows, rewound = modbus_events(tmp_path, first, second, workers=workers)
    assert [e["file"].rsplit("/", 1)[-1] for e in events] == ["a-later.pcap"] * 6 + ["b-earlier.pcap"] * 8
    assert len(flows) == 2 and {f["state"] for f in flows} == {"established"}
    assert [(w["file"].rsplit("/", 1)[-1], w["frame"]) for w in rewound] == [("b-earlier.pcap", 1)]


def test_a_capture_split_in_two_files_stays_one_flow(tmp_path: Path) -> None:
    session = Conversation(t0=1000.0)
    session.handshake()
    polls(session, 5)
    cut = 7  # the handshake and two polls in the first file
    first = write_pcap(tmp_path / "part1.pcap", session.frames[:cut])
    second = write_pcap(tmp_path / "part2.pcap", session.frames[cut:])
    events, flows, rewound = modbus_events(tmp_path, first, second)
    assert len(events) == 10 and not rewound
    assert len(flows) == 1 and flows[0]["orig_packets"] + flows[0]["resp_packets"] == len(session.frames)


@pytest.fixture
def iec104_pair() -> list[Path]:
    folder = captures_dir() / "iec104"
    if not folder.is_dir():
        pytest.skip(f"the shared corpus is not at {folder} (set OTSENSOR_CAPTURES)")
    return [folder / "emre_33.pcap", folder / "emre_64.pcap"]  # 10:58 then 10:56, one 5-tuple


def test_the_corpus_pair_decodes_as_each_file_alone(iec104_pair: list[Path], tmp_path: Path) -> None:
    def count(*inputs: Path, name: str) -> int:
        events = tmp_path / f"{name}.jsonl"
        done = run_otsensor("analyze", *inputs, "--db", tmp_path / f"{name}.db", "--events", events, "--no-progress")
        assert done.returncode == 0, done.stderr
        return sum('"proto":"iec104"' in line for line in events.read_text().splitlines())

    alone = count(iec104_pair[0], name="a") + count(iec104_pair[1], name="b")
    assert alone > 40
    assert count(*iec104_pair, name="both") == alone
