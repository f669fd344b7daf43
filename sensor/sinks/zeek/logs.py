"""``--zeek-logs DIR``: Zeek-compatible logs of what the sensor saw, in Zeek's TSV or JSON format.

conn.log (one line per flow as it ends), modbus.log and ICSNPP's modbus_detailed.log (one line per message),
dnp3.log, s7comm.log, enip.log, cip.log and their siblings, bacnet.log, iec104.log, opcua_binary.log; see ``conn``,
``modbus``, ``ics``, ``bacnet``, ``iec104``, ``opcua`` for the fields and what differs from Zeek. A log file is
created when its first line is written, as Zeek creates them.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from sensor.dissect.generic import MessageBatch
from sensor.dissect.modbus import ModbusBatch
from sensor.flows.table import Flow
from sensor.sinks.zeek.ascii import FORMATS, TSV, LogFile
from sensor.sinks.zeek.conn import CONN, conn_record, conn_uid
from sensor.sinks.zeek.ics import MessageLogs
from sensor.sinks.zeek.modbus import ModbusLogs
from sensor.sinks.zeek.parts import part_folder


class ZeekLogs:
    """The Zeek logs of one run, written into ``folder`` (made if missing) as ``fmt`` ("tsv" or "json").

    ``disabled`` names logs not to write (``"modbus_detailed"``...), as Zeek's ``Log::disable_stream`` does:
    modbus_detailed.log is most of what the logs cost on Modbus polling.
    """

    def __init__(self, folder: str, fmt: str = TSV, *, disabled: Iterable[str] = ()) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"Zeek log format {fmt!r}: use one of {', '.join(FORMATS)}")
        os.makedirs(folder, exist_ok=True)
        self.folder, self.fmt = folder, fmt
        self._uids: dict[int, str] = {}  # flow id -> uid, while the flow lives
        self._data_sides: dict[int, int] = {}  # flow id -> bit 1/2: the initiator/responder sent a message
        self.conn = LogFile(folder, "conn", CONN, fmt)
        self.modbus = ModbusLogs(folder, fmt, self.uid)
        self.others = MessageLogs(folder, fmt, self.uid)
        known = {log.path: log for log in self.logs()}
        unknown = set(disabled) - set(known)
        if unknown:
            raise ValueError(f"no Zeek log {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        for path in disabled:
            known[path].enabled = False

    def part(self, k: int) -> ZeekLogs:
        """Worker ``k``'s logs, in its part folder, with the same format and the same logs disabled (merged by
        ``parts.merge_parts`` once the workers are done)."""
        return ZeekLogs(part_folder(self.folder, k), self.fmt,
                        disabled=[log.path for log in self.logs() if not log.enabled])

    def logs(self) -> list[LogFile]:
        return [self.conn, *self.modbus.logs(), *self.others.logs()]

    def uid(self, flow: Flow) -> str:
        known = self._uids.get(flow.id)
        if known is None:
            known = self._uids[flow.id] = conn_uid(flow)
        return known

    def messages(self, modbus: ModbusBatch | None, others: list[MessageBatch]) -> None:
        """Each batch's dissected messages (Modbus from its columns, the others one by one)."""
        if modbus is not None and len(modbus):
            sides = self.modbus.write(modbus)
            for g in sides.nonzero()[0].tolist():
                flow_id = modbus.flows[g].id
                self._data_sides[flow_id] = self._data_sides.get(flow_id, 0) | int(sides[g])
        for batch in others:
            self.others.write(batch)
            for g, side in set(zip(batch.flow.tolist(), batch.side.tolist())):
                flow_id = batch.flows[g].id
                self._data_sides[flow_id] = self._data_sides.get(flow_id, 0) | (1 << side)

    def flow_ended(self, flow: Flow) -> None:
        """The flow table's ``on_end``: the flow's conn.log line, and what waited on the flow."""
        self.others.flow_ended(flow)
        self.conn.write([conn_record(flow, self.uid(flow), self._data_sides.pop(flow.id, 0))])
        self._uids.pop(flow.id, None)
        self.modbus.forget(flow)

    def close(self) -> None:
        """Write what still waits and close every log with its #close line."""
        self.others.close()
        for log in self.logs():
            log.close()

    def __enter__(self) -> ZeekLogs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
