"""modbus.log and modbus_detailed.log from a ModbusBatch's columns, plus ICSNPP's two per-function logs.

Polling makes Modbus the bulk of what a sensor sees (the benchmark: a million messages), so its two lines
per message are not formatted one by one. A line is a row of *cells*, strings taken from tables by index: the
time's millisecond (a table made per batch) and its microseconds, the flow's id fields (made once per flow),
the transaction id, the unit with the function (and exception), the address, the quantity, and the values.
Cells go into an object array in line order, a few thousand lines at a time, and become text with one
``"".join``. Each line *starts* with its newline (the millisecond cell carries it) so no cell after the values
is needed; the log file drops the first one and ends the last line when it closes. Register values and coil
bytes are read straight from the batch's packet buffer (the fast path's rows are whole, valid ADUs) through
tables of their texts as bytes, one join and one split per batch; rows the slow path parsed use their
``ModbusMessage``. On the benchmark this costs about 0.6 µs of CPU per message for both lines, most of it in
modbus_detailed.log (see benchmarks/bench_outputs.py).

Fields:

- ``modbus.log``: Zeek 8's base/protocols/modbus/main.zeek (ts uid id tid unit func pdu_type exception).
  ``pdu_type`` says whether the message is a request, which is what Zeek means; Zeek derives it from the TCP
  originator, which differs only when the server opened the connection.
- ``modbus_detailed.log``: CISA ICSNPP-Modbus's per-message record ``Modbus_Detailed`` (ts uid id is_orig
  source_h source_p destination_h destination_p tid unit func request_response address quantity values).
  Values are as ICSNPP writes them: registers as numbers, coils and discrete inputs as T/F (a read response
  has all the bits of its bytes), an exception's name for an exception. Unlike ICSNPP, a response that does
  not carry an address or quantity gets its request's, as the sensor's events do.
- ``modbus_read_write_multiple_registers.log`` and ``modbus_mask_write_register.log``: ICSNPP's records for
  functions 23 and 22 (rare: written per message).
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from protocols.modbus.batch import NONE
from protocols.modbus.wire import ModbusMessage
from sensor.dissect.modbus import ModbusBatch
from sensor.flows.table import Flow
from sensor.order import groups, within_runs
from sensor.sinks import cells
from sensor.sinks.zeek.ascii import ID, TSV, LogFile, escape, fields, json_value
from sensor.sinks.zeek.names import modbus_exception, modbus_function

MODBUS = fields(f"ts:time uid:string {ID} tid:count unit:count func:string pdu_type:string exception:string")
_SIDES = "is_orig:bool source_h:addr source_p:port destination_h:addr destination_p:port"
MODBUS_DETAILED = fields(f"ts:time uid:string {ID} {_SIDES} tid:count unit:count func:string "
                         "request_response:string address:count quantity:count values:string")
READ_WRITE_MULTIPLE = fields(f"ts:time uid:string {ID} {_SIDES} tid:count unit:count func:string "
                             "request_response:string write_start_address:count write_registers:vector[count] "
                             "read_start_address:count read_quantity:count read_registers:vector[count]")
MASK_WRITE = fields(f"ts:time uid:string {ID} {_SIDES} tid:count unit:count func:string request_response:string "
                    "address:count and_mask:count or_mask:count")

BIT_FUNCTIONS = (1, 2, 5, 15)  # their values are coils or discrete inputs: T/F
DATA = 8  # where a PDU's data begins in the ADU (MBAP 7 bytes, then the function code)
OTHER_EXCEPTION = 15  # exception codes from 15 up (and 0) share one key; their rows get their own text
WORD = 1 << 16
CHUNK = 8192  # lines joined and written at a time
UNSET_VALUES, EMPTY_VALUES = "-", "(empty)"
_COIL = np.array(["F", "T"], dtype=object)
_MS = np.array([f"{i:03d}" for i in range(1000)], dtype=object)  # milliseconds of a second, microseconds of one


class Lazy:
    """A table of texts by integer key, each made the first time a batch needs it."""

    def __init__(self, size: int, make: Callable[[int], str]) -> None:
        self.values = np.empty(size, dtype=object)
        self.known = np.zeros(size, dtype=bool)
        self.make = make

    def ready(self, keys: np.ndarray) -> np.ndarray:
        """The table, with a text for each of ``keys``."""
        missing = ~self.known[keys]
        if missing.any():
            new = np.unique(keys[missing])
            for key in new.tolist():
                self.values[key] = self.make(key)
            self.known[new] = True
        return self.values


@functools.cache
def _digits() -> list[str]:
    return list(map(str, range(WORD)))


@functools.cache
def _numbers(prefix: str, unset: str, suffix: str = "") -> np.ndarray:
    """``prefix``, each number from 0 to 65535, ``suffix``; index -1 (NONE) is ``unset``."""
    table = np.empty(WORD + 1, dtype=object)
    table[:WORD] = [prefix + d + suffix for d in _digits()]
    table[WORD] = unset
    return table


def _byte_table(texts: list[str]) -> np.ndarray:
    """Texts as rows of bytes padded with NUL (which ``_texts`` drops): a table numpy can index by the million."""
    width = max(map(len, texts))
    return np.frombuffer(b"".join(t.encode().ljust(width, b"\0") for t in texts), dtype=np.uint8).reshape(-1, width)


@functools.cache
def _registers() -> np.ndarray:
    """Key ``value << 1 | last``: a register value and a comma, or for a row's last value a newline (6 bytes a
    row, NUL after the text), made with array arithmetic: a table of 131072 rows is needed at once."""
    value = np.arange(2 * WORD) >> 1
    length = 1 + (value >= 10) + (value >= 100) + (value >= 1000) + (value >= 10000)
    table = np.zeros((2 * WORD, 6), dtype=np.uint8)
    for k in range(5):  # digit k from the left, where the number has one
        has = k < length
        power = 10 ** np.maximum(length - 1 - k, 0)
        table[has, k] = ord("0") + (value[has] // power[has]) % 10
    table[np.arange(2 * WORD), length] = np.where(np.arange(2 * WORD) & 1, ord("\n"), ord(","))
    return table


def _bits_text(key: int) -> str:
    """Key ``byte << 4 | (bits - 1) << 1 | last``: the first ``bits`` bits of a byte, LSB first, as T/F."""
    byte, bits, last = key >> 4, ((key >> 1) & 7) + 1, key & 1
    return ",".join("T" if byte >> i & 1 else "F" for i in range(bits)) + ("\n" if last else ",")


@functools.cache
def _bits() -> np.ndarray:
    return _byte_table([_bits_text(key) for key in range(256 << 4)])


def _texts(table: np.ndarray, keys: np.ndarray) -> list[str]:
    """The table's rows of these keys, laid end to end, as one text per newline-ended row."""
    return table[keys].tobytes().replace(b"\0", b"").decode().split("\n")[:-1]


class _Cells:
    """The texts one format's lines are made of (each line begins with its newline)."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        tsv = self.tsv = fmt == TSV
        self.tid = _numbers("\t", "\t-") if tsv else _numbers(',"tid":', "")
        self.address = self.tid if tsv else _numbers(',"address":', "")
        self.quantity = _numbers("\t", "\t-\t", "\t") if tsv else _numbers(',"quantity":', "")  # the values follow
        # unit << 12 | exception key << 8 | request << 7 | function code
        self.unit_tail = Lazy(1 << 20, self._unit_tail)
        # unit << 9 | exception << 8 | request << 7 | function code
        self.unit_func = Lazy(1 << 17, self._unit_func)
        self.line_open = "\n" if tsv else '\n{"ts":'

    def _unit_tail(self, key: int) -> str:
        unit, exc, request, fc = key >> 12, (key >> 8) & 15, (key >> 7) & 1, key & 127
        return self.tail(unit, fc, request, exc if exc else NONE)

    def tail(self, unit: int, fc: int, request: int, exception: int) -> str:
        func, pdu = modbus_function(fc, exception != NONE), "REQ" if request else "RESP"
        exc = modbus_exception(exception) if exception != NONE else None
        if self.tsv:
            return f"\t{unit}\t{func}\t{pdu}\t{escape(exc) if exc else '-'}"
        return (f',"unit":{unit},"func":{json_value(func, "string")},"pdu_type":"{pdu}"'
                + (f',"exception":{json_value(exc, "string")}' if exc else "") + "}")

    def _unit_func(self, key: int) -> str:
        unit, exc, request, fc = key >> 9, (key >> 8) & 1, (key >> 7) & 1, key & 127
        func, rr = modbus_function(fc, bool(exc)), "REQUEST" if request else "RESPONSE"
        if self.tsv:
            return f"\t{unit}\t{func}\t{rr}"
        return f',"unit":{unit},"func":{json_value(func, "string")},"request_response":"{rr}"'

    def values(self, texts: np.ndarray) -> np.ndarray:
        """The last cell of a detailed line from its values text (TSV: as is, after the quantity's tab). The
        texts are digits, commas, T/F and exception names: nothing a JSON string escapes."""
        if self.tsv:
            return texts
        out = np.full(len(texts), "}", dtype=object)
        some = texts != UNSET_VALUES
        if some.any():
            inner = texts[some]
            inner[inner == EMPTY_VALUES] = ""
            out[some] = ',"values":"' + inner + '"}'
        return out

    def milliseconds(self, us: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A table of texts from a line's newline to its millisecond, each row's index in it, and each row's
        microseconds (its index in ``_MS``)."""
        ms = us // 1000
        low, high = int(ms.min()), int(ms.max())
        if high - low <= 4 * len(ms) + 4096:  # dense: a table of every millisecond the batch spans
            index, span = ms - low, np.arange(low, high + 1)
        else:
            span, index = np.unique(ms, return_inverse=True)
        first = int(span[0]) // 1000
        seconds = np.array([f"{self.line_open}{s}." for s in range(first, int(span[-1]) // 1000 + 1)], dtype=object)
        return seconds[span // 1000 - first] + _MS[span % 1000], index, us - ms * 1000

    def id_fields(self, uid: str, flow: Flow) -> str:
        if self.tsv:
            return f"\t{uid}\t{flow.initiator}\t{flow.init_port}\t{flow.responder}\t{flow.resp_port}"
        return (f',"uid":"{uid}","id.orig_h":"{flow.initiator}","id.orig_p":{flow.init_port},'
                f'"id.resp_h":"{flow.responder}","id.resp_p":{flow.resp_port}')

    def sides(self, flow: Flow, side: int) -> str:
        """is_orig and the true source and destination of a message sent by ``side`` (0: the initiator)."""
        ends = ((flow.initiator, flow.init_port), (flow.responder, flow.resp_port))
        (src, sport), (dst, dport) = ends[side], ends[1 - side]
        if self.tsv:
            return f"\t{'F' if side else 'T'}\t{src}\t{sport}\t{dst}\t{dport}"
        return (f',"is_orig":{"false" if side else "true"},"source_h":"{src}","source_p":{sport},'
                f'"destination_h":"{dst}","destination_p":{dport}')


class _Compiled:
    """One batch's Modbus log lines through ``sensor.sinks.cells``: each line is the time, then the log's cells,
    ending with its newline (the ``_Cells`` texts are the same, so are the lines)."""

    def __init__(self, c: _Cells, mb: ModbusBatch, micros: np.ndarray) -> None:
        self.mb, self.tsv = mb, c.tsv
        self.time = [cells.const(b"" if self.tsv else b'{"ts":'), cells.micros(micros, True, cells.table([], micros * 0 - 1))]

    def table(self, texts: np.ndarray, keys: np.ndarray | None) -> cells.Cell:
        """A column of ``_Cells`` texts (an object table and each row's key in it; NONE keys take its last text,
        the unset one), with only the texts this batch uses encoded."""
        if keys is None:
            distinct, group = np.unique(texts.astype(str), return_inverse=True)
            return cells.table([t.encode() for t in distinct.tolist()], group.reshape(-1))
        keys = np.where(keys < 0, len(texts) - 1, keys)
        distinct, group = groups(keys)
        return cells.table([t.encode() for t in texts[distinct].tolist()], group)

    def tid(self) -> cells.Cell:
        return self.number("tid", self.mb.transaction_id)

    def number(self, name: str, values: np.ndarray, after: str = "") -> list[cells.Cell]:
        """TSV: a tab, then the number or ``-``; JSON: the key and the number, or nothing when unset."""
        if self.tsv:
            return [cells.const(b"\t"), cells.number(values, b"-"), cells.const(after.encode())]
        return [cells.table([b"", f',"{name}":'.encode()], values >= 0), cells.number(values, b"")]

    def write(self, log: LogFile, columns: list, first: float, last: float) -> None:
        flat: list[cells.Cell] = [*self.time]
        for column in columns:
            flat += column if isinstance(column, list) else [column]
        for text, rows in cells.chunks(len(self.mb), flat):
            log.write_text(text, rows, first, last)


class ModbusLogs:
    """Writes a ModbusBatch to modbus.log, modbus_detailed.log and, for functions 22 and 23, ICSNPP's logs."""

    def __init__(self, folder: str, fmt: str, uid_of: Callable[[Flow], str]) -> None:
        self.fmt = fmt
        self.uid_of = uid_of
        self.cells = _Cells(fmt)
        self.modbus = LogFile(folder, "modbus", MODBUS, fmt)
        self.detailed = LogFile(folder, "modbus_detailed", MODBUS_DETAILED, fmt)
        self.read_write = LogFile(folder, "modbus_read_write_multiple_registers", READ_WRITE_MULTIPLE, fmt)
        self.mask_write = LogFile(folder, "modbus_mask_write_register", MASK_WRITE, fmt)
        self._prefixes: dict[int, tuple[str, str, str]] = {}  # flow id -> id fields; the same with side 0, side 1

    def logs(self) -> list[LogFile]:
        return [self.modbus, self.detailed, self.read_write, self.mask_write]

    def forget(self, flow: Flow) -> None:
        self._prefixes.pop(flow.id, None)

    def write(self, mb: ModbusBatch) -> np.ndarray:
        """Write the batch; returns, per flow of ``mb.flows``, bit 1/2 set when side 0/1 sent a message."""
        n, flows = len(mb), len(mb.flows)
        if n == 0:
            return np.zeros(flows, dtype=np.int64)
        c = self.cells
        flow, request = mb.flow, mb.is_request
        server_side = np.ones(flows, dtype=np.int64)
        ids = np.empty(flows, dtype=object)
        sided = np.empty(2 * flows, dtype=object)
        for g in np.flatnonzero(np.bincount(flow, minlength=flows)).tolist():
            f = mb.flows[g]
            server_side[g] = f.server_side
            ids[g], sided[2 * g], sided[2 * g + 1] = self._prefix(f)
        sender = np.where(request, 1 - server_side[flow], server_side[flow])  # 0: the initiator sent it

        unit, fc, exc = mb.unit_id & 255, mb.function_code & 127, mb.exception_code
        req_bit = request.astype(np.int64) << 7
        first, last = float(mb.ts.min()), float(mb.ts.max())
        micros = np.round(mb.ts * 1e6).astype(np.int64)
        if cells.COMPILED:  # the same columns, joined by the compiled loop
            line = _Compiled(c, mb, micros)
            if self.modbus.enabled:
                tails, keys = self._tails(mb, unit, fc, exc, req_bit)
                line.write(self.modbus, [line.table(ids, flow), line.tid(), line.table(tails, keys),
                                         cells.const(b"\n")], first, last)
            if self.detailed.enabled:
                address, quantity = self._with_request_context(mb)
                key = unit << 9 | (exc != NONE).astype(np.int64) << 8 | req_bit | fc
                line.write(self.detailed, [
                    line.table(sided, 2 * flow + sender), line.tid(), line.table(c.unit_func.ready(key), key),
                    *line.number("address", address), *line.number("quantity", quantity, after="\t"),
                    *self._compiled_values(line, mb)], first, last)
        else:
            ms_table, ms_index, micro = c.milliseconds(micros)
            ts_cells = [(ms_table, ms_index), (_MS, micro)]
            tid = (c.tid, mb.transaction_id)
            if self.modbus.enabled:  # modbus.log: ts | id fields | tid | unit, func, pdu_type, exception
                self._write(self.modbus, [*ts_cells, (ids, flow), tid, self._tails(mb, unit, fc, exc, req_bit)],
                            first, last)
            # modbus_detailed.log: ts | id fields, is_orig, source, destination | tid | unit, func, request_response
            #                      | address | quantity | values
            if self.detailed.enabled:
                address, quantity = self._with_request_context(mb)
                key = unit << 9 | (exc != NONE).astype(np.int64) << 8 | req_bit | fc
                self._write(self.detailed, [
                    *ts_cells, (sided, 2 * flow + sender), tid, (c.unit_func.ready(key), key), (c.address, address),
                    (c.quantity, quantity), (c.values(self._values(mb)), None)], first, last)

        if mb.messages:
            self._slow_logs(mb, sender)
        return ((np.bincount(flow[sender == 0], minlength=flows) > 0) * 1
                | (np.bincount(flow[sender == 1], minlength=flows) > 0) * 2)

    @staticmethod
    def _write(log: LogFile, columns: list[tuple[np.ndarray, np.ndarray | None]], first: float, last: float) -> None:
        """Columns of cells, each a table and the rows' keys in it (or the cells themselves), as lines, a few
        thousand at a time: a chunk's cells are taken from their tables into a small array laid out line after
        line (so its flat view is the text's order), and the text, which stays in the CPU's cache, is joined,
        encoded and written for a third less than the whole batch's would be."""
        n = len(columns[0][1] if columns[0][1] is not None else columns[0][0])
        chunk = np.empty((len(columns), min(n, CHUNK)), dtype=object, order="F")
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            part = chunk[:, :stop - start]
            for row, (table, keys) in zip(part, columns):  # NONE (-1) keys take a table's last text, the unset one
                row[:] = table[start:stop] if keys is None else table[keys[start:stop]]
            log.write_text("".join(part.ravel(order="F").tolist()), stop - start, first, last, leading_newline=True)

    def _tails(self, mb: ModbusBatch, unit: np.ndarray, fc: np.ndarray, exc: np.ndarray, req_bit: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """modbus.log's last cells: a table and the rows' keys, or (for rare exception codes) the cells."""
        c = self.cells
        exc_key = np.where(exc == NONE, 0, np.where((exc >= 1) & (exc < OTHER_EXCEPTION), exc, OTHER_EXCEPTION))
        key = unit << 12 | exc_key << 8 | req_bit | fc
        table = c.unit_tail.ready(key)
        other = np.flatnonzero(exc_key == OTHER_EXCEPTION)
        if not len(other):
            return table, key
        texts = table[key]  # exception codes the key does not hold: their own texts
        for i in other.tolist():
            texts[i] = c.tail(int(unit[i]), int(fc[i]), int(mb.is_request[i]), int(exc[i]))
        return texts, None

    def _prefix(self, flow: Flow) -> tuple[str, str, str]:
        known = self._prefixes.get(flow.id)
        if known is None:
            ids = self.cells.id_fields(self.uid_of(flow), flow)
            known = self._prefixes[flow.id] = (ids, ids + self.cells.sides(flow, 0), ids + self.cells.sides(flow, 1))
        return known

    @staticmethod
    def _with_request_context(mb: ModbusBatch) -> tuple[np.ndarray, np.ndarray]:
        """Address and quantity, a response's taken from its request when it has none (as the events do)."""
        address, quantity = mb.address.copy(), mb.quantity.copy()
        pairing = mb.pairing
        if pairing is None:
            return address, quantity
        request_row = pairing.request_row
        answered = request_row >= 0
        if answered.any():
            rows, of = np.flatnonzero(answered), request_row[answered]
            for column, source in ((address, mb.address), (quantity, mb.quantity)):
                bare = column[rows] == NONE
                column[rows[bare]] = source[of[bare]]
        for i, (_, _, a, q, _) in pairing.carried.items():
            if address[i] == NONE:
                address[i] = a
            if quantity[i] == NONE:
                quantity[i] = q
        return address, quantity

    def _values(self, mb: ModbusBatch) -> np.ndarray:
        """Each row's values text (TSV form): ``-`` for none, ``(empty)`` for an empty list."""
        texts = np.empty(len(mb), dtype=object)
        texts[:] = UNSET_VALUES
        fast = mb.adu_off != NONE
        if fast.any() and len(mb.data):
            self._fast_values(mb, fast, texts)
        for i, message in mb.messages.items():
            text = _slow_values(message)
            if text is not None:
                texts[i] = text or EMPTY_VALUES
        return texts

    def _fast_values(self, mb: ModbusBatch, fast: np.ndarray, texts: np.ndarray) -> None:
        """Values of the fast path's rows, read from their ADUs in the packet buffer."""
        data = mb.data
        fc, request, exc, off = mb.function_code, mb.is_request, mb.exception_code, mb.adu_off
        normal = fast & (exc == NONE)

        # registers: read responses (3, 4: byte count, then the words), write multiple registers requests (16)
        read = normal & ~request & ((fc == 3) | (fc == 4))
        rows = np.flatnonzero(read | (normal & request & (fc == 16)))
        if len(rows):
            is_read = read[rows]
            counts = np.where(is_read, data[off[rows] + DATA].astype(np.int64) // 2, mb.quantity[rows])
            ends = np.cumsum(counts)
            first = off[rows] + np.where(is_read, DATA + 1, DATA + 5)  # the row's first register
            at = np.repeat(first, counts) + 2 * within_runs(counts)
            words = np.ndarray(shape=(len(data) - 1,), dtype=">u2", buffer=np.ascontiguousarray(data), strides=(1,))
            key = words[at].astype(np.int64) << 1
            key[ends - 1] |= 1
            texts[rows] = _texts(_registers(), key)
        # bits: read coils / discrete inputs responses (1, 2: every bit of their bytes), write coils requests (15)
        read = normal & ~request & ((fc == 1) | (fc == 2))
        rows = np.flatnonzero(read | (normal & request & (fc == 15)))
        if len(rows):
            is_read = read[rows]
            count8 = data[off[rows] + DATA].astype(np.int64)
            quantity = np.where(is_read, count8 * 8, mb.quantity[rows])
            counts = (quantity + 7) // 8
            within, last = within_runs(counts), np.cumsum(counts) - 1
            byte = data[np.repeat(off[rows] + np.where(is_read, DATA + 1, DATA + 5), counts) + within].astype(np.int64)
            key = byte << 4 | 7 << 1  # eight bits, not the last byte
            key[last] = byte[last] << 4 | (quantity - 8 * (counts - 1) - 1) << 1 | 1
            texts[rows] = _texts(_bits(), key)
        # single writes, request and echo: the value column (5: 0/1, 6: the register)
        rows = np.flatnonzero(normal & ((fc == 5) | (fc == 6)))
        if len(rows):
            value, coil = mb.value[rows], fc[rows] == 5
            texts[rows[coil]] = _COIL[value[coil] & 1]
            if not coil.all():
                texts[rows[~coil]] = _texts(_registers(), (value[~coil] & 0xFFFF) << 1 | 1)
        # exceptions: the exception's name, as ICSNPP writes it
        rows = np.flatnonzero(fast & (exc != NONE))
        for i, code in zip(rows.tolist(), exc[rows].tolist()):
            texts[i] = modbus_exception(code)

    def _compiled_values(self, line: _Compiled, mb: ModbusBatch) -> list[cells.Cell]:
        """The values cells of modbus_detailed.log (``_values``'s texts): registers and bits read from the ADUs,
        single writes from their value, the rest (exception names, the slow path's rows) as texts."""
        data, n = mb.data, len(mb)
        fc, request, exc, off = mb.function_code, mb.is_request, mb.exception_code, mb.adu_off
        texts: list[bytes] = []
        index = np.full(n, -1, dtype=np.int64)

        def text(rows: np.ndarray | list[int], value: str) -> None:
            index[rows] = len(texts)
            texts.append(value.encode())

        fast = off != NONE
        for i, message in mb.messages.items():  # the slow path's text wins where it has values
            value = _slow_values(message)
            if value is not None:
                text([i], value or ("" if not line.tsv else EMPTY_VALUES))
                fast[i] = False
        normal = fast & (exc == NONE)

        read = normal & ~request & ((fc == 3) | (fc == 4))
        registers = read | (normal & request & (fc == 16))
        word_count = np.where(read, data[np.where(read, off, 0) + DATA].astype(np.int64) // 2 if len(data) else 0,
                              np.where(registers, mb.quantity, 0))
        word_start = off + np.where(read, DATA + 1, DATA + 5)
        read = normal & ~request & ((fc == 1) | (fc == 2))
        bits = read | (normal & request & (fc == 15))
        bit_count = np.where(read, data[np.where(read, off, 0) + DATA].astype(np.int64) * 8 if len(data) else 0,
                             np.where(bits, mb.quantity, 0))
        bit_start = off + np.where(read, DATA + 1, DATA + 5)
        single = normal & ((fc == 5) | (fc == 6))
        coil = single & (fc == 5)
        for value, rows in (("F", coil & (mb.value & 1 == 0)), ("T", coil & (mb.value & 1 == 1))):
            if rows.any():
                text(rows, value)
        register = np.where(single & (fc == 6), mb.value & 0xFFFF, -1)
        empty = (registers & (word_count <= 0)) | (bits & (bit_count <= 0))
        for i, code in zip(np.flatnonzero(fast & (exc != NONE)).tolist(), exc[fast & (exc != NONE)].tolist()):
            text([i], modbus_exception(code))
        if empty.any():
            text(empty, "" if not line.tsv else EMPTY_VALUES)
        has = (index >= 0) | (register >= 0) | (word_count > 0) | (bit_count > 0)
        if line.tsv:
            text(~has, UNSET_VALUES)
            opening, closing = [], [cells.const(b"\n")]
        else:
            opening = [cells.table([b"", b',"values":"'], has)]
            closing = [cells.table([b"}\n", b'"}\n'], has)]
        return [*opening, cells.words(data, word_start, word_count), cells.bits(data, bit_start, bit_count, b"T", b"F"),
                cells.number(register, b""), cells.table(texts, index), *closing]

    def _slow_logs(self, mb: ModbusBatch, sender: np.ndarray) -> None:
        """Functions 22 and 23 (never on the fast path) to ICSNPP's logs of their own."""
        mask, read_write = [], []
        for i, m in sorted(mb.messages.items()):
            if m.exception_code is not None or m.function_code not in (22, 23):
                continue
            f = mb.flows[int(mb.flow[i])]
            side = int(sender[i])
            ends = ((f.initiator, f.init_port), (f.responder, f.resp_port))
            head = (float(mb.ts[i]), self.uid_of(f), f.initiator, f.init_port, f.responder, f.resp_port, side == 0,
                    *ends[side], *ends[1 - side], m.transaction_id, m.unit_id, modbus_function(m.function_code),
                    "REQUEST" if m.is_request else "RESPONSE")
            if m.function_code == 22:
                mask.append((*head, m.address, m.and_mask, m.or_mask))
            elif m.is_request:
                read_write.append((*head, m.write_address, m.values, m.address, m.quantity, None))
            else:
                read_write.append((*head, None, None, None, None, m.values))
        self.mask_write.write(mask)
        self.read_write.write(read_write)


def _slow_values(m: ModbusMessage) -> str | None:
    """The values text of a row the slow path parsed: None for no values, "" for an empty list."""
    if m.exception_code is not None:
        return modbus_exception(m.exception_code)
    if m.values is None:
        return None
    if m.function_code in BIT_FUNCTIONS:
        return ",".join("T" if v else "F" for v in m.values)
    return ",".join(map(str, m.values))
