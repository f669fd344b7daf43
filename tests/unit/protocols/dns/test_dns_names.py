"""Which names a DNS answer gives which addresses (protocols.dns.names), and what the DNS wire parser keeps of a
message it cannot finish (protocols.dns.wire)."""
from __future__ import annotations

import dns_frames as f

from protocols.base import ADDRESS, REQUEST, RESPONSE
from protocols.dns import datagram, parse
from protocols.dns.codes import MAX_CNAME_CHAIN
from protocols.dns.names import reverse_address


def names_of(payload: bytes) -> set[tuple[str, str]]:
    (message,) = datagram(payload, False)
    assert all(fact.kind == "hostname" and fact.about == ADDRESS for fact in message.facts)
    return {(fact.value, fact.address) for fact in message.facts}


def test_a_cname_chain_gives_the_address_the_asked_and_the_canonical_name() -> None:
    payload = f.message(1, f.QR, (f.question(f.name("www.plant.example")),), (
        f.cname("www.plant.example", "lb.plant.example"), f.cname("lb.plant.example", "web1.plant.example"),
        f.a("web1.plant.example", "10.0.0.5"), f.aaaa("web1.plant.example", "fd00::5")))
    assert names_of(payload) == {(n, ip) for n in ("www.plant.example", "lb.plant.example", "web1.plant.example")
                                 for ip in ("10.0.0.5", "fd00::5")}


def test_a_cname_loop_is_followed_a_bounded_number_of_times() -> None:
    loop = (f.cname("a.example", "b.example"), f.cname("b.example", "a.example"), f.a("b.example", "10.0.0.6"))
    assert names_of(f.message(1, f.QR, (), loop)) == {("a.example", "10.0.0.6"), ("b.example", "10.0.0.6")}
    chain = tuple(f.cname(f"n{i}.example", f"n{i + 1}.example") for i in range(MAX_CNAME_CHAIN + 3))
    far = f"n{MAX_CNAME_CHAIN + 3}.example"
    named = names_of(f.message(1, f.QR, (), (*chain, f.a(far, "10.0.0.7"))))
    assert ("n0.example", "10.0.0.7") not in named and (f"n{MAX_CNAME_CHAIN + 2}.example", "10.0.0.7") in named


def test_ptr_answers_name_the_address_their_owner_spells() -> None:
    v6 = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"
    payload = f.message(2, f.QR, (), (f.ptr("30.0.1.10.in-addr.arpa", "historian.plant.example"),
                                     f.ptr(v6, "hmi.plant.example"), f.ptr("_ipp._tcp.local", "x._ipp._tcp.local")))
    assert names_of(payload) == {("historian.plant.example", "10.1.0.30"),
                                 ("hmi.plant.example", "4321:0:1:2:3:4:567:89ab")}
    assert reverse_address("300.0.1.10.in-addr.arpa") is None and reverse_address("1.10.in-addr.arpa") is None


def test_queries_errors_and_other_sections_name_nothing() -> None:
    assert names_of(f.query()) == set()
    nxdomain = f.message(3, f.QR | 3, (), (f.a("h.example", "10.0.0.1"),))
    assert names_of(nxdomain) == set()
    glue = f.message(4, f.QR, (), (), (), (f.a("ns1.example", "10.0.0.2"),))
    assert names_of(glue) == set()


def test_direction_pairing_and_the_compressed_answer() -> None:
    (query,) = datagram(f.query(ident=77), True)
    (answer,) = datagram(f.answer(ident=77), False)
    assert (query.direction, answer.direction, query.pair_key, answer.pair_key) == (REQUEST, RESPONSE, 77, 77)
    assert answer.fields["answers"][0]["name"] == "www.example.com" and answer.fields["qtype_name"] == "A"


def test_a_message_cut_short_keeps_what_came_before() -> None:
    payload = f.answer()
    wire = parse(payload[:-3])
    assert wire.problem == "dns_truncated" and wire.questions[0].name == "www.example.com" and wire.answers == ()
    (message,) = datagram(payload[:-3], False)
    assert message.weird == "dns_truncated" and message.fields["query"] == "www.example.com"


def test_bad_rdata_costs_the_record_not_the_message() -> None:
    bad = f.rr(f.name("h.example"), 1, b"\x0a\x00\x00")  # an A record of 3 octets
    payload = f.message(5, f.QR, (), (bad, f.a("g.example", "10.0.0.8")))
    (message,) = datagram(payload, False)
    assert message.weird == "dns_bad_rdata" and names_of(payload) == {("g.example", "10.0.0.8")}


def test_tcp_messages_split_across_segments_and_an_impossible_length() -> None:
    from protocols.base import Malformed, Message
    from protocols.dns import SPEC

    framer = SPEC.framer(False)
    first, second = f.answer(ident=1), f.answer(ident=2)
    stream = len(first).to_bytes(2, "big") + first + len(second).to_bytes(2, "big") + second
    out = framer.feed(stream[:20], 1) + framer.feed(stream[20:len(first) + 5], 2) + framer.feed(stream[len(first) + 5:], 3)
    assert [(tag, m.pair_key) for tag, m in out if isinstance(m, Message)] == [(2, 1), (3, 2)] and framer.pending == 0
    ((_, bad),) = framer.feed(b"\x00\x05hello", 4)
    assert isinstance(bad, Malformed) and bad.code == "dns_bad_tcp_length" and framer.pending == 0
