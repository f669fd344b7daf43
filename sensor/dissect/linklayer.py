"""Link-layer protocols: frames of a registered ethertype or LLC/SNAP id go to their package's datagram parser.

Such messages have no IP flow: their ends are MAC addresses, and what they teach the inventory is about a
station known by its MAC (the inventory attaches it to the IP asset with that MAC, or keeps a MAC-keyed
asset for a station seen only at layer 2). Parsing is per frame and stateless, as for UDP datagrams.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from protocols.base import Malformed, Message, ProtocolSpec
from sensor.decode.packets import Packets, Weird, mac_text


@dataclass(slots=True)
class LinkBatch:
    """Every message of one link-layer protocol in one batch, in capture order; ``src``/``dst`` are MAC texts
    (``dst`` None where the capture has no destination MAC)."""

    protocol: str
    file: str
    frame: np.ndarray
    ts: np.ndarray
    src: list[str | None]
    dst: list[str | None]
    messages: list[Message]

    def __len__(self) -> int:
        return len(self.messages)


def link_batches(packets: Packets, specs: Iterable[ProtocolSpec], weirds: list[Weird]) -> tuple[list[LinkBatch], int]:
    """The messages of every link-layer protocol in ``packets``, and how many frames were decoded (gave a
    message or a weird): the rest of the non-IP frames stay ``other_non_ip``."""
    rows = packets.link
    if rows is None:
        return [], 0
    batches: list[LinkBatch] = []
    decoded = 0
    for spec in specs:
        if not spec.link_ids or spec.datagram is None:
            continue
        mine = np.nonzero(np.isin(rows.ethertype, list(spec.link_ids)))[0]
        if len(mine) == 0:
            continue
        found: list[tuple[int, float, int, int, Message]] = []
        for i in mine.tolist():
            frame, ts = int(rows.frame[i]), float(rows.ts[i])
            payload = packets.data[int(rows.payload_off[i]):int(rows.payload_end[i])].tobytes()
            try:
                messages = spec.datagram(payload, True)
            except Malformed as bad:
                weirds.append(Weird(bad.code, spec.name, packets.file, frame, ts, bad.detail))
                decoded += 1
                continue
            decoded += bool(messages)
            for message in messages:
                if message.weird:
                    weirds.append(Weird(message.weird, spec.name, packets.file, frame, ts))
                found.append((frame, ts, int(rows.mac_src[i]), int(rows.mac_dst[i]), message))
        if found:
            batches.append(LinkBatch(
                protocol=spec.name, file=packets.file,
                frame=np.array([f[0] for f in found], dtype=np.int64), ts=np.array([f[1] for f in found], dtype=float),
                src=[mac_text(f[2]) for f in found], dst=[mac_text(f[3]) for f in found],
                messages=[f[4] for f in found]))
    return batches, decoded
