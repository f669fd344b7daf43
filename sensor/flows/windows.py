"""What each receiver had acknowledged and would accept when a data segment reached it, for a whole batch.

Every ACK a side sends says, for the other direction's bytes, "received up to ``ack``, room up to
``ack + window << scale``" (RFC 9293 §3.10.7.4, RFC 7323 §2.2). A data segment is judged against the
largest values the receiver announced *before* it in capture order, so a forged segment cannot be
made acceptable by a window the receiver only opened later. The shift is the one the handshake
agreed when both SYNs were seen (0 when either lacked the option); for a connection picked up
mid-stream it is unknown and the largest, 14, is assumed. SYN segments' windows are never scaled.

Running maxima are taken per (flow, direction, connection) with ``np.maximum.accumulate`` along the batch's
rows ordered by connection (one radix sort of a narrow key), in sequence space unwrapped around a base per
stream; the final values carry over to the next batch. A new connection on the same ports
(``sensor.flows.connections``) starts from nothing: the old one's ACKs do not judge it.
"""
from __future__ import annotations

import numpy as np

from sensor.decode.packets import TCP_ACK, TCP_RST, TCP_SYN
from sensor.flows.connections import Handshakes
from sensor.flows.reassembly import SEQ_MASK, SEQ_MOD, TcpStream, Window
from sensor.flows.table import FlowBatch
from sensor.order import stable_order

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

    ``in_flow`` marks the batch rows of flows under reassembly (their streams exist; ``rows`` are among them);
    ``shakes`` tells the connections each flow began in the batch. The streams' ``window`` is updated to the
    batch's final values.

    Both directions of a connection are read off one ordering of its rows, in capture order: row ``i`` of
    side ``d`` may carry an ACK for stream ``1 - d`` and data of stream ``d``, so a (2, rows) table holds each
    stream's ACKs in its own line, and one running maximum along the rows serves both.
    """
    p = fb.packets
    for g in shakes.began:  # a new connection: the old one's window ends here
        for stream in fb.flows[g].streams:
            stream.window = None
    member = np.flatnonzero(in_flow)
    if len(member) == 0:
        return np.full(len(rows), UNKNOWN, np.int64), np.full(len(rows), UNKNOWN, np.int64)
    every = len(member) == len(in_flow)  # every row in a flow under reassembly, as usual: no copies
    span = 1 if shakes.epoch is None else int(shakes.epoch.max()) + 1  # connection key = flow * span + epoch
    conn = fb.row_flow if every else fb.row_flow[member]
    if shakes.epoch is not None:
        conn = conn * span + (shakes.epoch if every else shakes.epoch[member])
    order = stable_order(conn)
    row, conn = order if every else member[order], conn[order]
    m = len(row)
    starts = np.flatnonzero(np.r_[True, conn[1:] != conn[:-1]])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, m]))  # each sorted row's connection, 0..
    shift, base, seed_ack, seed_edge = _connection_state(fb, shakes, conn[starts].tolist(), span)

    # each ACK goes to the line of the stream it speaks of, the other side's
    flags = p.tcp_flags[row]
    acking = np.flatnonzero((flags & (TCP_ACK | TCP_RST)) == TCP_ACK)
    pick = slice(None) if len(acking) == m else acking  # every row an ACK, as usual: no copies
    ack_row = row[pick]
    line = fb.direction[ack_row] ^ 1
    cell = line * m + acking  # in the flattened (2, m) table
    state = line * len(starts) + group[pick]  # in the flattened (2, connections) tables
    ack_value = p.ack[ack_row].astype(np.int64, copy=False)
    if (base == UNKNOWN).any():  # no stored window: unwrap around the stream's first ACK in the batch
        first = np.full(2 * m, m, np.int64)
        first[cell] = acking
        first = np.minimum.reduceat(first.reshape(2, m), starts, axis=1).reshape(-1)  # or m: no ACK
        unset = (base == UNKNOWN) & (first < m)
        where_first = np.zeros(m, np.int64)
        where_first[acking] = np.arange(len(acking))
        base[unset] = ack_value[where_first[first[unset]]]
    factor = np.int64(1) << shift  # window << shift < 2**30: shift <= 14
    one_factor = bool((factor == factor[0]).all())  # one shift in the whole batch, as usual: no lookup
    scale = p.window[ack_row] * (factor[0] if one_factor else factor[state])
    syn = np.flatnonzero(flags[pick] & TCP_SYN)
    scale[syn] = p.window[ack_row[syn]]  # a SYN's window is never scaled

    # running maxima per stream and connection, kept apart by an offset per connection (taken off where read);
    # a stored window seeds them
    offset = group * _GROUP
    connection_offset = np.tile(np.arange(len(starts)) * _GROUP, 2)
    rel = ack_value + (_HALF - base)[state]  # _wrap(ack_value - base), and the offset
    rel &= SEQ_MASK
    rel += offset[pick]
    rel -= _HALF
    seen_ack = np.empty((2, m), np.int64)
    seen_ack[:] = offset + _NONE
    flat_ack = seen_ack.reshape(-1)
    flat_ack[cell] = rel
    seen_edge = seen_ack.copy()
    flat_edge = seen_edge.reshape(-1)
    flat_edge[cell] = rel + scale
    start_offset = offset[starts]
    seen_ack[:, starts] = np.maximum(seen_ack[:, starts], seed_ack.reshape(2, -1) + start_offset)
    seen_edge[:, starts] = np.maximum(seen_edge[:, starts], seed_edge.reshape(2, -1) + start_offset)
    np.maximum.accumulate(seen_ack, axis=1, out=seen_ack)
    np.maximum.accumulate(seen_edge, axis=1, out=seen_edge)

    # the stream's window after the batch: the last row of its flow's last connection
    last = np.r_[starts[1:] - 1, m - 1]
    final_ack = (seen_ack[:, last] - offset[last]).reshape(-1)
    final_edge = (seen_edge[:, last] - offset[last]).reshape(-1)
    flow, epoch = np.divmod(np.tile(conn[starts], 2), span)
    current = np.zeros(len(fb.flows), np.int64)  # each flow's last connection
    current[list(shakes.began)] = list(shakes.began.values())
    changed = (final_ack != seed_ack) | (final_edge != seed_edge)  # else it is the stored window already
    updated = np.flatnonzero((final_ack > _NONE // 2) & (epoch == current[flow]) & changed)
    for side, g, a, e in zip((updated // len(starts)).tolist(), flow[updated].tolist(),
                             ((base[updated] + final_ack[updated]) % SEQ_MOD).tolist(),
                             ((base[updated] + final_edge[updated]) % SEQ_MOD).tolist()):
        fb.flows[g].streams[side].window = Window(a, e)

    # each payload row reads its own side's line where it stands
    at = np.empty(len(p.tcp_flags), np.int64)
    at[row] = np.arange(m)
    at = at[rows]
    side = fb.direction[rows]
    data_state = side * len(starts) + group[at]
    cell = side * m + at
    data_offset = connection_offset[data_state]
    data_ack, data_edge = flat_ack[cell] - data_offset, flat_edge[cell] - data_offset
    data_base = base[data_state]
    unknown = data_ack <= _NONE // 2
    data_ack += data_base
    data_ack &= SEQ_MASK
    data_edge += data_base
    data_edge &= SEQ_MASK
    if unknown.any():
        data_ack[unknown] = UNKNOWN
        data_edge[unknown] = UNKNOWN
    return data_ack, data_edge


def _connection_state(fb: FlowBatch, shakes: Handshakes, keys: list[int], span: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per stream (side * connections + i) of each connection key (flow * span + epoch): the shift of the acking
    side, and from the stored window a base to unwrap around (else UNKNOWN) and what the receiver had announced
    relative to it (else ``_NONE``)."""
    shift: list[list[int]] = [[], []]
    base: list[list[int]] = [[], []]
    seed_edge: list[list[int]] = [[], []]
    for key in keys:
        g, epoch = divmod(key, span)
        streams = fb.flows[g].streams
        for side in (0, 1):
            stream, acker = streams[side], streams[1 - side]
            shift[side].append(_shift(_wscale(shakes, acker, g, epoch, 1 - side),
                                      _wscale(shakes, stream, g, epoch, side)))
            window = stream.window if epoch == 0 else None
            base[side].append(UNKNOWN if window is None else window.ack)
            seed_edge[side].append(_NONE if window is None else window.edge - window.ack)
    stored = np.array(base[0] + base[1], np.int64)
    edge = np.array(seed_edge[0] + seed_edge[1], np.int64)
    has = stored != UNKNOWN
    return (np.array(shift[0] + shift[1], np.int64), stored, np.where(has, 0, _NONE),
            np.where(has, _wrap(edge), _NONE))


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
    """Rows whose bytes the receiver accepts whole (an unknown receiver accepts everything).

    The segment must not end past ``edge`` nor more than a window span (at least 1) behind ``ack``, in signed
    32-bit distances: ``_wrap(x) <= limit`` is taken as ``(x + _HALF) & SEQ_MASK <= limit + _HALF``, and
    adding ``_HALF`` once to the end serves both distances (``2 * _HALF`` is a whole turn)."""
    end = seq + size
    end += _HALF
    past_edge = end - edge
    past_edge &= SEQ_MASK
    behind = ack - end
    behind &= SEQ_MASK
    span = edge - ack
    span += _HALF
    span &= SEQ_MASK
    np.maximum(span, _HALF + 1, out=span)
    return (ack == UNKNOWN) | ((past_edge <= _HALF) & (behind <= span))
