"""PROFINET DCP numbers and their names (IEC 61158-6-10 §4.3, "Discovery and basic Configuration Protocol"),
the package's one action table and its weird codes.

Every ``*_name`` function is total: unknown values degrade to ``unknown_0x..`` and never raise, because the
values come straight off the wire. Names follow the spec's terms in snake_case (``name_of_station``,
``device_vendor_value``), which are also the names Wireshark's pn_dcp dissector uses.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType

from protocols.base import namer, unknown_name

ETHERTYPE = 0x8892  # PROFINET real-time (IEC 61158-6-10 §4.1): DCP rides on it, identified by its FrameID


class FrameId(IntEnum):
    """The FrameIDs of acyclic DCP frames (IEC 61158-6-10 §4.3.1.3.1, Table "FrameID")."""

    HELLO = 0xFEFC  # DCP-Hello-ReqPDU, multicast 01:0e:cf:00:00:01
    GET_SET = 0xFEFD  # DCP-Get/Set request and response, unicast
    IDENTIFY_REQUEST = 0xFEFE  # DCP-Identify-ReqPDU, multicast 01:0e:cf:00:00:00 (or unicast)
    IDENTIFY_RESPONSE = 0xFEFF  # DCP-Identify-ResPDU, unicast to the requester


DCP_FRAME_IDS = frozenset(int(f) for f in FrameId)


class ServiceId(IntEnum):
    """DCP ServiceID (§4.3.1.3.2)."""

    GET = 0x03
    SET = 0x04
    IDENTIFY = 0x05
    HELLO = 0x06


SERVICE_OF_FRAME = {FrameId.HELLO: {ServiceId.HELLO}, FrameId.GET_SET: {ServiceId.GET, ServiceId.SET},
                    FrameId.IDENTIFY_REQUEST: {ServiceId.IDENTIFY}, FrameId.IDENTIFY_RESPONSE: {ServiceId.IDENTIFY}}
"""Which services each FrameID carries; another combination is ``profinet_dcp_service_mismatch``."""


class ServiceType(IntEnum):
    """DCP ServiceType (§4.3.1.3.3): bit 0 says response, bit 2 "request not supported"."""

    REQUEST = 0x00
    RESPONSE_SUCCESS = 0x01
    RESPONSE_UNSUPPORTED = 0x05


class Option(IntEnum):
    """Option of a DCP block (§4.3.1.3.5, Table "Option")."""

    IP = 0x01
    DEVICE = 0x02  # device properties
    DHCP = 0x03
    CONTROL = 0x05
    DEVICE_INITIATIVE = 0x06
    NME_DOMAIN = 0x07
    ALL_SELECTOR = 0xFF


class IpSuboption(IntEnum):
    """Suboptions of option IP (§4.3.1.3.6)."""

    MAC_ADDRESS = 0x01
    IP_PARAMETER = 0x02  # IPAddress, Subnetmask, StandardGateway
    FULL_IP_SUITE = 0x03  # the same plus four DNS server addresses


class DeviceSuboption(IntEnum):
    """Suboptions of option device properties (§4.3.1.3.6)."""

    DEVICE_VENDOR_VALUE = 0x01  # "Manufacturer specific", the type of station
    NAME_OF_STATION = 0x02
    DEVICE_ID = 0x03  # VendorID, DeviceID
    DEVICE_ROLE = 0x04
    DEVICE_OPTIONS = 0x05  # the (option, suboption) pairs the device supports
    ALIAS_NAME = 0x06
    DEVICE_INSTANCE = 0x07
    OEM_DEVICE_ID = 0x08
    STANDARD_GATEWAY = 0x09
    RSI_PROPERTIES = 0x0A


class ControlSuboption(IntEnum):
    """Suboptions of option control (§4.3.1.3.6)."""

    START_TRANSACTION = 0x01
    END_TRANSACTION = 0x02
    SIGNAL = 0x03  # flash the device's LED so a person can find it
    RESPONSE = 0x04  # the result of one block of a Set (Option, Suboption, BlockError)
    FACTORY_RESET = 0x05
    RESET_TO_FACTORY = 0x06


class BlockError(IntEnum):
    """BlockError of a control/response block (§4.3.1.3.7)."""

    OK = 0x00
    OPTION_NOT_SUPPORTED = 0x01
    SUBOPTION_NOT_SUPPORTED = 0x02
    SUBOPTION_NOT_SET = 0x03
    RESOURCE_ERROR = 0x04
    SET_NOT_POSSIBLE_BY_LOCAL_REASONS = 0x05
    SET_NOT_POSSIBLE_IN_OPERATION = 0x06


DEVICE_ROLES = (("io_device", 0x01), ("io_controller", 0x02), ("io_multidevice", 0x04), ("io_supervisor", 0x08))
"""DeviceRoleDetails bits (§4.3.1.3.6, device role): what the station can be in an application relation."""

IP_BLOCK_INFO = {0: "ip_not_set", 1: "ip_set", 2: "ip_set_by_dhcp"}
"""BlockInfo bits 0-1 of an IP block in a response (§4.3.1.3.6); bit 7 flags an address conflict."""
IP_CONFLICT = 0x80

service_name = namer(ServiceId, "a DCP ServiceID")
service_type_name = namer(ServiceType, "a DCP ServiceType")
block_error_name = namer(BlockError, "a DCP BlockError")
frame_id_name = namer(FrameId, "a DCP FrameID")
_option_name = namer(Option, "a DCP option")
_SUBOPTIONS: dict[int, dict[int, str]] = {
    option: {int(s): s.name.lower() for s in table}
    for option, table in ((Option.IP, IpSuboption), (Option.DEVICE, DeviceSuboption), (Option.CONTROL, ControlSuboption))
}
_SUBOPTIONS[Option.DEVICE_INITIATIVE] = {0x01: "device_initiative"}
_SUBOPTIONS[Option.ALL_SELECTOR] = {0xFF: "all"}


def block_name(option: int, suboption: int) -> str:
    """``ip/ip_parameter``, ``device/name_of_station``, ``dhcp/option_61``: a block's option and suboption.

    DHCP's suboptions are DHCP option codes (RFC 2132), so they are named by number."""
    if option == Option.DHCP:
        return f"dhcp/option_{suboption}"
    names = _SUBOPTIONS.get(option, {})
    return f"{_option_name(option)}/{names.get(suboption) or unknown_name(suboption)}"


# --- the one action table ---------------------------------------------------------------------------------
# A Set is named after what it sets (``set.ip``, ``set.name_of_station``), its control blocks apart:
# transactions frame the change, the other control suboptions are the change.
SET_NAMES: dict[tuple[int, int | None], str] = {
    (Option.IP, IpSuboption.IP_PARAMETER): "set.ip", (Option.IP, IpSuboption.FULL_IP_SUITE): "set.ip",
    (Option.DEVICE, DeviceSuboption.NAME_OF_STATION): "set.name_of_station",
    (Option.DEVICE, DeviceSuboption.ALIAS_NAME): "set.alias_name",
    (Option.DHCP, None): "set.dhcp",
    (Option.CONTROL, ControlSuboption.SIGNAL): "set.signal",
    (Option.CONTROL, ControlSuboption.FACTORY_RESET): "set.factory_reset",
    (Option.CONTROL, ControlSuboption.RESET_TO_FACTORY): "set.reset_to_factory",
    (Option.DEVICE_INITIATIVE, 0x01): "set.device_initiative",
}
TRANSACTION_BLOCKS = frozenset({(Option.CONTROL, ControlSuboption.START_TRANSACTION),
                                (Option.CONTROL, ControlSuboption.END_TRANSACTION)})

ACTIONS: Mapping[str, str] = MappingProxyType({
    # Identify and Hello find stations and say who they are; Get reads a station's parameters.
    "identify": "discovery",
    "hello": "discovery",
    "get": "read",
    # Any Set writes the station's configuration. Setting its IP parameters or NameOfStation is a
    # reconfiguration of its network identity: the IO-Controller finds the station by name and address, so
    # the running application relation breaks. It stays ``write`` (a conduit with ``access: read`` refuses it,
    # which is the point); detection tells the reconfigurations apart by ``function_name``.
    "set": "write",
    "set.ip": "write",
    "set.name_of_station": "write",
    "set.alias_name": "write",
    "set.dhcp": "write",
    "set.device_initiative": "write",
    # Flashing the LED helps a person find the device: a diagnostic aid that changes nothing.
    "set.signal": "diagnostics",
    # Both resets return the station to its delivery state (names and addresses erased) and restart its
    # communication: the vocabulary's nearest word is ``restart``, the most disruptive short of a program change.
    "set.factory_reset": "restart",
    "set.reset_to_factory": "restart",
})


def set_name(blocks: list[tuple[int, int]]) -> str:
    """The function name of a Set request or response, from the (option, suboption) of its blocks."""
    for option, suboption in blocks:
        if (option, suboption) in TRANSACTION_BLOCKS:
            continue
        name = SET_NAMES.get((option, suboption)) or SET_NAMES.get((option, None))
        return name or "set"
    return "set"


def action_of(function_name: str) -> str:
    return ACTIONS.get(function_name, "other")


WEIRDS: Mapping[str, str] = MappingProxyType({
    "profinet_frame_truncated": "an ethertype 0x8892 frame too short for its FrameID",
    "profinet_dcp_truncated": "a DCP frame shorter than its 10-octet header or its DCPDataLength (§4.3.1.3)",
    "profinet_dcp_bad_block_length": "a block's DCPBlockLength runs past the DCPDataLength (§4.3.1.3.4)",
    "profinet_dcp_bad_block": "a block too short for what its option and suboption carry (IP parameter, "
                              "device ID, device role, control response...)",
    "profinet_dcp_service_mismatch": "a ServiceID the FrameID does not carry (an Identify on the Get/Set FrameID, ...)",
    "profinet_dcp_unknown_service_type": "a ServiceType other than request, response success or "
                                         "response not supported (§4.3.1.3.3)",
    "profinet_dcp_bad_name_of_station": "a NameOfStation or AliasName that is not DNS-compatible labels of letters, "
                                        "digits and hyphens, at most 240 octets (§4.3.1.3.6): crafted input such "
                                        "as format strings",
})
