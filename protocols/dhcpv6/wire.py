"""DHCPv6 messages as records: pure functions from bytes (RFC 8415 §8, §9, §21).

Client/server message (§8) and relay message (§9)::

    msg-type(1) transaction-id(3) options...
    msg-type(1) hop-count(1) link-address(16) peer-address(16) options...

and each option (§21.1) is ``option-code(2) option-len(2) option-data``. A relay message carries the message it
relays in its Relay Message option (9), which may itself be a relay message: the chain is read to its end, at
most HOP_COUNT_LIMIT deep. Multi-octet fields are big-endian. ``parse_dhcpv6`` returns ``(record, used)`` or
raises ``Malformed``; a datagram is whole, so it never needs more.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from protocols.base import Malformed
from protocols.dhcpv6.codes import HOP_COUNT_LIMIT, MAX_OPTIONS, MessageType, Option

HEADER = 4
RELAY_HEADER = 34
RELAYS = (MessageType.RELAY_FORW, MessageType.RELAY_REPL)


@dataclass(frozen=True, slots=True)
class Relay:
    """What one relay agent added (§9): its hop count, the link the client is on, and the client's address."""

    msg_type: int
    hop_count: int
    link_address: str
    peer_address: str


@dataclass(frozen=True, slots=True)
class Dhcpv6Message:
    """The innermost client/server message of a datagram, with the relays it passed through (outermost first).

    ``options`` are (code, data) in wire order, repeats kept (a client may ask for several IA_NA); ``weird`` is
    the first oddity met while reading (the readable part is still given)."""

    msg_type: int
    transaction_id: int | None  # None when the chain ends in a relay message without its Relay Message option
    options: tuple[tuple[int, bytes], ...]
    relays: tuple[Relay, ...]
    weird: str | None


def ip6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


class OptionReader:
    """Reads options; one reader per datagram bounds their number (MAX_OPTIONS) over every depth."""

    def __init__(self) -> None:
        self.count = 0
        self.weird: str | None = None

    def note(self, code: str) -> None:
        self.weird = self.weird or code

    def read(self, data: bytes) -> list[tuple[int, bytes]]:
        out = []
        pos = 0
        while pos < len(data):
            if self.count >= MAX_OPTIONS:
                self.note("dhcpv6_too_many_options")
                break
            if pos + 4 > len(data):
                self.note("dhcpv6_option_truncated")
                break
            code, size = int.from_bytes(data[pos:pos + 2], "big"), int.from_bytes(data[pos + 2:pos + 4], "big")
            if pos + 4 + size > len(data):
                self.note("dhcpv6_option_truncated")
                break
            out.append((code, data[pos + 4:pos + 4 + size]))
            self.count += 1
            pos += 4 + size
        return out


def parse_dhcpv6(buf: bytes, offset: int = 0) -> tuple[Dhcpv6Message, int]:
    """The message at ``offset`` (the whole rest of the datagram), relays unwrapped."""
    data = bytes(buf[offset:])
    reader = OptionReader()
    relays: list[Relay] = []
    while True:
        if len(data) < HEADER:
            if relays:  # the relayed message is unreadable: keep what the relays said
                reader.note("dhcpv6_truncated")
                return Dhcpv6Message(relays[-1].msg_type, None, (), tuple(relays), reader.weird), len(buf) - offset
            raise Malformed("dhcpv6_truncated", offset, f"{len(data)} octets")
        msg_type = data[0]
        if msg_type not in RELAYS:
            options = reader.read(data[HEADER:])
            return (Dhcpv6Message(msg_type, int.from_bytes(data[1:4], "big"), tuple(options), tuple(relays),
                                  reader.weird), len(buf) - offset)
        if len(relays) >= HOP_COUNT_LIMIT:
            reader.note("dhcpv6_relay_too_deep")
            return Dhcpv6Message(relays[-1].msg_type, None, (), tuple(relays), reader.weird), len(buf) - offset
        if len(data) < RELAY_HEADER:
            if relays:
                reader.note("dhcpv6_truncated")
                return Dhcpv6Message(relays[-1].msg_type, None, (), tuple(relays), reader.weird), len(buf) - offset
            raise Malformed("dhcpv6_truncated", offset, f"relay message of {len(data)} octets")
        relays.append(Relay(msg_type, data[1], ip6(data[2:18]), ip6(data[18:34])))
        options = reader.read(data[RELAY_HEADER:])
        inner = next((value for code, value in options if code == Option.RELAY_MSG), None)
        if inner is None:
            reader.note("dhcpv6_no_relay_message")
            return (Dhcpv6Message(msg_type, None, tuple(options), tuple(relays), reader.weird),
                    len(buf) - offset)
        data = inner
