"""DNP3 transport function (IEEE 1815-2012 §8): application fragments reassembled from link frames.

Each user data frame carries one transport segment: a header octet (FIN, FIR, 6-bit sequence) and
up to 249 octets of the fragment. A segment with FIR starts a fragment (dropping any incomplete one),
the following segments must count up modulo 64, FIN ends it (§8.2.1.2). A repeated sequence number is
a link-layer retry and is ignored. Segments are reassembled per (source, destination) link address
pair, because one TCP connection can carry several DNP3 associations.

Everything here is bounded: ``MAX_FRAGMENT`` octets per fragment, ``MAX_REASSEMBLIES`` address pairs
at once. Hitting either drops a partial fragment and says so with a weird code.
"""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from protocols.dnp3.wire import TransportHeader

MAX_FRAGMENT = 65536
"""Most octets of one reassembled fragment. Outstations commonly send 2048-octet fragments and the
device attribute 0/240 can announce more; 64 KiB is far above any real one."""

MAX_REASSEMBLIES = 16
"""Most address pairs reassembling at once in one direction of one flow (a gateway multiplexes a few
outstations; a scan of link addresses is what exceeds this)."""

SEQ_MODULO = 64


@dataclass(slots=True)
class _Partial:
    data: bytearray
    sequence: int
    segments: int
    weird: str | None  # the first oddity of any frame that carried a segment


@dataclass(frozen=True, slots=True)
class Completed:
    """A whole fragment: its octets, how many segments made it, and the first weird of its frames."""

    fragment: bytes
    segments: int
    weird: str | None


Outcome = Completed | str  # a completed fragment, or the weird code of a segment or partial dropped


class Reassembler:
    """Transport reassembly for one direction of one flow (or one datagram)."""

    __slots__ = ("_partials", "max_fragment", "max_reassemblies")

    def __init__(self, max_fragment: int = MAX_FRAGMENT, max_reassemblies: int = MAX_REASSEMBLIES) -> None:
        self.max_fragment = max_fragment
        self.max_reassemblies = max_reassemblies
        self._partials: dict[Hashable, _Partial] = {}  # insertion order: oldest first

    def add(self, key: Hashable, header: TransportHeader, payload: bytes, weird: str | None = None) -> list[Outcome]:
        """Take one segment; return what it completed or dropped (usually nothing, or one fragment)."""
        out: list[Outcome] = []
        partial = self._partials.get(key)
        if header.fir:
            if partial is not None:
                del self._partials[key]
                out.append("dnp3_transport_sequence")  # a new fragment starts over an incomplete one
            elif len(self._partials) >= self.max_reassemblies:
                del self._partials[next(iter(self._partials))]
                out.append("dnp3_too_many_reassemblies")
            partial = _Partial(bytearray(), header.sequence, 0, weird)
            self._partials[key] = partial
        elif partial is None:
            out.append("dnp3_transport_no_first")
            return out
        elif header.sequence == partial.sequence:
            return out  # a retry of the last segment (§8.2.1.2): already have it
        elif header.sequence != (partial.sequence + 1) % SEQ_MODULO:
            del self._partials[key]
            out.append("dnp3_transport_sequence")
            return out
        else:
            partial.sequence = header.sequence
            partial.weird = partial.weird or weird
        if len(partial.data) + len(payload) > self.max_fragment:
            del self._partials[key]
            out.append("dnp3_fragment_too_long")
            return out
        partial.data += payload
        partial.segments += 1
        if header.fin:
            del self._partials[key]
            out.append(Completed(bytes(partial.data), partial.segments, partial.weird))
        return out

    def clear(self) -> None:
        """Forget every partial fragment (bytes were lost before the next segment)."""
        self._partials.clear()

    @property
    def pending(self) -> int:
        """Octets held in incomplete fragments."""
        return sum(len(p.data) for p in self._partials.values())

    @property
    def partials(self) -> int:
        """How many fragments are incomplete."""
        return len(self._partials)
