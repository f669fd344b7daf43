"""infer_device_type: each device type from the behaviour that defines it, with the reasons it gives."""
from __future__ import annotations

import numpy as np
import pytest

from sensor.inventory.roles import (
    ENGINEERING,
    HISTORIAN,
    HMI,
    IT_HOST,
    MIN_INTERVALS,
    PLC,
    SLOW_POLL_S,
    STEADY_CV,
    infer_device_type,
)


def asset(roles=(), unit_ids=(), services=()):
    return {"ip": "10.0.0.9", "roles": list(roles), "unit_ids": list(unit_ids), "services": list(services)}


def poll(server, gaps, reads=None, writes=0, diagnostics=0):
    """A polls row as the store keeps it, built from the request gaps actually seen."""
    gaps = np.asarray(gaps, dtype=float)
    requests = len(gaps) + 1
    return {"client": "10.0.0.9", "server": server, "requests": requests,
            "reads": requests - writes - diagnostics if reads is None else reads, "writes": writes,
            "diagnostics": diagnostics, "interval_sum": float(gaps.sum()),
            "interval_sumsq": float((gaps * gaps).sum()), "intervals": len(gaps)}


def stats(*gap_lists):
    """Mean and coefficient of variation of all gaps together (population standard deviation)."""
    gaps = np.concatenate([np.asarray(g, dtype=float) for g in gap_lists])
    return gaps.mean(), gaps.std() / gaps.mean()


MODBUS_502 = {"protocol": "modbus", "transport": "tcp", "port": 502}


def test_a_modbus_server_is_a_plc():
    kind, reasons = infer_device_type(asset(["modbus_server"], [1, 2], [MODBUS_502, {"protocol": "tcp", "transport": "tcp",
                                                                                     "port": 80}]), [])
    assert kind == PLC
    assert reasons == ["answers Modbus requests on tcp/502 for unit ids 1, 2"]


def test_a_plc_on_two_ports_without_unit_ids():
    services = [MODBUS_502, {"protocol": "modbus", "transport": "tcp", "port": 5020}]
    assert infer_device_type(asset(["modbus_server"], [], services), []) == (
        PLC, ["answers Modbus requests on tcp/502,5020"])


def test_a_server_that_also_polls_is_still_a_plc_and_says_so():
    kind, reasons = infer_device_type(asset(["modbus_server", "modbus_client"], [1], [MODBUS_502]),
                                      [poll("10.0.0.3", [1.0] * 20, writes=3)])
    assert kind == PLC
    assert reasons == ["answers Modbus requests on tcp/502 for unit ids 1",
                       "also sends Modbus requests itself (a gateway or a controller polling peers)"]


def test_no_industrial_role_is_an_it_host():
    assert infer_device_type(asset(), []) == (IT_HOST, ["no industrial protocol role observed"])


@pytest.mark.parametrize("writes,diagnostics,reasons", [
    (4, 0, ["wrote to Modbus servers (4 write requests)"]),
    (0, 2, ["ran diagnostics or read device identification (2 requests)"]),
    (1, 3, ["wrote to Modbus servers (1 write requests)",
            "ran diagnostics or read device identification (3 requests)"]),
])
def test_writing_or_diagnosing_client_is_an_engineering_station(writes, diagnostics, reasons):
    # even a perfectly steady poller of several servers: writing makes it engineering
    polls = [poll("10.0.0.2", [1.0] * 20, writes=writes), poll("10.0.0.3", [1.0] * 20, diagnostics=diagnostics)]
    assert infer_device_type(asset(["modbus_client"]), polls) == (ENGINEERING, reasons)


def test_steady_polling_of_several_servers_is_an_hmi():
    a, b = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95], [1.0, 1.02, 0.98, 1.0, 1.0, 1.0]
    mean, cv = stats(a, b)
    assert cv < STEADY_CV
    kind, reasons = infer_device_type(asset(["modbus_client"]), [poll("10.0.0.2", a), poll("10.0.0.3", b)])
    assert (kind, reasons) == (HMI, [f"polls 2 Modbus servers every {mean:.3g} s on average (variation {cv:.2f})"])


def test_slow_reads_are_a_historian():
    gaps = [60.0, 61.0, 59.0, 60.0, 60.5, 59.5, 60.0, 60.0, 60.0, 60.0]
    mean, _ = stats(gaps)
    assert mean >= SLOW_POLL_S
    kind, reasons = infer_device_type(asset(["modbus_client"]), [poll("10.0.0.2", gaps)])
    assert (kind, reasons) == (HISTORIAN, [f"only reads, slowly: one request every {mean:.3g} s on average to 1 server(s)"])


def test_slow_steady_polling_of_several_servers_is_an_hmi_not_a_historian():
    gaps = [30.0] * 10
    kind, _ = infer_device_type(asset(["modbus_client"]), [poll("10.0.0.2", gaps), poll("10.0.0.3", gaps)])
    assert kind == HMI


def test_erratic_polling_of_several_servers_is_not_an_hmi():
    a, b = [0.1, 5.0, 0.2, 4.0, 0.1, 6.0], [0.1, 3.0, 0.1, 7.0, 0.2, 0.1]
    _, cv = stats(a, b)
    assert cv >= STEADY_CV
    kind, reasons = infer_device_type(asset(["modbus_client"]), [poll("10.0.0.2", a), poll("10.0.0.3", b)])
    assert kind == IT_HOST
    assert reasons == [("Modbus client with 14 read requests to 2 server(s), without the steady multi-server polling "
                       "of an HMI or the slow reads of a historian")]


def test_fast_steady_polling_of_one_server_is_an_it_host():
    kind, reasons = infer_device_type(asset(["modbus_client"]), [poll("10.0.0.2", [0.5] * 30)])
    assert kind == IT_HOST
    assert "31 read requests to 1 server(s)" in reasons[0]


def test_too_few_gaps_to_trust_a_period():
    gaps = [1.0] * (MIN_INTERVALS // 2)
    polls = [poll("10.0.0.2", gaps), poll("10.0.0.3", [1.0] * (MIN_INTERVALS - 1 - len(gaps)))]
    assert sum(p["intervals"] for p in polls) == MIN_INTERVALS - 1
    assert infer_device_type(asset(["modbus_client"]), polls)[0] == IT_HOST
    polls.append(poll("10.0.0.4", [1.0]))
    assert infer_device_type(asset(["modbus_client"]), polls)[0] == HMI


def test_a_client_without_poll_rows_is_an_it_host():
    kind, reasons = infer_device_type(asset(["modbus_client"]), [])
    assert kind == IT_HOST
    assert reasons == [("Modbus client with 0 read requests to 0 server(s), without the steady multi-server polling "
                       "of an HMI or the slow reads of a historian")]
