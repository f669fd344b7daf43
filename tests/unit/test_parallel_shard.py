"""sensor.parallel.shard_of: every frame of one host pair goes to one worker, by a hash that does not change
between versions (a run killed with ``--workers N`` resumes with the same N, each worker its own share).

The reference is the hash written out per frame with Python integers; the vectorised one takes a shortcut for
batches without IPv6, so the captures hold IPv4 alone and IPv4 beside IPv6.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from sensor.capture.source import open_inputs
from sensor.decode.layers import address_pairs
from sensor.parallel import shard_of

MASK = (1 << 64) - 1
MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)


def reference_worker(ip: bool, src: tuple[int, int], dst: tuple[int, int], n: int) -> int:
    if not ip:
        return 0
    (a_hi, a_lo), (b_hi, b_lo) = sorted([src, dst])
    low, high = (a_hi * MIX[0] & MASK) ^ a_lo, (b_hi * MIX[0] & MASK) ^ b_lo
    mixed = (low * MIX[0] & MASK) ^ (high * MIX[1] & MASK)
    mixed ^= mixed >> 29
    return mixed % n


@pytest.mark.parametrize("capture", ["it/malcolm_DNS.pcap", "modbus/iti_ModbusTCP.pcap", "profinet/"
                                     "icsnpp_profinet_io_cm_mixed_1.pcap"])
def test_one_worker_per_host_pair_by_the_reference_hash(corpus: Path, capture: str) -> None:
    source = next(iter(open_inputs([str(corpus / capture)])))
    seen_v6 = seen_other = False
    for fb in source.batches(max_frames=4096):
        ip, s_hi, s_lo, d_hi, d_lo = address_pairs(fb)
        seen_v6 |= bool(s_hi.any())
        seen_other |= not ip.all()
        for n in (2, 3, 256, 257):
            shard = shard_of(fb, n)
            assert shard.dtype == np.min_scalar_type(n - 1)
            want = [reference_worker(*row) for row in zip(ip.tolist(), zip(s_hi.tolist(), s_lo.tolist()),
                                                          zip(d_hi.tolist(), d_lo.tolist()), [n] * len(fb))]
            assert shard.tolist() == want, n
            workers: dict[tuple, set[int]] = defaultdict(set)
            for row in zip(ip.tolist(), s_hi.tolist(), s_lo.tolist(), d_hi.tolist(), d_lo.tolist(), shard.tolist()):
                workers[(row[0], *sorted([row[1:3], row[3:5]]))].add(row[5])
            assert all(len(w) == 1 for w in workers.values())
    if "DNS" in capture:
        assert seen_v6 and seen_other, "the capture should hold IPv6 and frames without IP"
