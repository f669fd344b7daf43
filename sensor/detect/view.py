"""Every message of a batch, of every protocol, as one table of columns: what rules and models read.

Detection must hold for every protocol the sensor parses and must not slow the Modbus hot path, so
rules and models never walk protocol records: they read these columns (numpy, one row per message,
capture order) and ask for a row's full fields (``fields(i)``) only where a rule needs them.

    column          meaning
    verb            the row's (protocol, direction, function, action), interned as a small int: rules
                    are decided once per distinct verb (``VERBS``), not once per row
    protocol, direction, function, action   the four parts of ``verb``, as object arrays (derived)
    frame, ts       the frame that completed the message, and its time
    flow            the flow's id (unique in the run); at the link layer a negative id per (src, dst) pair of
                    the batch
    client, server  addresses of the protocol's client and server ends (DNP3 master, outstation, ...);
                    MAC addresses for link-layer protocols (``dst`` may be a multicast MAC)
    server_port     the server's port (0 at the link layer)
    transport       ``tcp``, ``udp`` or ``link``
    function_code   the protocol's code (Modbus: without the exception bit)
    unit            the station behind the server address: Modbus unit id, DNP3 outstation (link
                    destination of a request, source otherwise); -1 where the protocol has none
    address         first address the message names (Modbus; a response: its request's), else -1
    quantity        how many points from ``address``, else -1
    value           the single value of a one-point write (Modbus 5/6), else -1
    exception       the exception or error status a response carries, else -1
    request_frame   a response's request frame when paired, else -1
    written_start, written_count   where a multiple-register write's values (Modbus 16, parsed in bulk)
                    start in ``written`` and how many there are; -1 and 0 for other rows (their
                    values, if any, come from ``value`` or ``fields(i)``)

``function`` is the name the protocol's action table keys on, refined by sub-function where the
table refines it (``diagnostics/force_listen_only_mode``); ``action`` is from protocols.base.ACTIONS.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from protocols.base import REQUEST, RESPONSE
from protocols.modbus.batch import NONE
from protocols.modbus.codes import action_of, function_name
from sensor.dissect.generic import MessageBatch
from sensor.dissect.linklayer import LinkBatch
from sensor.dissect.modbus import PROTOCOL as MODBUS
from sensor.dissect.modbus import ModbusBatch
from sensor.order import first_rows, groups, stable_order


class Verbs:
    """Interned (protocol, direction, function, action) tuples; ids are only meaningful inside one run."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str, str, str], int] = {}
        self.parts: list[tuple[str, str, str, str]] = []
        self._columns: tuple[np.ndarray, ...] | None = None

    def id(self, protocol: str, direction: str, function: str, action: str) -> int:
        key = (protocol, direction, function, action)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.parts)
            self.parts.append(key)
            self._columns = None
        return found

    def column(self, part: int) -> np.ndarray:
        """Part ``part`` of every interned verb, indexable by verb id."""
        if self._columns is None:
            self._columns = tuple(np.array([p[k] for p in self.parts], dtype=object) for k in range(4))
        return self._columns[part]


VERBS = Verbs()
MODBUS_VERB = np.array(  # [is_request, function code] -> verb id, for rows the fast path parsed
    [[VERBS.id(MODBUS, direction, function_name(code), action_of(function_name(code))) for code in range(256)]
     for direction in (RESPONSE, REQUEST)], dtype=np.int64)
COLUMNS = ("verb", "frame", "ts", "flow", "client", "server", "server_port", "transport", "function_code",
           "unit", "address", "quantity", "value", "exception", "request_frame", "written_start", "written_count")
WRITE_MULTIPLE_REGISTERS = 16
REGISTERS_AT = 13  # MBAP (7) + function, address, quantity, byte count (6): where FC16's values begin


@dataclass(slots=True)
class Messages:
    """Columns of many messages (see the module docstring); ``fields(i)`` gives row ``i``'s event fields."""

    file: str
    verb: np.ndarray
    frame: np.ndarray
    ts: np.ndarray
    flow: np.ndarray
    client: np.ndarray
    server: np.ndarray
    server_port: np.ndarray
    transport: np.ndarray
    function_code: np.ndarray
    unit: np.ndarray
    address: np.ndarray
    quantity: np.ndarray
    value: np.ndarray
    exception: np.ndarray
    request_frame: np.ndarray
    written_start: np.ndarray
    written_count: np.ndarray
    written: np.ndarray  # the values of every row's write, end to end (see ``written_start``)
    _fields: list[Callable[[int], dict]]  # one per part, in order: the part's own row -> its fields
    _starts: np.ndarray  # first row of each part
    _selected: dict[Callable, np.ndarray] | None = None  # ``select``'s answers, per predicate
    _pairs: tuple[np.ndarray, list[tuple[str, str]]] | None = None  # see ``pairs``

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def protocol(self) -> np.ndarray:
        return VERBS.column(0)[self.verb]

    @property
    def direction(self) -> np.ndarray:
        return VERBS.column(1)[self.verb]

    @property
    def function(self) -> np.ndarray:
        return VERBS.column(2)[self.verb]

    @property
    def action(self) -> np.ndarray:
        return VERBS.column(3)[self.verb]

    @property
    def is_request(self) -> np.ndarray:
        return self.direction == REQUEST

    @property
    def src(self) -> np.ndarray:
        """The sender of each message (a request comes from the client)."""
        return np.where(self.is_request, self.client, self.server)

    @property
    def dst(self) -> np.ndarray:
        return np.where(self.is_request, self.server, self.client)

    def select(self, wanted: Callable[[str, str, str, str], bool]) -> np.ndarray:
        """Rows whose verb ``wanted(protocol, direction, function, action)`` accepts; decided once per verb, and
        once per batch for each predicate (rules that share one share its rows). Verb ids are small, so a
        table indexed by verb replaces sorting."""
        if self._selected is None:
            self._selected = {Messages: np.flatnonzero(np.bincount(self.verb, minlength=1))}  # the verbs present
        rows = self._selected.get(wanted)
        if rows is None:
            present = self._selected[Messages]
            keep = np.zeros(len(VERBS.parts), dtype=bool)
            keep[present] = [wanted(*VERBS.parts[v]) for v in present.tolist()]
            rows = np.flatnonzero(keep[self.verb]) if keep.any() else np.zeros(0, dtype=np.int64)
            self._selected[wanted] = rows
        return rows

    def pairs(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """Each row's (client, server) as a small number, and those pairs: decided once per flow, not per row."""
        if self._pairs is None:
            first, inverse = _first_and_index(self.flow)
            ids: dict[tuple[str, str], int] = {}
            of_flow = np.array([ids.setdefault((str(self.client[r]), str(self.server[r])), len(ids))
                                for r in first.tolist()], dtype=np.int64)
            self._pairs = (of_flow[inverse], list(ids))
        return self._pairs

    def fields(self, i: int) -> dict:
        """Row ``i``'s full fields as its event carries them (parsed on demand: rules ask for few rows)."""
        part = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self._fields[part](i - int(self._starts[part]))

    def take(self, rows: np.ndarray) -> Messages:
        """The rows ``rows`` as a table of their own."""
        index = np.asarray(rows, dtype=np.int64)
        return Messages(self.file, **{name: getattr(self, name)[index] for name in COLUMNS}, written=self.written,
                        _fields=[lambda k: self.fields(int(index[k]))], _starts=np.zeros(1, dtype=np.int64))


def from_modbus(mb: ModbusBatch) -> Messages:
    """Modbus rows: columns straight from the batch; names only for rows the slow path parsed."""
    n = len(mb)
    g = mb.flow
    verb = MODBUS_VERB.ravel()[(mb.is_request.astype(np.int64) << 8) | mb.function_code]  # one flat lookup
    for i, message in mb.messages.items():  # refined names (8/1, 43/14, UMAS ...) come from full parses only
        name = message.action_name
        verb[i] = VERBS.id(MODBUS, REQUEST if message.is_request else RESPONSE, name, action_of(name))
    request_frame = np.full(n, -1, dtype=np.int64)
    address, quantity = mb.address, mb.quantity
    if mb.pairing is not None:  # a response names no address: its request tells it
        address, quantity = address.copy(), quantity.copy()
        paired = np.nonzero(mb.pairing.request_row >= 0)[0]
        asked = mb.pairing.request_row[paired]
        request_frame[paired] = mb.frame[asked]
        address[paired] = np.where(address[paired] == NONE, mb.address[asked], address[paired])
        quantity[paired] = np.where(quantity[paired] == NONE, mb.quantity[asked], quantity[paired])
        for row, (_, _, carried_address, carried_quantity, frame) in mb.pairing.carried.items():
            request_frame[row] = frame
            if address[row] == NONE:
                address[row], quantity[row] = carried_address, carried_quantity

    def fields(i: int) -> dict:
        message = mb.message(i)
        return message.event_fields() if message is not None else {}

    return Messages(
        file=mb.file, verb=verb, frame=mb.frame, ts=mb.ts, **_ends(mb.flows, g),
        function_code=mb.function_code, unit=mb.unit_id, address=address, quantity=quantity, value=mb.value,
        exception=mb.exception_code, request_frame=request_frame, **_registers_written(mb),
        _fields=[fields], _starts=np.zeros(1, dtype=np.int64))


def _registers_written(mb: ModbusBatch) -> dict[str, np.ndarray]:
    """The values of the batch's multiple-register writes that the fast path parsed, read in bulk."""
    n = len(mb)
    start, count = np.full(n, NONE, dtype=np.int64), np.zeros(n, dtype=np.int64)
    rows = np.nonzero(mb.is_request & (mb.function_code == WRITE_MULTIPLE_REGISTERS) & (mb.adu_off != NONE)
                      & (mb.quantity > 0))[0]
    if not len(rows):
        return {"written_start": start, "written_count": count, "written": np.zeros(0, dtype=np.int64)}
    count[rows] = mb.quantity[rows]
    start[rows] = np.cumsum(count[rows]) - count[rows]
    word = np.arange(int(count[rows].sum())) - np.repeat(start[rows], count[rows])
    at = np.repeat(mb.adu_off[rows] + REGISTERS_AT, count[rows]) + 2 * word
    high, low = mb.data[at].astype(np.int64), mb.data[at + 1].astype(np.int64)
    return {"written_start": start, "written_count": count, "written": (high << 8) | low}


def from_messages(mb: MessageBatch) -> Messages:
    """Any other protocol: one pass over its records (these protocols carry far fewer messages)."""
    n = len(mb)
    records = mb.messages

    def column(get: Callable, dtype: type) -> np.ndarray:
        return np.array([get(m) for m in records], dtype=dtype) if n else np.zeros(0, dtype=dtype)

    def fields(i: int) -> dict:
        m = records[i]
        return {"function_code": m.function_code, "function_name": m.function_name, **m.fields}

    none = np.full(n, NONE, dtype=np.int64)
    return Messages(
        file=mb.file, frame=mb.frame, ts=mb.ts, **_ends(mb.flows, mb.flow),
        verb=column(lambda m: VERBS.id(mb.protocol, m.direction, m.function_name, m.action), np.int64),
        function_code=column(lambda m: m.function_code, np.int64), unit=column(_station, np.int64),
        address=none, quantity=none, value=none, exception=column(lambda m: _status(m.fields), np.int64),
        request_frame=mb.request_frame, written_start=none, written_count=np.zeros(n, dtype=np.int64),
        written=np.zeros(0, dtype=np.int64), _fields=[fields], _starts=np.zeros(1, dtype=np.int64))


def from_link(lb: LinkBatch) -> Messages:
    """A link-layer protocol's messages: the ends are MAC addresses, the sender of a request the client."""
    n = len(lb)
    requests = np.array([m.direction == REQUEST for m in lb.messages], dtype=bool)
    src, dst = np.array(lb.src, dtype=object), np.array(lb.dst, dtype=object)

    def fields(i: int) -> dict:
        m = lb.messages[i]
        return {"function_code": m.function_code, "function_name": m.function_name, **m.fields}

    none = np.full(n, NONE, dtype=np.int64)
    pair_ids: dict[tuple[object, object], int] = {}
    flow = np.array([-1 - pair_ids.setdefault((a, b), len(pair_ids)) for a, b in zip(lb.src, lb.dst)], dtype=np.int64)
    return Messages(
        file=lb.file, frame=lb.frame, ts=lb.ts, flow=flow, client=np.where(requests, src, dst),
        server=np.where(requests, dst, src), server_port=np.zeros(n, dtype=np.int64),
        transport=np.full(n, "link", dtype=object),
        verb=np.array([VERBS.id(lb.protocol, m.direction, m.function_name, m.action) for m in lb.messages],
                      dtype=np.int64),
        function_code=np.array([m.function_code for m in lb.messages], dtype=np.int64), unit=none, address=none,
        quantity=none, value=none, exception=none, request_frame=none, written_start=none,
        written_count=np.zeros(n, dtype=np.int64), written=np.zeros(0, dtype=np.int64),
        _fields=[fields], _starts=np.zeros(1, dtype=np.int64))


def concat(parts: list[Messages], file: str) -> Messages:
    """Several tables as one, in capture order (stable: a frame's messages keep their order)."""
    parts = [p for p in parts if len(p)]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return empty(file)
    starts = np.cumsum([0] + [len(p) for p in parts[:-1]]).astype(np.int64)
    columns = {name: np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS}
    shift = np.repeat(np.cumsum([0] + [len(p.written) for p in parts[:-1]]), [len(p) for p in parts])
    columns["written_start"] = np.where(columns["written_start"] >= 0, columns["written_start"] + shift, NONE)
    joined = Messages(file, **columns, written=np.concatenate([p.written for p in parts]),
                      _fields=[fields for p in parts for fields in p._fields],
                      _starts=np.concatenate([s + p._starts for s, p in zip(starts, parts)]))
    order = stable_order(joined.frame)
    return joined if np.array_equal(order, np.arange(len(order))) else joined.take(order)


def empty(file: str) -> Messages:
    none = np.zeros(0, dtype=np.int64)
    return Messages(file, **{name: none for name in COLUMNS}, written=none, _fields=[], _starts=none)


def _ends(flows: list, g: np.ndarray) -> dict[str, np.ndarray]:
    """Flow attributes for every row, computed once per flow."""
    def per_flow(get: Callable, dtype: type) -> np.ndarray:
        return np.array([get(f) for f in flows], dtype=dtype)[g] if len(flows) else np.zeros(len(g), dtype=dtype)

    return {"flow": per_flow(lambda f: f.id, np.int64), "client": per_flow(lambda f: f.client, object),
            "server": per_flow(lambda f: f.server, object), "server_port": per_flow(lambda f: f.server_port, np.int64),
            "transport": per_flow(lambda f: f.transport, object)}


def _first_and_index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct id, and each row's index among them (a batch's flow ids are few and close
    together: ``groups`` takes them through a table of flags, not a sort)."""
    _, index = groups(ids)
    return first_rows(index)[1], index


def _station(m: object) -> int:
    """The outstation behind the server address (DNP3 link addresses), else -1."""
    fields = m.fields  # type: ignore[attr-defined]
    key = "destination" if m.direction == REQUEST else "source"  # type: ignore[attr-defined]
    value = fields.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else NONE


def _status(fields: dict) -> int:
    """The error status a response carries, under whichever name its protocol uses; -1 when none."""
    for key in ("exception_code", "general_status", "error_code", "status"):
        value = fields.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value:
            return value
    return NONE
