"""Our flows (``--flows``) count the same packets and bytes each way as tshark, per TCP and UDP conversation.

tshark's side: every frame it decodes as TCP or UDP, tallied by (source, source port) → (destination, port),
with ``frame.len`` as the size. Ours: the per-direction counters of each flow record. Conversations are
compared as unordered endpoint pairs, so the initiator decision is not part of this check (flows split by
tshark on port reuse are summed, as our flow table keeps one flow per 5-tuple). Every capture of the corpus
is checked (the zipped 50 MB ones excepted, for time).

Two kinds of conversation are left out, each for a stated reason:
- carried in IPv4 fragments: we count the reassembled datagram once, with the IP length as its size; tshark
  counts the frame that completed it, with that frame's length;
- tunnelled (IPv4 in IPv6, GRE, IP in IP): the decoder does not open tunnels yet, tshark does.
"""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from helpers import captures_dir, run_otsensor

CORPUS = captures_dir()
FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
               if p.suffix in (".pcap", ".pcapng", ".cap")) if CORPUS.is_dir() else []
Endpoint = tuple[str, int]


def tshark_tally(path: Path) -> tuple[dict[frozenset, Counter], set[frozenset]]:
    """Per conversation, packets and bytes each endpoint sent; and the conversations left out (see above)."""
    fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
              "frame.len", "ip.flags.mf", "ip.frag_offset"]
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "(tcp || udp) && !icmp && !icmpv6", "-T", "fields",
                          "-E", "occurrence=a", *[a for f in fields for a in ("-e", f)]],
                         capture_output=True, text=True, check=True).stdout
    tally: dict[frozenset, Counter] = {}
    left_out: set[frozenset] = set()
    for line in out.splitlines():
        src4, src6, dst4, dst6, tsp, tdp, usp, udp_, size, more, offset = line.split("\t")
        sources = [a for a in (src4 + "," + src6).split(",") if a]
        src, dst = sources[-1], [a for a in (dst4 + "," + dst6).split(",") if a][-1]  # innermost
        sport, dport = int((tsp or usp).split(",")[0]), int((tdp or udp_).split(",")[0])
        key = frozenset({(src, sport), (dst, dport)})
        if len(sources) > 1 or "1" in more.split(",") or offset.strip("0,"):
            left_out.add(key)
            continue
        counter = tally.setdefault(key, Counter())
        counter[(src, sport, "packets")] += 1
        counter[(src, sport, "bytes")] += int(size)
    return tally, left_out


def our_tally(path: Path, tmp: Path) -> dict[frozenset, Counter]:
    result = run_otsensor("analyze", path, "--db", tmp / "f.db", "--flows", tmp / "flows.jsonl", "--strict")
    assert result.returncode == 0, result.stderr
    tally: dict[frozenset, Counter] = {}
    for line in (tmp / "flows.jsonl").read_text().splitlines():
        f = json.loads(line)
        if f["transport"] not in ("tcp", "udp"):
            continue
        key = frozenset({(f["src"], f["sport"]), (f["dst"], f["dport"])})
        counter = tally.setdefault(key, Counter())
        for side, prefix in (((f["src"], f["sport"]), "orig"), ((f["dst"], f["dport"]), "resp")):
            if f[f"{prefix}_packets"]:
                counter[(*side, "packets")] += f[f"{prefix}_packets"]
                counter[(*side, "bytes")] += f[f"{prefix}_bytes"]
    return tally


@pytest.mark.parametrize("name", FILES or [pytest.param("none", marks=pytest.mark.skip(reason="no corpus"))])
def test_flow_counters_match_tshark(name: str, corpus: Path, tmp_path: Path) -> None:
    path = corpus / name
    theirs, left_out = tshark_tally(path)
    ours = our_tally(path, tmp_path)
    for key in left_out:
        theirs.pop(key, None)
        ours.pop(key, None)
    differ = {tuple(sorted(k)): (dict(theirs.get(k, {})), dict(ours.get(k, {})))
              for k in theirs.keys() | ours.keys() if theirs.get(k) != ours.get(k)}
    assert not differ, f"{name}: {len(differ)} conversations differ (tshark, ours): {list(differ.items())[:5]}"
