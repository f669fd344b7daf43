"""Commits batches forever until killed: the subject of the crash-safety test.

Batch n (counting from 1) adds n packets to one asset, touches POINTS points and one communication, and
checkpoints frames_done = n in the same transaction, so a reader can tell exactly which batches landed.
"""
from __future__ import annotations

import itertools
import sys

from sensor.inventory.model import AssetDelta, CommunicationDelta, NameDelta, PointDelta, Source
from sensor.store import FileCheckpoint, Store, StoreBatch

FINGERPRINT = "crash-test"
POINTS = 300  # enough work per transaction that a kill often lands inside one


def batch(n: int) -> StoreBatch:
    t = float(n)
    return StoreBatch(
        assets=[AssetDelta("10.0.0.1", t, t, packets=n, bytes=1)],
        names=[NameDelta("10.0.0.1", f"h{n % 7}", "dns", t, t, 1, Source("dns", "a.pcap", n))],
        points=[PointDelta("10.0.0.1", "10.0.0.2", 1, 3, "read", "holding_register", 2 * a, 1, 1, t, t)
                for a in range(POINTS)],  # a gap between points keeps them apart as ranges
        communications=[CommunicationDelta("10.0.0.1", "10.0.0.2", "tcp", 502, "modbus", t, t, packets=2,
                                           flows=1, actions={"read_holding_registers": 1},
                                           sample_frames=[("crash.pcap", n)])],
        weirds={("crash_weird", "crash.pcap"): (1, n)},
        files=[FileCheckpoint(FINGERPRINT, "crash.pcap", 0, n, False)],
    )


def main(path: str) -> None:
    with Store.open(path) as store:
        progress = store.file_progress(FINGERPRINT)
        start = progress.frames_done if progress else 0  # resume where the last run was killed
        for n in itertools.count(start + 1):
            store.commit(batch(n))
            if n == start + 1:
                print("ready", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
