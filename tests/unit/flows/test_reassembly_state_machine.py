"""TcpStream against a plain reference receiver: whatever arrives, in whatever order, the stream delivers
what the receiver would have accepted, and says so when copies disagree or segments miss the window.

The reference model (``Receiver``) keeps one dict entry per byte of the stream (offset 0 is the byte after
the SYN, so the stream starts with ``syn(isn - 1)``):

- a segment carries bytes at offsets ``[off, off + len)`` and, optionally, the receiver's window as offsets
  ``[ack, edge)`` with ``ack`` never past what the model has put in order (a receiver acknowledges only what
  it holds in order);
- a segment that starts at or beyond ``edge`` is refused whole (one ``tcp_out_of_window`` note, nothing else);
  so is one that ends more than one window span (``max(edge - ack, 1)``) behind ``ack`` - those bytes are
  old duplicates anyway, the note is all that changes;
- otherwise the byte at offset ``k`` is accepted iff ``k < edge`` (a segment reaching past the edge gets a
  ``tcp_out_of_window`` note) and no copy of ``k`` was accepted before: the first copy wins. Bytes behind
  the delivered point that were never accepted (skipped by a gap) are duplicates too;
- the delivered stream is the in-order prefix of accepted bytes.

Conflicts (``tcp_overlap_conflict``): a byte differing from the accepted copy is judged when that copy is
still waiting (always), or delivered and still retained. The stream retains the most recent delivered
*pieces* - a piece being a run of bytes accepted from one segment, so a piece is never more than one
segment's bytes - until they add up to at least RETAINED_BYTES (so at least the last RETAINED_BYTES
delivered bytes, and whole pieces), and forgets them at a gap. The model computes that set from the
per-byte owners (``Receiver.comparable_from``); each conflict note names, as ``other``, the segment whose
copy was kept, and the set of those names must equal the model's.

Disputed: a waiting byte is contradicted when a later copy differs at that very byte. A delivered bytes
item is one piece (one owner, checked) and it is ``Disputed`` iff at least one of its bytes was contradicted
while it waited: the whole waiting piece is marked, as test_flows_reassembly's example expects.

The model stays within the limits so that no gap is forced: at most MAX_PENDING_SEGMENTS - 1 waiting pieces
(counted as the stream counts them, pieces not segments, because a segment laid over waiting ones is split)
and fewer than MAX_PENDING_BYTES waiting bytes, with jumps far below MAX_SEQ_JUMP. A segment that would
break a limit is not sent. ``test_over_the_limits_*`` covers what happens beyond them.

Checked after every segment (``Pair.send``): the bytes delivered, joined, equal the model's new in-order
bytes; no gap item; every item carries the segment's tag; one ``tcp_out_of_window`` note iff the model
refused or trimmed the segment, and a refused one yields that note alone; the ``other`` of the conflict notes
is the model's set; Disputed as above; and (``check_state``) next_seq, pending_bytes, duplicate_bytes and
gap_bytes agree with the model. ``flush`` (mid-stream one rule in four, and always at teardown) must give
one gap item per hole, of the hole's size and with the tag of what follows, then what waited behind it,
each piece with its own segment's tag.

The two ``test_an_empty_segment_*`` examples at the end fail: deliver() with an empty payload stores an empty
piece in ``pending``, which can overwrite a waiting segment or pull ``next_seq`` back on flush.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sensor.flows.reassembly import (
    MAX_PENDING_BYTES,
    MAX_PENDING_SEGMENTS,
    MAX_SEQ_JUMP,
    RETAINED_BYTES,
    SEQ_MOD,
    Disputed,
    Note,
    TcpStream,
    Window,
)

TRUTH = random.Random(20_240_611).randbytes(1_500_000)
# version 0 is the true stream; versions 1 and 2 differ from it, and from each other, at every byte
_VERSIONS = [bytes((x + 97 * v) & 0xFF for x in range(256)) for v in range(3)]

starts = st.one_of(
    st.integers(0, SEQ_MOD - 1),
    st.integers(SEQ_MOD - 20_000, SEQ_MOD - 1),  # the stream crosses 2**32
    st.sampled_from([0, SEQ_MOD - 1]),
)
versions = st.tuples(st.sampled_from([0, 0, 1, 2]), st.sampled_from([0, 0, 1, 2]), st.integers(0, 700))
# (how far the ack lags behind the in-order point, window size), or no window known
windows = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 3000), st.integers(0, 4000)),
    st.tuples(st.integers(0, 50), st.integers(0, 300)),
)

# segment sizes, often round so that the retained pieces add up to RETAINED_BYTES exactly
round_or_not = st.one_of(st.integers(1, 1500), st.sampled_from([256, 512, 1024, 2048]))

small_windows = st.one_of(st.sampled_from([0, 1]), st.integers(0, 600))  # zero windows often


def content(off: int, length: int, variant: tuple[int, int, int]) -> bytes:
    """Bytes for offsets [off, off + length): version ``first`` up to ``split``, then version ``second``."""
    first, second, split = variant
    assert off >= 0 and off + length <= len(TRUTH)
    split = min(split, length)
    return TRUTH[off:off + split].translate(_VERSIONS[first]) + TRUTH[off + split:off + length].translate(
        _VERSIONS[second])


@dataclass
class Outcome:
    refused: bool = False
    out_of_window: bool = False
    delivered: bytes = b""
    conflicts_with: set = field(default_factory=set)


class Receiver:
    """The reference receiver, byte by byte."""

    def __init__(self) -> None:
        self.accepted: dict[int, int] = {}  # offset -> byte of the first accepted copy
        self.owner: dict[int, object] = {}  # offset -> tag of the segment whose copy was accepted
        self.waiting: set[int] = set()  # accepted, not yet in order
        self.nxt = 0  # everything before is delivered (or given up as a gap)
        self.history_from = 0  # delivered bytes before this were cut off from comparison by a gap
        self.contradicted: set[int] = set()
        self.duplicates = 0
        self.gaps = 0

    def _accepts_up_to(self, off: int, length: int, window: tuple[int, int] | None) -> int | None:
        """End offset of what may be accepted, or None when the segment is refused whole."""
        end = off + length
        if window is None:
            return end
        ack, edge = window
        if off >= edge or ack - end > max(edge - ack, 1):
            return None
        return min(end, edge)

    def comparable_from(self) -> int:
        """Delivered bytes from this offset on can still be compared: the latest pieces (runs with one owner)
        making at least RETAINED_BYTES, and none from before the last gap."""
        k, total = self.nxt, 0
        while k > self.history_from and total < RETAINED_BYTES:
            owner = self.owner[k - 1]
            while k > self.history_from and self.owner[k - 1] == owner:
                k -= 1
                total += 1
        return k

    def pieces_after(self, off: int, length: int, window: tuple[int, int] | None) -> tuple[int, int]:
        """(waiting pieces, waiting bytes) right after this segment is taken in, before anything drains."""
        limit = self._accepts_up_to(off, length, window)
        new = set()
        if limit is not None:
            new = {k for k in range(max(off, self.nxt), limit) if k not in self.accepted}
        held = sorted(self.waiting | new)
        pieces, prev, prev_owner = 0, None, None
        for k in held:
            owner = "new" if k in new else self.owner[k]
            if k != (None if prev is None else prev + 1) or owner != prev_owner:
                pieces += 1
            prev, prev_owner = k, owner
        return pieces, len(held)

    def offer(self, off: int, data: bytes, tag: object, window: tuple[int, int] | None) -> Outcome:
        limit = self._accepts_up_to(off, len(data), window)
        if limit is None:
            return Outcome(refused=True, out_of_window=True)
        outcome = Outcome(out_of_window=limit < off + len(data))
        floor = None
        for k in range(off, limit):
            byte = data[k - off]
            if k < self.nxt or k in self.accepted:
                self.duplicates += 1
                kept = self.accepted.get(k)
                if kept is None or kept == byte:
                    continue
                if k >= self.nxt:  # still waiting: always compared, and now disputed
                    outcome.conflicts_with.add(self.owner[k])
                    self.contradicted.add(k)
                else:
                    if floor is None:
                        floor = self.comparable_from()
                    if k >= floor:
                        outcome.conflicts_with.add(self.owner[k])
            else:
                self.accepted[k] = byte
                self.owner[k] = tag
                self.waiting.add(k)
        first = self.nxt
        while self.nxt in self.waiting:
            self.waiting.remove(self.nxt)
            self.nxt += 1
        outcome.delivered = bytes(self.accepted[k] for k in range(first, self.nxt))
        return outcome

    def flush(self) -> list[tuple[str, object, object]]:
        """End of stream: [("gap", size, tag of what follows), ("data", bytes, None), ...]."""
        expected: list[tuple[str, object, object]] = []
        while self.waiting:
            k0 = min(self.waiting)
            assert k0 > self.nxt
            expected.append(("gap", k0 - self.nxt, self.owner[k0]))
            self.gaps += k0 - self.nxt
            self.nxt = self.history_from = k0
            while self.nxt in self.waiting:
                self.waiting.remove(self.nxt)
                self.nxt += 1
            expected.append(("data", bytes(self.accepted[k] for k in range(k0, self.nxt)), None))
        return expected


class Pair:
    """A TcpStream and the reference receiver fed the same segments, compared after each."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.stream = TcpStream()
        self.stream.syn((start - 1) % SEQ_MOD)
        assert self.stream.next_seq == start % SEQ_MOD
        self.model = Receiver()

    def fits(self, off: int, length: int, window: tuple[int, int] | None) -> bool:
        pieces, held = self.model.pieces_after(off, length, window)
        return pieces <= MAX_PENDING_SEGMENTS - 1 and held < MAX_PENDING_BYTES

    def window_for(self, spec: tuple[int, int] | None) -> tuple[int, int] | None:
        if spec is None:
            return None
        lag, size = spec
        ack = max(0, self.model.nxt - lag)
        return ack, ack + size

    def send(self, off: int, data: bytes, tag: object, window: tuple[int, int] | None) -> None:
        assert off - self.model.nxt < MAX_SEQ_JUMP // 4 and self.model.nxt - off < MAX_SEQ_JUMP // 4
        seq = (self.start + off) % SEQ_MOD
        win = None if window is None else Window(*((self.start + w) % SEQ_MOD for w in window))
        first = self.model.nxt
        expected = self.model.offer(off, data, tag, window)
        out = self.stream.deliver(seq, data, tag, win)
        context = f"segment {tag} at offset {off} ({len(data)} bytes), window {window}, got {out!r:.600}"

        assert all(t == tag for _, t in out), context  # everything here happened because of this segment
        assert [item for item, _ in out if isinstance(item, int)] == [], "gap within the limits: " + context
        notes = [item for item, _ in out if isinstance(item, Note)]
        assert {n.code for n in notes} <= {"tcp_out_of_window", "tcp_overlap_conflict"}, context
        out_of_window = [n for n in notes if n.code == "tcp_out_of_window"]
        assert len(out_of_window) == expected.out_of_window, context
        if expected.refused:
            assert out == [(out_of_window[0], tag)], context
        conflicts = {n.other for n in notes if n.code == "tcp_overlap_conflict"}
        assert conflicts == expected.conflicts_with, context

        data_items = [item for item, _ in out if isinstance(item, bytes)]
        assert b"".join(data_items) == expected.delivered, context
        self.check_pieces(first, data_items, context)

    def check_pieces(self, first: int, data_items: list[bytes], context: str) -> None:
        pos = first
        for item in data_items:
            span = range(pos, pos + len(item))
            assert len({self.model.owner[k] for k in span}) == 1, "a piece mixes segments: " + context
            contradicted = any(k in self.model.contradicted for k in span)
            assert isinstance(item, Disputed) == contradicted, f"offsets {pos}..{pos + len(item)}: " + context
            pos += len(item)

    def flush(self) -> None:
        first = self.model.nxt
        expected = self.model.flush()
        out = self.stream.flush()
        context = f"flush, got {out!r:.600}"
        merged: list[tuple[str, object, object]] = []
        for item, tag in out:
            assert not isinstance(item, Note), context
            if isinstance(item, int):
                merged.append(("gap", item, tag))
            else:
                if merged and merged[-1][0] == "data":
                    merged[-1] = ("data", merged[-1][1] + bytes(item), None)
                else:
                    merged.append(("data", bytes(item), None))
        assert merged == expected, context
        # each piece comes out with the tag of the segment that carried it, and Disputed as it waited
        pos = first
        for item, tag in out:
            if isinstance(item, int):
                pos += item
                continue
            assert tag == self.model.owner[pos], context
            self.check_pieces(pos, [item], context)
            pos += len(item)
        assert pos == self.model.nxt
        self.check_state()

    def check_state(self) -> None:
        s, m = self.stream, self.model
        assert s.next_seq == (self.start + m.nxt) % SEQ_MOD
        assert s.pending_bytes == len(m.waiting) == sum(len(d) for d, _ in s.pending.values())
        assert s.duplicate_bytes == m.duplicates
        assert s.gap_bytes == m.gaps


class ReassemblyMachine(RuleBasedStateMachine):
    """Segments in any order, overlapping, retransmitted (same or other bytes), inside or outside the window,
    across the 2**32 wrap; flushes between them and at the end."""

    @initialize(start=starts, prefix=st.one_of(st.lists(round_or_not, max_size=8),
                                               st.lists(st.sampled_from([512, 1024, 2048]), min_size=3, max_size=8)))
    def begin(self, start: int, prefix: list[int]) -> None:
        """Start at ``start``, often with a run of in-order segments so that RETAINED_BYTES comes into play."""
        self.pair = Pair(start)
        self.sent: list[tuple[int, bytes]] = []
        self.tags = 0
        for length in prefix:
            self._send(self.pair.model.nxt, content(self.pair.model.nxt, length, (0, 0, 0)), None)

    def _send(self, off: int, data: bytes, window_spec: tuple[int, int] | None) -> None:
        self.pair_send_exact(off, data, self.pair.window_for(window_spec))

    @rule(length=round_or_not, variant=versions, window=windows)
    def in_order(self, length, variant, window):
        off = self.pair.model.nxt
        self._send(off, content(off, length, variant), window)

    @rule(rel=st.one_of(st.integers(-300, 2500), st.integers(-7000, 0)), length=st.integers(1, 700),
          variant=versions, window=windows)
    def anywhere(self, rel, length, variant, window):
        off = max(0, self.pair.model.nxt + rel)
        self._send(off, content(off, length, variant), window)

    @rule(back=st.integers(RETAINED_BYTES - 1000, RETAINED_BYTES + 1500), length=st.integers(1, 1500),
          variant=versions, window=st.one_of(st.none(), st.tuples(st.integers(0, 100), st.integers(3000, 9000))))
    def around_what_is_retained(self, back, length, variant, window):
        """A copy of bytes delivered about RETAINED_BYTES ago: compared with the kept copy, or too old to be."""
        off = max(0, self.pair.model.nxt - back)
        self._send(off, content(off, length, variant), window)

    @rule(lag=st.integers(0, 300), size=small_windows, delta=st.integers(-3, 3), length=st.integers(1, 300),
          variant=versions)
    def at_the_window_edge(self, lag, size, delta, length, variant):
        """Starting just before, at or just after the edge (a zero window included)."""
        window = self.pair.window_for((lag, size))
        off = max(0, window[1] + delta)
        self.pair_send_exact(off, content(off, length, variant), window)

    @rule(lag=st.integers(0, 300), size=small_windows, delta=st.integers(-3, 3), length=st.integers(1, 300),
          variant=versions)
    def a_window_span_behind_the_ack(self, lag, size, delta, length, variant):
        """Ending about one window span (at least 1) behind the ack: refused beyond it, compared within."""
        ack, edge = self.pair.window_for((lag, size))
        off = max(0, ack - max(edge - ack, 1) - length + delta)
        self.pair_send_exact(off, content(off, length, variant), (ack, edge))

    def pair_send_exact(self, off: int, data: bytes, window: tuple[int, int] | None) -> None:
        if self.pair.fits(off, len(data), window):  # else it would force a gap: not this test's business
            self.tags += 1
            self.sent.append((off, data))
            self.pair.send(off, data, self.tags, window)

    @rule(delta=st.integers(-40, 40), length=st.integers(1, 80), variant=versions)
    def at_the_retained_floor(self, delta, length, variant):
        """Straddling the oldest byte still compared, without a window (no far-behind refusal)."""
        off = max(0, self.pair.model.comparable_from() + delta)
        self._send(off, content(off, length, variant), None)

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 1 << 30), variant=st.one_of(st.none(), versions), window=windows)
    def retransmit(self, pick, variant, window):
        off, data = self.sent[pick % len(self.sent)]
        self._send(off, data if variant is None else content(off, len(data), variant), window)

    @rule(now=st.integers(0, 3))
    def flush(self, now):
        """Mid-stream (as before a resynchronisation): the holes become gaps; one time in four."""
        if now == 0:
            self.pair.flush()

    @invariant()
    def state_matches(self):
        if hasattr(self, "pair"):
            self.pair.check_state()

    def teardown(self):
        if hasattr(self, "pair"):
            self.pair.flush()
            assert self.pair.stream.pending == {}
            assert self.pair.stream.flush() == []


ReassemblyMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestReassemblyMachine = ReassemblyMachine.TestCase


@settings(max_examples=150, deadline=None)
@given(data=st.data(), start=starts, size=st.integers(1, 6000))
def test_segments_in_any_order_match_the_receiver(data, start, size):
    """A stream cut into overlapping segments, some retransmitted with the same or other bytes, sent in a random
    order, each with a window drawn against what the receiver holds at that moment."""
    cuts = data.draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 800), versions),
                              min_size=1, max_size=30))
    segments = [(off, content(off, min(length, size - off), variant)) for off, length, variant in cuts]
    segments += [(0, content(0, size, (0, 0, 0)))] if data.draw(st.booleans()) else []
    segments += [(off, content(off, len(d), data.draw(versions))) for off, d in segments if data.draw(st.booleans())]
    order = data.draw(st.permutations(range(len(segments))))
    pair = Pair(start)
    for i in order:
        off, chunk = segments[i]
        window = pair.window_for(data.draw(windows))
        if pair.fits(off, len(chunk), window):
            pair.send(off, chunk, i, window)
            pair.check_state()
    pair.flush()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), start=starts)
def test_over_the_limits_every_byte_is_delivered_once_or_counted_as_missing(data, start):
    """Many early segments (more than MAX_PENDING_SEGMENTS waiting, or more than MAX_PENDING_BYTES, or a jump
    beyond MAX_SEQ_JUMP): the stream gives up on holes, but bytes and gaps still add up to the stream up to
    the last byte received, each byte at its place, and a gap never covers a byte that had arrived."""
    rng = random.Random(data.draw(st.integers(0, 2**32), label="layout seed"))
    size = rng.choice([rng.randint(2000, 60_000), rng.randint(60_000, len(TRUTH))])
    long = rng.choice([0.0, 0.05, 0.5])  # many small segments (the count limit), or big ones (the bytes limit)
    segments = []
    for _ in range(rng.randint(MAX_PENDING_SEGMENTS + 1, 3 * MAX_PENDING_SEGMENTS)):
        off = rng.randrange(1, size)
        segments.append((off, min(rng.randint(1, 70_000) if rng.random() < long else rng.randint(1, 60), size - off)))
    segments.insert(rng.randrange(len(segments) + 1), (0, rng.randint(1, 500)))
    if size > MAX_SEQ_JUMP + 1000 and rng.random() < 0.5:  # early on, a segment beyond MAX_SEQ_JUMP: resync
        off = rng.randrange(MAX_SEQ_JUMP + 1, size - 1)
        segments.insert(rng.randrange(len(segments) // 3 + 1), (off, min(rng.randint(1, 2000), size - off)))
    if rng.random() < 0.5:  # the whole stream too, in order, mixed in: some holes fill before they are given up
        at, off = sorted(rng.randrange(len(segments) + 1) for _ in range(2)), 0
        sweep = []
        while off < size:
            sweep.append((off, min(rng.randint(1000, 30_000), size - off)))
            off += sweep[-1][1]
        positions = sorted(rng.randint(*at) for _ in sweep)
        for extra, (position, segment) in enumerate(zip(positions, sweep)):
            segments.insert(position + extra, segment)
    stream = TcpStream()
    stream.syn((start - 1) % SEQ_MOD)
    received: list[tuple[int, int]] = []
    pos = 0  # offset the output has reached: delivered bytes plus gaps
    last_end = 0
    for tag, (off, length) in enumerate(segments):
        received.append((off, off + length))
        last_end = max(last_end, off + length)  # a segment refused as far behind ends behind pos anyway
        out = stream.deliver((start + off) % SEQ_MOD, TRUTH[off:off + length], tag)
        for item, _ in out:
            if isinstance(item, Note):
                assert item.code == "tcp_out_of_window"
                continue
            if isinstance(item, int):
                assert item > 0
                hit = [(a, b) for a, b in received if a < pos + item and b > pos]
                assert hit == [], f"gap {pos}..{pos + item} drops bytes that arrived: {hit}"
                pos += item
            else:
                assert item == TRUTH[pos:pos + len(item)], f"bytes at {pos} are not the stream's"
                pos += len(item)
        assert stream.next_seq == (start + pos) % SEQ_MOD
    for item, _ in stream.flush():
        if isinstance(item, int):
            assert [(a, b) for a, b in received if a < pos + item and b > pos] == []
            pos += item
        else:
            assert item == TRUTH[pos:pos + len(item)]
            pos += len(item)
    assert pos == last_end
    assert stream.pending == {} and stream.pending_bytes == 0


# A segment without payload (a pure ACK, a keep-alive) carries no bytes, so it must change nothing. The
# dissectors only pass segments with payload_len > 0 today; TcpStream.deliver itself does not guard against it.

def test_an_empty_segment_does_not_replace_what_waits_at_its_sequence_number():
    s = TcpStream()
    s.syn(SEQ_MOD - 1)  # first byte at 0
    assert s.deliver(10, b"abc", 1) == []
    assert [item for item, _ in s.deliver(10, b"", 2) if not isinstance(item, Note)] == []
    assert s.pending_bytes == sum(len(d) for d, _ in s.pending.values())
    assert data_and_gaps(s.deliver(0, b"0123456789", 3)) == [b"0123456789abc"]
    assert s.next_seq == 13 and s.pending_bytes == 0


def test_an_empty_segment_inside_a_waiting_one_does_not_pull_the_stream_back():
    s = TcpStream()
    s.syn(SEQ_MOD - 1)
    s.deliver(10, b"", 1)
    s.deliver(5, b"56789abcde", 2)
    assert data_and_gaps(s.deliver(0, b"01234", 3)) == [b"0123456789abcde"]
    assert s.next_seq == 15
    assert data_and_gaps(s.flush()) == []
    # a retransmission of bytes 10..14 is old news: delivering it again would hand the framer bytes twice
    assert data_and_gaps(s.deliver(10, b"abcde", 4)) == []
    assert s.next_seq == 15


def data_and_gaps(items) -> list:
    """Bytes (joined when adjacent) and gap sizes, without notes or empty bytes."""
    out: list = []
    for item, _ in items:
        if isinstance(item, Note) or item == b"":
            continue
        if isinstance(item, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += item
        else:
            out.append(item if isinstance(item, int) else bytes(item))
    return out
