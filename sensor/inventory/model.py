"""What the inventory knows, as plain records the store merges and the policy engine reads.

Every record is a *delta* while the pipeline runs: counters are added, sets are unioned,
``first_seen`` takes the minimum and ``last_seen`` the maximum, and a scalar fact replaces the
stored one only when it is not None. Merging the same delta twice must not double anything, which
is why the pipeline checkpoints per file (see ``sensor.store``).

Every fact carries a ``Source``: which protocol, which file and frame made us believe it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class Source:
    """Why the sensor believes a fact: the protocol message that showed it."""

    proto: str  # "modbus", "arp", "ethernet", "tcp", ...
    file: str
    frame: int
    detail: str = ""  # e.g. "43/14 object 0x01"

    def to_json(self) -> dict:
        return {"proto": self.proto, "file": self.file, "frame": self.frame, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Identity:
    """Vendor/product/firmware a device announced about itself (Modbus 43/14, later S7 SZL, CIP ...)."""

    vendor: str | None
    product: str | None  # product code (Modbus object 0x01)
    revision: str | None  # major.minor revision (object 0x02)
    source: str  # human-readable: "modbus 43/14, file x.pcap frame 12"
    vendor_url: str | None = None
    product_name: str | None = None
    model_name: str | None = None
    user_application_name: str | None = None
    extra: tuple[tuple[int, str], ...] = ()  # every other object id and value, in order
    details: tuple[tuple[str, object], ...] = ()  # what other protocols reveal: model, order_code, firmware...

    def to_json(self) -> dict:
        if self.details:  # a protocol-neutral identity (S7 SZL, CIP Identity, DNP3 attributes...)
            return {"vendor": self.vendor, "product": self.product, "revision": self.revision,
                    "source": self.source, **dict(self.details)}
        return {
            "vendor": self.vendor, "product": self.product, "revision": self.revision, "source": self.source,
            "vendor_url": self.vendor_url, "product_name": self.product_name, "model_name": self.model_name,
            "user_application_name": self.user_application_name,
            "objects": {f"0x{oid:02x}": value for oid, value in self.extra},
        }


@dataclass(frozen=True, slots=True, order=True)
class Service:
    """A service an asset answers on."""

    protocol: str  # "modbus", or "tcp"/"udp" when unidentified
    transport: str  # "tcp" or "udp"
    port: int


@dataclass(slots=True)
class AssetDelta:
    """What one flush learned about one device: an IP address, or (``ip`` empty) a station seen only at layer 2,
    known by its ``mac``."""

    ip: str
    first_seen: float
    last_seen: float
    packets: int = 0
    bytes: int = 0
    mac: str | None = None
    mac_vendor: str | None = None
    roles: set[str] = field(default_factory=set)  # "modbus_server", "modbus_client"
    services: set[Service] = field(default_factory=set)
    unit_ids: set[int] = field(default_factory=set)
    identity: Identity | None = None
    modules: dict[str, dict] = field(default_factory=dict)  # slot -> what the module said of itself
    sources: dict[str, Source] = field(default_factory=dict)  # attribute name -> first evidence

    @property
    def key(self) -> str:
        """What the store keys the asset by: its IP, or its MAC for a station seen only at layer 2."""
        return self.ip or self.mac or ""

    def only_times(self) -> bool:
        """Whether the flush learned nothing of the device but that it was seen (an ARP repeated, a name heard
        again): the store then widens its times in place rather than merging a whole row."""
        return not any(getattr(self, name) for name in _LEARNED)


_LEARNED = tuple(f.name for f in fields(AssetDelta) if f.name not in ("ip", "first_seen", "last_seen"))


@dataclass(slots=True)
class NameDelta:
    """A name a protocol gave an address (an IP, or a MAC), with when and where: names live apart from assets
    because a DNS answer or a DHCP lease names an address the sensor may never see, or see only later; the
    store joins them to the asset with that address, the newest first, and keeps the history."""

    address: str
    name: str
    proto: str
    first_seen: float
    last_seen: float
    count: int
    source: Source  # the earliest message that gave it


@dataclass(slots=True)
class PointDelta:
    """A range of points one client read or wrote on one server (and Modbus unit), in the protocol's own space."""

    client: str
    server: str
    unit_id: int
    function_code: int
    access: str  # "read" or "write"
    table: str  # "coil", "discrete_input", "holding_register", "input_register", "file_record", "fifo"
    address: int
    quantity: int
    count: int
    first_seen: float
    last_seen: float
    last_values: list[int] | None = None  # last values written (writes only)
    source: Source | None = None
    protocol: str = "modbus"
    name: str = ""  # a tag, where the protocol names its points (Logix); "" where it numbers them
    function_name: str | None = None  # None: Modbus's name of function_code


@dataclass(slots=True)
class CommunicationDelta:
    """An initiator talking to a responder on one service: the edge policy checks and path search use."""

    initiator: str
    responder: str
    transport: str  # "tcp" / "udp" / "icmp"
    port: int  # responder port (0 for icmp)
    protocol: str  # "modbus" or the transport name when unidentified
    first_seen: float
    last_seen: float
    packets: int = 0
    bytes: int = 0
    flows: int = 0
    actions: dict[str, int] = field(default_factory=dict)  # function_name -> count ("read_holding_registers")
    sample_frames: list[tuple[str, int]] = field(default_factory=list)  # (file, frame), first few only
    responder_packets: int = 0  # what came back: none at all on TCP means a one-way mirror or a dead peer
    midstream_flows: int = 0  # TCP flows whose start the capture missed
    gap_bytes: int = 0  # bytes missing from reassembled streams: capture loss on this path

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.initiator, self.responder, self.transport, self.port)


@dataclass(slots=True)
class PollStats:
    """Request timing of one client towards one server: enough to tell a steady poller from a person."""

    client: str
    server: str
    requests: int
    reads: int
    writes: int
    diagnostics: int  # FC 8, 43/14 read device id, 17 report server id
    first_seen: float
    last_seen: float
    interval_sum: float  # sum of gaps between consecutive requests
    interval_sumsq: float
    intervals: int
    programs: int = 0  # program upload/download, firmware, mode changes, restarts
    gaps: list[int] = field(default_factory=list)  # histogram of request gaps, bins of sensor.inventory.timing
    cycle_sum: float = 0.0  # sum of the gaps between poll cycles (above timing.BURST_GAP_S): their mean is the period
    cycle_count: int = 0
