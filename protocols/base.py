"""The contract every protocol package keeps (DESIGN.md, "A protocol package").

Parsers are pure functions ``parse(buf, offset) -> (record, used)``. They either return a record
with the number of bytes consumed, return ``NeedMore`` when the buffer ends before the message
does, or raise ``Malformed(code, offset)`` when the bytes cannot be this protocol. Codes are stable
snake_case names (``modbus_bad_length``) because users grep logs and SIEM rules for them.

What a package hands the sensor is protocol-neutral:

- a ``Message`` per protocol message: function code and name in the spec's words, its ``action``
  from the one vocabulary below, its direction, a key that pairs a response with its request, the
  protocol's own event fields, and the ``Fact``s it teaches the inventory;
- a ``ProtocolSpec`` saying where the protocol lives (transport/port pairs, ethertypes), how to
  recognise it (``probe``), how to cut messages out of a byte stream (``framer``) or a datagram
  (``datagram``), its action table and its weird codes (both documented in the README).

``protocols`` imports nothing from ``sensor``.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Protocol


class Malformed(Exception):
    """The bytes at ``offset`` are not a valid message; ``code`` names why."""

    def __init__(self, code: str, offset: int = 0, detail: str = "") -> None:
        super().__init__(f"{code} at offset {offset}" + (f": {detail}" if detail else ""))
        self.code = code
        self.offset = offset
        self.detail = detail


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The message is incomplete; at least ``needed`` more bytes are required."""

    needed: int


def unknown_name(code: int) -> str:
    """The name of a value no table knows: ``unknown_0x5a`` (DESIGN.md: unknown codes degrade, never raise)."""
    return f"unknown_0x{code:02x}" if code >= 0 else f"unknown_{code}"


def namer(codes: type[IntEnum], what: str) -> Callable[[int], str]:
    """A total name function for an enum of wire values: unknown values degrade to ``unknown_0x..``."""
    names = {int(c): c.name.lower() for c in codes}

    def name(value: int) -> str:
        known = names.get(value)
        return known if known is not None else unknown_name(value)

    name.__doc__ = f"snake_case name of {what}."
    return name


SNAP_BASE = 1 << 40  # above every ethertype: an 802.3 LLC/SNAP frame's (OUI, PID) as one link-layer id


def snap_id(oui: int, pid: int) -> int:
    """The link-layer id of an LLC/SNAP (OUI, PID), in the space decode tags frames with (beside ethertypes)."""
    return SNAP_BASE | (oui << 16) | pid


# -- the vocabulary of control actions (DESIGN.md): policy and detection read these, never function names --
ACTIONS = ("read", "write", "operate", "program_upload", "program_download", "firmware_update", "mode_change",
           "restart", "diagnostics", "discovery", "file_transfer", "time_sync", "session", "other")
READ_ONLY_ACTIONS = frozenset({"read", "discovery", "session"})  # what a conduit with ``access: read`` admits

# -- directions of a message (DESIGN.md "Events") --
REQUEST, RESPONSE, ANNOUNCE, UNSOLICITED = "request", "response", "announce", "unsolicited"
ADDRESS = "address"  # a Fact's ``about`` when it concerns the device at ``Fact.address``, not an end of the message


class Verdict(Enum):
    """A probe's answer about a flow's first payload."""

    ACCEPT = "accept"
    REJECT = "reject"
    MORE = "more"  # not enough bytes yet to say


@dataclass(frozen=True, slots=True)
class Fact:
    """Something a message teaches the inventory about one of its two ends.

    ``about`` is ``"server"`` or ``"client"`` (the sides of the flow as the protocol sees them),
    ``"src"``/``"dst"`` for announcements, or ``"address"`` for a device that is not an end of the
    message and is named by ``address`` (an IP address, or a MAC address ``aa:bb:cc:dd:ee:ff``): the
    address a DNS answer or a DHCP lease names, a device behind a router that forwarded its message.
    A hostname about an address never makes an asset by itself; it names the asset when one is seen.
    ``kind`` and ``value``:

    - ``identity``: a mapping with any of vendor, product, model, order_code, firmware, revision,
      serial, name, plus protocol-specific keys (``vendor_id``, ``product_code``...);
    - ``role``: the role's name in the protocol's words (``server``, ``outstation``, ``scanner``...);
    - ``point``: a ``Point``;
    - ``hostname``: the name;
    - ``mac``: the MAC (``aa:bb:cc:dd:ee:ff``) of the device at ``address`` (an IP), as a DHCP lease binds them;
    - ``module``: a mapping describing one card of a chassis (slot, and identity keys).
    """

    kind: str
    about: str
    value: Any
    address: str | None = None  # with ``about="address"``: the device the fact is about


@dataclass(frozen=True, slots=True)
class Point:
    """A data point in the protocol's own address space, as read or written.

    ``space`` names the table (Modbus ``holding_registers``, S7 ``DB1``, DNP3 ``g30``, CIP
    ``class 0x04``); ``address`` is a number where the space is numbered (None for named tags);
    ``name`` a tag name where the space is named (Logix tags). ``values`` are the values written,
    when the message carries them.
    """

    space: str
    address: int | None
    quantity: int
    access: str  # "read" or "write"
    name: str | None = None
    values: tuple[Any, ...] | None = None


@dataclass(slots=True)
class Message:
    """One protocol message, protocol-neutral on the outside.

    ``pair_key`` is what a response shares with its request within one flow (Modbus unit and
    transaction id, S7 PDU reference, DNP3 application sequence); None when the protocol does not
    pair. ``fields`` are the protocol's own event fields, in the spec's words.
    """

    function_code: int
    function_name: str
    action: str
    direction: str  # REQUEST, RESPONSE, ANNOUNCE or UNSOLICITED
    pair_key: Hashable | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    facts: tuple[Fact, ...] = ()
    weird: str | None = None  # the first oddity in an otherwise readable message


class Framer(Protocol):
    """Per-direction framing state for a byte stream (fed reassembled data in order, told about gaps)."""

    @property
    def pending(self) -> int:
        """Bytes held for a message whose end has not arrived."""

    def feed(self, data: bytes, tag: Any) -> list[tuple[Any, Message | Malformed]]:
        """Every message completed by ``data``, with the tag of the segment that completed it."""

    def gap(self) -> None:
        """Bytes were lost before the next ``feed``: drop any partial message and resynchronise."""


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    """How the sensor finds, cuts and understands a protocol.

    ``ports`` are ``(transport, port)`` pairs; a protocol on TCP and UDP lists both; those of them in
    ``shared_ports`` are claimed only provisionally (S7comm and IEC 61850 MMS share TCP 102). ``probe`` looks
    at a flow's first payload on a port that is not the protocol's own (and where a port is shared)
    and may say ``MORE``. ``framer(is_request)`` makes the framing state of one direction of a TCP
    stream (``is_request``: the direction from the client to the server side). ``datagram(payload,
    is_request)`` parses one UDP or link-layer payload into messages. ``complete(request, response)``,
    where a reply alone cannot say what it answers (a CIP reply does not repeat its path), returns the
    response with what only the pair tells. ``actions`` is the package's one action table (function
    name -> action), ``weirds`` its weird codes with what each means.
    """

    name: str
    ports: frozenset[tuple[str, int]] = frozenset()
    probe: Callable[[bytes], Verdict] | None = None
    framer: Callable[[bool], Framer] | None = None
    datagram: Callable[[bytes, bool], list[Message]] | None = None
    shared_ports: frozenset[tuple[str, int]] = frozenset()  # ports another protocol uses too: the payload decides
    ethertypes: frozenset[int] = frozenset()
    snap_ids: frozenset[tuple[int, int]] = frozenset()  # (OUI, PID) of 802.3 LLC/SNAP frames, e.g. CDP (0x00000C, 0x2000)
    complete: Callable[[Message, Message], Message] | None = None
    actions: Mapping[str, str] = field(default_factory=dict)
    weirds: Mapping[str, str] = field(default_factory=dict)
    industrial: bool = True  # False for the IT protocols that name hosts: their requests do not type a device

    @property
    def link_ids(self) -> frozenset[int]:
        """What decode tags this protocol's frames with: its ethertypes and its SNAP ids (``snap_id``)."""
        return self.ethertypes | frozenset(snap_id(oui, pid) for oui, pid in self.snap_ids)

    @property
    def transports(self) -> frozenset[str]:
        return frozenset(transport for transport, _ in self.ports)

    def ports_on(self, transport: str) -> frozenset[int]:
        return frozenset(port for t, port in self.ports if t == transport)
