"""urllib over plain HTTP, and ssl sockets with an SNI over TLS 1.2 and TLS 1.3, against tls_http_server.py.

    python tests/e2e/stacks/tls_http_client.py --out RESULTS.json

Writes what each exchange returned (status, Server header, TLS version and cipher the client negotiated).
"""
from __future__ import annotations

import argparse
import json
import socket
import ssl
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tls_http_script import CLIENT_IP, HTTP_HOST, SERVER_IP, SNI, USER_AGENT  # noqa: E402


class SourceHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler with the client bound to CLIENT_IP."""

    def http_open(self, req):  # noqa: ANN001, ANN201 - urllib's signature
        import http.client

        return self.do_open(lambda host, **kw: http.client.HTTPConnection(host, source_address=(CLIENT_IP, 0), **kw),
                            req)


def http_exchanges() -> list[dict]:
    opener = urllib.request.build_opener(SourceHandler)
    out = []
    for method, data in (("GET", None), ("POST", b"setpoint=42")):
        request = urllib.request.Request(f"http://{SERVER_IP}/status", data=data, method=method,
                                         headers={"Host": HTTP_HOST, "User-Agent": USER_AGENT})
        with opener.open(request, timeout=10) as response:
            response.read()
            out.append({"method": method, "status": response.status, "server": response.headers.get("Server")})
    return out


def tls_exchange(version: ssl.TLSVersion) -> dict:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    with socket.create_connection((SERVER_IP, 443), timeout=10, source_address=(CLIENT_IP, 0)) as raw:
        with context.wrap_socket(raw, server_hostname=SNI) as tls:
            negotiated = {"version": tls.version(), "cipher": tls.cipher()[0]}
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {SNI}\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"
                        .encode())
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
            return {**negotiated, "status": int(answer.split()[1])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    results = {"http": http_exchanges(),
               "tls": [tls_exchange(ssl.TLSVersion.TLSv1_2), tls_exchange(ssl.TLSVersion.TLSv1_3)]}
    args.out.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
