"""The OPC UA package on hand-built messages: headers, services in the clear, secured channels, chunks, framing."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import opcua_frames as f  # noqa: E402

from protocols.base import REQUEST, RESPONSE, Fact, Malformed, Message, Point, Verdict  # noqa: E402
from protocols.opcua import (  # noqa: E402
    SPEC,
    OpcuaStream,
    certs,  # noqa: E402
    complete,
    probe,
)
from protocols.opcua.messages import MAX_PARTIAL_MESSAGES  # noqa: E402
from protocols.opcua.services import url_hostname  # noqa: E402
from protocols.opcua.stream import MAX_KEPT  # noqa: E402


def feed(data: bytes, is_request: bool = True, stream: OpcuaStream | None = None) -> list[Message | Malformed]:
    stream = stream or OpcuaStream(is_request)
    return [o for _, o in stream.feed(data, 1)]


def one(data: bytes, is_request: bool = True, stream: OpcuaStream | None = None) -> Message:
    out = feed(data, is_request, stream)
    assert len(out) == 1 and isinstance(out[0], Message), out
    return out[0]


def facts(message: Message, kind: str) -> list[Fact]:
    return [x for x in message.facts if x.kind == kind]


# -- probe and header ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data,verdict", [
    (f.hello(), Verdict.ACCEPT), (f.acknowledge(), Verdict.ACCEPT), (b"HEL", Verdict.MORE), (b"HE", Verdict.MORE),
    (b"HELF\x38", Verdict.MORE), (b"GET / HTTP/1.1\r\n", Verdict.REJECT), (b"HELX\x38\0\0\0", Verdict.REJECT),
    (b"HELF\x08\0\0\0", Verdict.REJECT), (b"MSGF\xff\xff\xff\x7f", Verdict.REJECT), (b"\x03\x00\x00\x16", Verdict.REJECT),
])
def test_probe_wants_a_type_a_chunk_and_a_plausible_size(data: bytes, verdict: Verdict) -> None:
    assert probe(data) is verdict


def test_unknown_message_type_is_malformed_and_the_segment_dropped() -> None:
    out = feed(b"XYZF\x10\0\0\0" + bytes(8) + f.hello())
    assert len(out) == 1 and isinstance(out[0], Malformed) and out[0].code == "opcua_unknown_message_type"


def test_bad_size_is_malformed() -> None:
    out = feed(b"HELF\x10\0\0\0" + bytes(8))
    assert isinstance(out[0], Malformed) and out[0].code == "opcua_bad_message_size"


# -- UA Connection Protocol --------------------------------------------------------------------------------------

def test_hello_fields_role_and_hostname_from_the_endpoint_url() -> None:
    m = one(f.hello("opc.tcp://Boiler-PLC.plant.example:4840/UA/Server"))
    assert (m.function_name, m.action, m.direction, m.pair_key) == ("hello", "session", REQUEST, ("hel",))
    assert m.fields["endpoint_url"] == "opc.tcp://Boiler-PLC.plant.example:4840/UA/Server"
    assert m.fields["receive_buffer_size"] == 65535 and m.fields["message_type"] == "HEL"
    assert Fact("role", "client", "client") in m.facts
    assert facts(m, "hostname") == [Fact("hostname", "server", "boiler-plc.plant.example")]


@pytest.mark.parametrize("url", ["opc.tcp://localhost:4840", "opc.tcp://10.1.2.3:4840", "opc.tcp://[fe80::1]:4840",
                                 "opc.tcp://bad_name%:4840", "not a url", ""])
def test_addresses_and_localhost_are_no_hostnames(url: str) -> None:
    assert url_hostname(url) is None


def test_acknowledge_and_error() -> None:
    ack = one(f.acknowledge(), is_request=False)
    assert (ack.function_name, ack.direction, ack.pair_key) == ("acknowledge", RESPONSE, ("hel",))
    assert Fact("role", "server", "server") in ack.facts
    err = one(f.error(0x80820000, "Bad endpoint"), is_request=False)
    assert (err.function_name, err.fields["error"], err.fields["reason"], err.weird) == \
        ("error", 0x80820000, "Bad endpoint", "opcua_transport_error")


def test_reverse_hello_announces_a_server() -> None:
    m = one(f.frame(b"RHE", f.string("urn:plant:boiler") + f.string("opc.tcp://boiler:4840")), is_request=False)
    assert (m.function_name, m.direction, m.pair_key) == ("reverse_hello", "announce", None)
    assert (m.fields["server_uri"], m.fields["endpoint_url"]) == ("urn:plant:boiler", "opc.tcp://boiler:4840")
    assert Fact("role", "src", "server") in m.facts


# -- secure channel in the clear -----------------------------------------------------------------------------------

def test_open_secure_channel_none_policy_decodes_the_request() -> None:
    m = one(f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request(mode=1))))
    assert (m.function_code, m.function_name, m.direction, m.pair_key) == (446, "open_secure_channel", REQUEST, ("rq", 1))
    assert m.fields["security_policy"] == "None" and m.fields["security_mode"] == "None"
    assert m.fields["request_type"] == "issue" and m.fields["sender_certificate"] is False
    r = one(f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_response(channel=7, token=9)), channel=7), is_request=False)
    assert (r.function_code, r.fields["channel_id"], r.fields["token_id"], r.direction) == (449, 7, 9, RESPONSE)


def test_sender_certificate_subject() -> None:
    cert = f.certificate("Boiler Server", "Plant Works")
    m = one(f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request()), certificate=cert, thumbprint=b"\xaa" * 20))
    assert m.fields["sender_certificate_subject"] == {"cn": "Boiler Server", "o": "Plant Works"}
    assert m.fields["sender_certificate_size"] == len(cert)
    assert m.fields["receiver_certificate_thumbprint"] == "aa" * 20


@pytest.mark.parametrize("junk", [b"", b"\x30", b"\x30\x82\xff\xff", b"\x02\x01\x00", bytes(range(64))])
def test_certificate_junk_gives_no_subject(junk: bytes) -> None:
    assert certs.subject(junk) == {}


def test_get_endpoints_response_names_the_server() -> None:
    server = f.application("urn:plant:boiler", "urn:vendor:boiler", "Boiler Server", urls=["opc.tcp://boiler:4840"])
    body = f.service(431, f.response_header(2), f.array([
        f.endpoint("opc.tcp://boiler.plant:4840", server),
        f.endpoint("opc.tcp://boiler.plant:4840", server, mode=3, policy=f.BASIC256SHA256)]))
    m = one(f.msg(body, request_id=2), is_request=False)
    assert (m.function_code, m.function_name, m.action, m.direction) == (431, "get_endpoints", "session", RESPONSE)
    endpoints = m.fields["endpoints"]
    assert [(e["security_mode"], e["security_policy_uri"]) for e in endpoints] == \
        [("None", f.NONE_POLICY), ("SignAndEncrypt", f.BASIC256SHA256)]
    assert endpoints[0]["user_token_types"] == ["anonymous"]
    assert facts(m, "identity") == [Fact("identity", "server", {
        "name": "Boiler Server", "product_uri": "urn:vendor:boiler", "application_uri": "urn:plant:boiler"})]
    assert facts(m, "hostname") == [Fact("hostname", "server", "boiler.plant")]


def test_create_session_request_names_the_client() -> None:
    client = f.application("urn:hmi", "urn:vendor:hmi", "Operator HMI", kind=1)
    cert = f.certificate("Operator HMI", "Plant Works")
    body = f.service(461, f.request_header(3), client + f.string("urn:plant:boiler") + f.string("opc.tcp://boiler:4840")
                     + f.string("s1") + f.bytestring(b"n" * 32) + f.bytestring(cert) + f.f64(60000.0) + f.u32(0))
    m = one(f.msg(body, request_id=3))
    assert m.fields["client_description"]["application_name"] == "Operator HMI"
    assert m.fields["client_description"]["application_type"] == "client"
    assert m.fields["client_certificate_subject"] == {"cn": "Operator HMI", "o": "Plant Works"}
    assert Fact("identity", "client", {"name": "Operator HMI", "product_uri": "urn:vendor:hmi",
                                       "application_uri": "urn:hmi"}) in m.facts
    assert Fact("role", "client", "client") in m.facts


def test_activate_session_says_the_identity_token() -> None:
    token = f.string("user_policy") + f.string("operator") + f.bytestring(b"secret-encrypted") + f.string(None)
    body = f.service(467, f.request_header(4), f.string(None) + f.bytestring(None) + f.array(None)
                     + f.array([f.string("en")]) + f.extension(324, token) + f.string(None) + f.bytestring(None))
    m = one(f.msg(body, request_id=4))
    assert (m.fields["identity_token_type"], m.fields["user_name"]) == ("username", "operator")
    assert "secret" not in repr(m.fields)


def test_read_build_info_pairs_into_the_server_identity() -> None:
    request = one(f.msg(f.read_request(5, [f.read_value_id(i) for i in (2261, 2262, 2263, 2264, 2265)]
                                       + [f.read_value_id("Boiler.Temp", ns=2)]), request_id=5))
    assert request.action == "read" and request.pair_key == ("rq", 5)
    points = [x.value for x in facts(request, "point")]
    assert Point("opcua_node", None, 1, "read", "ns=2;s=Boiler.Temp") in points and len(points) == 6
    values = ["Boiler 3000", "urn:vendor:boiler", "ACME Controls", "4.2.1", "77"]
    response = one(f.msg(f.read_response(5, [f.data_value(f.variant_string(v), 0) for v in values]
                                         + [f.data_value(f.variant_double(88.5))]), request_id=5), is_request=False)
    assert facts(response, "identity") == []  # a reply alone does not say which nodes it answers
    done = complete(request, response)
    assert facts(done, "identity") == [Fact("identity", "server", {
        "vendor": "ACME Controls", "product": "Boiler 3000", "firmware": "4.2.1", "build_number": "77",
        "product_uri": "urn:vendor:boiler"})]
    assert done.fields["results"][5] == {"node_id": "ns=2;s=Boiler.Temp", "value": 88.5}


def test_server_status_value_names_the_server_by_itself() -> None:
    status = f.struct.pack("<qqi", 0, 0, 0) + f.build_info("urn:p", "ACME", "Gateway", "1.2", "9")
    value = f.data_value(f.u8(22) + f.extension(864, status + f.u32(0) + f.localized(None)))
    m = one(f.msg(f.read_response(6, [value]), request_id=6), is_request=False)
    assert facts(m, "identity") == [Fact("identity", "server", {"vendor": "ACME", "product": "Gateway",
                                                                "firmware": "1.2", "build_number": "9",
                                                                "product_uri": "urn:p"})]


def test_write_request_points_carry_scalar_values() -> None:
    m = one(f.msg(f.write_request(7, [(f.node(2, ns=2), f.data_value(f.variant_double(73.25))),
                                      (f.node("Valve", ns=3), f.data_value(f.variant_string("open")))]), request_id=7))
    assert (m.function_name, m.action) == ("write", "write")
    assert m.fields["nodes_to_write"][0] == {"node_id": "ns=2;i=2", "attribute_id": 13, "value": 73.25}
    assert [x.value for x in facts(m, "point")] == [
        Point("opcua_node", None, 1, "write", "ns=2;i=2", (73.25,)),
        Point("opcua_node", None, 1, "write", "ns=3;s=Valve", ("open",))]


def test_call_is_operate_and_service_fault_takes_its_request() -> None:
    body = f.service(712, f.request_header(8), f.array([f.node(5001, ns=2) + f.node(5002, ns=2)
                                                        + f.array([f.variant_double(1.0)])]))
    call = one(f.msg(body, request_id=8))
    assert (call.function_name, call.action) == ("call", "operate")
    assert call.fields["methods_to_call"] == [{"object_id": "ns=2;i=5001", "method_id": "ns=2;i=5002",
                                               "input_arguments": [1.0]}]
    fault = one(f.msg(f.service(397, f.response_header(8, 0x80340000)), request_id=8), is_request=False)
    assert (fault.function_name, fault.fields["service_result"]) == ("service_fault", 0x80340000)
    done = complete(call, fault)
    assert (done.function_name, done.action, done.fields["request_service"]) == ("call", "operate", "CallRequest")


def test_unknown_service_degrades() -> None:
    m = one(f.msg(f.node(9999) + f.request_header(1), request_id=1))
    assert (m.function_code, m.function_name, m.action) == (9999, "unknown_0x270f", "other")


def test_bad_body_keeps_the_header_fields() -> None:
    m = one(f.msg(f.service(631, f.request_header(9), f.f64(0) + f.i32(0) + f.i32(5) + b"\x01"), request_id=9))
    assert (m.function_name, m.weird, m.fields["request_handle"]) == ("read", "opcua_bad_body", 9)


def test_long_lists_are_cut_and_said() -> None:
    m = one(f.msg(f.read_request(1, [f.read_value_id(i) for i in range(1000, 1100)]), request_id=1))
    assert len(m.fields["nodes_to_read"]) == 32 and m.weird == "opcua_list_truncated"


# -- secured channels ---------------------------------------------------------------------------------------------

def test_sign_and_encrypt_reports_policy_and_mode_and_decodes_nothing() -> None:
    stream = OpcuaStream(True)
    o = one(f.opn(f.BASIC256SHA256, os.urandom(256)), stream=stream)
    assert (o.function_name, o.fields["encrypted"], o.fields["security_policy_uri"]) == \
        ("open_secure_channel", True, f.BASIC256SHA256)
    assert o.pair_key is None
    ciphertext = bytes(range(7, 7 + 200))
    m = one(f.frame(b"MSG", f.u32(7) + f.u32(9) + ciphertext), stream=stream)
    assert (m.function_name, m.action, m.fields["encrypted"], m.fields["security_mode"],
            m.fields["security_policy_uri"]) == ("message", "other", True, "SignAndEncrypt", f.BASIC256SHA256)
    assert "request_id" not in m.fields and m.pair_key is None


def test_signed_only_channel_is_read() -> None:
    stream = OpcuaStream(True)
    one(f.opn(f.BASIC256SHA256, os.urandom(256)), stream=stream)
    m = one(f.msg(f.read_request(3, [f.read_value_id(2258)]) + b"\x55" * 32, request_id=3), stream=stream)
    assert (m.function_name, m.fields["security_mode"], m.fields["security_policy"]) == ("read", "Sign", "Basic256Sha256")
    assert m.fields["nodes_to_read"] == [{"node_id": "i=2258", "attribute_id": 13}]


# -- chunks ----------------------------------------------------------------------------------------------------------

def chunked(body: bytes, request_id: int, pieces: int) -> bytes:
    step = -(-len(body) // pieces)
    parts = [body[k:k + step] for k in range(0, len(body), step)]
    return b"".join(f.msg(p, request_id, chunk=b"C" if k < len(parts) - 1 else b"F") for k, p in enumerate(parts))


def test_intermediate_chunks_are_reassembled_per_request_id() -> None:
    body = f.read_request(11, [f.read_value_id(i) for i in range(3000, 3020)])
    other = f.msg(f.read_request(12, [f.read_value_id(1)]), request_id=12)
    data = chunked(body, 11, 3)
    first_two = data[:data.rfind(b"MSGF")]
    out = feed(first_two + other + data[len(first_two):])
    assert [(m.fields["request_id"], m.fields.get("chunk_count")) for m in out] == [(12, None), (11, 3)]
    assert len(out[1].fields["nodes_to_read"]) == 20 and out[1].weird is None


def test_abort_drops_the_chunks() -> None:
    stream = OpcuaStream(True)
    assert feed(f.msg(f.read_request(1, [])[:10], 4, chunk=b"C"), stream=stream) == []
    m = one(f.msg(f.u32(0x80080000) + f.string("too large"), 4, chunk=b"A"), stream=stream)
    assert (m.function_name, m.weird, m.fields["reason"]) == ("abort", "opcua_chunk_abort", "too large")
    assert stream.channel.partial == {}


def test_too_many_chunked_messages_is_said() -> None:
    stream = OpcuaStream(True)
    one(f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request())), stream=stream)
    for rid in range(MAX_PARTIAL_MESSAGES):
        assert feed(f.msg(b"x" * 10, rid, chunk=b"C"), stream=stream) == []
    m = one(f.msg(b"x" * 10, 99, chunk=b"C"), stream=stream)
    assert m.weird == "opcua_reassembly_overflow"


# -- framing ---------------------------------------------------------------------------------------------------------

SESSION = (f.hello() + f.opn(f.NONE_POLICY, f.sequenced(1, 1, f.open_request()))
           + f.msg(f.read_request(2, [f.read_value_id(2258)]), request_id=2)
           + f.msg(f.write_request(3, [(f.node(2, ns=2), f.data_value(f.variant_double(1.5)))]), request_id=3))


@pytest.mark.parametrize("cut", [1, 3, 7, 8, 9, 50, 61])
def test_any_segmentation_gives_the_same_messages(cut: int) -> None:
    whole = [(m.function_code, m.fields) for m in feed(SESSION)]
    stream = OpcuaStream(True)
    pieces = [SESSION[k:k + cut] for k in range(0, len(SESSION), cut)]
    got = [(m.function_code, m.fields) for p in pieces for _, m in stream.feed(p, 1)]
    assert got == whole and len(whole) == 4 and stream.pending == 0


def test_after_a_gap_framing_resumes_at_a_header() -> None:
    stream = OpcuaStream(True)
    read = f.msg(f.read_request(2, [f.read_value_id(2258)]), request_id=2)
    assert feed(read[:20], stream=stream) == []
    stream.gap()
    assert feed(read[30:], stream=stream) == []  # the middle of a chunk: skipped, not malformed
    assert [m.function_name for m in feed(read, stream=stream)] == ["read"]


def test_oversized_chunk_is_reported_and_skipped() -> None:
    stream = OpcuaStream(False)
    big = b"MSGF" + f.u32(MAX_KEPT + 100) + b"\0" * 1000
    out = feed(big, stream=stream)
    assert len(out) == 1 and out[0].weird == "opcua_chunk_too_large" and stream.pending == 0
    rest = MAX_KEPT + 100 - len(big)
    assert feed(b"\0" * rest, stream=stream) == []
    assert [m.function_name for m in feed(f.acknowledge(), stream=stream)] == ["acknowledge"]


def test_spec_registration() -> None:
    assert SPEC.name == "opcua" and ("tcp", 4840) in SPEC.ports and SPEC.complete is complete
    assert set(SPEC.actions.values()) <= {"read", "write", "operate", "program_download", "session", "discovery",
                                          "diagnostics", "other"}
