"""Small builders for pipeline deltas, so each store test states only the fields it is about."""
from __future__ import annotations

from sensor.inventory.model import AssetDelta, CommunicationDelta, NameDelta, PointDelta, PollStats, Source


def asset(ip: str = "10.0.0.1", first: float = 100.0, last: float = 200.0, **fields) -> AssetDelta:
    return AssetDelta(ip=ip, first_seen=first, last_seen=last, **fields)


def name(address: str = "10.0.0.1", text: str = "plc", first: float = 100.0, last: float = 200.0,
         proto: str = "dhcp", frame: int = 1, count: int = 1) -> NameDelta:
    return NameDelta(address, text, proto, first, last, count, Source(proto, "a.pcap", frame))


def point(address: int = 0, first: float = 100.0, last: float = 200.0, **fields) -> PointDelta:
    base = dict(client="10.0.0.1", server="10.0.0.2", unit_id=1, function_code=3, access="read",
                table="holding_register", quantity=2, count=1)
    return PointDelta(address=address, first_seen=first, last_seen=last, **{**base, **fields})


def communication(first: float = 100.0, last: float = 200.0, **fields) -> CommunicationDelta:
    base = dict(initiator="10.0.0.1", responder="10.0.0.2", transport="tcp", port=502, protocol="modbus")
    return CommunicationDelta(first_seen=first, last_seen=last, **{**base, **fields})


def poll(first: float = 100.0, last: float = 200.0, **fields) -> PollStats:
    base = dict(client="10.0.0.1", server="10.0.0.2", requests=1, reads=1, writes=0, diagnostics=0,
                interval_sum=0.0, interval_sumsq=0.0, intervals=0)
    return PollStats(first_seen=first, last_seen=last, **{**base, **fields})


def alert(first: float = 100.0, last: float | None = None, **fields) -> dict:
    base = dict(id="a1", rule="modbus_write", category="signature", severity=5, src="10.0.0.1",
                dst="10.0.0.2", proto="modbus", summary="a write", evidence={"seen": 1}, frames=[], count=1)
    return {**base, "ts": first, "last_seen": first if last is None else last, **fields}


def source(frame: int, proto: str = "modbus", file: str = "a.pcap") -> Source:
    return Source(proto=proto, file=file, frame=frame)
