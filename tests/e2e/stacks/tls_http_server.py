"""Python's own web server, plain (port 80) and over TLS (port 443) with a self-signed certificate.

    python tests/e2e/stacks/tls_http_server.py --host 127.0.0.51 --cert C.pem --key K.pem

Prints ``ready`` once both listen; serves until SIGTERM. The Server header is ``SERVER_HEADER`` (a PLC web
server's kind of banner), so the test can look for it in the inventory.
"""
from __future__ import annotations

import argparse
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tls_http_script import SERVER_HEADER  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: several requests on one connection

    def version_string(self) -> str:
        return SERVER_HEADER

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>plant web</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        size = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(size)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    plain = ThreadingHTTPServer((args.host, 80), Handler)
    secure = ThreadingHTTPServer((args.host, 443), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    for server in (plain, secure):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    for server in (plain, secure):
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
