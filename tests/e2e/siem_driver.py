"""A real rsyslogd for the SIEM tests, test certificates, and a sender process the tests can ``kill -9``.

Run as a script, it is the sender: ``siem_driver.py URL SPOOL FIRST COUNT [--pace S] [--drain S]`` opens a
Forwarder on SPOOL, puts alerts FIRST..FIRST+COUNT-1 one at a time, printing ``queued <id>`` after each is
on disk, then drains for up to ``--drain`` seconds and prints ``done <health json>``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RSYSLOGD = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if os.path.exists("/usr/sbin/rsyslogd") else None)
GTLS_MODULE = "lmnsd_gtls.so"


def rsyslog_missing() -> str | None:
    """Why the rsyslog tests cannot run here, or None when they can."""
    if RSYSLOGD is None:
        return "rsyslogd not installed (Debian: apt-get install rsyslog rsyslog-gnutls)"
    return None


def gtls_missing() -> str | None:
    found = any(Path(d).joinpath(GTLS_MODULE).exists()
                for d in ("/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog",
                          "/usr/lib/rsyslog", "/usr/lib64/rsyslog"))
    return None if found else "rsyslog TLS driver missing (Debian: apt-get install rsyslog-gnutls)"


def free_port() -> int:
    """A loopback port free for both TCP and UDP right now."""
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def make_certs(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for ``localhost`` (DNS name only) and a client certificate, with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=otsensor test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, usage, san in (("server", "serverAuth", "DNS:localhost"), ("client", "clientAuth", "DNS:otsensor")):
        (folder / f"{name}.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage={usage}\n"
                                            "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n")
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
            str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext")
    # A second CA, unrelated: a server it did not sign must be refused.
    run("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=other CA")
    return {n: folder / f for n, f in (("ca", "ca.pem"), ("server_cert", "server.pem"), ("server_key", "server.key"),
                                       ("client_cert", "client.pem"), ("client_key", "client.key"),
                                       ("other_ca", "other.pem"))}


TEMPLATE = """
template(name="capture" type="list" option.jsonf="on") {
  property(outname="msg" name="msg" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
}
"""


class Rsyslog:
    """An rsyslogd of our own: its config, pid file and output in ``folder``, listening on loopback.

    Every message received is written as one JSON line (``msg``, ``hostname``, ``appname``, ``msgid``,
    ``severity``, ``facility``, ``timestamp``) to ``out.jsonl``; restarts append to the same file.
    """

    def __init__(self, folder: Path, *, tcp_port: int | None = None, udp_port: int | None = None,
                 tls: dict[str, Path] | None = None, client_auth: bool = True) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.tcp_port = tcp_port or free_port()
        self.udp_port = udp_port
        self.tls = tls
        self.out = folder / "out.jsonl"
        self.conf = folder / "rsyslog.conf"
        self.pidfile = folder / "rsyslogd.pid"
        self.proc: subprocess.Popen | None = None
        lines = [f'global(workDirectory="{folder}" maxMessageSize="1m" '
                 'parser.escapeControlCharactersOnReceive="off"'
                 + (f' defaultNetstreamDriverCAFile="{tls["ca"]}" defaultNetstreamDriverCertFile="{tls["server_cert"]}"'
                    f' defaultNetstreamDriverKeyFile="{tls["server_key"]}"' if tls else "") + ")"]
        if tls:
            mode = "x509/certvalid" if client_auth else "anon"
            lines.append(f'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" '
                         f'streamDriver.authMode="{mode}")')
        else:
            lines.append('module(load="imtcp")')
        lines.append(f'input(type="imtcp" address="127.0.0.1" port="{self.tcp_port}")')
        if udp_port:
            lines += ['module(load="imudp")', f'input(type="imudp" address="127.0.0.1" port="{udp_port}")']
        lines += [TEMPLATE, f'action(type="omfile" file="{self.out}" template="capture")']
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"tls://localhost:{self.tcp_port}" if self.tls else f"tcp://127.0.0.1:{self.tcp_port}"

    def start(self, timeout: float = 15.0) -> None:
        assert RSYSLOGD is not None
        self.pidfile.unlink(missing_ok=True)
        log = open(self.folder / "rsyslogd.log", "ab")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rsyslogd exited {self.proc.returncode}: {self.log_text()[-2000:]}")
            # Ready when the pid file is written (after the inputs are set up) and the port accepts.
            if self.pidfile.exists():
                try:
                    socket.create_connection(("127.0.0.1", self.tcp_port), timeout=0.5).close()
                    return
                except OSError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"rsyslogd did not start listening on {self.tcp_port}: {self.log_text()[-2000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: rsyslog writes what it received, then exits."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_text(self) -> str:
        path = self.folder / "rsyslogd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def received(self) -> list[dict]:
        """Every message written so far, one dict per message."""
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text(encoding="utf-8").splitlines() if line.strip()]

    def wait_for(self, predicate, timeout: float = 20.0) -> list[dict]:
        """Poll the output until ``predicate(messages)`` holds; returns the messages either way."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.received()
            if predicate(messages) or time.monotonic() >= deadline:
                return messages
            time.sleep(0.05)


def make_alert(n: int) -> dict:
    """A policy-style alert whose text exercises the escapes (pipes, backslashes, equals, newlines)."""
    return {
        "id": f"alert-{n:05d}",
        "ts": 1767600300.0 + n,
        "rule": "policy.no_conduit",
        "category": "policy",
        "severity": n % 11,
        "src": "10.40.0.7",
        "dst": "10.10.0.5",
        "sport": 40000 + n % 1000,
        "dport": 502,
        "transport": "tcp",
        "proto": "modbus",
        "summary": f"alert {n}: a|b\\c=d\ne\rf ünï ☃",
        "evidence": {"seen": {"initiator_zone": "enterprise", "responder_zone": "field", "n": n}},
        "frames": [["plant.pcap", n + 1]],
        "count": n + 1,
        "first_seen": 1767600300.0 + n,
        "last_seen": 1767600300.5 + n,
    }


def main(argv: list[str]) -> int:
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from sensor.sinks.siem import Forwarder

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("spool")
    parser.add_argument("first", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--drain", type=float, default=0.0)
    parser.add_argument("--fmt", default="cef")
    args = parser.parse_args(argv)
    forwarder = Forwarder(args.url, args.fmt, "sensor-1", args.spool, backoff_initial=0.05, backoff_max=0.5,
                          batch=16)
    for n in range(args.first, args.first + args.count):
        forwarder.alerts([make_alert(n)])
        print(f"queued {n}", flush=True)
        if args.pace:
            time.sleep(args.pace)
    if args.drain:
        forwarder.flush(args.drain)
    print("done " + json.dumps(forwarder.health()), flush=True)
    forwarder.close(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
