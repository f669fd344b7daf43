"""Small checks of the TLS and HTTP packages that the fuzz and oracle tests do not pin: which strings are host
names, Host headers, the probes, and how a framer that is ``done`` is dropped and renewed by the flow layer."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tls_frames import SNI, handshake  # noqa: E402

from protocols.base import Verdict  # noqa: E402
from protocols.http import probe as http_probe  # noqa: E402
from protocols.http.message import host_of  # noqa: E402
from protocols.tls import probe as tls_probe  # noqa: E402
from protocols.tls.names import host_name  # noqa: E402
from protocols.tls.stream import TlsStream  # noqa: E402
from sensor.dissect.streams import FramedFlow  # noqa: E402


@pytest.mark.parametrize(("text", "name"), [
    ("PLC1.Plant.Example.", "plc1.plant.example"), ("hmi_01", "hmi_01"), ("10.1.2.3", None), ("*.example.com", None),
    ("", None), ("a..b", None), ("-bad.example", None), ("x" * 64 + ".example", None), ("1234", None),
])
def test_host_names(text, name):
    assert host_name(text) == name


@pytest.mark.parametrize(("value", "name"), [
    ("plc1.example:8080", "plc1.example"), ("[fe80::1]:80", None), ("10.0.0.5:80", None), ("fe80::1", None),
    ("gateway", "gateway"), (None, None),
])
def test_host_header(value, name):
    assert host_of(value) == name


def test_probes():
    client, server = handshake("1.2")
    assert tls_probe(client) is Verdict.ACCEPT and tls_probe(server) is Verdict.ACCEPT
    assert tls_probe(b"\x16\x03") is Verdict.MORE and tls_probe(b"GET / HTTP/1.1\r\n") is Verdict.REJECT
    assert tls_probe(b"\x16\x03\x01\x00\x10\x0b") is Verdict.REJECT  # a handshake record that is no hello
    assert http_probe(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n") is Verdict.ACCEPT
    assert http_probe(b"HTTP/1.1 200 OK\r\n") is Verdict.ACCEPT
    assert http_probe(b"GE") is Verdict.MORE and http_probe(b"OPTIONS rtsp://cam RTSP/1.0\r\n") is Verdict.REJECT
    assert http_probe(client) is Verdict.REJECT


def test_client_hello_names_the_server():
    client, _ = handshake("1.3")
    (_, hello), *_ = TlsStream(True).feed(client, 0)
    assert hello.fields["server_name"] == SNI and "TLSv1.3" in hello.fields["supported_versions"]
    assert [(f.kind, f.about, f.value) for f in hello.facts] == [("hostname", "server", SNI)]


def test_a_done_framer_is_renewed_by_a_new_connection():
    """FramedFlow drops a done direction's bytes (streams.py) and gives it a fresh framer on a restart."""
    client, _ = handshake("1.2")
    state = FramedFlow(TlsStream, 1)
    state.framers[0].feed(client, 0)
    assert state.done(0) and not state.done(1)
    old = state.framers[0]
    state.forget(0)
    assert state.framers[0] is not old and not state.done(0)
    assert [m.function_name for _, m in state.framers[0].feed(client, 1)][0] == "client_hello"
    server = state.framers[1]
    state.forget(1)  # a framer not done is told of the gap, not replaced
    assert state.framers[1] is server


def test_a_bulk_body_ends_the_direction():
    """Past MAX_BODY octets of one body the HTTP framer is done: a download costs no reassembly."""
    from protocols.http.codes import MAX_BODY
    from protocols.http.stream import HttpStream

    big = HttpStream(False)
    big.feed(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 0)
    assert big.done
    chunks = HttpStream(False)
    chunks.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0)
    for _ in range(MAX_BODY // 65536):
        chunks.feed(b"10000\r\n", 1)
        chunks.feed(b"x" * 65536 + b"\r\n", 2)
    assert not chunks.done
    chunks.feed(b"10000\r\n", 3)
    assert chunks.done
