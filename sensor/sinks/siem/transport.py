"""Syslog transports: ``udp://host:port``, ``tcp://host:port`` and ``tls://host:port``.

``send(messages)`` either completes or raises; a batch that raised is to be sent again, whole.

* UDP (RFC 5426): one datagram per message, no framing. A datagram can be lost without anyone knowing, so
  UDP is best effort; a message longer than a datagram holds is cut (counted in ``truncated``).
* TCP (RFC 6587 octet counting) and TLS (RFC 5425: octet counting over TLS, default port 6514). The server
  certificate is verified against ``ca_file`` (or the system store) and its name checked against the host of
  the URL; a client certificate is offered when ``cert_file`` is given.

A TCP send into a connection the peer has closed succeeds once (the data goes into the kernel buffer and
the peer answers with a reset). So before and after each batch the transport looks for the peer's FIN or
RST; after sending it waits up to ``grace`` seconds for one. A batch followed by either is reported as
failed, so the caller keeps it and sends it again (at-least-once: the receiver may see it twice).
"""
from __future__ import annotations

import select
import socket
import ssl
import time
from typing import Protocol
from urllib.parse import urlsplit

from sensor.sinks.siem.syslog import octet_frame

DEFAULT_PORTS = {"udp": 514, "tcp": 514, "tls": 6514}
UDP_MAX = 65507  # the largest IPv4 UDP payload
AFTER_SEND_GRACE_S = 0.02


class PeerClosed(ConnectionError):
    """The receiver closed or reset the connection: what was sent last may not have arrived."""


class Transport(Protocol):
    url: str

    def send(self, messages: list[bytes]) -> None: ...

    def close(self) -> None: ...


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a syslog URL; ValueError when it is not one we speak."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"unsupported SIEM URL {url!r}: use udp://, tcp:// or tls://HOST:PORT")
    if not parts.hostname:
        raise ValueError(f"SIEM URL {url!r} has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as e:
        raise ValueError(f"SIEM URL {url!r}: {e}") from None
    return scheme, parts.hostname, port


def open_transport(url: str, ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None,
                   timeout: float = 5) -> Transport:
    """A connected transport; raises OSError (or ssl.SSLError) when the receiver cannot be reached."""
    scheme, host, port = parse_url(url)
    if scheme == "udp":
        return UdpTransport(url, host, port)
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if scheme == "tls":
            sock = tls_context(ca_file, cert_file, key_file).wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    return StreamTransport(url, sock, timeout)


def tls_context(ca_file: str | None, cert_file: str | None, key_file: str | None) -> ssl.SSLContext:
    """Verify the server against the CA (name checked), TLS 1.2 or later, optional client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


class UdpTransport:
    """One datagram per message on a connected socket (so ICMP port-unreachable surfaces as an error)."""

    def __init__(self, url: str, host: str, port: int) -> None:
        self.url = url
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
        self.sock.connect(info[4])
        self.truncated = 0

    def send(self, messages: list[bytes]) -> None:
        for message in messages:
            if len(message) > UDP_MAX:
                message = message[:UDP_MAX]
                self.truncated += 1
            self.sock.send(message)

    def close(self) -> None:
        self.sock.close()


class StreamTransport:
    """Octet-counted messages on a TCP or TLS stream."""

    truncated = 0

    def __init__(self, url: str, sock: socket.socket, timeout: float, grace: float = AFTER_SEND_GRACE_S) -> None:
        self.url = url
        self.sock = sock
        self.timeout = timeout
        self.grace = grace
        sock.settimeout(timeout)

    def send(self, messages: list[bytes]) -> None:
        self.check_open(0)
        self.sock.sendall(b"".join(octet_frame(m) for m in messages))
        self.check_open(self.grace)

    def check_open(self, wait: float) -> None:
        """Raise PeerClosed when the peer has sent FIN or RST (waiting up to ``wait`` seconds for one)."""
        deadline = time.monotonic() + wait
        while True:
            readable = (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0) or \
                select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))[0]
            if not readable:
                return
            if not self._read_ignored():
                raise PeerClosed(f"{self.url}: the receiver closed the connection")
            if time.monotonic() >= deadline:
                return

    def _read_ignored(self) -> bool:
        """Read what the peer sent (a syslog receiver sends nothing but TLS housekeeping); False at EOF."""
        self.sock.setblocking(False)
        try:
            return self.sock.recv(4096) != b""
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return True
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return False
        except ConnectionResetError as e:
            raise PeerClosed(f"{self.url}: the receiver reset the connection") from e
        finally:
            self.sock.settimeout(self.timeout)

    def close(self) -> None:
        """Close cleanly: FIN after our data and wait (briefly) for the peer's, never a reset that could
        make the receiver discard what it has not read yet."""
        try:
            self.sock.settimeout(1.0)
            if isinstance(self.sock, ssl.SSLSocket):
                try:
                    self.sock = self.sock.unwrap()  # close_notify, then the plain socket
                except (OSError, ValueError):
                    pass
            self.sock.shutdown(socket.SHUT_WR)
            while self.sock.recv(4096):
                pass
        except (OSError, ValueError):
            pass
        finally:
            self.sock.close()

    def abort(self) -> None:
        """Stop a send blocked on a receiver that does not read (the batch stays unsent)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
