"""A small plant for the report's unit tests: office PC -> jump host -> engineering station -> PLC over
RDP, RDP and Modbus writes, an HMI polling the PLC, and the office PC writing to the PLC directly (a
violation). Built in a real store, so ``gather`` reads it as it reads an analysed capture."""
from __future__ import annotations

from pathlib import Path

from sensor.inventory.model import AssetDelta, CommunicationDelta, Identity, Service, Source
from sensor.store import Store, StoreBatch

OFFICE, JUMP, EWS, HMI, PLC = "10.40.0.7", "10.35.0.10", "10.20.50.5", "10.20.0.10", "10.10.0.5"
T0 = 1_767_600_000.0
POLICY = """\
zones:
  - {name: enterprise, level: 4, networks: [10.40.0.0/16]}
  - {name: dmz, level: 3.5, networks: [10.35.0.0/16]}
  - {name: control, level: 2, networks: [10.20.0.0/16]}
  - {name: engineering, level: 2, networks: [10.20.50.0/24]}
  - {name: field, level: 1, networks: [10.10.0.0/16]}
conduits:
  - {name: remote-access, from: enterprise, to: dmz, services: [rdp], destinations: [10.35.0.10]}
  - {name: jump-to-engineering, from: dmz, to: engineering, services: [rdp]}
  - {name: engineering-to-plc, from: engineering, to: field, services: [modbus]}
  - {name: hmi-to-plc, from: control, to: field, services: [modbus]}
default: deny
"""
TYPES = {OFFICE: "it_host", JUMP: "it_host", EWS: "engineering_station", HMI: "hmi", PLC: "plc"}


def build(folder: Path) -> tuple[Path, Path]:
    """The database and the policy file of the small plant, written into ``folder``."""
    db, policy = folder / "plant.db", folder / "policy.yaml"
    policy.write_text(POLICY)
    batch = StoreBatch()
    for n, (ip, kind) in enumerate(TYPES.items(), 1):
        plc = kind == "plc"
        batch.assets.append(AssetDelta(
            ip=ip, first_seen=T0, last_seen=T0 + 7200, packets=10, bytes=600, mac=f"02:00:00:00:00:{n:02x}",
            services={Service("modbus", "tcp", 502)} if plc else set(),
            identity=Identity("Schneider Electric", "BMX P34 2020", "v2.7", "modbus 43/14") if plc else None,
            sources={"mac": Source("ethernet", "plant.pcap", n)}))
        batch.device_types.append((ip, kind, ["test"]))

    def talk(src: str, dst: str, port: int, protocol: str, at: float, actions: dict[str, int]) -> None:
        batch.communications.append(CommunicationDelta(src, dst, "tcp", port, protocol, T0 + at, T0 + at + 1,
                                                       10, 600, 1, actions, [("plant.pcap", int(at) + 1)]))

    talk(HMI, PLC, 502, "modbus", 0, {"read_holding_registers": 50})
    talk(OFFICE, JUMP, 3389, "tls", 3600, {})
    talk(JUMP, EWS, 3389, "tls", 4200, {})
    talk(EWS, PLC, 502, "modbus", 4800, {"write_single_register": 1})
    talk(OFFICE, PLC, 502, "modbus", 6000, {"write_single_register": 2})
    with Store.open(str(db)) as store:
        store.commit(batch)
    return db, policy
