"""Assets keyed by MAC (migration 0006): a station seen only at layer 2 is its own asset with ``ip`` null, and
joins the IP asset with its MAC once there is one, however the two were split across commits."""
from __future__ import annotations

import sqlite3
from contextlib import closing

from sqlite_utils import Database

from sensor.inventory.model import AssetDelta, Identity, NameDelta, Source
from sensor.store import Store, StoreBatch, schema

MAC = "08:00:06:93:cf:32"
SRC = Source("profinet", "f.pcap", 2)


def station(mac: str = MAC, ip_address: str | None = None) -> AssetDelta:
    details = (("name", "plc-1"),) + ((("ip_address", ip_address),) if ip_address else ())
    return AssetDelta(ip="", first_seen=1.0, last_seen=2.0, packets=1, mac=mac, mac_vendor="SIEMENS AG",
                      roles={"profinet_io_device"},
                      identity=Identity("Siemens", "S7-1500", None, "profinet, f.pcap frame 2", details=details),
                      sources={"identity": SRC})


NAME = NameDelta(MAC, "plc-1", "profinet", 1.0, 2.0, 1, SRC)  # a station's name is given to its MAC


def host(ip: str, mac: str | None = MAC, identity: Identity | None = None) -> AssetDelta:
    return AssetDelta(ip=ip, first_seen=5.0, last_seen=6.0, packets=10, mac=mac, identity=identity,
                      sources={"mac": Source("arp", "f.pcap", 9)})


def test_an_old_database_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        db = Database(conn)
        conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for name, fn in schema.MIGRATIONS:
            if name == "0006_assets_keyed_by_mac":
                break
            fn(db)
            conn.execute("INSERT INTO _migrations VALUES (?, 'then')", [name])
        conn.execute(
            "INSERT INTO assets (ip, mac, hostnames, roles, services, unit_ids, first_seen, last_seen, packets, bytes,"
            " sources, zone) VALUES ('10.0.0.2', ?, '[\"plc-old\", \"other\"]', '[\"modbus_server\"]', '[]', '[1]',"
            " 1.0, 2.0, 3, 4, ?, 'control')",
            [MAC, '{"hostname:plc-old": {"proto": "profinet", "file": "f.pcap", "frame": 4, "detail": ""}}'])
    with Store.open(str(path)) as store:
        (asset,) = store.assets()
        assert (asset["ip"], asset["mac"], asset["roles"], asset["zone"], asset["packets"]) == \
            ("10.0.0.2", MAC, ["modbus_server"], "control", 3)
        assert store.db.execute("SELECT key FROM assets").fetchall() == [("10.0.0.2",)]
        assert sorted(asset["hostnames"]) == ["other", "plc-old"]  # moved to the names table (0009), dated
        by_name = {n["name"]: n for n in asset["names"]}
        assert by_name["plc-old"]["source"] == {"proto": "profinet", "file": "f.pcap", "frame": 4, "detail": ""}
        assert by_name["other"]["proto"] == "unknown" and by_name["other"]["last_seen"] == 2.0
        store.commit(StoreBatch(assets=[host("10.0.0.2")]))
        assert store.assets()[0]["packets"] == 13


def test_a_layer_2_station_is_an_asset_keyed_by_its_mac(tmp_path):
    with Store.open(str(tmp_path / "s.db")) as store:
        store.commit(StoreBatch(assets=[station(), station("00:1b:1b:00:00:01"), host("10.0.0.9", mac=None)],
                                names=[NAME]))
        assets = store.assets()
        assert [(a["ip"], a["mac"]) for a in assets] == [("10.0.0.9", None), (None, "00:1b:1b:00:00:01"), (None, MAC)]
        assert assets[2]["identity"]["name"] == "plc-1" and assets[2]["hostnames"] == ["plc-1"]


def test_the_station_joins_the_ip_asset_with_its_mac_in_a_later_commit(tmp_path):
    with Store.open(str(tmp_path / "s.db")) as store:
        store.commit(StoreBatch(assets=[station()]))
        store.commit(StoreBatch(assets=[host("10.0.0.2")]))
        (asset,) = store.assets()
        assert (asset["ip"], asset["mac"], asset["packets"], asset["first_seen"]) == ("10.0.0.2", MAC, 11, 1.0)
        assert asset["identity"]["name"] == "plc-1" and asset["roles"] == ["profinet_io_device"]
        assert asset["sources"]["mac"]["proto"] == "arp" and asset["sources"]["identity"]["proto"] == "profinet"


def test_the_ip_assets_own_identity_wins(tmp_path):
    own = Identity("Schneider", "M340", "2.1", "modbus 43/14, f.pcap frame 1")
    with Store.open(str(tmp_path / "s.db")) as store:
        store.commit(StoreBatch(assets=[host("10.0.0.2", identity=own), station()], names=[NAME]))
        (asset,) = store.assets()
        assert asset["identity"]["vendor"] == "Schneider" and asset["hostnames"] == ["plc-1"]


def test_of_two_ips_with_the_mac_the_announced_one_is_chosen(tmp_path):
    with Store.open(str(tmp_path / "s.db")) as store:
        store.commit(StoreBatch(assets=[host("10.0.0.2"), host("10.0.0.3"), station()]))
        assert len(store.assets()) == 3  # nothing says which of the two it is
        store.commit(StoreBatch(assets=[station(ip_address="10.0.0.3")]))
        by_ip = {a["ip"]: a for a in store.assets()}
        assert set(by_ip) == {"10.0.0.2", "10.0.0.3"} and by_ip["10.0.0.3"]["identity"]["name"] == "plc-1"
