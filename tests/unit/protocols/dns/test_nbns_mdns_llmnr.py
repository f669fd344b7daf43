"""What NBNS, mDNS and LLMNR messages teach the inventory (protocols.nbns, protocols.mdns, protocols.llmnr)."""
from __future__ import annotations

import dns_frames as f

from protocols.base import ADDRESS, ANNOUNCE, REQUEST, RESPONSE, Fact
from protocols.llmnr import datagram as llmnr
from protocols.mdns import datagram as mdns
from protocols.mdns import split_instance
from protocols.nbns import datagram as nbns
from protocols.nbns.names import decode_label, netbios_name


def test_first_level_names_decode_with_their_suffix() -> None:
    label = f.nb_label("WORKGROUP", 0x1E)
    name = netbios_name((label[1:33],))
    assert name is not None and (name.text, name.bare, name.suffix) == ("WORKGROUP<1e>", "WORKGROUP", 0x1E)
    assert decode_label(b"Z" * 32) is None and decode_label(b"A" * 30) is None


def test_a_registration_names_its_address_and_its_workgroup() -> None:
    (host,) = nbns(f.nb_registration("HMI-01", "10.0.0.3"), True)
    assert host.function_name == "registration" and host.action == "write" and host.direction == REQUEST
    assert host.facts == (Fact("hostname", ADDRESS, "HMI-01", address="10.0.0.3"),)
    (group,) = nbns(f.nb_registration("PLANT", "10.0.0.3", 0x00, group=True), True)
    assert group.facts == (Fact("identity", "src", {"workgroup": "PLANT"}),)  # the registrant's, never an asset
    (dc,) = nbns(f.nb_registration("PLANT", "10.0.0.4", 0x1C, group=True), True)
    assert Fact("role", "src", "domain_controller") in dc.facts
    (messenger,) = nbns(f.nb_registration("OPERATOR", "10.0.0.3", 0x03), True)  # a user's name, not the host's
    assert messenger.facts == ()


def test_a_node_status_response_describes_its_sender() -> None:
    payload = f.nb_status_response([("SCADA-SRV", 0x00, False), ("PLANT", 0x00, True), ("PLANT", 0x1C, True)],
                                   bytes.fromhex("001b1baabbcc"))
    (status,) = nbns(payload, False)
    assert status.function_name == "node_status" and status.direction == RESPONSE and status.weird is None
    assert Fact("hostname", "src", "SCADA-SRV") in status.facts and Fact("role", "src", "domain_controller") in status.facts
    identity = next(x.value for x in status.facts if x.kind == "identity")
    assert identity == {"name": "SCADA-SRV", "workgroup": "PLANT", "mac_address": "00:1b:1b:aa:bb:cc"}


def test_an_mdns_announcement_names_host_service_and_model() -> None:
    payload = f.message(0, f.QR | f.AA, (), (
        f.ptr("_ipp._tcp.local", "Office Printer._ipp._tcp.local"),
        f.srv("Office Printer._ipp._tcp.local", "prn.local", 631), f.txt("Office Printer._ipp._tcp.local", "ty=X"),
        f.a("prn.local", "10.0.0.7"), f.hinfo("prn.local", "ARMV7", "LINUX")))
    (message,) = mdns(payload, True)
    assert message.direction == ANNOUNCE and message.pair_key is None
    assert Fact("hostname", ADDRESS, "prn.local", address="10.0.0.7") in message.facts
    service = {"service": "_ipp._tcp", "instance": "Office Printer", "domain": "local", "port": 631,
               "target": "prn.local", "txt": ["ty=X"]}
    assert Fact("announced_service", "src", service) in message.facts
    assert Fact("identity", "src", {"model": "ARMV7", "os": "LINUX"}) in message.facts
    assert all(x.kind == "hostname" for x in message.facts if x.about == ADDRESS)  # only names about addresses
    assert split_instance("_services._dns-sd._udp.local") is None


def test_an_mdns_query_teaches_nothing_and_asks_for_unicast() -> None:
    payload = f.message(0, 0, (f.question(f.name("prn.local"), 1, 0x8001),), (f.a("prn.local", "10.0.0.7"),))
    (message,) = mdns(payload, True)
    assert message.direction == REQUEST and message.facts == ()
    assert message.fields["queries"][0]["unicast_response"] and message.fields["queries"][0]["class"] == 1


def test_an_llmnr_answer_names_the_responder_and_reads_its_flags() -> None:
    payload = f.message(9, f.QR | 0x0100, (f.question(f.name("eng-ws")),), (f.a("eng-ws", "10.0.0.50"),))
    (message,) = llmnr(payload, False)
    assert message.fields["tentative"] and not message.fields["conflict"]
    assert message.facts == (Fact("hostname", ADDRESS, "eng-ws", address="10.0.0.50"),)


def test_a_name_that_is_not_first_level_encoded_is_shown_as_sent_and_flagged() -> None:
    payload = f.message(0x77, 0x0010, (f.question(f.name("wpad"), 0x20),))
    (message,) = nbns(payload, True)
    assert (message.weird, message.fields["name"], message.function_name) == ("nbns_bad_name", "wpad", "query")
    assert message.pair_key is None  # a broadcast request: its answers come in flows of their own
