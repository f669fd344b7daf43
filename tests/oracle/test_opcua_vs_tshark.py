"""The whole sensor against tshark's OPC UA dissector, on every capture of the corpus's opcua folder.

``otsensor analyze FILE --strict --events E.jsonl`` runs over each capture; tshark (default settings, plus
``-d tcp.port==N,opcua`` for the two captures on other ports, which our sensor finds by its probe) lists per
frame the messages it dissects as ``opcua``. Per frame we compare, as multisets:

- every message: (message type, chunk type) and the service type id when the body is in the clear
  (``opcua.transport.type``, ``opcua.transport.chunk``, ``opcua.servicenodeid.numeric``) with our
  ``message_type``, ``chunk_type``, ``type_id``;
- the HEL endpoint URL (``opcua.transport.endpoint``) and the OPN security policy URI (``opcua.security.spu``);
- the application URIs (``opcua.ApplicationUri``) and endpoint URLs (``opcua.EndpointUrl``) of the discovery
  and session services we decode (FindServers, GetEndpoints, CreateSession), as sets.

A secured channel's MSG chunks carry no type id on either side. Differences are allowed only where DOCUMENTED
says why (file -> frame -> reason); a documented difference that no longer occurs fails too. Every other
frame of the 28 captures agrees (1,328 messages in malcolm_OPCUA-Binary.pcap alone, with a Basic128Rsa15
SignAndEncrypt and a Basic256Sha256 Sign channel).
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pipeline_oracle as po
import pytest
from helpers import captures_dir

CORPUS = captures_dir()
FOLDER = CORPUS / "opcua"  # the MANIFEST lists OPC UA only there
OTHER_PORTS = {"icsnpp_open62541_client-server_mainloop-not-localhost-non-standard-port.pcap": 48010,
               "iti_opc-ua-ap-method-wireshark-freeze.pcap": 12001}
FIELDS = ("frame.number", "opcua.transport.type", "opcua.transport.chunk", "opcua.servicenodeid.numeric",
          "opcua.transport.endpoint", "opcua.security.spu", "opcua.ApplicationUri", "opcua.EndpointUrl")
URL_SERVICES = frozenset({422, 425, 428, 431, 461, 464})  # whose URIs and URLs we decode

SPURIOUS_RETRANSMISSION = (
    "the CreateSessionResponse spans frames 26, 27 and 30; tshark calls 26 and 30 spurious retransmissions (the "
    "client acknowledged their bytes, whose first copies the capture lost: hence its name) and dissects nothing. "
    "These are new bytes to our reassembly, so the response is decoded (the server's endpoints, application URI).")

DOCUMENTED: dict[str, dict[int, str]] = {
    # | file | frame | why |
    "icsnpp_opcua_with-gap.pcap": {30: SPURIOUS_RETRANSMISSION},
    "icsnpp_opcua_with-gap_with-handshake.pcap": {30: SPURIOUS_RETRANSMISSION},
}

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def files() -> list[Path]:
    return sorted(p for p in FOLDER.iterdir() if p.suffix in (".pcap", ".pcapng")) if FOLDER.is_dir() else []


def _split(cell: str) -> list[str]:
    return [c for c in cell.split("|") if c] if cell else []


def tshark_rows(path: Path) -> Counter:
    port = OTHER_PORTS.get(path.name)
    decode = ["-d", f"tcp.port=={port},opcua"] if port else []
    out = subprocess.run(["tshark", "-n", "-r", str(path), *decode, "-Y", "opcua", "-T", "fields", "-E", "occurrence=a",
                          "-E", "aggregator=|", *[a for f in FIELDS for a in ("-e", f)]],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-500:]
    rows: Counter = Counter()
    for line in out.stdout.splitlines():
        frame, types, chunks, services, endpoint, policies, app_uris, urls = (line.split("\t") + [""] * 8)[:8]
        f = int(frame)
        for kind, chunk in zip(_split(types), _split(chunks)):
            rows[(f, "chunk", kind, chunk)] += 1
        for service in _split(services):
            rows[(f, "service", int(service))] += 1
        for url in _split(endpoint):
            rows[(f, "hello", url)] += 1
        for policy in _split(policies):
            rows[(f, "policy", policy)] += 1
        if URL_SERVICES & {int(s) for s in _split(services)}:
            rows[(f, "urls", frozenset(_split(app_uris)), frozenset(_split(urls)))] += 1
    return rows


def our_rows(events: list[dict]) -> Counter:
    rows: Counter = Counter()
    url_frames: dict[int, tuple[set, set]] = {}
    for e in events:
        if e.get("proto") != "opcua":
            continue
        f = e["frame"]
        rows[(f, "chunk", e["message_type"], e["chunk_type"])] += 1
        if "type_id" in e:
            rows[(f, "service", e["type_id"])] += 1
        if e["message_type"] == "HEL" and e.get("endpoint_url"):
            rows[(f, "hello", e["endpoint_url"])] += 1
        if e["message_type"] == "OPN" and e.get("security_policy_uri"):
            rows[(f, "policy", e["security_policy_uri"])] += 1
        if e.get("type_id") in URL_SERVICES:
            uris, urls = url_frames.setdefault(f, (set(), set()))
            _urls(e, uris, urls)
    for f, (uris, urls) in url_frames.items():
        rows[(f, "urls", frozenset(uris), frozenset(urls))] += 1
    return rows


def _urls(e: dict, uris: set, urls: set) -> None:
    if e.get("endpoint_url"):
        urls.add(e["endpoint_url"])
    for endpoint in (e.get("endpoints") or []) + (e.get("server_endpoints") or []):
        if endpoint.get("endpoint_url"):
            urls.add(endpoint["endpoint_url"])
        if endpoint["server"].get("application_uri"):
            uris.add(endpoint["server"]["application_uri"])
    for server in (e.get("servers") or []) + ([e["client_description"]] if "client_description" in e else []):
        if server.get("application_uri"):
            uris.add(server["application_uri"])


FILES = files()
_TMP = Path(tempfile.mkdtemp(prefix="opcua-oracle-"))


def _both(path: Path) -> tuple[Counter, Counter]:
    """tshark's rows and ours for one capture (run a few captures at a time by ``JOBS``)."""
    folder = _TMP / path.stem
    folder.mkdir(exist_ok=True)
    return tshark_rows(path), our_rows(po.analyze(path, folder))


JOBS = po.Jobs(_both, FILES if shutil.which("tshark") else [])


@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(reason="no OPC UA corpus"))],
                         ids=lambda p: p.name if p else "none")
def test_opcua_matches_tshark(path: Path) -> None:
    theirs, ours = JOBS.get(path)  # type: ignore[misc]
    documented = DOCUMENTED.get(path.name, {})
    diffs = po.frame_diffs(theirs, ours)
    problems = [f"frame {f}: tshark {list(t)} | ours {list(o)}" for f, (t, o) in diffs.items() if f not in documented]
    assert not problems, f"{path.name}: {len(problems)} frames differ\n" + "\n".join(problems[:40])
    stale = sorted(set(documented) - set(diffs))
    assert not stale, f"{path.name}: documented differences that no longer occur at frames {stale}"
    assert sum(n for r, n in theirs.items() if r[1] == "chunk"), f"tshark sees no OPC UA in {path.name}"
    print(f"{path.name}: {sum(n for r, n in ours.items() if r[1] == 'chunk')} messages agree")
