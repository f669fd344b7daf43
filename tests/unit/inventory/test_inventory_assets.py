"""Assets: MACs (ARP is authoritative, a router's MAC is nobody's), vendors, services, roles, identity, polls."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether

from sensor.capture import LINKTYPE_ETHERNET
from sensor.inventory.model import Service
from sensor.inventory.oui import mac_vendor
from sensor.pipeline import Options, Pipeline
from sensor.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from frames import Conversation, batches

HOST, PLC = "10.0.0.5", "10.0.0.2"
HOST_MAC, PLC_MAC, ROUTER_MAC, OTHER_MAC = "00:80:f4:00:00:05", "00:0e:8c:00:00:02", "00:00:bc:00:00:fe", "08:00:06:00:00:99"


def adu(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def arp_reply(ip: str, mac: str, ts: float) -> tuple:
    return (bytes(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=ip, pdst="10.0.0.254")),
            LINKTYPE_ETHERNET, ts)


def ip_packet(src: str, dst: str, src_mac: str, ts: float, sport: int = 40000, dport: int = 80, flags: str = "S") -> tuple:
    return (bytes(Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport,
                                                                                        flags=flags)),
            LINKTYPE_ETHERNET, ts)


def run(tmp_path, frames, size=None, flush_each_batch=False, name="inv"):
    """The real pipeline (strict) into a real store; returns (pipeline, store assets by ip, deltas if not flushed)."""
    with Store.open(str(tmp_path / f"{name}.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(frames, size or len(frames)):
            pipeline._process(fb)
            if flush_each_batch:
                pipeline._flush(None)
        pipeline._end_of_input("test.pcap")
        pipeline._flush(None)
        return pipeline, {a["ip"]: a for a in store.assets()}


def deltas(tmp_path, frames, size=None):
    with Store.open(str(tmp_path / "d.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(frames, size or len(frames)):
            pipeline._process(fb)
        pipeline.flows.end_attempts()  # unanswered SYNs count for their senders when they end
        assets, *rest = pipeline.inventory.take()
        by_ip = {a.ip: a for a in assets if a.ip}
        for ip, mac, vendor, source in pipeline.inventory.macs.changes(list(by_ip)):  # as the store applies them
            if ip in by_ip:
                by_ip[ip].mac, by_ip[ip].mac_vendor = mac, vendor
                if source is not None:
                    by_ip[ip].sources["mac"] = source
        return (assets, *rest)


# --- MAC addresses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("arp_first", [True, False], ids=["arp-first", "ip-first"])
def test_arp_mac_beats_the_source_mac_of_ip_packets(tmp_path, arp_first):
    frames = [ip_packet(HOST, PLC, OTHER_MAC, 1.0), arp_reply(HOST, HOST_MAC, 2.0)]
    if arp_first:
        frames = [arp_reply(HOST, HOST_MAC, 0.5), frames[0]]
    assets, *_ = deltas(tmp_path, frames)
    host = next(a for a in assets if a.ip == HOST)
    assert host.mac == HOST_MAC
    assert host.mac_vendor == mac_vendor(HOST_MAC)
    assert host.sources["mac"].proto == "arp"
    assert host.sources["mac"].frame == (1 if arp_first else 2)


def test_arp_stays_authoritative_after_a_flush(tmp_path):
    """ARP in the first stretch of batches, IP packets with another source MAC in the next: the stored MAC
    must still be the ARP one."""
    frames = [arp_reply(HOST, HOST_MAC, 1.0), ip_packet(HOST, PLC, OTHER_MAC, 2.0),
              ip_packet(HOST, PLC, OTHER_MAC, 3.0, sport=40001)]
    _, assets = run(tmp_path, frames, size=2, flush_each_batch=True)
    assert assets[HOST]["mac"] == HOST_MAC


def test_source_mac_of_ip_packets_is_used_without_arp(tmp_path):
    assets, *_ = deltas(tmp_path, [ip_packet(HOST, PLC, HOST_MAC, 1.0), ip_packet(PLC, HOST, PLC_MAC, 2.0, 80, 40000, "SA")])
    by = {a.ip: a for a in assets}
    assert (by[HOST].mac, by[PLC].mac) == (HOST_MAC, PLC_MAC)
    assert by[HOST].sources["mac"].proto == "ethernet"
    assert by[PLC].mac_vendor == mac_vendor(PLC_MAC)


def test_mac_evidence_is_a_frame_that_carried_that_mac(tmp_path):
    """The responder's MAC is first seen in the SYN-ACK (frame 2), not in the client's SYN (frame 1)."""
    frames = [ip_packet(HOST, PLC, HOST_MAC, 1.0), ip_packet(PLC, HOST, PLC_MAC, 2.0, 80, 40000, "SA")]
    assets, *_ = deltas(tmp_path, frames)
    by = {a.ip: a for a in assets}
    assert by[HOST].sources["mac"].frame == 1
    assert by[PLC].sources["mac"].frame == 2


def test_a_mac_seen_for_several_ips_is_a_router_and_assigned_to_none(tmp_path):
    remotes = ["192.168.7.1", "192.168.7.2", "192.168.7.3"]
    frames = [ip_packet(r, HOST, ROUTER_MAC, float(i), 50000 + i, 502) for i, r in enumerate(remotes)]
    frames.append(ip_packet(HOST, remotes[0], HOST_MAC, 5.0, 502, 50000, "SA"))
    assets, *_ = deltas(tmp_path, frames)
    by = {a.ip: a for a in assets}
    assert all(by[r].mac is None and "mac" not in by[r].sources for r in remotes)
    assert by[HOST].mac == HOST_MAC


def test_the_router_itself_keeps_its_mac_from_arp(tmp_path):
    router = "10.0.0.254"
    frames = [ip_packet("192.168.7.1", HOST, ROUTER_MAC, 1.0), ip_packet("192.168.7.2", HOST, ROUTER_MAC, 2.0),
              arp_reply(router, ROUTER_MAC, 3.0)]
    assets, *_ = deltas(tmp_path, frames)
    by = {a.ip: a for a in assets}
    assert by[router].mac == ROUTER_MAC
    assert by["192.168.7.1"].mac is None


def test_a_router_mac_found_out_later_is_taken_back(tmp_path):
    """The first remote host behind the router looks like the MAC's owner until a second one shows the same MAC;
    once the store holds both, neither may keep the router's MAC."""
    frames = [ip_packet("192.168.7.1", HOST, ROUTER_MAC, 1.0), ip_packet("192.168.7.2", HOST, ROUTER_MAC, 2.0)]
    _, assets = run(tmp_path, frames, size=1, flush_each_batch=True)
    assert assets["192.168.7.2"]["mac"] is None
    assert assets["192.168.7.1"]["mac"] is None


def test_loopback_and_raw_captures_give_no_mac(tmp_path):
    pkt = bytes(IP(src=HOST, dst=PLC) / TCP(sport=1, dport=502, flags="A"))  # mid-stream: both are assets
    assets, *_ = deltas(tmp_path, [(pkt, 101, 1.0)])
    assert {a.ip: a.mac for a in assets} == {HOST: None, PLC: None}


# --- vendors ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mac,words", [
    ("00:80:f4:12:34:56", ("telemecanique", "schneider")),
    ("00:0e:8c:01:02:03", ("siemens",)),
    ("00:00:bc:01:02:03", ("rockwell", "allen-bradley")),
])
def test_oui_vendor_lookup(mac, words):
    vendor = mac_vendor(mac)
    assert vendor is not None and any(w in vendor.lower() for w in words)
    assert mac_vendor(mac.upper()) == vendor
    assert mac_vendor(mac.replace(":", "-")) == vendor


@pytest.mark.parametrize("mac", ["02:00:00:00:00:01", "06:80:f4:12:34:56", "fe:ff:ff:00:00:01"])
def test_locally_administered_macs_have_no_vendor(mac):
    assert int(mac[:2], 16) & 0x02
    assert mac_vendor(mac) is None


@pytest.mark.parametrize("mac", ["not a mac", "", "00:80:f4:zz:00:01"])
def test_malformed_macs_have_no_vendor(mac):
    assert mac_vendor(mac) is None


# --- services, roles, communications, polls, identity -------------------------------------------------------------

def read_pdu(address: int, quantity: int) -> tuple[bytes, bytes]:
    return struct.pack(">BHH", 3, address, quantity), struct.pack(">BB", 3, 2 * quantity) + b"\0" * (2 * quantity)


def polling_conversation(n: int = 5, period: float = 2.0, port: int = 502, unit: int = 1) -> tuple[Conversation, list[int]]:
    c = Conversation(server=PLC, client=HOST, sport=port, step=0.01)
    c.handshake()
    requests = []
    for tid in range(1, n + 1):
        c.t = 1000.0 + period * tid
        req, resp = read_pdu(tid, 2)
        requests.append(c.packet(True, adu(tid, req, unit)))
        c.packet(False, adu(tid, resp, unit))
    return c, requests


def test_modbus_roles_units_services_and_actions(tmp_path):
    c, _ = polling_conversation(3, unit=7)
    assets, comms, *_ = deltas(tmp_path, c.frames)
    by = {a.ip: a for a in assets}
    assert by[PLC].roles == {"modbus_server"} and by[HOST].roles == {"modbus_client"}
    assert by[PLC].unit_ids == {7}
    assert by[PLC].services == {Service("modbus", "tcp", 502)}
    assert by[HOST].services == set()
    assert by[PLC].packets == by[HOST].packets == len(c.frames)
    (comm,) = comms
    assert (comm.initiator, comm.responder, comm.transport, comm.port, comm.protocol) == (HOST, PLC, "tcp", 502, "modbus")
    assert comm.actions == {"read_holding_registers": 3}
    assert (comm.packets, comm.flows, comm.sample_frames) == (len(c.frames), 1, [("test.pcap", 1)])


def test_a_service_found_by_probe_is_one_service_whatever_the_batches(tmp_path):
    """Modbus on port 1502 is recognised by its first payload; a handshake seen in an earlier batch must not
    leave a second, anonymous tcp/1502 service behind."""
    c, _ = polling_conversation(2, port=1502)
    for size in (None, 3):
        _, assets = run(tmp_path, c.frames, size, name=f"svc{size}")
        assert assets[PLC]["services"] == [{"protocol": "modbus", "transport": "tcp", "port": 1502}], size


@pytest.mark.parametrize("size", [None, 1, 4], ids=["one-batch", "batch-1", "batch-4"])
def test_poll_stats_count_requests_and_their_gaps(tmp_path, size):
    times = [0.0, 2.0, 4.5, 6.0, 8.25]
    c = Conversation(server=PLC, client=HOST)
    c.handshake()
    fcs = [3, 3, 6, 8, 43]
    pdus = [struct.pack(">BHH", 3, 0, 1), struct.pack(">BHH", 3, 0, 1), struct.pack(">BHH", 6, 0, 1),
            struct.pack(">BHH", 8, 0, 0), struct.pack(">BBBB", 0x2B, 0x0E, 1, 0)]
    for tid, (t, pdu) in enumerate(zip(times, pdus), start=1):
        c.t = 2000.0 + t
        c.packet(True, adu(tid, pdu))
    with Store.open(str(tmp_path / "p.db")) as store:
        pipeline = Pipeline(store, Options(strict=True))
        for fb in batches(c.frames, size or len(c.frames)):
            pipeline._process(fb)
            pipeline._flush(None)
        (poll,) = store.polls()
    gaps = np.diff(times)
    assert (poll["client"], poll["server"]) == (HOST, PLC)
    assert poll["requests"] == len(fcs)
    assert poll["reads"] == 2 and poll["writes"] == 1 and poll["diagnostics"] == 2
    assert poll["intervals"] == len(gaps)
    assert poll["interval_sum"] == pytest.approx(gaps.sum())
    assert poll["interval_sumsq"] == pytest.approx((gaps ** 2).sum())
    assert (poll["first_seen"], poll["last_seen"]) == (2000.0, 2000.0 + times[-1])


def identity_response(objects: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(struct.pack(">BB", oid, len(v)) + v for oid, v in objects)
    return struct.pack(">BBBBBBB", 0x2B, 0x0E, 1, 0x01, 0, 0, len(objects)) + body


def test_identity_from_read_device_identification(tmp_path):
    c = Conversation(server=PLC, client=HOST)
    c.handshake()
    c.packet(True, adu(1, struct.pack(">BBBB", 0x2B, 0x0E, 1, 0)))
    objects = [(0, b"Schneider Electric"), (1, b"BMX P34 2020"), (2, b"v3.1"), (0x80, b"private")]
    answer = c.packet(False, adu(1, identity_response(objects)))
    _, assets = run(tmp_path, c.frames)
    identity = assets[PLC]["identity"]
    assert (identity["vendor"], identity["product"], identity["revision"]) == ("Schneider Electric", "BMX P34 2020", "v3.1")
    assert identity["objects"] == {"0x80": "private"}
    assert f"frame {answer}" in identity["source"]
    assert assets[HOST]["identity"] is None


def test_an_arp_flood_past_the_limits_is_counted_and_bounded(tmp_path):
    """100,000 IP/MAC pairs: ARP alone makes the first MAX_ARP_HOSTS assets, the MAC book keeps the first
    MAX_ADDRESSES; both limits are counted weirds, never silent."""
    import io
    import json

    from sensor.inventory.macs import MAX_ADDRESSES
    from sensor.inventory.observe import MAX_ARP_HOSTS

    template = bytes(Ether(src="02:00:00:00:00:00", dst="ff:ff:ff:ff:ff:ff")
                     / ARP(op=2, hwsrc="02:00:00:00:00:00", psrc="10.0.0.0", pdst="10.255.255.254"))
    pairs = 100_000
    frames = []
    for i in range(pairs):
        mac = (0x020000000000 + i + 1).to_bytes(6, "big")
        ip = (0x0A000000 + i + 1).to_bytes(4, "big")
        frames.append((template[:6] + mac + template[12:22] + mac + ip + template[32:], LINKTYPE_ETHERNET, i * 0.001))
    # then, with the book full, the first sender again and one more new one: the first is still heard
    frames += [(frames[0][0], LINKTYPE_ETHERNET, pairs * 0.001 + 5), (template[:6] + bytes(6) + template[12:22] + bytes(
        [2, 0, 0, 0xFF, 0xFF, 0xFF]) + bytes([11, 0, 0, 1]) + template[32:], LINKTYPE_ETHERNET, pairs * 0.001 + 6)]
    events = io.StringIO()
    with Store.open(str(tmp_path / "flood.db")) as store:
        pipeline = Pipeline(store, Options(strict=True, events=events))
        for fb in batches(frames, 50_000):
            pipeline._process(fb)
        pipeline._flush(None)
        assets = store.assets()
        assert [a["last_seen"] for a in assets if a["ip"] == "10.0.0.1"] == [pairs * 0.001 + 5]
        rows = store.db.execute("SELECT count, first_frame FROM weirds WHERE code = 'mac_table_full'").fetchall()
    assert len(assets) == MAX_ARP_HOSTS
    assert [a["ip"] for a in assets][-1] == f"10.0.{MAX_ARP_HOSTS >> 8}.0"  # the first ones, in frame order
    assert all(a["mac"] for a in assets)  # the MAC book kept more than the assets need
    assert len(pipeline.inventory.macs._arp) == MAX_ADDRESSES
    weirds = [json.loads(line) for line in events.getvalue().splitlines() if '"mac_table_full"' in line]
    assert [w["frame"] for w in weirds] == [pairs, pairs + 2]  # one per batch that hit the limit, at its last frame
    assert f"{pairs - MAX_ADDRESSES:,} addresses" in weirds[0]["detail"]  # 34,464
    assert "1 addresses" in weirds[1]["detail"] or "1 address" in weirds[1]["detail"]  # the new one, not the first
    assert rows == [(2, pairs)]
    assert pipeline.summary.weirds["mac_table_full"] == 2
    assert pipeline.summary.weirds["arp_hosts_full"] == 1


def _arp_frame(i: int, mac: int, ts: float) -> tuple:
    """A gratuitous ARP reply from 10.1.x.y (the ``i``-th address) with MAC ``mac``."""
    sender = (0x0A010000 + i).to_bytes(4, "big")
    mac_bytes = mac.to_bytes(6, "big")
    frame = (b"\xff" * 6 + mac_bytes + b"\x08\x06" + bytes([0, 1, 8, 0, 6, 4, 0, 2]) + mac_bytes + sender
             + bytes(6) + b"\x0a\x01\xff\xfe" + bytes(18))
    return frame, LINKTYPE_ETHERNET, ts


def test_a_flood_repeating_its_pairs_changes_nothing_but_times_and_a_spoofed_mac_is_not_believed(tmp_path, monkeypatch):
    """Rounds of the same forged pairs are judged in bulk (MacBook.repeats_arp): the result is what one sender at a
    time gives. The earliest evidence stays (a later, spoofed MAC for a held address is not believed), ARP-made
    assets' last_seen follows the repeats, and a worker's book still records the spoofed sighting."""
    pairs, rounds = 5_000, 4
    frames = [_arp_frame(i, 0x020000000000 + i, r * 10 + i * 1e-4) for r in range(rounds) for i in range(pairs)]
    frames.append(_arp_frame(7, 0x0200000000FF, rounds * 10 + 1))  # address 7 claimed by another MAC
    pipeline, assets = run(tmp_path, frames, size=3_000)
    host = assets["10.1.0.7"]
    assert host["mac"] == "02:00:00:00:00:07" and host["sources"]["mac"]["frame"] == 8
    assert host["last_seen"] == rounds * 10 + 1
    assert assets["10.1.0.9"]["last_seen"] == pytest.approx((rounds - 1) * 10 + 9e-4)
    from sensor.inventory.macs import MacBook
    from sensor.inventory.observe import MAX_ARP_HOSTS

    assert len([a for a in assets.values() if a["ip"]]) == MAX_ARP_HOSTS  # fewer than the pairs: that limit holds

    with monkeypatch.context() as patch:  # every sender one at a time, as before the bulk path
        patch.setattr(MacBook, "repeats_arp", lambda self, ips, macs, file: np.zeros(len(ips), bool))
        assert run(tmp_path, frames, size=3_000, name="one_by_one")[1] == assets
    from sensor.inventory.model import Source

    book = MacBook()
    book.keep_sightings = True
    ips = np.array([0x0A010007], np.int64)
    assert not book.repeats_arp(ips, np.array([7], np.uint64), "a.pcap").any()
    book.saw_arp("10.1.0.7", 7, Source("arp", "a.pcap", 1))
    book.take_sightings()
    assert book.repeats_arp(ips, np.array([7], np.uint64), "a.pcap").all()
    assert not book.repeats_arp(ips, np.array([8], np.uint64), "a.pcap").any()  # another MAC: not a repeat
    book.saw_arp("10.1.0.7", 8, Source("arp", "a.pcap", 2))
    assert book.take_sightings() == [("00:00:00:00:00:08", "10.1.0.7", "arp", Source("arp", "a.pcap", 2))]
    assert book.best("10.1.0.7")[0] == "00:00:00:00:00:07"
    # evidence from a file named before this one is earlier: seen in "0.pcap" (after "a.pcap"), it replaces
    assert not book.repeats_arp(ips, np.array([7], np.uint64), "0.pcap").any()
    book.saw_arp("10.1.0.7", 9, Source("arp", "0.pcap", 5))
    assert book.repeats_arp(ips, np.array([9], np.uint64), "0.pcap").all()
    assert not book.repeats_arp(ips, np.array([7], np.uint64), "0.pcap").any()
    assert book.best("10.1.0.7")[0] == "00:00:00:00:00:09"
