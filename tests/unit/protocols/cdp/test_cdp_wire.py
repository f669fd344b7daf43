"""CDP: TLVs to event fields and inventory facts, every oddity to its weird code, and 802.3 framing."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from scapy.layers.l2 import LLC, SNAP, Dot3
from scapy.packet import Raw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from cdp_frames import addresses, cdp, switch, tlv  # noqa: E402
from frames import frame_batch  # noqa: E402

from protocols.base import ANNOUNCE, Malformed  # noqa: E402
from protocols.cdp import SPEC, datagram  # noqa: E402
from protocols.cdp.codes import MAX_ADDRESSES, MAX_TLVS, WEIRDS  # noqa: E402
from sensor.capture import LINKTYPE_ETHERNET  # noqa: E402
from sensor.decode.fragments import FragmentReassembler  # noqa: E402
from sensor.decode.layers import decode  # noqa: E402
from sensor.dissect.linklayer import link_batches  # noqa: E402


def one(payload: bytes):
    (message,) = datagram(payload, True)
    assert message.weird is None or message.weird in WEIRDS
    return message


def test_a_switch_gives_its_fields():
    m = one(switch("core-sw", "10.0.0.1", "GigabitEthernet0/1", 20))
    assert (m.function_name, m.action, m.direction, m.weird) == ("advertisement", "discovery", ANNOUNCE, None)
    f = m.fields
    assert (f["version"], f["ttl"], f["device_id"], f["port_id"]) == (2, 180, "core-sw", "GigabitEthernet0/1")
    assert (f["platform"], f["native_vlan"], f["duplex"], f["vtp_management_domain"]) == (
        "cisco WS-C2960-24TT-L", 20, "full", "plant")
    assert f["capabilities"] == ["switch", "igmp_capable"]
    assert f["addresses"] == f["management_addresses"] == [{"protocol_type": "nlpid", "protocol": "ip",
                                                            "address": "10.0.0.1"}]
    assert f["software_version"].startswith("Cisco IOS Software, C2960")


def test_the_sender_is_named_and_identified_and_so_is_its_address():
    m = one(switch("core-sw", "10.0.0.1", "GigabitEthernet0/1", 20))
    facts = {(f.kind, f.about, f.address): f.value for f in m.facts}
    assert facts[("hostname", "src", None)] == facts[("hostname", "address", "10.0.0.1")] == "core-sw"
    own = facts[("identity", "src", None)]
    assert (own["vendor"], own["product"], own["model"], own["firmware"]) == (
        "Cisco", "cisco WS-C2960-24TT-L", "WS-C2960-24TT-L", "15.0(2)SE11")
    assert (own["cdp_port_id"], own["vlan"], own["capabilities"]) == ("GigabitEthernet0/1", 20, "switch,igmp_capable")
    assert facts[("identity", "address", "10.0.0.1")] == own


def test_ipv6_addresses_and_a_platform_without_a_vendor():
    m = one(cdp(tlv(1, b"phone-7"), tlv(2, addresses("fd00::9", "10.0.0.9")), tlv(6, b"IP Phone 7941")))
    assert [a["address"] for a in m.fields["addresses"]] == ["fd00::9", "10.0.0.9"]
    identity = next(f.value for f in m.facts if f.kind == "identity" and f.about == "src")
    assert "vendor" not in identity and identity["model"] == identity["product"] == "IP Phone 7941"
    assert {f.address for f in m.facts if f.about == "address"} == {"fd00::9", "10.0.0.9"}


def test_version_1_and_an_unknown_version():
    assert one(cdp(tlv(1, b"r1"), version=1)).weird is None
    assert one(cdp(tlv(1, b"r1"), version=7)).weird == "cdp_unknown_version"


def test_a_tlv_length_below_4_stops_the_reading():
    m = one(cdp(tlv(1, b"r1")) + struct.pack(">HH", 6, 2) + tlv(3, b"Gi0/1"))
    assert m.weird == "cdp_bad_tlv" and m.fields["device_id"] == "r1" and "port_id" not in m.fields


def test_a_truncated_tlv_keeps_the_ones_before():
    m = one(cdp(tlv(1, b"r1")) + struct.pack(">HH", 6, 40) + b"cisco")
    assert m.weird == "cdp_truncated" and m.fields["device_id"] == "r1"


def test_a_bad_value_costs_only_its_tlv():
    m = one(cdp(tlv(10, b"\x01"), tlv(2, struct.pack(">I", 2) + b"\x01\x01\xcc\x00\x04\x0a\x00"), tlv(1, b"r1")))
    assert m.weird == "cdp_bad_tlv" and m.fields["device_id"] == "r1"
    assert "native_vlan" not in m.fields and "addresses" not in m.fields


def test_counts_are_bounded():
    listed = struct.pack(">I", 0xFFFFFFFF) + b"".join(b"\x01\x01\xcc\x00\x04" + bytes([10, 0, 0, i]) for i in range(40))
    m = one(cdp(tlv(2, listed)))
    assert m.weird == "cdp_too_many_tlvs" and len(m.fields["addresses"]) == MAX_ADDRESSES
    many = one(cdp(*[tlv(0x7777, b"")] * (MAX_TLVS + 3)))
    assert many.weird == "cdp_too_many_tlvs" and len(many.fields["tlvs"]) == MAX_TLVS


def test_a_payload_shorter_than_the_header_is_malformed():
    with pytest.raises(Malformed) as bad:
        datagram(b"\x02\xb4\x00", True)
    assert bad.value.code == "cdp_truncated"


def test_a_short_frame_padded_by_ethernet_is_read_to_its_802_3_length():
    """The 802.3 length says where LLC and data end: the padding of a frame below 60 octets is not CDP."""
    body = cdp(tlv(1, b"r1"))
    frame = bytes(Dot3(src="00:00:0c:11:22:33", dst="01:00:0c:cc:cc:cc") / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                  / SNAP(OUI=0x0C, code=0x2000) / Raw(body))
    padded = frame + b"\0" * (60 - len(frame))
    [packets] = list(decode(frame_batch([(padded, LINKTYPE_ETHERNET, 1.0)]), FragmentReassembler()))
    weirds: list = []
    [batch], _ = link_batches(packets, [SPEC], weirds)
    assert not weirds and batch.messages[0].weird is None and batch.messages[0].fields["tlvs"] == ["device_id"]
