"""Real TLS byte streams for the tests, made by Python's ``ssl`` (OpenSSL) in memory: no network, no capture.

``handshake(version)`` runs a client and a server over memory BIOs and returns what each side sent (the bytes
of both TCP directions), with a certificate whose subject and SAN the tests know. The key and certificate are
made once per process with the ``openssl`` command line.
"""
from __future__ import annotations

import functools
import ssl
import subprocess
import tempfile
from pathlib import Path

SNI = "plc-gateway.plant.example"
CN = "plc-gateway.plant.example"
ORG = "Example Automation"
SAN = ("plc-gateway.plant.example", "hmi.plant.example", "*.plant.example")


@functools.cache
def certificate() -> tuple[Path, Path]:
    """(certificate, key) PEM files of a self-signed RSA certificate with CN, O and SAN above."""
    folder = Path(tempfile.mkdtemp(prefix="tls-frames-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout", str(key),
                    "-out", str(cert), "-subj", f"/CN={CN}/O={ORG}",
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in SAN)],
                   check=True, capture_output=True)
    return cert, key


@functools.cache
def handshake(version: str = "1.2", data: bytes = b"GET / HTTP/1.1\r\n\r\n") -> tuple[bytes, bytes]:
    """(client bytes, server bytes) of a whole handshake and one application record each way."""
    cert, key = certificate()
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname, cctx.verify_mode = False, ssl.CERT_NONE
    cctx.set_alpn_protocols(["http/1.1"])
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    pinned = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    cctx.maximum_version = sctx.maximum_version = pinned
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(c_in, c_out, server_hostname=SNI)
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    sent = [bytearray(), bytearray()]

    def pump() -> None:
        for source, sink, log in ((c_out, s_in, sent[0]), (s_out, c_in, sent[1])):
            chunk = source.read()
            log += chunk
            sink.write(chunk)

    done = [False, False]
    for _ in range(20):
        for i, end in enumerate((client, server)):
            if not done[i]:
                try:
                    end.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
        pump()
        if all(done):
            break
    client.write(data)
    pump()
    server.read(len(data))
    server.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    pump()
    return bytes(sent[0]), bytes(sent[1])


def records(stream: bytes) -> list[tuple[int, bytes]]:
    """(content type, fragment) of each record of a stream of TLS records."""
    out, pos = [], 0
    while pos + 5 <= len(stream):
        size = int.from_bytes(stream[pos + 3:pos + 5], "big")
        out.append((stream[pos], stream[pos + 5:pos + 5 + size]))
        pos += 5 + size
    return out


def record(kind: int, fragment: bytes, version: int = 0x0303) -> bytes:
    return bytes([kind]) + version.to_bytes(2, "big") + len(fragment).to_bytes(2, "big") + fragment


def refragment(stream: bytes, sizes: list[int]) -> bytes:
    """The same stream with its cleartext handshake records' contents cut into records of the given sizes
    (RFC 8446 §5.1: handshake messages may be split over records, and records may hold several)."""
    out = bytearray()
    pending = bytearray()
    rest = records(stream)
    cut = 0
    for i, (kind, fragment) in enumerate(rest):
        if kind != 22 or any(k in (20, 23) for k, _ in rest[:i]):
            if pending:
                out += _cut(bytes(pending), sizes, cut)
                pending = bytearray()
            out += record(kind, fragment)
            continue
        pending += fragment
    if pending:
        out += _cut(bytes(pending), sizes, cut)
    return bytes(out)


def _cut(data: bytes, sizes: list[int], start: int) -> bytes:
    out, pos, k = bytearray(), 0, start
    while pos < len(data):
        size = max(1, sizes[k % len(sizes)]) if sizes else len(data)
        out += record(22, data[pos:pos + size])
        pos += size
        k += 1
    return bytes(out)
