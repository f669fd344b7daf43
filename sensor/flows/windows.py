"""What each receiver had acknowledged and would accept when a data segment reached it, for a whole batch.

Every ACK a side sends says, for the other direction's bytes, "received up to ``ack``, room up to
``ack + window << scale``" (RFC 9293 §3.10.7.4, RFC 7323 §2.2). A data segment is judged against the
largest values the receiver announced *before* it in capture order, so a forged segment cannot be
made acceptable by a window the receiver only opened later. The shift is the one the handshake
agreed when both SYNs were seen (0 when either lacked the option); for a connection picked up
mid-stream it is unknown and the largest, 14, is assumed. SYN segments' windows are never scaled.

Running maxima are taken per (flow, direction, connection) with one ``np.maximum.accumulate`` over the batch,
in sequence space unwrapped around a base per stream; the final values carry over to the next batch. A new
connection on the same ports (``sensor.flows.connections``) starts from nothing: the old one's ACKs do not
judge it.
"""
from __future__ import annotations

import numpy as np

from sensor.decode.packets import TCP_ACK, TCP_RST, TCP_SYN
from sensor.flows.connections import Handshakes
from sensor.flows.reassembly import SEQ_MASK, SEQ_MOD, TcpStream, Window
from sensor.flows.table import FlowBatch
from sensor.order import first_rows, groups, stable_order

ASSUMED_SHIFT = 14  # mid-stream: the handshake that set the window scale was not seen
UNKNOWN = -1
_NONE = -(1 << 40)  # 'no ACK yet' in unwrapped sequence space
_GROUP = np.int64(1 << 42)  # per-stream offset that keeps running maxima apart, larger than any value
_HALF = SEQ_MOD // 2


def _wrap(x: np.ndarray) -> np.ndarray:
    """Signed 32-bit sequence distances for int64 differences: x mod 2**32, moved into [-2**31, 2**31)."""
    return ((x + _HALF) & SEQ_MASK) - _HALF


def receiver_windows(fb: FlowBatch, in_flow: np.ndarray, rows: np.ndarray,
                     shakes: Handshakes) -> tuple[np.ndarray, np.ndarray]:
    """(ack, edge) that the receiver of each payload row in ``rows`` had announced before it; UNKNOWN when none.

    ``in_flow`` marks the batch rows of flows under reassembly (their streams exist); ``shakes`` tells the
    connections each flow began in the batch. The streams' ``window`` is updated to the batch's final values.
    """
    p = fb.packets
    flags = p.tcp_flags
    acks = np.nonzero(in_flow & ((flags & TCP_ACK) != 0) & ((flags & TCP_RST) == 0))[0]
    ack_epoch, data_epoch = shakes.epoch_of(acks), shakes.epoch_of(rows)
    span = max(int(ack_epoch.max(initial=0)), int(data_epoch.max(initial=0))) + 1  # key = stream * span + connection
    # an ACK speaks of the other direction's bytes
    ack_key = (fb.row_flow[acks] * 2 + 1 - fb.direction[acks]) * span + ack_epoch
    data_key = (fb.row_flow[rows] * 2 + fb.direction[rows]) * span + data_epoch
    keys, key_rank = groups(np.concatenate([ack_key, data_key]))
    ack_rank, data_rank = key_rank[:len(acks)], key_rank[len(acks):]
    for g in shakes.began:  # a new connection: the old one's window ends here
        for stream in fb.flows[g].streams:
            stream.window = None
    if len(keys) == 0:
        return np.full(len(rows), UNKNOWN, np.int64), np.full(len(rows), UNKNOWN, np.int64)

    # per stream and connection: the shift of the acking side, the stored window, and a base to unwrap around
    shift = np.empty(len(keys), np.int64)
    base = np.full(len(keys), UNKNOWN, np.int64)
    stored_edge = np.full(len(keys), _NONE, np.int64)
    for i, key in enumerate(keys.tolist()):
        s, epoch = divmod(key, span)
        g, side = s >> 1, s & 1
        stream, acker = fb.flows[g].streams[side], fb.flows[g].streams[1 - side]
        shift[i] = _shift(_wscale(shakes, acker, g, epoch, 1 - side), _wscale(shakes, stream, g, epoch, side))
        if epoch == 0 and stream.window is not None:
            base[i] = stream.window.ack
            stored_edge[i] = _wrap(np.int64(stream.window.edge - stream.window.ack))
    ack_value = p.ack[acks].astype(np.int64)
    syn = (flags[acks] & TCP_SYN) != 0
    edge_value = ack_value + (p.window[acks].astype(np.int64) << np.where(syn, 0, shift[ack_rank]))
    unset = base[ack_rank] == UNKNOWN
    if unset.any():  # no stored window: unwrap around the stream's first ACK in this batch
        first_keys, first = first_rows(ack_rank[unset])
        base[first_keys] = ack_value[np.nonzero(unset)[0][first]]

    # one sorted sequence of events per stream: ACKs update, data rows read
    event_row = np.concatenate([acks, rows])
    event_rank = np.concatenate([ack_rank, data_rank])
    rel_ack = np.full(len(event_row), _NONE, np.int64)
    rel_edge = np.full(len(event_row), _NONE, np.int64)
    rel_ack[: len(acks)] = acked = _wrap(ack_value - base[ack_rank])
    rel_edge[: len(acks)] = acked + _wrap(edge_value - ack_value)
    order = stable_order(event_rank, event_row)
    rank = event_rank[order]
    offset = rank * _GROUP
    seen_ack = np.maximum.accumulate(rel_ack[order] + offset) - offset
    seen_edge = np.maximum.accumulate(rel_edge[order] + offset) - offset
    has_stored = stored_edge[rank] != _NONE
    seen_ack = np.where(has_stored, np.maximum(seen_ack, 0), seen_ack)
    seen_edge = np.where(has_stored, np.maximum(seen_edge, stored_edge[rank]), seen_edge)
    known = seen_ack > _NONE // 2

    # the stream's window after the batch: the last event of its flow's last connection
    last = np.r_[rank[1:] != rank[:-1], True]
    for r, a, e, k in zip(rank[last].tolist(), seen_ack[last].tolist(), seen_edge[last].tolist(),
                          known[last].tolist()):
        s, epoch = divmod(int(keys[r]), span)
        if k and epoch == shakes.began.get(s >> 1, 0):
            b = int(base[r])
            fb.flows[s >> 1].streams[s & 1].window = Window((b + a) % SEQ_MOD, (b + e) % SEQ_MOD)

    ack_out = np.full(len(event_row), UNKNOWN, np.int64)
    edge_out = np.full(len(event_row), UNKNOWN, np.int64)
    ack_out[order] = np.where(known, (base[rank] + seen_ack) & SEQ_MASK, UNKNOWN)
    edge_out[order] = np.where(known, (base[rank] + seen_edge) & SEQ_MASK, UNKNOWN)
    return ack_out[len(acks):], edge_out[len(acks):]


def _wscale(shakes: Handshakes, stream: TcpStream, g: int, epoch: int, side: int) -> int | None:
    """A side's window scale option in a connection: as its stream knows it, else from the batch's SYNs."""
    if epoch == 0 and stream.wscale is not None:
        return stream.wscale
    return shakes.wscale.get((g, epoch, side))


def _shift(acker: int | None, sender: int | None) -> int:
    """The shift applied to the acking side's windows: RFC 7323 §2.2 needs the option in both SYNs."""
    if acker is None or sender is None:
        return ASSUMED_SHIFT
    return acker if acker >= 0 and sender >= 0 else 0


def in_window(seq: np.ndarray, size: np.ndarray, ack: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """Rows whose bytes the receiver accepts whole (an unknown receiver accepts everything)."""
    end = seq + size
    span = np.maximum(_wrap(edge - ack), 1)
    ok = (_wrap(end - edge) <= 0) & (_wrap(ack - end) <= span)
    return (ack == UNKNOWN) | ok
