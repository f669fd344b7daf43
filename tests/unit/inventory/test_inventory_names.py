"""Names and facts about addresses that are not an end of the message (DNS answers, DHCP leases, devices behind
a router): a name never makes an asset; other facts do; the store joins names to whichever asset has the
address, newest first, with the history."""
from __future__ import annotations

import numpy as np
import pytest

from protocols.base import ADDRESS, ANNOUNCE, Fact, Message
from sensor.dissect.linklayer import LinkBatch
from sensor.inventory import observe
from sensor.inventory.addresses import address_kind
from sensor.inventory.model import AssetDelta, NameDelta, Source
from sensor.store import Store, StoreBatch

SENDER = "00:1b:1b:00:00:01"


def batch(*facts: Fact, ts: float = 10.0, frame: int = 1) -> LinkBatch:
    message = Message(0, "announce", "discovery", ANNOUNCE, facts=facts)
    return LinkBatch("test", "f.pcap", np.array([frame]), np.array([ts]), [SENDER], [None], [message])


def test_address_kinds():
    assert address_kind("10.0.0.1") == "ip" and address_kind("fe80::1") == "ip"
    assert address_kind("00:1b:1b:00:00:01") == "mac"
    assert address_kind("bacnet:2001:0a") == "link"
    assert address_kind("") is None and address_kind("plc.local") is None and address_kind("00:1B:1B:00:00:01") is None


def test_a_name_about_an_address_makes_no_asset_but_is_kept():
    inventory = observe.Inventory()
    inventory.observe_link(batch(Fact("hostname", ADDRESS, "plc-7.plant.local.", address="10.0.0.7")))
    deltas = inventory.take()
    assert [a.key for a in deltas.assets] == [SENDER]  # only the station that sent the frame
    (name,) = deltas.names
    assert (name.address, name.name, name.proto, name.count) == ("10.0.0.7", "plc-7.plant.local", "test", 1)


@pytest.mark.parametrize("address", ["224.0.0.251", "0.0.0.0", "01:00:5e:00:00:fb", "not-an-address", None])
def test_names_of_groups_and_garbage_are_dropped(address):
    inventory = observe.Inventory()
    inventory.observe_link(batch(Fact("hostname", ADDRESS, "x", address=address)))
    assert inventory.take().names == []


def test_an_identity_about_an_address_makes_that_device_an_asset():
    inventory = observe.Inventory()
    inventory.observe_link(batch(Fact("identity", ADDRESS, {"vendor": "Acme", "model": "X1"}, address="10.0.0.9"),
                                 Fact("role", ADDRESS, "device", address="bacnet:5:0a"),
                                 Fact("identity", ADDRESS, {"vendor": "Acme"}, address="bacnet:5:0a")))
    by_key = {a.key: a for a in inventory.take().assets}
    assert by_key["10.0.0.9"].identity.vendor == "Acme" and by_key["10.0.0.9"].identity.product == "X1"
    station = by_key["bacnet:5:0a"]
    assert station.ip == "" and station.mac_vendor is None and station.roles == {"test_device"}


def test_equal_names_add_up_and_the_earliest_frame_is_the_evidence():
    inventory = observe.Inventory()
    fact = Fact("hostname", ADDRESS, "hmi-1", address="10.0.0.2")
    inventory.observe_link(batch(fact, ts=20.0, frame=9))
    inventory.observe_link(batch(fact, ts=5.0, frame=3))
    (name,) = inventory.take().names
    assert (name.count, name.first_seen, name.last_seen, name.source.frame) == (2, 5.0, 20.0, 3)


def test_the_names_limit_is_told_once_a_flush(monkeypatch):
    monkeypatch.setattr(observe, "MAX_NAMES", 2)
    inventory = observe.Inventory()
    for i in range(4):
        inventory.observe_link(batch(Fact("hostname", ADDRESS, f"n{i}", address="10.0.0.2")))
    hits = inventory.limits_hit()
    assert [code for code, _ in hits] == ["names_table_full"]
    assert len(inventory.take().names) == 2


def name(address: str, text: str, first: float, last: float, proto: str = "dns", frame: int = 1) -> NameDelta:
    return NameDelta(address, text, proto, first, last, 1, Source(proto, "a.pcap", frame))


def test_the_store_joins_names_by_ip_and_mac_newest_first(tmp_path):
    with Store.open(str(tmp_path / "n.db")) as store:
        store.commit(StoreBatch(names=[name("10.0.0.5", "old-name", 1.0, 5.0),
                                       name("00:1b:1b:00:00:05", "plc-5", 2.0, 9.0, proto="dhcp"),
                                       name("10.0.0.99", "never-seen", 1.0, 1.0)]))
        assert store.assets() == []  # names alone make no asset
        store.commit(StoreBatch(assets=[AssetDelta("10.0.0.5", 1.0, 9.0, mac="00:1b:1b:00:00:05")],
                                names=[name("10.0.0.5", "old-name", 7.0, 8.0, frame=4)]))
        (asset,) = store.assets()
        assert asset["hostnames"] == ["plc-5", "old-name"]  # the newer name wins
        old = next(n for n in asset["names"] if n["name"] == "old-name")
        assert (old["first_seen"], old["last_seen"], old["count"], old["source"]["frame"]) == (1.0, 8.0, 2, 1)
        assert [n["name"] for n in asset["names"]] == ["old-name", "plc-5"]  # history in the order first given
        assert {n["address"] for n in store.names()} == {"10.0.0.5", "10.0.0.99", "00:1b:1b:00:00:05"}


def test_a_lease_gives_the_leased_address_its_mac():
    inventory = observe.Inventory()
    inventory.observe_link(batch(Fact("mac", ADDRESS, "00:1b:1b:00:00:21", address="10.20.0.50"),
                                 Fact("mac", ADDRESS, "01:00:5e:00:00:01", address="10.20.0.51")))
    mac, source = inventory.macs.best("10.20.0.50")
    assert mac == "00:1b:1b:00:00:21" and source.detail == "address lease"
    assert inventory.macs.best("10.20.0.51") is None  # a group MAC names no device
    assert [a.key for a in inventory.take().assets] == [SENDER]  # the lease alone makes no asset
