"""Unanswered attempts: held as columns, a Flow once answered, counted on their sender when they end."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.packet import Raw

from sensor.capture import LINKTYPE_RAW
from sensor.decode.fragments import FragmentReassembler
from sensor.decode.layers import decode
from sensor.flows import table as table_module
from sensor.flows.half_open import COLUMNS, TIMEOUT, HalfOpen
from sensor.flows.hash_index import MISSING, HashIndex
from sensor.flows.table import FlowTable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import frame_batch

SCANNER, PLC, HMI = "10.0.0.66", "10.0.0.10", "10.0.0.20"
SERVICE = frozenset({502})


def tcp(src, dst, sport, dport, flags, payload=b"", seq=0):
    return IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq) / Raw(payload)


def packets_of(pkts, first=1, times=None):
    times = times or [float(i) for i in range(len(pkts))]
    fb = frame_batch([(bytes(p), LINKTYPE_RAW, t) for p, t in zip(pkts, times)], first=first)
    return decode(fb, FragmentReassembler())[0]


def run(pkts, batch, times=None):
    """Feed the packets in batches of ``batch``: every flow as it ended (attempts materialised) and the ids
    of the attempts that ended unanswered."""
    ended, unanswered = [], []
    table = FlowTable(SERVICE, on_end=ended.append, on_unanswered=lambda a: unanswered.extend(a.id.tolist()))
    times = times or [float(i) for i in range(len(pkts))]
    for start in range(0, len(pkts), batch):
        table.update(packets_of(pkts[start:start + batch], first=start + 1, times=times[start:start + batch]), [])
    table.close()
    return ended, sorted(unanswered), table


def shape(flow):
    return (flow.id, flow.transport, flow.initiator, flow.init_port, flow.responder, flow.resp_port, flow.packets,
            flow.bytes, flow.flags, flow.first_ts, flow.last_ts, flow.first_frame, flow.state)


def test_a_lone_syn_is_an_attempt_until_answered():
    table = FlowTable(SERVICE)
    fb = table.update(packets_of([tcp(HMI, PLC, 40000, 502, "S", seq=100)] * 2), [])
    assert fb.flows == [] and len(fb.packets) == 0  # the rows of attempts reach no later stage
    assert len(table) == len(table.half_open) == 1 and table.total == 1
    answer = tcp(PLC, HMI, 502, 40000, "SA", seq=900)
    fb = table.update(packets_of([answer], first=3, times=[2.0]), [])
    [flow] = fb.flows
    assert fb.new_flows == [flow]  # the stages meet it now, with everything it counted
    assert (flow.id, flow.initiator, flow.init_port, flow.responder, flow.resp_port) == (1, HMI, 40000, PLC, 502)
    assert flow.packets == [2, 1] and fb.counts.tolist() == [[2, 1]]
    assert (flow.first_ts, flow.last_ts, flow.first_frame, flow.state) == (0.0, 2.0, 1, "established")
    assert len(table.half_open) == 0 and table.total == 1


def test_a_one_way_stream_is_a_conversation_from_its_second_datagram():
    table = FlowTable(SERVICE)
    push = IP(src=PLC, dst=HMI) / UDP(sport=18246, dport=18246) / Raw(b"data")
    assert table.update(packets_of([push]), []).flows == []
    [flow] = table.update(packets_of([push], first=2, times=[1.0]), []).flows
    assert flow.packets == [2, 0] and flow.id == 1


def test_icmp_and_udp_on_a_dissector_port():
    table = FlowTable(frozenset({47808}))
    fb = table.update(packets_of([IP(src=HMI, dst=PLC) / UDP(sport=47808, dport=47808) / Raw(b"x"),
                                  IP(src=HMI, dst=PLC) / ICMP()]), [])
    assert [f.transport for f in fb.flows] == ["udp"]  # a dissector reads it: a conversation at once
    assert len(table.half_open) == 1  # the unanswered ping


def traffic(seed: int) -> list:
    """A scan, answered and reset probes, a Modbus session, one-way and answered datagrams, pings: interleaved."""
    rng = random.Random(seed)
    pkts = []
    for i in range(60):
        pkts.append(tcp(SCANNER, f"10.0.1.{i}", 50000 + i % 7, rng.choice([502, 102, 80]), "S", seq=i))
    pkts += [tcp(SCANNER, PLC, 50001, 502, "S", seq=7), tcp(PLC, SCANNER, 502, 50001, "SA", seq=70),
             tcp(SCANNER, HMI, 50002, 22, "S", seq=8), tcp(HMI, SCANNER, 22, 50002, "RA")]
    pkts += [tcp(HMI, PLC, 40000, 502, "S", seq=100), tcp(PLC, HMI, 502, 40000, "SA", seq=500),
             tcp(HMI, PLC, 40000, 502, "A", seq=101), tcp(HMI, PLC, 40000, 502, "PA", b"\0\1\0\0\0\6\1\3\0\0\0\1", 101)]
    pkts += [IP(src=HMI, dst=f"10.0.2.{i}") / UDP(sport=40000 + i, dport=161) / Raw(b"q") for i in range(10)]
    pkts += [IP(src=PLC, dst=HMI) / UDP(sport=18246, dport=18246) / Raw(b"p")] * 3
    pkts += [IP(src=HMI, dst="10.0.3.1") / ICMP(), IP(src=HMI, dst=PLC) / ICMP(), IP(src=PLC, dst=HMI) / ICMP(type=0)]
    rng.shuffle(pkts)
    return pkts


def test_every_batch_size_ends_the_same_flows_and_attempts():
    pkts = traffic(7)
    whole, unanswered, table = run(pkts, len(pkts))
    assert table.total == len(whole)
    assert len(unanswered) > 60  # the scan, the SNMP sweep and the lost ping
    for batch in (1, 2, 7, 33):
        ended, gone, _ = run(pkts, batch)
        assert sorted(map(shape, ended)) == sorted(map(shape, whole)), batch
        assert gone == unanswered, batch


def test_an_attempt_idle_past_the_timeout_ends_unanswered():
    ended: list = []
    table = FlowTable(SERVICE, on_unanswered=lambda a: ended.extend(a.id.tolist()))
    table.update(packets_of([tcp(SCANNER, PLC, 1, 502, "S")]), [])
    table.update(packets_of([tcp(HMI, PLC, 2, 502, "S")], first=2, times=[TIMEOUT - 1]), [])
    table.expire(TIMEOUT - 1)  # the pipeline's call after each batch, with the reader's clock
    assert ended == []
    table.update(packets_of([tcp(HMI, PLC, 3, 502, "S")], first=3, times=[TIMEOUT + 1]), [])
    table.expire(TIMEOUT + 1)
    assert ended == [1] and len(table.half_open) == 2


def test_the_attempts_table_is_bounded(monkeypatch):
    monkeypatch.setattr(table_module, "MAX_HALF_OPEN", 64)
    ended: list = []
    table = FlowTable(SERVICE, on_unanswered=lambda a: ended.extend(a.id.tolist()))
    weirds: list = []
    table.update(packets_of([tcp(SCANNER, f"10.0.1.{i}", 1000, 502, "S") for i in range(65)]), weirds)
    assert len(table.half_open) == 56 and ended == list(range(1, 10))  # down to 7/8, the oldest first
    assert [(w.code, w.frame) for w in weirds] == [("half_open_table_full", 65)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ar"), st.integers(0, 40), st.integers(0, 3)), max_size=80))
def test_hash_index_agrees_with_a_dict(operations):
    """Adds and removes in batches, collided hashes included, agree with a plain dict of (hash, slot)."""
    index, model = HashIndex(), {}
    next_slot = 0
    for op, value, size in operations:
        hashes = np.array([value + k for k in range(size + 1)], np.uint64)
        if op == "a":
            fresh = np.array([h for h in hashes.tolist() if (h, 0) not in model and (h, 1) not in model], np.uint64)
            slots = np.arange(next_slot, next_slot + len(fresh), dtype=np.int64)
            next_slot += len(fresh)
            index.add(fresh, slots)
            model.update({(int(h), 0): int(s) for h, s in zip(fresh, slots)})
        else:
            gone = [(h, s) for (h, _), s in model.items() if h in set(hashes.tolist())]
            index.remove(np.array([h for h, _ in gone], np.uint64), np.array([s for _, s in gone], np.int64))
            model = {k: s for k, s in model.items() if (k[0], s) not in gone}
        probe = np.arange(0, 48, dtype=np.uint64)
        expected = [next((s for (h, _), s in model.items() if h == p), MISSING) for p in probe.tolist()]
        assert index.find(probe).tolist() == expected
    assert len(index) == len(model)


def test_hash_index_keeps_collided_hashes_apart():
    index = HashIndex()
    index.add(np.array([5, 5, 9], np.uint64), np.array([1, 2, 3]))
    index.remove(np.array([5], np.uint64), np.array([2]))
    assert index.find(np.array([5, 9], np.uint64)).tolist() == [1, 3]


def test_colliding_hashes_keep_every_flow_apart(monkeypatch):
    """Every key hashing alike (a forged collision) makes no attempt: the exact-keyed flows take them, and
    they end as the same flows."""
    pkts = traffic(11)
    expected, _, _ = run(pkts, len(pkts))
    monkeypatch.setattr(table_module, "_K", [np.uint64(0)] * 5)
    for batch in (len(pkts), 5):
        ended, unanswered, _ = run(pkts, batch)
        assert unanswered == []
        assert sorted(map(shape, ended)) == sorted(map(shape, expected)), batch


def test_hash_index_stays_exact_through_churn_and_rebuilds():
    """A flood's pattern: every batch adds new hashes and removes the oldest, past the table's rebuilds; two equal
    (hash, slot) entries removed in one batch go one each."""
    rng = np.random.default_rng(5)
    index, model, batches = HashIndex(), {}, []
    for _ in range(40):
        hashes = rng.integers(0, 1 << 63, 3000, dtype=np.uint64) % np.uint64(20_000)  # collisions, many
        slots = np.arange(3000, dtype=np.int64) % 5  # equal (hash, slot) pairs too
        index.add(hashes, slots)
        batches.append((hashes, slots))
        for pair in zip(hashes.tolist(), slots.tolist()):
            model[pair] = model.get(pair, 0) + 1
        if len(batches) > 6:
            gone_h, gone_s = batches.pop(0)
            index.remove(gone_h[::-1].copy(), gone_s[::-1].copy())
            for pair in zip(gone_h.tolist(), gone_s.tolist()):
                model[pair] -= 1
        assert len(index) == sum(model.values())
    present: dict[int, set[int]] = {}
    for (h, s), count in model.items():
        if count:
            present.setdefault(h, set()).add(s)
    probe = np.arange(20_000, dtype=np.uint64)
    for h, slot in zip(probe.tolist(), index.find(probe).tolist()):
        assert slot in present[h] if h in present else slot == MISSING


def test_hash_index_refuses_to_remove_what_it_does_not_hold():
    index = HashIndex()
    index.add(np.array([5], np.uint64), np.array([1]))
    with pytest.raises(KeyError):
        index.remove(np.array([6], np.uint64), np.array([1]))


def held(last_ts: list[float]) -> HalfOpen:
    """A half-open table with one attempt per time given, ids 1, 2, ... in that order, added in shuffled batches."""
    table = HalfOpen()
    n = len(last_ts)
    values = {name: np.zeros(n, dtype) for name, dtype in COLUMNS.items() if name != "file"}
    values["b_lo"] = np.arange(n, dtype=np.uint64)  # distinct keys
    values["id"] = np.arange(1, n + 1)
    values["last_ts"] = np.array(last_ts, np.float64)
    shuffled = np.random.default_rng(n).permutation(n)
    for part in np.array_split(shuffled, 3):
        table.add(values["b_lo"][part] * np.uint64(0x9E3779B97F4A7C15),
                  {name: column[part] for name, column in values.items()}, "x.pcap")
    return table


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=60), st.integers(1, 60))
def test_the_least_recently_active_go_first_and_of_equal_times_the_earlier_begun(times, count):
    table = held([float(t) for t in times])
    ids = lambda slots: table._cols["id"][slots].tolist()  # noqa: E731
    expected = sorted(range(1, len(times) + 1), key=lambda i: (times[i - 1], i))
    assert ids(table.oldest(count)) == expected[:count]
    assert ids(table.idle(3.0)) == [i for i in expected if times[i - 1] < 3]
    assert ids(table.all()) == list(range(1, len(times) + 1))
