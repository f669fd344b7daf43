"""What the Zeek logs must say about the sensor's own ``--events`` records, field by field; and a pipeline run
that writes both (the Zeek logs as the pipeline's ``Options.logs``, as ``--zeek-logs`` has them)."""
from __future__ import annotations

import io
import json
from typing import Any

from sensor.pipeline import Options, Pipeline
from sensor.sinks.zeek import ZeekLogs
from sensor.sinks.zeek.names import modbus_exception, modbus_function
from sensor.store import Store

BIT_FUNCTIONS = (1, 2, 5, 15)


def run(paths: list[str], db: str, folder: str, fmt: str = "tsv", **options) -> tuple[list[dict], list[dict]]:
    """The pipeline (strict) over ``paths`` with Zeek logs in ``folder``: (events, flows) records of the run."""
    events, flows = io.StringIO(), io.StringIO()
    with Store.open(db) as store, ZeekLogs(folder, fmt) as zeek:
        Pipeline(store, Options(events=events, flows=flows, strict=True, logs=zeek, **options)).run(paths)
    return [json.loads(x) for x in events.getvalue().splitlines()], [json.loads(x) for x in flows.getvalue().splitlines()]


def modbus_values(event: dict) -> str | None:
    """ICSNPP's values text of a Modbus event: T/F for bits, numbers for registers, the exception's name."""
    if event["exception_code"] is not None:
        return modbus_exception(event["exception_code"])
    values = event["values"]
    if values is None:
        return None
    if event["function_code"] in BIT_FUNCTIONS:
        return ",".join("T" if v else "F" for v in values)
    return ",".join(map(str, values))


def check_modbus(events: list[dict], modbus: list[dict], detailed: list[dict], conn: list[dict]) -> int:
    """modbus.log and modbus_detailed.log say, line for line, what the Modbus events say; uids join conn.log."""
    mine = [e for e in events if e["proto"] == "modbus"]
    assert len(modbus) == len(detailed) == len(mine), (len(modbus), len(detailed), len(mine))
    by_uid = {c["uid"]: c for c in conn}
    assert len(by_uid) == len(conn), "uids are unique"
    for e, m, d in zip(mine, modbus, detailed):
        where = f"frame {e['frame']} of {e['file']}"
        exception = e["exception_code"] is not None
        assert abs(m["ts"] - e["ts"]) < 5e-7 and m["ts"] == d["ts"], where
        assert m["uid"] == d["uid"] and m["uid"] in by_uid, where
        c = by_uid[m["uid"]]
        ids = ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
        assert tuple(m[k] for k in ids) == tuple(d[k] for k in ids) == tuple(c[k] for k in ids), where
        assert c["service"] == "modbus", where
        assert {e["src"], e["dst"]} == {c["id.orig_h"], c["id.resp_h"]}, where
        assert (d["source_h"], d["source_p"], d["destination_h"], d["destination_p"]) == (
            e["src"], e["sport"], e["dst"], e["dport"]), where
        assert d["is_orig"] == ((e["src"], e["sport"]) == (c["id.orig_h"], c["id.orig_p"])), where
        assert m["tid"] == d["tid"] == e["transaction_id"] and m["unit"] == d["unit"] == e["unit_id"], where
        func = modbus_function(e["function_code"], exception)
        assert m["func"] == d["func"] == func, where
        assert m["pdu_type"] == ("REQ" if e["direction"] == "request" else "RESP"), where
        assert d["request_response"] == e["direction"].upper(), where
        assert m.get("exception") == (modbus_exception(e["exception_code"]) if exception else None), where
        assert d.get("address") == e["address"] and d.get("quantity") == e["quantity"], where
        assert d.get("values") == modbus_values(e), where
    return len(mine)


def unset(row: dict[str, Any]) -> dict[str, Any]:
    """A TSV record as the JSON writer writes it: unset fields left out."""
    return {k: v for k, v in row.items() if v is not None}
