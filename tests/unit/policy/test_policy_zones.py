"""Zone assignment: the most specific network wins, IPv4 and IPv6, and ``unknown`` for the rest."""
from __future__ import annotations

import ipaddress

from policy_fixtures import EWS, HMI, plant

from sensor.policy.zones import UNKNOWN, Zone, ZoneMap, is_group


def zone_map() -> ZoneMap:
    return ZoneMap(plant().zones)


def test_most_specific_network_wins():
    zones = zone_map()
    assert zones.zone_of(HMI).name == "control"
    assert zones.zone_of(EWS).name == "engineering"


def test_address_in_no_zone_is_unknown():
    assert zone_map().zone_of("192.0.2.1") is UNKNOWN
    assert zone_map().zone_of("not-an-ip") is UNKNOWN


def test_ipv6_and_mapped_ipv4():
    ot = Zone("ot", 1, (ipaddress.ip_network("fd00:10::/32"),))
    it = Zone("it", 4, (ipaddress.ip_network("10.0.0.0/8"),))
    zones = ZoneMap([ot, it])
    assert zones.zone_of("fd00:10::5") is ot
    assert zones.zone_of("fd00:11::5") is UNKNOWN
    assert zones.zone_of("::ffff:10.1.2.3") is it


def test_default_route_network_holds_everything():
    anywhere = Zone("internet", 5, (ipaddress.ip_network("0.0.0.0/0"),))
    plc = Zone("plc", 1, (ipaddress.ip_network("10.10.0.5/32"),))
    zones = ZoneMap([anywhere, plc])
    assert zones.zone_of("8.8.8.8") is anywhere
    assert zones.zone_of("10.10.0.5") is plc


def test_broadcast_takes_the_sender_zone():
    zones = zone_map()
    control = zones.zone_of(HMI)
    assert zones.peer_zone("255.255.255.255", control) is control
    assert zones.peer_zone("224.0.0.251", control) is control
    assert zones.peer_zone("239.1.1.1", control) is UNKNOWN
    assert is_group("239.1.1.1") and is_group("255.255.255.255") and not is_group(HMI)


def test_stored_assignments():
    z = Zone("cell", 1)
    zones = ZoneMap.from_assignments({"10.9.9.9": z})
    assert zones.zone_of("10.9.9.9") is z and zones.zone_of("10.9.9.8") is UNKNOWN
