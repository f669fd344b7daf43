"""What tshark says about a capture's Modbus/TCP: the oracle the sensor's events are checked against.

One row per Modbus PDU: (frame, function_code, exception_code, transaction_id, unit_id). tshark's
`modbus.func_code` is already without the exception bit (an exception response to FC 8 prints 8 and
`modbus.exception_code` 11), so it compares directly with our `function_code`.
"""
from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Row = tuple[int, int | None, int | None, int | None, int | None]
MODBUS_PORT = 502
FIELDS = ["frame.number", "mbtcp.trans_id", "mbtcp.unit_id", "modbus.func_code", "modbus.exception_code"]


def decode_as(ports: Iterable[int]) -> list[str]:
    """tshark decode-as arguments matching the sensor's `--modbus-port`."""
    return [arg for p in sorted(ports) for arg in ("-d", f"tcp.port=={p},mbtcp")]


def tshark(path: Path, *args: str) -> str:
    proc = subprocess.run(["tshark", "-n", "-r", str(path), *args], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"tshark failed on {path}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def _int(text: str | None) -> int | None:
    return int(text) if text not in (None, "") else None


def _split(cell: str) -> list[str]:
    return cell.split(",") if cell else []


def modbus_rows(path: Path, ports: Sequence[int] = ()) -> Counter[Row]:
    """Every Modbus PDU tshark decodes, as a multiset (one frame may carry the same ADU twice).

    Fields print one comma-separated list per field, so a frame with several ADUs whose lists don't line up
    (exception codes on only some ADUs, or an MBAP header without a PDU) is re-read as JSON, where the
    layers come as ordered lists and can be paired exactly.
    """
    out = tshark(path, *decode_as(ports), "-Y", "mbtcp", "-T", "fields", "-E", "occurrence=a",
                 "-E", "aggregator=,", *[a for f in FIELDS for a in ("-e", f)])
    rows: Counter[Row] = Counter()
    ambiguous: list[int] = []
    for line in out.splitlines():
        frame, tids, units, fcs, excs = (line.split("\t") + [""] * 5)[:5]
        tids, units, fcs, excs = _split(tids), _split(units), _split(fcs), _split(excs)
        n = len(tids)
        if len(units) != n or len(fcs) != n or (excs and len(excs) != n):
            ambiguous.append(int(frame))
            continue
        for i in range(n):
            rows[(int(frame), _int(fcs[i]), _int(excs[i]) if excs else None, _int(tids[i]), _int(units[i]))] += 1
    if ambiguous:
        rows.update(_rows_from_json(path, ports, ambiguous))
    return rows


def _as_list(layer: object) -> list[dict]:
    if layer is None:
        return []
    return layer if isinstance(layer, list) else [layer]  # type: ignore[return-value]


def _rows_from_json(path: Path, ports: Sequence[int], frames: list[int]) -> Counter[Row]:
    """Pair mbtcp and modbus layers in order; an MBAP header with no PDU gets function_code None."""
    rows: Counter[Row] = Counter()
    for start in range(0, len(frames), 200):  # keep the display filter short
        chunk = frames[start:start + 200]
        filt = "frame.number in {" + " ".join(map(str, chunk)) + "}"
        packets = json.loads(tshark(path, *decode_as(ports), "-Y", filt, "-T", "json", "--no-duplicate-keys",
                                    "-j", "frame mbtcp modbus") or "[]")
        for pkt in packets:
            layers = pkt["_source"]["layers"]
            frame = int(layers["frame"]["frame.number"])
            headers, pdus = _as_list(layers.get("mbtcp")), _as_list(layers.get("modbus"))
            for i, hdr in enumerate(headers):
                pdu = pdus[i] if i < len(pdus) else {}
                rows[(frame, _int(pdu.get("modbus.func_code")), _int(pdu.get("modbus.exception_code")),
                      _int(hdr.get("mbtcp.trans_id")), _int(hdr.get("mbtcp.unit_id")))] += 1
    return rows


TABLE_FUNCTIONS = {1, 2, 3, 4, 5, 6, 15, 16}
RefRow = tuple[int, int | None, int, int | None, int | None]  # frame, transaction_id, function_code, address, quantity


def request_refs(path: Path, ports: Sequence[int] = ()) -> Counter[RefRow]:
    """Address and quantity of every table-access request (FC 1-6, 15, 16) sent to a Modbus port.

    Read from JSON, where each frame's mbtcp and modbus layers come as ordered lists that pair exactly.
    Quantity is bit_cnt or word_cnt; FC 5 and 6 address a single point.
    """
    dst = " ".join(str(p) for p in sorted({MODBUS_PORT, *ports}))
    packets = json.loads(tshark(path, *decode_as(ports), "-Y", f"mbtcp && tcp.dstport in {{{dst}}}", "-T", "json",
                                "--no-duplicate-keys", "-j", "frame mbtcp modbus") or "[]")
    rows: Counter[RefRow] = Counter()
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        frame = int(layers["frame"]["frame.number"])
        for hdr, pdu in zip(_as_list(layers.get("mbtcp")), _as_list(layers.get("modbus"))):
            fc = _int(pdu.get("modbus.func_code"))
            if fc not in TABLE_FUNCTIONS or "modbus.exception_code" in pdu:
                continue
            qty = 1 if fc in (5, 6) else _int(pdu.get("modbus.bit_cnt") or pdu.get("modbus.word_cnt"))
            rows[(frame, _int(hdr.get("mbtcp.trans_id")), fc, _int(pdu.get("modbus.reference_num")), qty)] += 1
    return rows


def flagged_frames(path: Path, ports: Sequence[int] = ()) -> dict[int, str]:
    """Frames tshark marks malformed or with expert info of severity note or worse, with its messages.

    Notes matter: tshark does not dissect what it classifies as a TCP retransmission (a Note), so that is
    where a reassembler that looks at which bytes are new can legitimately disagree with it.
    """
    out = tshark(path, *decode_as(ports), "-Y", '_ws.malformed || _ws.expert.severity >= "note"',
                 "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number",
                 "-e", "_ws.expert.message")
    flagged = {}
    for line in out.splitlines():
        frame, _, msg = line.partition("\t")
        flagged[int(frame)] = msg or "malformed"
    return flagged


def _looks_like_mbap(payload: bytes) -> bool:
    """MBAP: protocol id 0 and a length field that covers exactly the rest of the segment."""
    return len(payload) >= 8 and payload[2:4] == b"\0\0" and int.from_bytes(payload[4:6], "big") == len(payload) - 6


def extra_modbus_ports(path: Path, min_segments: int = 3) -> list[int]:
    """Ports other than 502 that carry Modbus/TCP tshark doesn't decode by default.

    A segment votes for the lower of its two ports (the server side, for a client on an ephemeral port) when
    its payload is exactly one well-formed MBAP frame; a port needs `min_segments` votes.
    """
    out = tshark(path, "-Y", f"tcp.len >= 8 && !mbtcp && !(tcp.port == {MODBUS_PORT})", "-T", "fields",
                 "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload")
    votes: Counter[int] = Counter()
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2] and _looks_like_mbap(bytes.fromhex(parts[2].replace(":", ""))):
            votes[min(int(parts[0]), int(parts[1]))] += 1
    return sorted(p for p, n in votes.items() if n >= min_segments)


@dataclass(frozen=True)
class TsharkView:
    """Everything the oracle test needs from tshark for one file, computed once per session."""

    ports: tuple[int, ...]
    rows: Counter[Row]
    flagged: dict[int, str]
    refs: Counter[RefRow]


def view(path: Path) -> TsharkView:
    ports = tuple(extra_modbus_ports(path))
    return TsharkView(ports, modbus_rows(path, ports), flagged_frames(path, ports), request_refs(path, ports))
