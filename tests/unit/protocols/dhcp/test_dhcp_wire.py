"""DHCPv4/BOOTP and DHCPv6 packages on crafted payloads: names, limits, overload, relays, and the facts."""
from __future__ import annotations

import struct

import pytest
from dhcp_frames import (
    bootp,
    dhcp,
    dhcpv6,
    duid_ll,
    duid_llt,
    fqdn,
    hostname,
    ia_na,
    option,
    relay,
    v6_fqdn,
    v6_option,
)

from protocols.base import REQUEST, RESPONSE, Malformed
from protocols.dhcp import datagram
from protocols.dhcp.codes import MAX_OPTIONS
from protocols.dhcpv6 import datagram as datagram6
from protocols.dhcpv6.codes import HOP_COUNT_LIMIT

MAC = "00:1b:1b:00:00:01"


def facts(message, kind):
    return {(f.about, f.address, f.value if not isinstance(f.value, dict) else tuple(sorted(f.value.items())))
            for f in message.facts if f.kind == kind}


def test_discover_names_the_mac_with_host_name_fqdn_and_fingerprint():
    (m,) = datagram(dhcp(1, hostname("plc-eng-1"), fqdn("plc-eng-1.plant.example"), option(55, bytes([1, 3, 6, 15])),
                         option(60, b"MSFT 5.0"), option(61, b"\x01" + bytes.fromhex("001b1b000001"))), True)
    assert (m.function_name, m.action, m.direction) == ("discover", "discovery", REQUEST)
    assert m.fields["hostname"] == "plc-eng-1" and m.fields["client_fqdn"] == "plc-eng-1.plant.example"
    assert m.fields["client_fqdn_flag_names"] == ["s", "e"]
    assert m.fields["parameter_request_list"] == "1,3,6,15" and m.fields["chaddr"] == MAC
    names = facts(m, "hostname")
    assert ("address", MAC, "plc-eng-1") in names and ("address", MAC, "plc-eng-1.plant.example") in names
    assert ("src", None, "plc-eng-1") in names  # dropped by the inventory while the source is 0.0.0.0
    (identity,) = [f.value for f in m.facts if f.kind == "identity" and f.address == MAC]
    assert identity == {"dhcp_vendor_class": "MSFT 5.0", "dhcp_fingerprint": "1,3,6,15",
                        "dhcp_client_id": "01:00:1b:1b:00:00:01"}
    assert m.weird is None


def test_ack_binds_the_mac_to_yiaddr_and_names_it():
    (m,) = datagram(dhcp(5, option(54, bytes([10, 0, 0, 1])), option(51, struct.pack(">I", 3600)), hostname("hmi-2"),
                         yiaddr="10.0.0.50"), False)
    assert (m.function_name, m.direction, m.fields["lease_time"]) == ("ack", RESPONSE, 3600)
    assert ("address", "10.0.0.50", MAC) in facts(m, "mac")
    assert {("address", "10.0.0.50", "hmi-2"), ("address", MAC, "hmi-2")} <= facts(m, "hostname")
    assert ("address", "10.0.0.1", "server") in facts(m, "role")


def test_inform_from_a_configured_host_is_about_ciaddr_too():
    (m,) = datagram(dhcp(8, hostname("historian"), ciaddr="10.0.0.9"), True)
    assert ("address", "10.0.0.9", "historian") in facts(m, "hostname")


def test_relayed_request_names_no_source_and_the_relay_gets_its_role():
    (m,) = datagram(dhcp(3, hostname("rtu-7"), giaddr="10.9.0.1"), True)
    assert not any(f.about == "src" for f in m.facts)
    assert ("address", "10.9.0.1", "relay_agent") in facts(m, "role")


def test_plain_bootp_without_option_53():
    (m,) = datagram(bootp(op=2, yiaddr="10.0.0.7", options=None), False)
    assert (m.function_name, m.function_code, m.fields["msg_type"]) == ("bootreply", 0, None)
    assert ("address", "10.0.0.7", MAC) in facts(m, "mac")


def test_option_overload_reads_file_and_sname():
    file_field = option(12, b"in-file") + b"\xff"
    (m,) = datagram(bootp(options=option(53, b"\x01") + option(52, b"\x01"), file=file_field), True)
    assert m.fields["hostname"] == "in-file" and m.fields["option_overload"] == 1 and "file" not in m.fields


def test_bounded_options_and_bad_lengths():
    (m,) = datagram(bootp(options=option(53, b"\x01") + option(200, b"") * (MAX_OPTIONS + 10)), True)
    assert m.weird == "dhcp_too_many_options" and m.fields["options"] == [53, 200]  # repeats concatenate (RFC 3396)
    (m,) = datagram(bootp(options=option(53, b"\x01\x02")), True)
    assert m.weird == "dhcp_bad_option_length" and m.function_name == "bootrequest"
    (m,) = datagram(bootp(options=b"\x0c\x20abc")[:-1], True)
    assert m.weird == "dhcp_option_truncated"


def test_a_crafted_host_name_is_kept_but_names_nothing():
    (m,) = datagram(dhcp(1, hostname("%s%n<script>")), True)
    assert m.weird == "dhcp_bad_hostname" and m.fields["hostname"] == "%s%n<script>" and not facts(m, "hostname")


@pytest.mark.parametrize("payload,code", [(b"\x01" * 100, "dhcp_truncated"), (bytes([7]) + b"\0" * 300, "dhcp_bad_op")])
def test_not_bootp(payload, code):
    with pytest.raises(Malformed) as bad:
        datagram(payload, True)
    assert bad.value.code == code


def test_dhcpv6_solicit_names_the_duid_mac_and_the_source():
    (m,) = datagram6(dhcpv6(1, v6_option(1, duid_llt(MAC)), v6_option(6, struct.pack(">HHH", 23, 24, 39)),
                            v6_fqdn("eng-ws.plant.example"), v6_option(16, struct.pack(">IH", 311, 8) + b"MSFT 5.0")),
                     True)
    assert (m.function_name, m.direction, m.fields["client_mac"]) == ("solicit", REQUEST, MAC)
    assert m.fields["option_request"] == "23,24,39" and m.fields["vendor_class"] == "MSFT 5.0"
    assert {("address", MAC, "eng-ws.plant.example"), ("src", None, "eng-ws.plant.example")} <= facts(m, "hostname")


def test_dhcpv6_reply_binds_ia_addresses_and_relays_unwrap():
    reply = dhcpv6(7, v6_option(1, duid_ll(MAC)), ia_na(1, "2001:db8::50"), v6_fqdn("rtu-1"))
    (m,) = datagram6(relay(13, reply, peer="fe80::21b:1bff:fe00:1"), False)
    assert (m.function_name, m.fields["msg_type_name"], m.direction) == ("relay_repl", "reply", RESPONSE)
    assert m.fields["ia_addresses"] == ["2001:db8::50"]
    assert ("address", "2001:db8::50", MAC) in facts(m, "mac")
    assert {("address", "fe80::21b:1bff:fe00:1", "rtu-1"), ("address", "2001:db8::50", "rtu-1")} <= facts(m, "hostname")
    assert ("src", None, "server") in facts(m, "role")


def test_dhcpv6_relay_depth_is_bounded():
    payload = dhcpv6(1)
    for _ in range(HOP_COUNT_LIMIT + 2):
        payload = relay(12, payload)
    (m,) = datagram6(payload, True)
    assert m.weird == "dhcpv6_relay_too_deep" and len(m.fields["relays"]) == HOP_COUNT_LIMIT
    with pytest.raises(Malformed):
        datagram6(b"\x01\x02", True)
