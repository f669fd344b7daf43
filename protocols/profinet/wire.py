"""PROFINET DCP frames as records: pure functions from bytes (IEC 61158-6-10 §4.3.1).

The payload of an ethertype 0x8892 frame starts with the FrameID; DCP frames carry this after it::

    FrameID(2) ServiceID(1) ServiceType(1) Xid(4) ResponseDelay|Reserved(2) DCPDataLength(2) Blocks...

and each block (padded to an even length, the padding not counted in DCPBlockLength) is::

    Option(1) Suboption(1) DCPBlockLength(2) BlockData...

except in a Get request, whose "blocks" are bare Option/Suboption pairs naming what to read. What a block's
data starts with depends on the service: BlockInfo(2) in responses and Hello, BlockQualifier(2) in a Set
request, nothing in an Identify filter; a control/response block is Option, Suboption, BlockError.
Multi-octet fields are big-endian. Parsers return ``(record, used)``, ``NeedMore`` or raise ``Malformed``.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocols.base import Malformed, NeedMore
from protocols.profinet.codes import (
    DEVICE_ROLES,
    IP_BLOCK_INFO,
    IP_CONFLICT,
    ControlSuboption,
    DeviceSuboption,
    IpSuboption,
    Option,
    ServiceId,
    block_error_name,
    block_name,
)

HEADER = 10  # ServiceID .. DCPDataLength
BLOCK_HEADER = 4
MAX_NAME = 240  # NameOfStation: at most 240 octets (§4.3.1.3.6)


@dataclass(frozen=True, slots=True)
class Block:
    """One DCP block: its option, suboption and data (without padding); a Get request's pairs have no data."""

    option: int
    suboption: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class DcpFrame:
    """One DCP PDU. ``delay`` is the ResponseDelay of an Identify request, the reserved field elsewhere."""

    frame_id: int
    service_id: int
    service_type: int
    xid: int
    delay: int
    blocks: tuple[Block, ...]

    @property
    def is_response(self) -> bool:
        return bool(self.service_type & 0x01)

    @property
    def is_get_request(self) -> bool:
        return self.service_id == ServiceId.GET and not self.is_response


def parse_frame_id(buf: bytes, offset: int = 0) -> tuple[int, int] | NeedMore:
    """The FrameID that tells DCP from cyclic real-time data, alarms and PTCP on the same ethertype."""
    if len(buf) - offset < 2:
        return NeedMore(2 - (len(buf) - offset))
    return int.from_bytes(buf[offset:offset + 2], "big"), 2


def parse_dcp(buf: bytes, offset: int = 0) -> tuple[DcpFrame, int] | NeedMore:
    """A DCP PDU starting with its FrameID at ``offset``; ``used`` stops at DCPDataLength (Ethernet padding follows)."""
    have = len(buf) - offset
    if have < 2 + HEADER:
        return NeedMore(2 + HEADER - have)
    at = offset
    frame_id = int.from_bytes(buf[at:at + 2], "big")
    service_id, service_type = buf[at + 2], buf[at + 3]
    xid = int.from_bytes(buf[at + 4:at + 8], "big")
    delay = int.from_bytes(buf[at + 8:at + 10], "big")
    length = int.from_bytes(buf[at + 10:at + 12], "big")
    if have < 2 + HEADER + length:
        return NeedMore(2 + HEADER + length - have)
    data = bytes(buf[at + 12:at + 12 + length])
    pairs = service_id == ServiceId.GET and not service_type & 0x01
    blocks = parse_pairs(data, at + 12) if pairs else parse_blocks(data, at + 12)
    return DcpFrame(frame_id, service_id, service_type, xid, delay, blocks), 2 + HEADER + length


def parse_pairs(data: bytes, base: int = 0) -> tuple[Block, ...]:
    """The Option/Suboption pairs of a Get request (and of a device-options block)."""
    if len(data) % 2:
        raise Malformed("profinet_dcp_bad_block_length", base + len(data) - 1, "odd length of option pairs")
    return tuple(Block(data[i], data[i + 1]) for i in range(0, len(data), 2))


def parse_blocks(data: bytes, base: int = 0) -> tuple[Block, ...]:
    """Blocks back to back, each padded to an even length; ``base`` only places offsets in the frame."""
    blocks = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < BLOCK_HEADER:
            raise Malformed("profinet_dcp_bad_block_length", base + pos, f"{len(data) - pos} octets left for a block")
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + BLOCK_HEADER + length
        if end > len(data):
            raise Malformed("profinet_dcp_bad_block_length", base + pos, f"block of {length} octets, {len(data) - pos - 4} left")
        blocks.append(Block(data[pos], data[pos + 1], data[pos + BLOCK_HEADER:end]))
        pos = end + (length & 1)
    return tuple(blocks)


# --- block data ---------------------------------------------------------------------------------------------
# ``kind`` says what the data starts with: "info" (responses, Hello), "qualifier" (Set request), "filter"
# (Identify request). Each decoder gets the data after that prefix and returns the block's event fields.

def _need(data: bytes, size: int, block: Block) -> None:
    if len(data) < size:
        raise Malformed("profinet_dcp_bad_block", 0,
                        f"{block_name(block.option, block.suboption)}: {len(data)} octets, {size} needed")


def _ip(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def _text(raw: bytes) -> str:
    """A name up to its first NUL (stations pad names with NULs; tshark reads them the same way)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _ip_parameter(data: bytes, block: Block) -> dict[str, Any]:
    size = 28 if block.suboption == IpSuboption.FULL_IP_SUITE else 12
    _need(data, size, block)
    out: dict[str, Any] = {"ip_address": _ip(data[0:4]), "subnet_mask": _ip(data[4:8]), "gateway": _ip(data[8:12])}
    if size == 28:
        out["dns_servers"] = [_ip(data[i:i + 4]) for i in range(12, 28, 4)]
    return out


def _mac(data: bytes, block: Block) -> dict[str, Any]:
    _need(data, 6, block)
    return {"mac_address": ":".join(f"{b:02x}" for b in data[:6])}


Decoder = Callable[[bytes, Block], dict[str, Any]]


def _ids(prefix: str) -> Decoder:
    def decode(data: bytes, block: Block) -> dict[str, Any]:
        _need(data, 4, block)
        return {f"{prefix}vendor_id": int.from_bytes(data[0:2], "big"),
                f"{prefix}device_id": int.from_bytes(data[2:4], "big")}
    return decode


def _string(name: str) -> Decoder:
    def decode(data: bytes, block: Block) -> dict[str, Any]:
        return {name: _text(data)}
    return decode


def _u16(name: str) -> Decoder:
    def decode(data: bytes, block: Block) -> dict[str, Any]:
        _need(data, 2, block)
        return {name: int.from_bytes(data[0:2], "big")}
    return decode


def _role(data: bytes, block: Block) -> dict[str, Any]:
    _need(data, 1, block)
    return {"device_role": [name for name, bit in DEVICE_ROLES if data[0] & bit], "device_role_details": data[0]}


def _instance(data: bytes, block: Block) -> dict[str, Any]:
    _need(data, 2, block)
    return {"device_instance": [data[0], data[1]]}


def _options(data: bytes, block: Block) -> dict[str, Any]:
    return {"device_options": [block_name(b.option, b.suboption) for b in parse_pairs(data[:len(data) & ~1])]}


def _control_response(data: bytes, block: Block) -> dict[str, Any]:
    _need(data, 3, block)
    return {"result": {"block": block_name(data[0], data[1]), "block_error": block_error_name(data[2])}}


DECODERS: dict[tuple[int, int], Decoder] = {
    (Option.IP, IpSuboption.MAC_ADDRESS): _mac,
    (Option.IP, IpSuboption.IP_PARAMETER): _ip_parameter,
    (Option.IP, IpSuboption.FULL_IP_SUITE): _ip_parameter,
    (Option.DEVICE, DeviceSuboption.DEVICE_VENDOR_VALUE): _string("device_vendor_value"),
    (Option.DEVICE, DeviceSuboption.NAME_OF_STATION): _string("name_of_station"),
    (Option.DEVICE, DeviceSuboption.DEVICE_ID): _ids(""),
    (Option.DEVICE, DeviceSuboption.DEVICE_ROLE): _role,
    (Option.DEVICE, DeviceSuboption.DEVICE_OPTIONS): _options,
    (Option.DEVICE, DeviceSuboption.ALIAS_NAME): _string("alias_name"),
    (Option.DEVICE, DeviceSuboption.DEVICE_INSTANCE): _instance,
    (Option.DEVICE, DeviceSuboption.OEM_DEVICE_ID): _ids("oem_"),
    (Option.DEVICE, DeviceSuboption.STANDARD_GATEWAY): _u16("standard_gateway"),
    (Option.DEVICE, DeviceSuboption.RSI_PROPERTIES): _u16("rsi_properties"),
    (Option.CONTROL, ControlSuboption.SIGNAL): _u16("signal_value"),
    (Option.CONTROL, ControlSuboption.RESPONSE): _control_response,
    (Option.DEVICE_INITIATIVE, 0x01): _u16("device_initiative"),
}
NO_PREFIX = frozenset({(Option.CONTROL, ControlSuboption.RESPONSE)})  # Option, Suboption, BlockError: no BlockInfo


def block_fields(block: Block, kind: str) -> dict[str, Any]:
    """The event fields of one block's data; raises ``Malformed("profinet_dcp_bad_block")`` when it is too short."""
    key = (block.option, block.suboption)
    data = block.data
    out: dict[str, Any] = {}
    if kind != "filter" and key not in NO_PREFIX:
        _need(data, 2, block)
        prefix, data = int.from_bytes(data[0:2], "big"), data[2:]
        if kind == "qualifier":
            out["block_qualifier"] = prefix
        elif block.option == Option.IP:
            out["ip_block_info"] = IP_BLOCK_INFO.get(prefix & 0x03, "reserved")
            if prefix & IP_CONFLICT:
                out["ip_conflict"] = True
    decoder = DECODERS.get(key)
    if decoder is not None:
        out.update(decoder(data, block))
    return out


def valid_station_name(name: str) -> bool:
    """DNS-compatible (§4.3.1.3.6, NameOfStation): dot-separated labels of letters, digits and hyphens, each
    1-63 octets and not starting or ending with a hyphen, 1-240 octets in all. Case is not checked: stations
    in the field announce upper case although the spec asks for lower."""
    if not 0 < len(name) <= MAX_NAME:
        return False
    for label in name.split("."):
        if not 0 < len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in label):
            return False
    return True
