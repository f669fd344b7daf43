"""A minimal octet-counting syslog receiver on real loopback sockets, which a test can stop and restart."""
from __future__ import annotations

import socket
import struct
import threading
import time

from sensor.sinks.siem.syslog import parse_octet_frames


class Receiver:
    """Accepts TCP connections on 127.0.0.1 and collects every complete octet-counted frame."""

    def __init__(self, port: int = 0, *, read: bool = True) -> None:
        self.port = port
        self.read = read
        self.messages: list[bytes] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> Receiver:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            if self.read:
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        pending = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                conn.close()
                return
            frames, pending = parse_octet_frames(pending + data)
            with self._lock:
                self.messages += frames

    def stop(self, reset: bool = False) -> None:
        """Close the listener and every connection (with an RST when ``reset``)."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone does not
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                if reset:  # linger 0: close() sends RST
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received()


def free_udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock
