"""The ``--flows`` file: one JSON line per flow when it ends (Zeek's conn.log in spirit).

Counters are per direction: ``orig`` is what the initiator sent, ``resp`` what the responder sent.
"""
from __future__ import annotations

import json
from typing import IO

from sensor.decode.packets import mac_text
from sensor.flows.table import Flow
from sensor.services import flow_service

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def flow_record(flow: Flow) -> dict:
    streams = flow.streams or ()
    return {
        "ts": flow.first_ts, "last_ts": flow.last_ts, "duration": round(flow.last_ts - flow.first_ts, 6),
        "file": flow.file, "frame": flow.first_frame, "transport": flow.transport,
        "src": flow.initiator, "sport": flow.init_port, "dst": flow.responder, "dport": flow.resp_port,
        "service": flow_service(flow.protocol, flow.transport, flow.resp_port), "state": flow.state,
        "orig_packets": flow.packets[0], "orig_bytes": flow.bytes[0],
        "resp_packets": flow.packets[1], "resp_bytes": flow.bytes[1],
        "orig_mac": mac_text(flow.macs[0]), "resp_mac": mac_text(flow.macs[1]),
        "gap_bytes": sum(s.gap_bytes for s in streams), "duplicate_bytes": sum(s.duplicate_bytes for s in streams),
    }


class FlowWriter:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0

    def __call__(self, flow: Flow) -> None:
        self.out.write(_dumps(flow_record(flow)) + "\n")
        self.count += 1
