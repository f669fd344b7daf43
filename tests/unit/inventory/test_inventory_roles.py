"""infer_device_type: each device type from the behaviour that defines it, for any protocol, with its evidence.

Polls rows are built from request times the way the inventory builds them (a histogram of the gaps), for
the realistic shapes the protocol framework issue lists: an HMI reading four PLCs every second and writing
setpoints, an operator panel polling one PLC every second, a historian reading four PLCs every 5 s.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from sensor.inventory import timing
from sensor.inventory.roles import ENGINEERING, HISTORIAN, HMI, IT_HOST, PLC, infer_device_type

rng = np.random.default_rng(7)


def period_in(reason: str) -> float:
    """The period a reason states: 'polls N server(s) every P s (...)'."""
    return float(re.search(r"every ([0-9.]+) s", reason).group(1))


def asset(roles=(), unit_ids=(), services=()):
    return {"ip": "10.0.0.9", "roles": list(roles), "unit_ids": list(unit_ids), "services": list(services)}


def cycle_times(period: float, cycles: int, per_cycle: int = 3, jitter: float = 0.02) -> np.ndarray:
    """Request times of a poller: ``per_cycle`` requests a few ms apart, every ``period`` s (± jitter)."""
    starts = np.cumsum(np.full(cycles, period) * (1 + rng.uniform(-jitter, jitter, cycles)))
    return np.sort((starts[:, None] + np.arange(per_cycle) * 0.004).ravel())


def poll(server, times, writes=0, diagnostics=0, programs=0):
    """A polls row as the store keeps it, from the request times actually seen."""
    gaps = np.diff(np.asarray(times, dtype=float))
    requests = len(times)
    return {"client": "10.0.0.9", "server": server, "requests": requests,
            "reads": requests - writes - diagnostics - programs, "writes": writes, "diagnostics": diagnostics,
            "programs": programs, "interval_sum": float(gaps.sum()), "interval_sumsq": float((gaps * gaps).sum()),
            "intervals": len(gaps), "gaps": timing.histogram(gaps).tolist(),
            "cycle_sum": float(gaps[gaps >= timing.BURST_GAP_S].sum()),
            "cycle_count": int((gaps >= timing.BURST_GAP_S).sum())}


MODBUS_502 = {"protocol": "modbus", "transport": "tcp", "port": 502}
CLIENT = asset(roles=["modbus_client"])
PLCS = ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4"]


def test_a_server_of_any_protocol_is_a_plc_with_its_ports():
    kind, reasons = infer_device_type(asset(roles=["modbus_server"], unit_ids=[1, 2], services=[MODBUS_502]), [])
    assert kind == PLC and reasons == ["answers modbus requests on tcp/502 for unit ids 1, 2"]
    enip = {"protocol": "enip", "transport": "tcp", "port": 44818}
    kind, reasons = infer_device_type(asset(roles=["enip_target"], services=[enip]), [])
    assert kind == PLC and reasons == ["answers enip requests on tcp/44818"]
    kind, _ = infer_device_type(asset(roles=["dnp3_outstation"]), [])
    assert kind == PLC


@pytest.mark.parametrize("role", ["dhcp_server", "dhcpv6_server", "nbns_domain_controller"])
def test_a_server_of_a_naming_protocol_is_no_plc(role):
    kind, reasons = infer_device_type(asset(roles=[role]), [])
    assert kind == IT_HOST and reasons == ["no industrial protocol role observed"]


def test_a_server_that_also_polls_is_still_a_plc_and_says_so():
    kind, reasons = infer_device_type(asset(roles=["modbus_server", "modbus_client"], services=[MODBUS_502]), [])
    assert kind == PLC and reasons[-1].startswith("also sends requests itself")


def test_no_industrial_role_is_an_it_host():
    assert infer_device_type(asset(), []) == (IT_HOST, ["no industrial protocol role observed"])


def test_hmi_polling_four_plcs_every_second_and_writing_setpoints():
    polls = [poll(ip, cycle_times(1.0, 60), writes=3 if ip == PLCS[0] else 0) for ip in PLCS]
    kind, reasons = infer_device_type(CLIENT, polls)
    assert kind == HMI
    assert reasons[0].startswith("polls 4 server(s) every") and period_in(reasons[0]) == pytest.approx(1.0, rel=0.05)
    assert "and writes (3 write requests)" in reasons


def test_operator_panel_polling_one_plc_every_second():
    kind, reasons = infer_device_type(CLIENT, [poll(PLCS[0], cycle_times(1.0, 120, per_cycle=1))])
    assert kind == HMI and period_in(reasons[0]) == pytest.approx(1.0, rel=0.05)


def test_historian_reading_four_plcs_every_five_seconds():
    kind, reasons = infer_device_type(CLIENT, [poll(ip, cycle_times(5.0, 40, per_cycle=5)) for ip in PLCS])
    assert kind == HISTORIAN
    assert period_in(reasons[0]) == pytest.approx(5.0, rel=0.05) and reasons[1].startswith("reads only")


@pytest.mark.parametrize("field, phrase", [("programs", "changed programs"), ("diagnostics", "ran diagnostics")])
def test_program_mode_or_diagnostic_actions_make_an_engineering_station(field, phrase):
    rows = [poll(PLCS[0], cycle_times(1.0, 30))]
    rows[0][field] = 2
    kind, reasons = infer_device_type(CLIENT, rows)
    assert kind == ENGINEERING and reasons[0].startswith(phrase)


def test_irregular_writes_make_an_engineering_station():
    times = np.sort(rng.uniform(0, 3600, 40))  # a person, not a loop
    kind, reasons = infer_device_type(CLIENT, [poll(PLCS[0], times, writes=15)])
    assert kind == ENGINEERING and reasons[0].startswith("writes at irregular times (15 write requests")


def test_irregular_reads_are_an_it_host():
    times = np.sort(rng.uniform(0, 3600, 40))
    kind, reasons = infer_device_type(CLIENT, [poll(PLCS[0], times)])
    assert kind == IT_HOST and "no steady polling" in reasons[0]


def test_too_few_cycles_to_trust_a_period():
    kind, reasons = infer_device_type(CLIENT, [poll(PLCS[0], cycle_times(1.0, 5))])
    assert kind == IT_HOST and reasons[1] == "too few requests to see a cycle"


def test_a_client_without_poll_rows_is_an_it_host():
    assert infer_device_type(CLIENT, [])[0] == IT_HOST


def test_the_histogram_of_a_run_is_the_sum_of_its_flushes():
    times = cycle_times(1.0, 50)
    whole = timing.histogram(np.diff(times)).tolist()
    parts = timing.add(timing.histogram(np.diff(times[:70])).tolist(), timing.histogram(np.diff(times[69:])).tolist())
    assert parts == whole
    assert timing.add([], whole) == whole
